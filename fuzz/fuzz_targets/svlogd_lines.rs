#![no_main]
//! Feeds any bytes as svlogd's input (svlogd::lines::split, then svlogd::scrub); asserts no panic, that the lines and their newlines are exactly the bytes used, no line is longer than the buffer, and the rest is an incomplete line.
use libfuzzer_sys::fuzz_target;
use supervisor::svlogd::{lines, scrub};

fuzz_target!(|data: &[u8]| {
    // two bytes of buffer length (1..=1024, svlogd itself uses >= 256), one of flags
    let [a, b, flags, input @ ..] = data else {
        return;
    };
    let buflen = usize::from(u16::from_le_bytes([*a, *b]) % 1024) + 1;
    let eof = flags & 1 != 0;
    let mut rebuilt = Vec::new();
    let used = lines::split(input, buflen, eof, |l| {
        assert!(l.len() <= buflen);
        assert!(!l.contains(&b'\n'));
        rebuilt.extend_from_slice(l);
        if input.get(rebuilt.len()) == Some(&b'\n') {
            rebuilt.push(b'\n');
        }
        let mut line = l.to_vec();
        scrub(&mut line, Some(b'_'), b"@");
        assert!(line.iter().all(|&c| (0x20..0x7f).contains(&c) && c != b'@'));
    });
    assert_eq!(&input[..used], &rebuilt[..]);
    let rest = &input[used..];
    if eof {
        assert!(rest.is_empty());
    } else {
        assert!(rest.len() < buflen && !rest.contains(&b'\n'));
    }
});
