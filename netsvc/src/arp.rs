//! Ethernet/IPv4 ARP frames as a cooked packet socket delivers them (no
//! Ethernet header), reduced to what RFC 5227 looks at. Pure: zcip and the
//! DHCP client's `-a` check both read the link through `parse`.

use std::net::Ipv4Addr;

/// `op` of a request (probes and announcements are requests).
pub const REQUEST: u16 = 1;
/// `op` of a reply.
pub const REPLY: u16 = 2;

/// One ARP frame seen on the link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arp {
    /// `REQUEST` or `REPLY` (any other value as it came).
    pub op: u16,
    pub sender_mac: [u8; 6],
    pub sender_ip: Ipv4Addr,
    pub target_ip: Ipv4Addr,
}

/// Parse an Ethernet/IPv4 ARP frame: hardware type 1 (Ethernet), protocol
/// 0x0800 (IPv4), address lengths 6 and 4, at least 28 bytes (a trailer,
/// such as Ethernet padding, is ignored). Anything else is `None`.
pub fn parse(b: &[u8]) -> Option<Arp> {
    let b: &[u8; 28] = b.get(..28)?.try_into().ok()?;
    if b[0..2] != [0, 1] || b[2..4] != [8, 0] || b[4] != 6 || b[5] != 4 {
        return None;
    }
    let ip = |i: usize| Ipv4Addr::new(b[i], b[i + 1], b[i + 2], b[i + 3]);
    Some(Arp {
        op: u16::from_be_bytes([b[6], b[7]]),
        sender_mac: [b[8], b[9], b[10], b[11], b[12], b[13]],
        sender_ip: ip(14),
        target_ip: ip(24),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [2, 0, 0, 0, 0, 7];

    fn frame(op: u16, sender: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
        let mut f = vec![0, 1, 8, 0, 6, 4];
        f.extend_from_slice(&op.to_be_bytes());
        f.extend_from_slice(&MAC);
        f.extend_from_slice(&sender.octets());
        f.extend_from_slice(&[0xaa; 6]);
        f.extend_from_slice(&target.octets());
        f
    }

    #[test]
    fn a_reply_and_a_probe_parse() {
        let ip = Ipv4Addr::new(169, 254, 7, 7);
        assert_eq!(
            parse(&frame(REPLY, ip, Ipv4Addr::new(10, 0, 0, 1))),
            Some(Arp {
                op: REPLY,
                sender_mac: MAC,
                sender_ip: ip,
                target_ip: Ipv4Addr::new(10, 0, 0, 1),
            })
        );
        let probe = parse(&frame(REQUEST, Ipv4Addr::UNSPECIFIED, ip)).unwrap();
        assert_eq!(
            (probe.op, probe.sender_ip, probe.target_ip),
            (REQUEST, Ipv4Addr::UNSPECIFIED, ip)
        );
        // the packet module's own probe parses back
        let built = crate::packet::arp_request(MAC, Ipv4Addr::UNSPECIFIED, ip);
        assert_eq!(parse(&built), Some(probe));
    }

    #[test]
    fn padding_is_ignored_and_anything_else_is_refused() {
        let ip = Ipv4Addr::new(169, 254, 7, 7);
        let good = frame(REQUEST, ip, ip);
        let mut padded = good.clone();
        padded.extend_from_slice(&[0; 18]);
        assert_eq!(parse(&padded), parse(&good));
        assert!(parse(&good).is_some());
        for n in 0..28 {
            assert_eq!(parse(&good[..n]), None, "short: {n} bytes");
        }
        for (at, v) in [(1, 6), (3, 0xdd), (4, 8), (5, 16)] {
            let mut bad = good.clone();
            bad[at] = v;
            assert_eq!(parse(&bad), None, "byte {at} = {v}");
        }
        // an unknown op is still a frame: the caller judges it
        assert_eq!(parse(&frame(9, ip, ip)).map(|a| a.op), Some(9));
    }
}
