#![no_main]
//! Feeds any text as a /proc/PID/stat line (common::procfs::start_time_from_stat; a process names itself, so comm holds anything, ')' and spaces included); asserts no panic and that a line built around a known start time gives it back whatever the comm.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = common::procfs::start_time_from_stat(&text);
    // any comm without a newline, then the real fields
    let comm: String = text.chars().filter(|c| *c != '\n').take(64).collect();
    let line = format!("42 ({comm}) S 1 42 42 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 777 100 10");
    assert_eq!(
        common::procfs::start_time_from_stat(&line),
        Some(777),
        "{line}"
    );
});
