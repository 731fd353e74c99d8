#![no_main]
//! Feeds any text as udhcpc's remembered-lease state file (dhcp::core::lease::from_state, at any time); asserts no panic, and that a lease read back is written (lease::state_text) and read again the same, with all of it left.
use libfuzzer_sys::fuzz_target;
use netsvc::dhcp::core::lease::{from_state, state_text};

const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

fuzz_target!(|data: &[u8]| {
    // eight bytes of "now" (Unix seconds), then the file
    let Some((now, text)) = data.split_first_chunk::<8>() else {
        return;
    };
    let now = u64::from_le_bytes(*now);
    let text = String::from_utf8_lossy(text);
    let Some((l, _left)) = from_state(&text, MAC, now) else {
        return;
    };
    if now > u64::MAX / 2 {
        return; // no clock reads that; written at such a time the lease would end past u64
    }
    let written = state_text(&l, now);
    let (l2, left2) = from_state(&written, MAC, now).expect("a written lease reads back");
    assert_eq!(
        (l2.ip, l2.server, l2.lease, l2.prefix, l2.t1, l2.t2),
        (l.ip, l.server, l.lease, l.prefix, l.t1, l.t2)
    );
    assert_eq!(left2.as_secs(), u64::from(l.lease));
});
