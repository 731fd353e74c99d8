//! IPv6 neighbours: the ones of a link the kernel could not resolve
//! (`INCOMPLETE`, `FAILED`) listed and deleted. After a replug the kernel
//! keeps such an entry from the time the cable was out and sends its next
//! solicitation only at the retransmission timer (1 s), with the traffic
//! queued behind it; deleted, the next packet solicits at once. The
//! encoder and `parse_neigh6` are pure; the `Rtnl` methods send them.

use super::msg::{self, RTM_DELNEIGH, RTM_GETNEIGH, RTM_NEWNEIGH};
use super::Rtnl;
use std::io;
use std::net::Ipv6Addr;

/// `struct ndmsg`: family, two pads, index, state, flags, type.
const NDMSG_LEN: usize = 12;
const NDA_DST: u16 = 1;
pub const NUD_INCOMPLETE: u16 = 0x01;
pub const NUD_FAILED: u16 = 0x20;

/// An IPv6 neighbour entry as the kernel lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Neigh6 {
    pub index: i32,
    pub dst: Ipv6Addr,
    /// `NUD_*`
    pub state: u16,
}

impl Neigh6 {
    /// Unresolved: the kernel is still asking, or gave up.
    pub fn unresolved(&self) -> bool {
        self.state & (NUD_INCOMPLETE | NUD_FAILED) != 0
    }
}

/// The body of an `RTM_GETNEIGH` dump (`dst` None) or an `RTM_DELNEIGH`.
pub fn neigh6_body(index: i32, dst: Option<Ipv6Addr>) -> Vec<u8> {
    let mut b = vec![libc::AF_INET6 as u8, 0, 0, 0];
    b.extend_from_slice(&(index as u32).to_ne_bytes());
    b.extend_from_slice(&[0; 4]);
    if let Some(d) = dst {
        msg::put_attr(&mut b, NDA_DST, &d.octets());
    }
    b
}

/// An IPv6 neighbour of a dump (message type `t`, body `b`).
pub fn parse_neigh6(t: u16, b: &[u8]) -> Option<Neigh6> {
    if t != RTM_NEWNEIGH || b.len() < NDMSG_LEN || b[0] != libc::AF_INET6 as u8 {
        return None;
    }
    let dst = msg::attrs(b, NDMSG_LEN)
        .find(|(t, _)| *t == NDA_DST)
        .and_then(|(_, d)| <[u8; 16]>::try_from(d).ok())?;
    Some(Neigh6 {
        index: msg::u32_at(b, 4)? as i32,
        dst: Ipv6Addr::from(dst),
        state: u16::from_ne_bytes([b[8], b[9]]),
    })
}

impl Rtnl {
    /// Delete the IPv6 neighbours of link `index` the kernel has not
    /// resolved; how many went.
    pub fn forget_unresolved6(&mut self, index: i32) -> io::Result<usize> {
        let stale: Vec<Neigh6> = self
            .sock
            .dump(RTM_GETNEIGH, &neigh6_body(index, None))?
            .iter()
            .filter_map(|(t, b)| parse_neigh6(*t, b))
            .filter(|n| n.index == index && n.unresolved())
            .collect();
        let mut gone = 0;
        for n in &stale {
            // one the kernel resolved or dropped meanwhile is no failure
            if self
                .sock
                .request(RTM_DELNEIGH, 0, &neigh6_body(index, Some(n.dst)))
                .is_ok()
            {
                gone += 1;
            }
        }
        Ok(gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As the kernel lists one: ndmsg, NDA_DST, NDA_CACHEINFO after it.
    fn listed(index: u32, dst: Ipv6Addr, state: u16) -> Vec<u8> {
        let mut b = vec![libc::AF_INET6 as u8, 0, 0, 0];
        b.extend_from_slice(&index.to_ne_bytes());
        b.extend_from_slice(&state.to_ne_bytes());
        b.extend_from_slice(&[0, 1]);
        msg::put_attr(&mut b, NDA_DST, &dst.octets());
        msg::put_attr(&mut b, 3, &[0; 16]);
        b
    }

    #[test]
    fn unresolved_neighbours_are_told_from_resolved_ones() {
        let ll: Ipv6Addr = "fe80::1".parse().unwrap();
        let n = parse_neigh6(RTM_NEWNEIGH, &listed(4, ll, NUD_INCOMPLETE)).unwrap();
        assert_eq!((n.index, n.dst, n.state), (4, ll, NUD_INCOMPLETE));
        assert!(n.unresolved());
        assert!(parse_neigh6(RTM_NEWNEIGH, &listed(4, ll, NUD_FAILED))
            .unwrap()
            .unresolved());
        // REACHABLE 0x02, STALE 0x04, PERMANENT 0x80
        for s in [0x02, 0x04, 0x80] {
            assert!(!parse_neigh6(RTM_NEWNEIGH, &listed(4, ll, s))
                .unwrap()
                .unresolved());
        }
        // another message type, IPv4, a torn body: none, never a panic
        let b = listed(4, ll, NUD_FAILED);
        assert_eq!(parse_neigh6(RTM_DELNEIGH, &b), None);
        let mut v4 = b.clone();
        v4[0] = libc::AF_INET as u8;
        assert_eq!(parse_neigh6(RTM_NEWNEIGH, &v4), None);
        for n in 0..b.len() {
            let _ = parse_neigh6(RTM_NEWNEIGH, &b[..n]);
        }
        assert_eq!(parse_neigh6(RTM_NEWNEIGH, &b[..NDMSG_LEN]), None);
    }

    #[test]
    fn the_delete_names_the_link_and_the_address() {
        let ll: Ipv6Addr = "fe80::2".parse().unwrap();
        let b = neigh6_body(7, Some(ll));
        assert_eq!(b.len(), NDMSG_LEN + 20);
        let mut as_listed = b.clone();
        as_listed[8..10].copy_from_slice(&NUD_FAILED.to_ne_bytes());
        let n = parse_neigh6(RTM_NEWNEIGH, &as_listed).unwrap();
        assert_eq!((n.index, n.dst), (7, ll));
        assert_eq!(neigh6_body(7, None).len(), NDMSG_LEN);
    }
}
