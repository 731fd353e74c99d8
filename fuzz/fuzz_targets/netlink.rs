#![no_main]
//! Feeds any bytes as what an rtnetlink socket returns, through the one decoder (netlink::msg): the message and attribute walkers, link events (netlink::parse_links), a dump's answers (netlink::Dump) whose bodies go to netlink::parse_addr, netlink::parse_route and netlink::route_of_any_table and their IPv6 forms (parse_addr6, parse_route6, route6_of_any_table), neighbours of both families (parse_neigh), and a request's acknowledgement (netlink::ack); asserts no panic, that the message and attribute walkers go forward, aligned, inside the bytes given, that names hold no NUL and prefixes of any table are at most 32 (128 for IPv6), and that what the encoders write (a header, attributes, an IPv6 address and route, a neighbour's delete) decodes back the same.
use libfuzzer_sys::fuzz_target;
use netsvc::netlink::{self, msg};

/// A route of any table has a prefix of at most 32 (fw::shadow compares them).
fn check_any_table(t: u16, body: &[u8]) {
    if let Some(r) = netlink::route_of_any_table(t, body) {
        assert!(r.prefix <= 32);
    }
}

/// Where `inner`, a part of `outer`, starts in it.
fn offset(outer: &[u8], inner: &[u8]) -> usize {
    let at = inner.as_ptr() as usize - outer.as_ptr() as usize;
    assert!(at + inner.len() <= outer.len());
    at
}

fn bodies(t: u16, body: &[u8]) {
    let _ = netlink::parse_addr(t, body);
    let _ = netlink::parse_route(t, body);
    check_any_table(t, body);
    if let Some(a) = netlink::parse_addr6(t, body) {
        assert!(a.prefix <= 128);
        // what the kernel listed, set again, lists back the same
        let again = netlink::addr6_body(a.index, &a.to_addr6());
        let b = netlink::parse_addr6(msg::RTM_NEWADDR, &again).unwrap();
        assert_eq!((b.ip, b.prefix, b.valid), (a.ip, a.prefix, a.valid));
        assert_eq!(b.preferred, a.preferred.min(a.valid));
    }
    if let Some(n) = netlink::parse_neigh(t, body) {
        // the delete for it names the same link and address
        let del = netlink::neigh_body(0, n.index, Some(n.dst));
        let back = netlink::parse_neigh(msg::RTM_NEWNEIGH, &del).unwrap();
        assert_eq!((back.index, back.dst), (n.index, n.dst));
    }
    for r in [
        netlink::parse_route6(t, body),
        netlink::route6_of_any_table(t, body),
    ]
    .into_iter()
    .flatten()
    {
        assert!(r.prefix <= 128);
        // asked for again, in the main table, it lists back the same
        let want = netlink::Route6 {
            dst: if r.prefix > 0 {
                r.dst
            } else {
                std::net::Ipv6Addr::UNSPECIFIED
            },
            index: r.index.max(0),
            ..r
        };
        let again = netlink::route6_body(&r);
        assert_eq!(netlink::parse_route6(msg::RTM_NEWROUTE, &again), Some(want));
    }
}

fuzz_target!(|data: &[u8]| {
    // the walkers go forward, aligned, one header after the other
    let mut end = 0;
    for m in msg::messages(data) {
        let at = offset(data, m.body) - msg::HEADER_LEN;
        assert!(at >= end && at % 4 == 0);
        end = at + msg::HEADER_LEN + m.body.len();
        for skip in [0, 8, 12, 16] {
            let mut a_end = skip;
            for (t, d) in msg::attrs(m.body, skip) {
                assert!(t <= 0x3fff);
                let a_at = offset(m.body, d) - 4;
                assert!(a_at >= a_end && (a_at - skip) % 4 == 0);
                a_end = a_at + 4 + d.len();
            }
        }
        let _ = netlink::link_of(&m);
    }
    for l in netlink::parse_links(data) {
        assert!(!l.name.as_deref().unwrap_or_default().contains('\0'));
        let _ = l.carrier();
    }
    let seq = data
        .get(8..12)
        .map_or(0, |s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]));
    let mut dump = netlink::Dump::new(seq);
    let _ = dump.feed(data);
    for (t, body) in &dump.items {
        bodies(*t, body);
    }
    // one body on its own, its type in the first two bytes
    if let [a, b, body @ ..] = data {
        let t = u16::from_ne_bytes([*a, *b]);
        bodies(t, body);
        // the encoder: one header around any body decodes back the same
        let m = msg::encode(t, t.rotate_left(3), seq, body);
        let back: Vec<msg::Msg> = msg::messages(&m).collect();
        assert_eq!(back.len(), 1);
        assert_eq!((back[0].typ, back[0].seq, back[0].body), (t, seq, body));
        // attributes: pieces of the body, each as long as its first byte says
        let mut rest = body;
        let mut put = Vec::new();
        let mut want = Vec::new();
        while let [n, ..] = rest {
            let (piece, r) = rest.split_at((*n as usize % 24).min(rest.len()));
            msg::put_attr(&mut put, t & 0x3fff, piece);
            want.push((t & 0x3fff, piece));
            rest = if piece.is_empty() { &r[1..] } else { r };
        }
        assert_eq!(msg::attrs(&put, 0).collect::<Vec<_>>(), want);
    }
    let _ = netlink::ack(data, seq);
});
