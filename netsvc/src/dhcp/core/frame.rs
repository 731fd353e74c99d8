//! IPv4/UDP framing of DHCP messages for a packet socket (the client has no
//! address yet, so the kernel's UDP stack cannot be used), with checksums,
//! the classic BPF filter that lets only BOOTREPLYs for our MAC through,
//! and the checksum status a packet socket reports with each packet. (The
//! ARP frames of the `-a` check are `crate::arp`'s, shared with zcip.)

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
/// UDP to port 68 that carries a BOOTREPLY for `mac` (its `chaddr`), drop
/// everything else in the kernel. The client ignores replies for other
/// hardware addresses anyway; dropping them here means a busy LAN's replies
/// to other clients, or a flood of UDP to port 68, never wake it up.
pub fn bpf_filter(mac: [u8; 6]) -> Vec<(u16, u8, u8, u32)> {
    let mac_hi = u32::from_be_bytes([mac[0], mac[1], mac[2], mac[3]]);
    let mac_lo = u16::from_be_bytes([mac[4], mac[5]]) as u32;
    vec![
        (0x30, 0, 0, 9),       // ldb [9]: protocol
        (0x15, 0, 12, 17),     // jeq UDP ? next : drop
        (0x28, 0, 0, 6),       // ldh [6]: flags, fragment offset
        (0x45, 10, 0, 0x1fff), // jset offset ? drop : next
        (0xb1, 0, 0, 0),       // ldxb 4*([0]&0xf)
        (0x48, 0, 0, 2),       // ldh [x+2]: UDP destination port
        (0x15, 0, 7, 68),      // jeq 68 ? next : drop
        (0x50, 0, 0, 8),       // ldb [x+8]: BOOTP op
        (0x15, 0, 5, 2),       // jeq BOOTREPLY ? next : drop
        (0x40, 0, 0, 8 + 28),  // ld [x+36]: chaddr[0..4]
        (0x15, 0, 3, mac_hi),  // jeq ? next : drop
        (0x48, 0, 0, 8 + 32),  // ldh [x+40]: chaddr[4..6]
        (0x15, 0, 1, mac_lo),  // jeq ? accept : drop
        (0x06, 0, 0, 0xffff),  // accept
        (0x06, 0, 0, 0),       // drop
    ]
}

/// Whether a packet's UDP checksum is final, from the control messages
/// that came with it (`control`, as recvmsg(2) filled it): false when a
/// PACKET_AUXDATA message says TP_STATUS_CSUMNOTREADY, which a packet
/// socket reports for a local sender's packet over a veth. Each message
/// is a `cmsghdr` (length as a `size_t`, level, type), its data aligned to
/// a `size_t`; a message cut short ends the walk.
pub fn csum_ready(control: &[u8]) -> bool {
    const SOL_PACKET: i32 = 263;
    const PACKET_AUXDATA: i32 = 8;
    const TP_STATUS_CSUMNOTREADY: u32 = 1 << 3;
    const WORD: usize = std::mem::size_of::<usize>();
    let align = |n: usize| n.div_ceil(WORD).saturating_mul(WORD);
    let int = |b: &[u8], at: usize| -> Option<[u8; 4]> { b.get(at..at + 4)?.try_into().ok() };
    let header = align(WORD + 8);
    let mut rest = control;
    while rest.len() >= header {
        let Ok(len) = rest[..WORD].try_into().map(usize::from_ne_bytes) else {
            break;
        };
        if len < header || len > rest.len() {
            break;
        }
        let (Some(level), Some(kind)) = (int(rest, WORD), int(rest, WORD + 4)) else {
            break;
        };
        if i32::from_ne_bytes(level) == SOL_PACKET && i32::from_ne_bytes(kind) == PACKET_AUXDATA {
            if let Some(status) = int(&rest[..len], header) {
                if u32::from_ne_bytes(status) & TP_STATUS_CSUMNOTREADY != 0 {
                    return false;
                }
            }
        }
        rest = rest.get(align(len)..).unwrap_or_default();
    }
    true
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
    /// Runs the classic BPF program the way the kernel does (the subset it
    /// uses), on a cooked packet: accept (true) or drop.
    fn run_bpf(prog: &[(u16, u8, u8, u32)], p: &[u8]) -> bool {
        let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
        let byte = |i: usize| p.get(i).map(|&b| b as u32);
        loop {
            let (code, jt, jf, k) = prog[pc];
            pc += 1;
            let ld = |n: usize, at: usize| -> Option<u32> {
                (0..n).try_fold(0u32, |v, j| Some(v << 8 | byte(at + j)?))
            };
            match code {
                0x30 => match ld(1, k as usize) {
                    Some(v) => a = v,
                    None => return false,
                },
                0x28 => match ld(2, k as usize) {
                    Some(v) => a = v,
                    None => return false,
                },
                0x50 => match ld(1, (x + k) as usize) {
                    Some(v) => a = v,
                    None => return false,
                },
                0x48 => match ld(2, (x + k) as usize) {
                    Some(v) => a = v,
                    None => return false,
                },
                0x40 => match ld(4, (x + k) as usize) {
                    Some(v) => a = v,
                    None => return false,
                },
                0xb1 => match byte(k as usize) {
                    Some(v) => x = 4 * (v & 0xf),
                    None => return false,
                },
                0x15 => pc += usize::from(if a == k { jt } else { jf }),
                0x45 => pc += usize::from(if a & k != 0 { jt } else { jf }),
                0x06 => return k != 0,
                _ => panic!("opcode {code:#x}"),
            }
        }
    }

    fn reply_to(mac: [u8; 6]) -> Vec<u8> {
        let mut payload = vec![0u8; 240];
        payload[0] = 2; // BOOTREPLY
        payload[28..34].copy_from_slice(&mac);
        let mut r = build(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::BROADCAST, &payload);
        r[20..22].copy_from_slice(&SERVER_PORT.to_be_bytes());
        r[22..24].copy_from_slice(&CLIENT_PORT.to_be_bytes());
        r
    }

    #[test]
    fn filter_passes_only_replies_for_our_mac() {
        let mac = [2, 0, 0, 0, 0, 9];
        let prog = bpf_filter(mac);
        assert!(run_bpf(&prog, &reply_to(mac)));
        assert!(
            !run_bpf(&prog, &reply_to([2, 0, 0, 0, 0, 8])),
            "another client's"
        );
        assert!(!run_bpf(&prog, &reply_to([3, 0, 0, 0, 0, 9])));
        let mut request = reply_to(mac);
        request[28] = 1;
        assert!(!run_bpf(&prog, &request), "a BOOTREQUEST");
        let mut to67 = reply_to(mac);
        to67[22..24].copy_from_slice(&SERVER_PORT.to_be_bytes());
        assert!(!run_bpf(&prog, &to67));
        let mut frag = reply_to(mac);
        frag[7] = 1;
        assert!(!run_bpf(&prog, &frag));
        let mut tcp = reply_to(mac);
        tcp[9] = 6;
        assert!(!run_bpf(&prog, &tcp));
        // garbage UDP to port 68, and a packet cut short before chaddr
        let mut noise = build(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::BROADCAST, b"flood");
        noise[22..24].copy_from_slice(&CLIENT_PORT.to_be_bytes());
        assert!(!run_bpf(&prog, &noise));
        assert!(!run_bpf(&prog, &reply_to(mac)[..60]));
        // IP options move the UDP header
        let mut opts = reply_to(mac);
        opts[0] = 0x46;
        opts.splice(20..20, [1, 1, 1, 1]);
        assert!(run_bpf(&prog, &opts));
    }

    /// A control message as the kernel lays it out.
    fn cmsg(level: i32, kind: i32, data: &[u8]) -> Vec<u8> {
        const WORD: usize = std::mem::size_of::<usize>();
        let header = (WORD + 8).div_ceil(WORD) * WORD;
        let mut m = (header + data.len()).to_ne_bytes().to_vec();
        m.extend_from_slice(&level.to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.resize(header, 0);
        m.extend_from_slice(data);
        m.resize(m.len().div_ceil(WORD) * WORD, 0);
        m
    }

    #[test]
    fn checksum_readiness_from_auxdata() {
        assert_eq!((libc::SOL_PACKET, libc::PACKET_AUXDATA), (263, 8));
        // tpacket_auxdata: tp_status first, then lengths and the VLAN tag
        let aux = |status: u32| {
            let mut d = status.to_ne_bytes().to_vec();
            d.resize(20, 0);
            cmsg(263, 8, &d)
        };
        assert!(csum_ready(&[]));
        assert!(csum_ready(&aux(1)), "TP_STATUS_USER only");
        assert!(!csum_ready(&aux(1 | 8)));
        // after another message, and cut short
        let mut two = cmsg(1, 2, &[0; 4]);
        two.extend(aux(8));
        assert!(!csum_ready(&two));
        assert!(csum_ready(&two[..two.len() - 30]));
        assert!(csum_ready(&[0xff; 7]));
        assert!(csum_ready(&cmsg(263, 8, &[])), "no status: ready");
    }
}
