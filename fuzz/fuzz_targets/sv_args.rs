#![no_main]
//! Feeds any text as sv's and svc's arguments (svargs::parse_command, svargs::service_path) and any bytes as a supervise/status record (status::Status::decode into svargs::status_line); asserts no panic, runit's first-letter rule, the path rule, and that a decoded status encodes to a record that decodes to it again.
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use supervisor::status::Status;
use supervisor::svargs::{parse_command, service_path, status_line};

const LSB: [&str; 11] = [
    "start",
    "stop",
    "reload",
    "restart",
    "shutdown",
    "force-stop",
    "force-reload",
    "force-restart",
    "force-shutdown",
    "try-restart",
    "check",
];

fuzz_target!(|data: &[u8]| {
    // 20 bytes of status record, then NUL-separated: command, service, SVDIR
    let (record, rest) = data.split_at(data.len().min(20));
    let mut words = rest.split(|&b| b == 0).map(String::from_utf8_lossy);
    let word = words.next().unwrap_or_default();
    let arg = words.next().unwrap_or_default();
    let svdir = words.next().unwrap_or_default();

    for verbose in [false, true] {
        let c = parse_command(&word, verbose);
        if !LSB.contains(&&*word) {
            // anything else is decided by its first character alone
            let first = word.chars().next().map_or(0, char::len_utf8);
            assert_eq!(c, parse_command(&word[..first], verbose), "{word:?}");
        }
    }

    let svdir = Path::new(&*svdir);
    let p = service_path(svdir, &arg);
    if arg.starts_with('.') || arg.starts_with('/') || arg.ends_with('/') {
        assert_eq!(p, PathBuf::from(&*arg));
    } else {
        assert_eq!(p, svdir.join(&*arg));
        assert!(p.starts_with(svdir));
    }

    if let Some(st) = Status::decode(record) {
        assert_eq!(Status::decode(&st.encode()), Some(st));
        let now = u64::from_le_bytes(record[..8].try_into().unwrap());
        for normally_up in [false, true] {
            let line = status_line(&arg, &st, now, normally_up);
            assert!(line.contains(&*arg));
        }
    }
});
