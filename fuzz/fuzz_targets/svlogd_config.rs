#![no_main]
//! Feeds any text as a log directory's `config` (svlogd::core::config::parse) and any bytes as a line to its patterns (config::route); asserts no panic and one warning at most per line.
use libfuzzer_sys::fuzz_target;
use supervisor::svlogd::core::config;

fuzz_target!(|data: &[u8]| {
    // config text, then after the first NUL a log line and the -l length
    let (text, line) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let text = String::from_utf8_lossy(text);
    let (c, warnings) = config::parse(&text);
    assert!(warnings.len() <= text.lines().count());
    assert!(c.timeout <= config::MAX_TIMEOUT);
    let len = line.first().map_or(1000, |&b| usize::from(b));
    let _ = config::route(&c.patterns, line, len);
    let _ = config::route(&c.patterns, line, usize::MAX);
});
