//! IPv4/UDP framing of DHCP messages for a packet socket (the client has no
//! address yet, so the kernel's UDP stack cannot be used), with checksums,
//! and the classic BPF filter that lets only UDP to port 68 through.

use std::net::Ipv4Addr;

pub const CLIENT_PORT: u16 = 68;
pub const SERVER_PORT: u16 = 67;

/// RFC 1071 checksum over `data` (with `init` as partial sum).
pub fn checksum(init: u32, data: &[u8]) -> u16 {
    let mut sum = init;
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], 0])
        };
        sum += w as u32;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn pseudo_sum(src: Ipv4Addr, dst: Ipv4Addr, udp_len: u16) -> u32 {
    let (s, d) = (src.octets(), dst.octets());
    u16::from_be_bytes([s[0], s[1]]) as u32
        + u16::from_be_bytes([s[2], s[3]]) as u32
        + u16::from_be_bytes([d[0], d[1]]) as u32
        + u16::from_be_bytes([d[2], d[3]]) as u32
        + 17
        + udp_len as u32
}

/// An IPv4 packet carrying `payload` in UDP from `src:68` to `dst:67`.
pub fn build(src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
    let udp_len = (8 + payload.len()) as u16;
    let total = 20 + udp_len;
    let mut p = Vec::with_capacity(total as usize);
    p.extend_from_slice(&[0x45, 0x10]); // IPv4, IHL 5; TOS low delay
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0]); // id, flags, fragment offset
    p.extend_from_slice(&[64, 17, 0, 0]); // TTL, UDP, checksum (below)
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let c = checksum(0, &p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(&CLIENT_PORT.to_be_bytes());
    p.extend_from_slice(&SERVER_PORT.to_be_bytes());
    p.extend_from_slice(&udp_len.to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    let mut c = checksum(pseudo_sum(src, dst, udp_len), &p[20..]);
    if c == 0 {
        c = 0xffff;
    }
    p[26..28].copy_from_slice(&c.to_be_bytes());
    p
}

/// The UDP payload of an IPv4 packet to port 68, if it is one and its
/// checksums are right.
pub fn parse(p: &[u8]) -> Option<&[u8]> {
    parse_with(p, true)
}

/// Like `parse`; `udp_sum_ready` false skips the UDP checksum, which the
/// kernel has not filled in yet for a packet from a local sender over a
/// veth (its packet socket reports TP_STATUS_CSUMNOTREADY).
pub fn parse_with(p: &[u8], udp_sum_ready: bool) -> Option<&[u8]> {
    if p.len() < 28 || p[0] >> 4 != 4 {
        return None;
    }
    let ihl = (p[0] & 0xf) as usize * 4;
    let total = u16::from_be_bytes([p[2], p[3]]) as usize;
    if ihl < 20 || total > p.len() || total < ihl + 8 || p[9] != 17 {
        return None;
    }
    if u16::from_be_bytes([p[6], p[7]]) & 0x3fff != 0 {
        return None; // fragments
    }
    if checksum(0, &p[..ihl]) != 0 {
        return None;
    }
    let udp = &p[ihl..total];
    if u16::from_be_bytes([udp[2], udp[3]]) != CLIENT_PORT {
        return None;
    }
    let udp_len = u16::from_be_bytes([udp[4], udp[5]]) as usize;
    if udp_len < 8 || udp_len > udp.len() {
        return None;
    }
    let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
    let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
    if udp_sum_ready
        && u16::from_be_bytes([udp[6], udp[7]]) != 0
        && checksum(pseudo_sum(src, dst, udp_len as u16), &udp[..udp_len]) != 0
    {
        return None;
    }
    Some(&udp[8..udp_len])
}

/// Classic BPF for a cooked (SOCK_DGRAM) packet socket: accept unfragmented
/// UDP to port 68, drop everything else in the kernel.
pub fn bpf_filter() -> Vec<(u16, u8, u8, u32)> {
    vec![
        (0x30, 0, 0, 9),      // ldb [9]: protocol
        (0x15, 0, 6, 17),     // jeq UDP ? next : drop
        (0x28, 0, 0, 6),      // ldh [6]: flags, fragment offset
        (0x45, 4, 0, 0x1fff), // jset offset ? drop : next
        (0xb1, 0, 0, 0),      // ldxb 4*([0]&0xf)
        (0x48, 0, 0, 2),      // ldh [x+2]: UDP destination port
        (0x15, 0, 1, 68),     // jeq 68 ? accept : drop
        (0x06, 0, 0, 0xffff), // accept
        (0x06, 0, 0, 0),      // drop
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_parse() {
        let p = build(Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST, b"hello dhcp");
        assert_eq!(checksum(0, &p[..20]), 0);
        // flip it around: a reply to port 68 parses
        let mut r = p.clone();
        r[20..22].copy_from_slice(&SERVER_PORT.to_be_bytes());
        r[22..24].copy_from_slice(&CLIENT_PORT.to_be_bytes());
        r[26..28].copy_from_slice(&[0, 0]); // no UDP checksum
        assert_eq!(parse(&r), Some(&b"hello dhcp"[..]));
        // corrupted IP header
        let mut bad = r.clone();
        bad[8] ^= 1;
        assert_eq!(parse(&bad), None);
        // wrong UDP checksum
        let mut bad = r.clone();
        bad[26] = 1;
        assert_eq!(parse(&bad), None);
        assert_eq!(parse(&r[..20]), None);
        assert_eq!(parse(&p), None, "to port 67, not ours");
    }

    #[test]
    fn udp_checksum_verifies() {
        // a reply built like a server would, with its checksum
        let mut r = build(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 50),
            b"x",
        );
        r[20..22].copy_from_slice(&SERVER_PORT.to_be_bytes());
        r[22..24].copy_from_slice(&CLIENT_PORT.to_be_bytes());
        r[26..28].copy_from_slice(&[0, 0]);
        let c = checksum(
            pseudo_sum(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 50), 9),
            &r[20..],
        );
        r[26..28].copy_from_slice(&c.to_be_bytes());
        assert_eq!(parse(&r), Some(&b"x"[..]));
    }
}
