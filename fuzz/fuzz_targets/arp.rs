#![no_main]
//! Feeds any bytes as ARP frames from the link (netsvc::arp::parse) and what parses to the RFC 3927/5227 state machine (Zcip::arp between its ticks); asserts no panic, that a parsed frame rebuilt with packet::arp_request parses the same, and that zcip only ever holds a usable link-local address.
use libfuzzer_sys::fuzz_target;
use netsvc::arp::{self, parse as parse_arp, Arp};
use netsvc::packet::arp_request;
use netsvc::zcip::core::{usable, Zcip};
use std::time::Duration;

const MAC: [u8; 6] = [2, 0, 0, 0, 0, 7];

fuzz_target!(|data: &[u8]| {
    // the whole input as one frame of any length
    if let Some(p) = parse_arp(data) {
        assert_eq!(
            parse_arp(&arp_request(p.sender_mac, p.sender_ip, p.target_ip)),
            Some(Arp {
                op: arp::REQUEST,
                ..p
            })
        );
    }
    // then as a conversation: a byte of ticks to let pass, a 28-byte frame, ...
    let first = data.get(1..).and_then(parse_arp);
    let (mut z, _) = Zcip::new(Duration::ZERO, MAC, first.map(|p| p.target_ip));
    let mut now = Duration::ZERO;
    for chunk in data.chunks(29) {
        let [ticks, frame @ ..] = chunk else { break };
        for _ in 0..ticks % 4 {
            if let Some(d) = z.deadline() {
                now = now.max(d);
                let _ = z.tick(now);
            }
        }
        if let Some(p) = parse_arp(frame) {
            now += Duration::from_millis(u64::from(frame[7]) * 100);
            let _ = z.arp(now, p);
        }
        assert!(usable(z.ip), "{}", z.ip);
    }
});
