//! IPv4 addresses: added with a lifetime, removed, listed. The encoder and
//! `parse_addr` are pure; the `Rtnl` methods send them.

use super::msg::{self, RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR};
use super::Rtnl;
use std::io;
use std::net::Ipv4Addr;

/// `struct ifaddrmsg`: family, prefix, flags, scope, index.
const IFADDRMSG_LEN: usize = 8;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_BROADCAST: u16 = 4;
const IFA_CACHEINFO: u16 = 6;
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
    }
}
