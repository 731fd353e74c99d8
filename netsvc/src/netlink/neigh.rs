//! Neighbours (IPv6 neighbour discovery, IPv4 ARP): the ones of a link
//! the kernel could not resolve (`INCOMPLETE`, `FAILED`) listed and
//! deleted. After a replug the kernel keeps such an entry from the time
//! the cable was out and asks again only at the retransmission timer
//! (1 s), with the traffic queued behind it; deleted, the next packet asks
//! at once. The encoder and `parse_neigh` are pure; the `Rtnl` method
//! sends them.

use super::msg::{self, RTM_DELNEIGH, RTM_GETNEIGH, RTM_NEWNEIGH};
use super::Rtnl;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `struct ndmsg`: family, two pads, index, state, flags, type.
const NDMSG_LEN: usize = 12;
const NDA_DST: u16 = 1;
pub const NUD_INCOMPLETE: u16 = 0x01;
pub const NUD_FAILED: u16 = 0x20;

/// A neighbour entry as the kernel lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Neigh {
    pub index: i32,
    pub dst: IpAddr,
    /// `NUD_*`
    pub state: u16,
}

impl Neigh {
    /// Unresolved: the kernel is still asking, or gave up.
    pub fn unresolved(&self) -> bool {
        self.state & (NUD_INCOMPLETE | NUD_FAILED) != 0
    }
}

/// The body of an `RTM_GETNEIGH` dump of `family` (`dst` None) or an
/// `RTM_DELNEIGH` of `dst` (its family).
pub fn neigh_body(family: u8, index: i32, dst: Option<IpAddr>) -> Vec<u8> {
    let family = match dst {
        Some(IpAddr::V4(_)) => libc::AF_INET as u8,
        Some(IpAddr::V6(_)) => libc::AF_INET6 as u8,
        None => family,
    };
    let mut b = vec![family, 0, 0, 0];
    b.extend_from_slice(&(index as u32).to_ne_bytes());
    b.extend_from_slice(&[0; 4]);
    match dst {
        Some(IpAddr::V4(d)) => msg::put_attr(&mut b, NDA_DST, &d.octets()),
        Some(IpAddr::V6(d)) => msg::put_attr(&mut b, NDA_DST, &d.octets()),
        None => {}
    }
    b
}

/// A neighbour of a dump (message type `t`, body `b`), IPv4 or IPv6.
pub fn parse_neigh(t: u16, b: &[u8]) -> Option<Neigh> {
    if t != RTM_NEWNEIGH || b.len() < NDMSG_LEN {
        return None;
    }
    let d = msg::attrs(b, NDMSG_LEN).find(|(t, _)| *t == NDA_DST)?.1;
    let dst = match b[0] as i32 {
        libc::AF_INET => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(d).ok()?)),
        libc::AF_INET6 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(d).ok()?)),
        _ => return None,
    };
    Some(Neigh {
        index: msg::u32_at(b, 4)? as i32,
        dst,
        state: u16::from_ne_bytes([b[8], b[9]]),
    })
}

impl Rtnl {
    /// Delete the neighbours of `family` (`AF_INET`, `AF_INET6`) on link
    /// `index` the kernel has not resolved; how many went.
    pub fn forget_unresolved(&mut self, family: i32, index: i32) -> io::Result<usize> {
        let stale: Vec<Neigh> = self
            .sock
            .dump(RTM_GETNEIGH, &neigh_body(family as u8, index, None))?
            .iter()
            .filter_map(|(t, b)| parse_neigh(*t, b))
            .filter(|n| n.index == index && n.unresolved())
            .collect();
        let mut gone = 0;
        for n in &stale {
            // one the kernel resolved or dropped meanwhile is no failure
            if self
                .sock
                .request(RTM_DELNEIGH, 0, &neigh_body(0, index, Some(n.dst)))
                .is_ok()
            {
                gone += 1;
            }
        }
        Ok(gone)
    }
}

/// A carrier back on link `index`: its unresolved neighbours of `family`
/// forgotten, through a netlink socket of its own; the line for the
/// client's log, if there is one to say (`verbose`: also how many went).
pub fn forget_after_replug(family: i32, index: i32, verbose: bool) -> Option<String> {
    match Rtnl::open().and_then(|mut nl| nl.forget_unresolved(family, index)) {
        Ok(n) if n > 0 && verbose => Some(format!(
            "carrier back: {n} unresolved neighbour(s) forgotten"
        )),
        Ok(_) => None,
        Err(e) => Some(format!(
            "forgetting unresolved neighbours: {}",
            common::errtext::describe(&e)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As the kernel lists one: ndmsg, NDA_DST, NDA_CACHEINFO after it.
    fn listed(index: u32, dst: IpAddr, state: u16) -> Vec<u8> {
        let mut b = neigh_body(0, index as i32, Some(dst));
        b[8..10].copy_from_slice(&state.to_ne_bytes());
        b[11] = 1;
        msg::put_attr(&mut b, 3, &[0; 16]);
        b
    }

    #[test]
    fn unresolved_neighbours_are_told_from_resolved_ones() {
        let ll: IpAddr = "fe80::1".parse().unwrap();
        let gw: IpAddr = "192.168.1.1".parse().unwrap();
        for dst in [ll, gw] {
            let n = parse_neigh(RTM_NEWNEIGH, &listed(4, dst, NUD_INCOMPLETE)).unwrap();
            assert_eq!((n.index, n.dst, n.state), (4, dst, NUD_INCOMPLETE));
            assert!(n.unresolved());
            assert!(parse_neigh(RTM_NEWNEIGH, &listed(4, dst, NUD_FAILED))
                .unwrap()
                .unresolved());
            // REACHABLE 0x02, STALE 0x04, PERMANENT 0x80
            for s in [0x02, 0x04, 0x80] {
                assert!(!parse_neigh(RTM_NEWNEIGH, &listed(4, dst, s))
                    .unwrap()
                    .unresolved());
            }
            // another message type, a family the address does not fit, a
            // torn body: none, never a panic
            let b = listed(4, dst, NUD_FAILED);
            assert_eq!(parse_neigh(RTM_DELNEIGH, &b), None);
            let mut other = b.clone();
            other[0] = if dst.is_ipv4() {
                libc::AF_INET6
            } else {
                libc::AF_INET
            } as u8;
            assert_eq!(parse_neigh(RTM_NEWNEIGH, &other), None);
            other[0] = libc::AF_PACKET as u8;
            assert_eq!(parse_neigh(RTM_NEWNEIGH, &other), None);
            for n in 0..b.len() {
                let _ = parse_neigh(RTM_NEWNEIGH, &b[..n]);
            }
            assert_eq!(parse_neigh(RTM_NEWNEIGH, &b[..NDMSG_LEN]), None);
        }
    }

    #[test]
    fn the_delete_names_the_family_the_link_and_the_address() {
        let ll: IpAddr = "fe80::2".parse().unwrap();
        let b = neigh_body(0, 7, Some(ll));
        assert_eq!((b[0], b.len()), (libc::AF_INET6 as u8, NDMSG_LEN + 20));
        let n = parse_neigh(RTM_NEWNEIGH, &b).unwrap();
        assert_eq!((n.index, n.dst), (7, ll));
        let gw: IpAddr = "10.0.2.2".parse().unwrap();
        let b = neigh_body(0, 7, Some(gw));
        assert_eq!((b[0], b.len()), (libc::AF_INET as u8, NDMSG_LEN + 8));
        assert_eq!(parse_neigh(RTM_NEWNEIGH, &b).unwrap().dst, gw);
        // a dump names its family
        let d = neigh_body(libc::AF_INET as u8, 7, None);
        assert_eq!((d[0], d.len()), (libc::AF_INET as u8, NDMSG_LEN));
    }
}
