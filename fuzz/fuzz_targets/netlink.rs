#![no_main]
//! Feeds any bytes as what an rtnetlink socket returns: link events (netlink::parse_links), a dump's answers (netlink::dump_part) whose bodies go to netlink::parse_addr, netlink::parse_route and netlink::route_of_any_table, and a request's acknowledgement (netlink::ack); asserts no panic, that names hold no NUL and prefixes of any table are at most 32.
use libfuzzer_sys::fuzz_target;
use netsvc::netlink;

/// A route of any table has a prefix of at most 32 (fw::shadow compares them).
fn check_any_table(t: u16, body: &[u8]) {
    if let Some(r) = netlink::route_of_any_table(t, body) {
        assert!(r.prefix <= 32);
    }
}

fuzz_target!(|data: &[u8]| {
    for l in netlink::parse_links(data) {
        assert!(!l.name.as_deref().unwrap_or_default().contains('\0'));
        let _ = l.carrier();
    }
    let mut out = Vec::new();
    let _ = netlink::dump_part(data, &mut out);
    for (t, body) in &out {
        let _ = netlink::parse_addr(*t, body);
        let _ = netlink::parse_route(*t, body);
        check_any_table(*t, body);
    }
    // one body on its own, its type in the first two bytes
    if let [a, b, body @ ..] = data {
        let t = u16::from_ne_bytes([*a, *b]);
        let _ = netlink::parse_addr(t, body);
        let _ = netlink::parse_route(t, body);
        check_any_table(t, body);
    }
    let seq = data
        .get(8..12)
        .map_or(0, |s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]));
    let _ = netlink::ack(data, seq);
});
