//! Addresses: IPv4 added with a lifetime, removed, listed; IPv6 the same
//! with a preferred and a valid lifetime, flags (`IFA_FLAGS`) and the
//! origin mark `IFA_PROTO`, listed with the lifetimes the kernel has left.
//! The encoders and `parse_addr`/`parse_addr6` are pure; the `Rtnl`
//! methods send them.

use super::msg::{self, RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR};
use super::Rtnl;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};

/// `struct ifaddrmsg`: family, prefix, flags, scope, index.
const IFADDRMSG_LEN: usize = 8;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_BROADCAST: u16 = 4;
const IFA_CACHEINFO: u16 = 6;
const IFA_FLAGS: u16 = 8;
/// `IFA_PROTO` (kernel 5.18+): who made the address, kept and dumped by the
/// kernel (older kernels ignore it).
const IFA_PROTO: u16 = 11;

/// `IFA_F_*`: the flags of an address (`IFA_FLAGS` carries all 32 bits).
pub const IFA_F_TEMPORARY: u32 = 0x01;
pub const IFA_F_NODAD: u32 = 0x02;
pub const IFA_F_DADFAILED: u32 = 0x08;
pub const IFA_F_DEPRECATED: u32 = 0x20;
pub const IFA_F_TENTATIVE: u32 = 0x40;
pub const IFA_F_PERMANENT: u32 = 0x80;
pub const IFA_F_MANAGETEMPADDR: u32 = 0x100;
pub const IFA_F_NOPREFIXROUTE: u32 = 0x200;
/// Lifetime "forever" (`INFINITY_LIFE_TIME`).
pub const FOREVER: u32 = u32::MAX;
use super::msg::SCOPE_LINK;

/// An IPv4 address with its prefix, broadcast and lifetime (seconds;
/// u32::MAX forever), as `ip addr add` would make it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addr {
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub broadcast: Option<Ipv4Addr>,
    pub lifetime: u32,
}

/// An IPv4 address as the kernel lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrEntry {
    pub index: i32,
    pub ip: Ipv4Addr,
    pub prefix: u8,
}

/// The body of `RTM_NEWADDR`/`RTM_DELADDR` for `a` on link `index`.
pub fn addr_body(index: i32, a: &Addr) -> Vec<u8> {
    // ifaddrmsg: family, prefix, flags, scope (link for 169.254/16, RFC 3927)
    let scope = if a.ip.is_link_local() { SCOPE_LINK } else { 0 };
    let mut b = vec![libc::AF_INET as u8, a.prefix, 0, scope];
    b.extend_from_slice(&(index as u32).to_ne_bytes());
    msg::put_attr(&mut b, IFA_LOCAL, &a.ip.octets());
    msg::put_attr(&mut b, IFA_ADDRESS, &a.ip.octets());
    if let Some(bc) = a.broadcast {
        msg::put_attr(&mut b, IFA_BROADCAST, &bc.octets());
    }
    // ifa_cacheinfo: preferred, valid, then the kernel's timestamps
    let mut ci = Vec::with_capacity(16);
    ci.extend_from_slice(&a.lifetime.to_ne_bytes());
    ci.extend_from_slice(&a.lifetime.to_ne_bytes());
    ci.extend_from_slice(&[0u8; 8]);
    msg::put_attr(&mut b, IFA_CACHEINFO, &ci);
    b
}

/// An address of a dump (message type `t`, body `b`): IPv4 with a local address.
pub fn parse_addr(t: u16, b: &[u8]) -> Option<AddrEntry> {
    if t != RTM_NEWADDR || b.len() < IFADDRMSG_LEN {
        return None;
    }
    let local = msg::attrs(b, IFADDRMSG_LEN)
        .find(|(t, _)| *t == IFA_LOCAL)
        .and_then(|(_, d)| msg::ip4(d))?;
    Some(AddrEntry {
        index: msg::u32_at(b, 4)? as i32,
        ip: local,
        prefix: b[1],
    })
}

/// An IPv6 address to add or change: prefix, `IFA_F_*` flags (the kernel
/// takes NODAD, NOPREFIXROUTE, MANAGETEMPADDR, ...), lifetimes in seconds
/// (`FOREVER`; valid 0 is refused by the kernel, preferred 0 makes it
/// deprecated) and `proto`, the `IFA_PROTO` mark (0: none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addr6 {
    pub ip: Ipv6Addr,
    pub prefix: u8,
    pub flags: u32,
    pub preferred: u32,
    pub valid: u32,
    pub proto: u8,
}

/// An IPv6 address as the kernel lists it (a dump, or an `RTM_NEWADDR` /
/// `RTM_DELADDR` event: `deleted`): scope (0 global, 253 link), all its
/// flags, the lifetimes it has *left* (`FOREVER` when permanent), and the
/// `IFA_PROTO` mark (0 when none or the kernel is older than 5.18).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addr6Entry {
    pub index: i32,
    pub ip: Ipv6Addr,
    pub prefix: u8,
    pub scope: u8,
    pub flags: u32,
    pub preferred: u32,
    pub valid: u32,
    pub proto: u8,
    pub deleted: bool,
}

impl Addr6Entry {
    /// The same address as something to set (its lifetimes as they are
    /// now, its settable flags).
    pub fn to_addr6(&self) -> Addr6 {
        Addr6 {
            ip: self.ip,
            prefix: self.prefix,
            flags: self.flags & (IFA_F_NODAD | IFA_F_NOPREFIXROUTE | IFA_F_MANAGETEMPADDR),
            preferred: self.preferred,
            valid: self.valid,
            proto: self.proto,
        }
    }
}

/// The body of an IPv6 `RTM_NEWADDR`/`RTM_DELADDR` for `a` on link `index`
/// (the kernel works the scope out itself).
pub fn addr6_body(index: i32, a: &Addr6) -> Vec<u8> {
    let mut b = vec![libc::AF_INET6 as u8, a.prefix.min(128), a.flags as u8, 0];
    b.extend_from_slice(&(index as u32).to_ne_bytes());
    msg::put_attr(&mut b, IFA_ADDRESS, &a.ip.octets());
    msg::put_attr(&mut b, IFA_FLAGS, &a.flags.to_ne_bytes());
    let mut ci = Vec::with_capacity(16);
    ci.extend_from_slice(&a.preferred.min(a.valid).to_ne_bytes());
    ci.extend_from_slice(&a.valid.to_ne_bytes());
    ci.extend_from_slice(&[0u8; 8]);
    msg::put_attr(&mut b, IFA_CACHEINFO, &ci);
    if a.proto != 0 {
        msg::put_attr(&mut b, IFA_PROTO, &[a.proto]);
    }
    b
}

/// An IPv6 address of a dump or an event (message type `t`, body `b`).
pub fn parse_addr6(t: u16, b: &[u8]) -> Option<Addr6Entry> {
    if !matches!(t, RTM_NEWADDR | RTM_DELADDR)
        || b.len() < IFADDRMSG_LEN
        || b[0] != libc::AF_INET6 as u8
    {
        return None;
    }
    let ip6 = |d: &[u8]| <[u8; 16]>::try_from(d).ok().map(Ipv6Addr::from);
    let (mut address, mut local) = (None, None);
    let mut e = Addr6Entry {
        index: msg::u32_at(b, 4)? as i32,
        ip: Ipv6Addr::UNSPECIFIED,
        prefix: b[1].min(128),
        scope: b[3],
        flags: u32::from(b[2]),
        preferred: FOREVER,
        valid: FOREVER,
        proto: 0,
        deleted: t == RTM_DELADDR,
    };
    for (t, d) in msg::attrs(b, IFADDRMSG_LEN) {
        match t {
            IFA_ADDRESS => address = ip6(d).or(address),
            IFA_LOCAL => local = ip6(d).or(local),
            IFA_FLAGS => e.flags = msg::u32_of(d).unwrap_or(e.flags),
            IFA_CACHEINFO if d.len() >= 8 => {
                e.preferred = msg::u32_at(d, 0)?;
                e.valid = msg::u32_at(d, 4)?;
            }
            IFA_PROTO => e.proto = d.first().copied().unwrap_or(0),
            _ => {}
        }
    }
    // with a peer, IFA_LOCAL is the address and IFA_ADDRESS the peer's
    e.ip = local.or(address)?;
    Some(e)
}

impl Rtnl {
    /// Add or update an address (its lifetime is refreshed on renewal).
    pub fn set_address(&mut self, index: i32, a: &Addr) -> io::Result<()> {
        self.sock.request(
            RTM_NEWADDR,
            msg::NLM_F_CREATE | msg::NLM_F_REPLACE,
            &addr_body(index, a),
        )
    }

    pub fn del_address(&mut self, index: i32, a: &Addr) -> io::Result<()> {
        self.sock.request(RTM_DELADDR, 0, &addr_body(index, a))
    }

    /// Every IPv4 address.
    pub fn addresses(&mut self) -> io::Result<Vec<AddrEntry>> {
        let body = [libc::AF_INET as u8, 0, 0, 0, 0, 0, 0, 0];
        Ok(self
            .sock
            .dump(RTM_GETADDR, &body)?
            .iter()
            .filter_map(|(t, b)| parse_addr(*t, b))
            .collect())
    }

    /// Add an IPv6 address, or change the lifetimes and flags of one the
    /// link has.
    pub fn set_address6(&mut self, index: i32, a: &Addr6) -> io::Result<()> {
        self.sock.request(
            RTM_NEWADDR,
            msg::NLM_F_CREATE | msg::NLM_F_REPLACE,
            &addr6_body(index, a),
        )
    }

    pub fn del_address6(&mut self, index: i32, a: &Addr6) -> io::Result<()> {
        self.sock.request(RTM_DELADDR, 0, &addr6_body(index, a))
    }

    /// Every IPv6 address, with the lifetimes the kernel has left.
    pub fn addresses6(&mut self) -> io::Result<Vec<Addr6Entry>> {
        let body = [libc::AF_INET6 as u8, 0, 0, 0, 0, 0, 0, 0];
        Ok(self
            .sock
            .dump(RTM_GETADDR, &body)?
            .iter()
            .filter_map(|(t, b)| parse_addr6(*t, b))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_added_address_lists_back() {
        let a = Addr {
            ip: Ipv4Addr::new(169, 254, 7, 9),
            prefix: 16,
            broadcast: Some(Ipv4Addr::new(169, 254, 255, 255)),
            lifetime: 600,
        };
        let b = addr_body(5, &a);
        assert_eq!(b[3], SCOPE_LINK, "link-local has link scope");
        assert_eq!(
            parse_addr(RTM_NEWADDR, &b),
            Some(AddrEntry {
                index: 5,
                ip: a.ip,
                prefix: 16
            })
        );
        let ci: Vec<_> = msg::attrs(&b, IFADDRMSG_LEN)
            .filter(|(t, _)| *t == IFA_CACHEINFO)
            .collect();
        assert_eq!(
            ci[0].1[..8],
            [600u32.to_ne_bytes(), 600u32.to_ne_bytes()].concat()
        );
        // another message type, a short body, no IFA_LOCAL: none
        assert_eq!(parse_addr(RTM_DELADDR, &b), None);
        assert_eq!(parse_addr(RTM_NEWADDR, &b[..7]), None);
        assert_eq!(parse_addr(RTM_NEWADDR, &b[..8]), None);
        assert_eq!(parse_addr6(RTM_NEWADDR, &b), None, "not IPv6");
    }

    #[test]
    fn an_ipv6_address_with_lifetimes_flags_and_mark_lists_back() {
        let a = Addr6 {
            ip: "2001:db8:1:2::1".parse().unwrap(),
            prefix: 64,
            flags: IFA_F_NODAD | IFA_F_NOPREFIXROUTE,
            preferred: 1800,
            valid: 3600,
            proto: 0x66,
        };
        let b = addr6_body(3, &a);
        let e = parse_addr6(RTM_NEWADDR, &b).unwrap();
        assert_eq!(
            (
                e.index,
                e.ip,
                e.prefix,
                e.flags,
                e.preferred,
                e.valid,
                e.proto
            ),
            (3, a.ip, 64, a.flags, 1800, 3600, 0x66)
        );
        assert!(!e.deleted);
        assert_eq!(e.to_addr6(), a);
        assert!(parse_addr6(RTM_DELADDR, &b).unwrap().deleted);
        assert_eq!(parse_addr(RTM_NEWADDR, &b), None, "not IPv4");
        // preferred is never more than valid; no mark, no IFA_PROTO
        let b = addr6_body(
            3,
            &Addr6 {
                preferred: FOREVER,
                valid: 7200,
                proto: 0,
                ..a
            },
        );
        let e = parse_addr6(RTM_NEWADDR, &b).unwrap();
        assert_eq!((e.preferred, e.valid, e.proto), (7200, 7200, 0));
        assert!(!msg::attrs(&b, IFADDRMSG_LEN).any(|(t, _)| t == IFA_PROTO));
        // torn bodies: nothing or something, never a panic
        for n in 0..b.len() {
            let _ = parse_addr6(RTM_NEWADDR, &b[..n]);
        }
        assert_eq!(parse_addr6(RTM_NEWADDR, &b[..8]), None, "no address");
    }

    #[test]
    fn a_kernel_dump_of_an_ipv6_address() {
        // as the kernel writes it: ifa_flags 0x80 (permanent) in the fixed
        // part, IFA_FLAGS with the rest, IFA_CACHEINFO counting down
        let mut b = vec![libc::AF_INET6 as u8, 64, 0x80, 0];
        b.extend_from_slice(&2u32.to_ne_bytes());
        let ip: Ipv6Addr = "fe80::1".parse().unwrap();
        msg::put_attr(&mut b, IFA_ADDRESS, &ip.octets());
        let mut ci = 0u32.to_ne_bytes().to_vec();
        ci.extend_from_slice(&95u32.to_ne_bytes());
        ci.extend_from_slice(&[7; 8]);
        msg::put_attr(&mut b, IFA_CACHEINFO, &ci);
        msg::put_attr(&mut b, IFA_FLAGS, &(IFA_F_DEPRECATED | 0x800).to_ne_bytes());
        b[3] = SCOPE_LINK;
        let e = parse_addr6(RTM_NEWADDR, &b).unwrap();
        assert_eq!(
            (e.ip, e.scope, e.flags, e.preferred, e.valid),
            (ip, SCOPE_LINK, IFA_F_DEPRECATED | 0x800, 0, 95)
        );
        // with a peer, IFA_LOCAL is the address
        let local: Ipv6Addr = "2001:db8::2".parse().unwrap();
        msg::put_attr(&mut b, IFA_LOCAL, &local.octets());
        assert_eq!(parse_addr6(RTM_NEWADDR, &b).unwrap().ip, local);
    }
}
