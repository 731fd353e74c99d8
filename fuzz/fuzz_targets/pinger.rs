#![no_main]
//! Feeds any bytes as the seconds of -i/-t (common::num::secs_frac: what it takes is in range and within 1 ns of what f64's parser reads, and it takes what f64 reads well inside the range), as ICMP datagrams (pinger::core::echo_reply_seq, ping-socket and raw form) and drives the pinger's core (Pinger::handle) with the replies, lease changes and timers the bytes describe; asserts no panic and that the core asks for a timer whenever it has a router.
use libfuzzer_sys::fuzz_target;
use netsvc::pinger::core::{echo_reply_seq, Event, Pinger};
use std::net::Ipv4Addr;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let (lo, hi) = (Duration::from_millis(1), Duration::from_secs(86_400));
        if let Ok(d) = common::num::secs_frac("-i", text, lo, hi) {
            assert!(d >= lo && d <= hi, "{text:?}: {d:?} out of range");
            let f = text.parse::<f64>().expect("secs_frac took what f64 does not");
            let g = Duration::from_secs_f64(f);
            assert!(d.abs_diff(g) <= Duration::from_nanos(1), "{text:?}: {d:?} vs {g:?}");
        } else if let Ok(f) = text.parse::<f64>() {
            // what f64 reads well inside the range, secs_frac takes too
            assert!(!(0.0011..=86_399.0).contains(&f), "{text:?}: {f} refused");
        }
    }
    let _ = echo_reply_seq(data, false);
    let _ = echo_reply_seq(data, true);
    let mut p = Pinger::new(
        "eth0",
        Duration::from_secs(67),
        Duration::from_secs(5),
        5,
        Duration::from_secs(1),
    );
    let mut now = Duration::ZERO;
    let mut router = None;
    for c in data.chunks(4) {
        let (op, a, b) = (c[0] % 4, *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0));
        now = now.saturating_add(Duration::from_millis(u64::from(a) * 100));
        let ev = match op {
            0 => {
                router = (b != 0).then(|| Ipv4Addr::new(10, 0, 0, b));
                Event::Lease(router)
            }
            1 => Event::Reply {
                from: Ipv4Addr::new(10, 0, 0, b),
                seq: u16::from(a),
            },
            2 => Event::SendFailed("unreachable".into()),
            _ => Event::Timer,
        };
        let _ = p.handle(now, ev);
        assert!(
            router.is_none() || p.deadline().is_some(),
            "a router but no timer"
        );
    }
});
