#![no_main]
//! Feeds any bytes as svlogd's input: to svlogd::core::lines::split and scrub, then through the router (svlogd::core::router) into a directory with a small `s` and write chunk; asserts no panic, that the lines and their newlines are exactly the bytes used, no line is longer than the buffer, the rest is an incomplete line, and that the router hands out every line once, each `current` within `s` unless one line alone passes it.
use libfuzzer_sys::fuzz_target;
use std::time::Duration;
use supervisor::svlogd::core::lines::{scrub, split};
use supervisor::svlogd::core::router::{LineOpts, Out, Policy, Router};
use supervisor::svlogd::core::{config, Now};

fuzz_target!(|data: &[u8]| {
    // two bytes of buffer length (1..=1024, svlogd itself uses >= 256), one of flags
    let [a, b, flags, input @ ..] = data else {
        return;
    };
    let buflen = usize::from(u16::from_le_bytes([*a, *b]) % 1024) + 1;
    let eof = flags & 1 != 0;
    let mut rebuilt = Vec::new();
    let mut count = 0;
    let used = split(input, buflen, eof, |l| {
        assert!(l.len() <= buflen);
        assert!(!l.contains(&b'\n'));
        count += 1;
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

    // the same input through the router, every rotation done
    let size = u64::from(flags >> 3) * 8;
    let opts = LineOpts {
        stamp: (flags >> 1) & 3,
        replace: (flags & 4 != 0).then_some(b'_'),
        replace_set: b"@".to_vec(),
        len: buflen,
        buflen,
    };
    let mut r = Router::new(opts, 1, 64 + usize::from(*b));
    let (mut cfg, _) = config::parse(&format!("s{size}\n"));
    r.open(0, Policy::take(&mut cfg, false), 0, Duration::ZERO);
    let now = Now::default();
    let mut out = Out::default();
    let (mut fed, mut lines, mut current) = (0, 0, 0u64);
    loop {
        let n = r.feed(&input[fed..], eof, now, &mut out);
        fed += n;
        let log = &out.logs[0];
        lines += log.iter().filter(|&&c| c == b'\n').count();
        current += log.len() as u64;
        if n == 0 && out.rotate.is_empty() {
            break;
        }
        if !out.rotate.is_empty() {
            assert_eq!(out.rotate, [0]);
            r.rotated(0, now);
            current = 0;
        }
        out.clear();
    }
    assert_eq!((fed, lines), (used, count));
    assert_eq!(r.current_len(0), Some(current));
    let one_line = (buflen + 30) as u64;
    assert!(size == 0 || current <= size.max(one_line));
});
