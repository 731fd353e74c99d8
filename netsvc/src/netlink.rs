//! A small rtnetlink client: link state (carrier) by request and as events.
//! Written against rtnetlink(7) directly: the general-purpose crates parse
//! every link kind and cost half a megabyte of binary.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const NLM_F_REQUEST: u16 = 1;
const RTMGRP_LINK: u32 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_CARRIER_DOWN_COUNT: u16 = 48;

/// One link as the kernel reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub index: i32,
    pub flags: u32,
    pub name: Option<String>,
    pub operstate: Option<u8>,
    /// How often the carrier went down since boot (kernel 4.16+): a quick
    /// unplug and replug can reach userspace as one "up" message, and
    /// this counter still tells that the cable was out.
    pub carrier_downs: Option<u32>,
    pub deleted: bool,
}

impl Link {
    /// Carrier as a user means it: administratively up and RUNNING (the
    /// kernel's operstate is up or unknown). LOWER_UP alone is not enough:
    /// an admin-up veth reports it before it can carry traffic.
    pub fn carrier(&self) -> bool {
        !self.deleted
            && self.flags & libc::IFF_UP as u32 != 0
            && self.flags & libc::IFF_RUNNING as u32 != 0
    }
}

/// Parse a buffer of netlink messages into the link messages it holds.
pub fn parse_links(mut b: &[u8]) -> Vec<Link> {
    let mut out = Vec::new();
    while b.len() >= 16 {
        let len = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let typ = u16::from_ne_bytes([b[4], b[5]]);
        if len < 16 || len > b.len() {
            break;
        }
        let body = &b[16..len];
        if (typ == RTM_NEWLINK || typ == RTM_DELLINK) && body.len() >= 16 {
            let mut link = Link {
                index: i32::from_ne_bytes([body[4], body[5], body[6], body[7]]),
                flags: u32::from_ne_bytes([body[8], body[9], body[10], body[11]]),
                name: None,
                operstate: None,
                carrier_downs: None,
                deleted: typ == RTM_DELLINK,
            };
            let mut a = &body[16..];
            while a.len() >= 4 {
                let alen = u16::from_ne_bytes([a[0], a[1]]) as usize;
                let atype = u16::from_ne_bytes([a[2], a[3]]) & 0x3fff;
                if alen < 4 || alen > a.len() {
                    break;
                }
                let data = &a[4..alen];
                match atype {
                    IFLA_IFNAME => {
                        let n = data.split(|&c| c == 0).next().unwrap_or(&[]);
                        link.name = Some(String::from_utf8_lossy(n).into_owned());
                    }
                    IFLA_OPERSTATE if !data.is_empty() => link.operstate = Some(data[0]),
                    IFLA_CARRIER_DOWN_COUNT if data.len() >= 4 => {
                        link.carrier_downs =
                            Some(u32::from_ne_bytes([data[0], data[1], data[2], data[3]]))
                    }
                    _ => {}
                }
                a = &a[(alen.div_ceil(4) * 4).min(a.len())..];
            }
            out.push(link);
        }
        let step = len.div_ceil(4) * 4;
        if step >= b.len() {
            break;
        }
        b = &b[step..];
    }
    out
}

pub struct Netlink {
    fd: OwnedFd,
    seq: u32,
}

impl Netlink {
    /// A route socket subscribed to link events.
    pub fn link_events() -> io::Result<Netlink> {
        // SAFETY: plain socket calls with valid, zeroed structures.
        unsafe {
            let fd = libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                libc::NETLINK_ROUTE,
            );
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            let owned = OwnedFd::from_raw_fd(fd);
            let mut sa: libc::sockaddr_nl = std::mem::zeroed();
            sa.nl_family = libc::AF_NETLINK as u16;
            sa.nl_groups = RTMGRP_LINK;
            if libc::bind(
                fd,
                (&sa as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            Ok(Netlink { fd: owned, seq: 1 })
        }
    }

    /// Ask for one link's state; the answer arrives like an event.
    pub fn request_link(&mut self, index: i32) -> io::Result<()> {
        let mut m = Vec::with_capacity(32);
        m.extend_from_slice(&32u32.to_ne_bytes());
        m.extend_from_slice(&RTM_GETLINK.to_ne_bytes());
        m.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
        m.extend_from_slice(&self.seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&[libc::AF_UNSPEC as u8, 0, 0, 0]);
        m.extend_from_slice(&index.to_ne_bytes());
        m.extend_from_slice(&[0u8; 8]);
        self.seq += 1;
        // SAFETY: valid buffer.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), m.as_ptr().cast(), m.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The link messages waiting (never blocks), at most
    /// `MAX_READS_PER_ROUND` datagrams: the rest waits for the next poll
    /// round, so a storm of events cannot starve signals and timers.
    pub fn read_links(&self) -> Vec<Link> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 16384];
        for _ in 0..crate::MAX_READS_PER_ROUND {
            // SAFETY: valid buffer.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n <= 0 {
                break;
            }
            out.extend(parse_links(&buf[..n as usize]));
        }
        out
    }
}

impl AsRawFd for Netlink {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn newlink(index: i32, flags: u32, name: &str, oper: u8) -> Vec<u8> {
        let mut attrs = Vec::new();
        let n = name.len() + 1;
        attrs.extend_from_slice(&((4 + n) as u16).to_ne_bytes());
        attrs.extend_from_slice(&IFLA_IFNAME.to_ne_bytes());
        attrs.extend_from_slice(name.as_bytes());
        attrs.push(0);
        while attrs.len() % 4 != 0 {
            attrs.push(0);
        }
        attrs.extend_from_slice(&5u16.to_ne_bytes());
        attrs.extend_from_slice(&IFLA_OPERSTATE.to_ne_bytes());
        attrs.extend_from_slice(&[oper, 0, 0, 0]);
        let len = 16 + 16 + attrs.len();
        let mut m = Vec::new();
        m.extend_from_slice(&(len as u32).to_ne_bytes());
        m.extend_from_slice(&RTM_NEWLINK.to_ne_bytes());
        m.extend_from_slice(&[0u8; 10]);
        m.extend_from_slice(&[0, 0, 1, 0]);
        m.extend_from_slice(&index.to_ne_bytes());
        m.extend_from_slice(&flags.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&attrs);
        m
    }

    #[test]
    fn parses_link_messages() {
        let up = (libc::IFF_UP | libc::IFF_RUNNING | libc::IFF_LOWER_UP) as u32;
        let mut b = newlink(3, up, "eth0", 6);
        b.extend(newlink(
            4,
            libc::IFF_UP as u32 | libc::IFF_LOWER_UP as u32,
            "veth1",
            2,
        ));
        let links = parse_links(&b);
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].name.as_deref(), Some("eth0"));
        assert_eq!(links[0].operstate, Some(6));
        assert!(links[0].carrier());
        assert!(
            !links[1].carrier(),
            "LOWER_UP without RUNNING is no carrier"
        );
        // garbage does not panic
        assert!(parse_links(&[0xff; 7]).is_empty());
        assert!(parse_links(&b[..20]).is_empty());
    }

    fn header(len: u32, typ: u16, seq: u32) -> Vec<u8> {
        let mut m = len.to_ne_bytes().to_vec();
        m.extend_from_slice(&typ.to_ne_bytes());
        m.extend_from_slice(&[0, 0]);
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&[0; 4]);
        m
    }

    #[test]
    fn dump_answers_and_errors() {
        let mut b = header(20, RTM_NEWADDR, 1);
        b.extend_from_slice(&[2, 24, 0, 0]);
        b.extend(header(16, NLMSG_DONE, 1));
        let mut out = Vec::new();
        assert_eq!(dump_part(&b, &mut out), DumpEnd::Done);
        assert_eq!(out, [(RTM_NEWADDR, vec![2, 24, 0, 0])]);
        let mut e = header(36, NLMSG_ERROR, 1);
        e.extend_from_slice(&(-libc::EPERM).to_ne_bytes());
        e.extend(header(16, RTM_GETADDR, 1));
        assert_eq!(dump_part(&e, &mut out), DumpEnd::Error(libc::EPERM));
        assert_eq!(ack(&e, 1), Some(libc::EPERM));
        assert_eq!(ack(&e, 2), None, "another request's answer");
    }

    #[test]
    fn a_short_or_odd_error_message_is_no_panic() {
        // Found by the netlink fuzz target: an NLMSG_ERROR of only its
        // 16-byte header was indexed past its end.
        let mut out = Vec::new();
        let short = header(16, NLMSG_ERROR, 0);
        assert_eq!(dump_part(&short, &mut out), DumpEnd::Error(libc::EBADMSG));
        // its code is read inside the message, not from the next one
        let mut two = short.clone();
        two.extend(header(16, NLMSG_DONE, 0));
        assert_eq!(dump_part(&two, &mut out), DumpEnd::Error(libc::EBADMSG));
        // -i32::MIN overflows
        let mut e = header(20, NLMSG_ERROR, 0);
        e.extend_from_slice(&i32::MIN.to_ne_bytes());
        assert_eq!(dump_part(&e, &mut out), DumpEnd::Error(i32::MAX));
        assert_eq!(ack(&e, 0), Some(i32::MAX));
        assert!(out.is_empty());
    }
}

// ---- addresses and routes -------------------------------------------------

const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const NLM_F_ACK: u16 = 4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_REPLACE: u16 = 0x100;
const NLMSG_ERROR: u16 = 2;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_BROADCAST: u16 = 4;
const IFA_CACHEINFO: u16 = 6;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;

/// The kernel's answer to request `seq` in a buffer read from the socket:
/// `Some(errno)` (0 = done) when the buffer is that acknowledgement, `None`
/// for anything else.
pub fn ack(b: &[u8], seq: u32) -> Option<i32> {
    if b.len() >= 20 && u16::from_ne_bytes([b[4], b[5]]) == NLMSG_ERROR {
        if u32::from_ne_bytes([b[8], b[9], b[10], b[11]]) != seq {
            return None;
        }
        return Some(errno(i32::from_ne_bytes([b[16], b[17], b[18], b[19]])));
    }
    None
}

/// The errno of nlmsgerr's code (the kernel sends it negated; `-i32::MIN`
/// would overflow).
fn errno(code: i32) -> i32 {
    code.saturating_neg()
}

fn attr(buf: &mut Vec<u8>, typ: u16, data: &[u8]) {
    buf.extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
    buf.extend_from_slice(&typ.to_ne_bytes());
    buf.extend_from_slice(data);
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

/// An IPv4 address with its prefix, broadcast and lifetime (seconds;
/// u32::MAX forever), as `ip addr add` would make it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addr {
    pub ip: std::net::Ipv4Addr,
    pub prefix: u8,
    pub broadcast: Option<std::net::Ipv4Addr>,
    pub lifetime: u32,
}

/// An IPv4 route: destination/prefix (0/0 is the default route), gateway, device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    pub dst: std::net::Ipv4Addr,
    pub prefix: u8,
    pub gateway: Option<std::net::Ipv4Addr>,
    pub index: i32,
    /// Who made the route (rtnetlink's protocol; fw marks its own).
    pub protocol: u8,
    pub metric: u32,
}

/// A netlink socket for changes (not subscribed to events).
pub struct Rtnl {
    fd: OwnedFd,
    seq: u32,
}

impl Rtnl {
    pub fn open() -> io::Result<Rtnl> {
        // SAFETY: plain socket call.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh descriptor we own.
        Ok(Rtnl {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            seq: 1,
        })
    }

    /// Send one request and wait for its acknowledgement.
    fn request(&mut self, typ: u16, flags: u16, body: &[u8]) -> io::Result<()> {
        self.seq += 1;
        let mut m = Vec::with_capacity(16 + body.len());
        m.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&typ.to_ne_bytes());
        m.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK | flags).to_ne_bytes());
        m.extend_from_slice(&self.seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(body);
        // SAFETY: valid buffers.
        unsafe {
            if libc::send(self.fd.as_raw_fd(), m.as_ptr().cast(), m.len(), 0) < 0 {
                return Err(io::Error::last_os_error());
            }
            let mut buf = [0u8; 4096];
            loop {
                let n = libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0);
                if n < 0 {
                    return Err(io::Error::last_os_error());
                }
                if let Some(err) = ack(&buf[..n as usize], self.seq) {
                    return if err == 0 {
                        Ok(())
                    } else {
                        Err(io::Error::from_raw_os_error(err))
                    };
                }
            }
        }
    }

    fn addr_body(index: i32, a: &Addr) -> Vec<u8> {
        // ifaddrmsg: family, prefix, flags, scope (link for 169.254/16, RFC 3927)
        let scope = if a.ip.is_link_local() { 253 } else { 0 };
        let mut b = vec![libc::AF_INET as u8, a.prefix, 0, scope];
        b.extend_from_slice(&(index as u32).to_ne_bytes());
        attr(&mut b, IFA_LOCAL, &a.ip.octets());
        attr(&mut b, IFA_ADDRESS, &a.ip.octets());
        if let Some(bc) = a.broadcast {
            attr(&mut b, IFA_BROADCAST, &bc.octets());
        }
        let mut ci = Vec::new();
        ci.extend_from_slice(&a.lifetime.to_ne_bytes()); // preferred
        ci.extend_from_slice(&a.lifetime.to_ne_bytes()); // valid
        ci.extend_from_slice(&[0u8; 8]);
        attr(&mut b, IFA_CACHEINFO, &ci);
        b
    }

    /// Add or update an address (its lifetime is refreshed on renewal).
    pub fn set_address(&mut self, index: i32, a: &Addr) -> io::Result<()> {
        self.request(
            RTM_NEWADDR,
            NLM_F_CREATE | NLM_F_REPLACE,
            &Self::addr_body(index, a),
        )
    }

    pub fn del_address(&mut self, index: i32, a: &Addr) -> io::Result<()> {
        self.request(RTM_DELADDR, 0, &Self::addr_body(index, a))
    }

    fn route_body(r: &RouteSpec) -> Vec<u8> {
        // rtmsg: family, dst_len, src_len, tos, table main, protocol boot(3),
        // scope universe (link when there is no gateway), type unicast
        let scope = if r.gateway.is_some() { 0 } else { 253 };
        let mut b = vec![
            libc::AF_INET as u8,
            r.prefix,
            0,
            0,
            254,
            r.protocol,
            scope,
            1,
        ];
        b.extend_from_slice(&0u32.to_ne_bytes());
        if r.prefix > 0 {
            attr(&mut b, RTA_DST, &r.dst.octets());
        }
        if let Some(g) = r.gateway {
            attr(&mut b, RTA_GATEWAY, &g.octets());
        }
        attr(&mut b, RTA_OIF, &(r.index as u32).to_ne_bytes());
        if r.metric > 0 {
            attr(&mut b, RTA_PRIORITY, &r.metric.to_ne_bytes());
        }
        b
    }

    pub fn add_route(&mut self, r: &RouteSpec) -> io::Result<()> {
        match self.request(
            RTM_NEWROUTE,
            NLM_F_CREATE | NLM_F_EXCL,
            &Self::route_body(r),
        ) {
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
            other => other,
        }
    }

    pub fn del_route(&mut self, r: &RouteSpec) -> io::Result<()> {
        self.request(RTM_DELROUTE, 0, &Self::route_body(r))
    }
}

// ---- routes of every table (for fw::shadow) ------------------------------

const RTA_TABLE: u16 = 15;
const RT_TABLE_LOCAL: u32 = 255;

/// A route of a dump (message type `t`, body `b`) from any routing table
/// but `local` (the kernel's own local and broadcast routes): unicast,
/// blackhole, unreachable and prohibit routes, so that a VPN's default
/// route in its own table (wg-quick's 51820, reached by a policy rule) is
/// seen too. A route without `RTA_OIF` (multipath, blackhole) has index 0.
pub fn route_of_any_table(t: u16, b: &[u8]) -> Option<RouteEntry> {
    if t != RTM_NEWROUTE || b.len() < 12 || b[0] != libc::AF_INET as u8 {
        return None;
    }
    let list = attrs(b, 12);
    let table = list
        .iter()
        .find(|(t, d)| *t == RTA_TABLE && d.len() == 4)
        .map_or(u32::from(b[4]), |(_, d)| {
            u32::from_ne_bytes([d[0], d[1], d[2], d[3]])
        });
    // rtm_type: unicast 1, blackhole 6, unreachable 7, prohibit 8
    if table == RT_TABLE_LOCAL || !matches!(b[7], 1 | 6..=8) {
        return None;
    }
    Some(route_entry(b, &list, b[1].min(32)))
}

impl Rtnl {
    /// Every IPv4 route of every table but `local` (see `route_of_any_table`).
    pub fn routes_of_every_table(&mut self) -> io::Result<Vec<RouteEntry>> {
        let body = [libc::AF_INET as u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        Ok(self
            .dump(RTM_GETROUTE, &body)?
            .iter()
            .filter_map(|(t, b)| route_of_any_table(*t, b))
            .collect())
    }
}

#[cfg(test)]
mod every_table_tests {
    use super::*;

    fn msg(table: u8, typ: u8, extra: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut b = vec![libc::AF_INET as u8, 1, 0, 0, table, 3, 0, typ];
        b.extend_from_slice(&0u32.to_ne_bytes());
        attr(&mut b, RTA_DST, &[128, 0, 0, 0]);
        attr(&mut b, RTA_OIF, &7u32.to_ne_bytes());
        for (t, d) in extra {
            attr(&mut b, *t, d);
        }
        b
    }

    #[test]
    fn routes_of_other_tables_but_not_local_ones() {
        let r = route_of_any_table(RTM_NEWROUTE, &msg(254, 1, &[])).unwrap();
        assert_eq!(
            (r.dst, r.prefix, r.index, r.protocol),
            (std::net::Ipv4Addr::new(128, 0, 0, 0), 1, 7, 3)
        );
        // wg-quick's table 51820: rtm_table says 252 (compat), RTA_TABLE the rest
        let wg = msg(252, 1, &[(RTA_TABLE, 51820u32.to_ne_bytes().to_vec())]);
        assert!(route_of_any_table(RTM_NEWROUTE, &wg).is_some());
        assert!(route_of_any_table(RTM_NEWROUTE, &msg(254, 6, &[])).is_some());
        // the local table, local and broadcast routes, other messages: no
        assert!(route_of_any_table(RTM_NEWROUTE, &msg(255, 2, &[])).is_none());
        let local = msg(252, 1, &[(RTA_TABLE, 255u32.to_ne_bytes().to_vec())]);
        assert!(route_of_any_table(RTM_NEWROUTE, &local).is_none());
        assert!(route_of_any_table(RTM_NEWROUTE, &msg(254, 3, &[])).is_none());
        assert!(route_of_any_table(RTM_NEWADDR, &msg(254, 1, &[])).is_none());
        // short or torn bodies: nothing, never a panic
        let full = msg(254, 1, &[(RTA_GATEWAY, vec![10, 0, 0, 1])]);
        for n in 0..full.len() {
            let _ = route_of_any_table(RTM_NEWROUTE, &full[..n]);
        }
        let r = route_of_any_table(RTM_NEWROUTE, &full).unwrap();
        assert_eq!(r.gateway, Some(std::net::Ipv4Addr::new(10, 0, 0, 1)));
    }
}

// ---- dumps ---------------------------------------------------------------

const RTM_GETADDR: u16 = 22;
const RTM_GETROUTE: u16 = 26;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_DONE: u16 = 3;
const RTA_PRIORITY: u16 = 6;

/// An IPv4 address as the kernel lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrEntry {
    pub index: i32,
    pub ip: std::net::Ipv4Addr,
    pub prefix: u8,
}

/// An IPv4 route of the main table as the kernel lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteEntry {
    pub dst: std::net::Ipv4Addr,
    pub prefix: u8,
    pub gateway: Option<std::net::Ipv4Addr>,
    pub index: i32,
    pub protocol: u8,
    pub metric: u32,
}

fn ip4(d: &[u8]) -> Option<std::net::Ipv4Addr> {
    (d.len() == 4).then(|| std::net::Ipv4Addr::new(d[0], d[1], d[2], d[3]))
}

/// Attributes of a message body after a fixed header of `skip` bytes.
fn attrs(body: &[u8], skip: usize) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut a = body.get(skip..).unwrap_or(&[]);
    while a.len() >= 4 {
        let len = u16::from_ne_bytes([a[0], a[1]]) as usize;
        let typ = u16::from_ne_bytes([a[2], a[3]]) & 0x3fff;
        if len < 4 || len > a.len() {
            break;
        }
        out.push((typ, &a[4..len]));
        a = &a[(len.div_ceil(4) * 4).min(a.len())..];
    }
    out
}

impl Rtnl {
    /// Send a dump request and collect the bodies of its answers.
    fn dump(&mut self, typ: u16, family_body: &[u8]) -> io::Result<Vec<(u16, Vec<u8>)>> {
        self.seq += 1;
        let mut m = Vec::new();
        m.extend_from_slice(&((16 + family_body.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&typ.to_ne_bytes());
        m.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        m.extend_from_slice(&self.seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(family_body);
        let mut out = Vec::new();
        // SAFETY: valid buffers.
        unsafe {
            if libc::send(self.fd.as_raw_fd(), m.as_ptr().cast(), m.len(), 0) < 0 {
                return Err(io::Error::last_os_error());
            }
            let mut buf = vec![0u8; 32768];
            loop {
                let n = libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0);
                if n < 0 {
                    return Err(io::Error::last_os_error());
                }
                match dump_part(&buf[..n as usize], &mut out) {
                    DumpEnd::More => {}
                    DumpEnd::Done => return Ok(out),
                    DumpEnd::Error(e) => return Err(io::Error::from_raw_os_error(e)),
                }
            }
        }
    }

    /// Every IPv4 address.
    pub fn addresses(&mut self) -> io::Result<Vec<AddrEntry>> {
        let body = [libc::AF_INET as u8, 0, 0, 0, 0, 0, 0, 0];
        Ok(self
            .dump(RTM_GETADDR, &body)?
            .iter()
            .filter_map(|(t, b)| parse_addr(*t, b))
            .collect())
    }

    /// Every IPv4 route of the main table.
    pub fn routes(&mut self) -> io::Result<Vec<RouteEntry>> {
        let body = [libc::AF_INET as u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        Ok(self
            .dump(RTM_GETROUTE, &body)?
            .iter()
            .filter_map(|(t, b)| parse_route(*t, b))
            .collect())
    }
}

/// How a buffer of dump answers ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpEnd {
    /// Not yet: read another buffer.
    More,
    /// `NLMSG_DONE`: the dump is complete.
    Done,
    /// `NLMSG_ERROR`: this errno.
    Error(i32),
}

/// The messages of one buffer of a dump's answers, as (type, body) onto `out`.
pub fn dump_part(mut b: &[u8], out: &mut Vec<(u16, Vec<u8>)>) -> DumpEnd {
    while b.len() >= 16 {
        let len = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let t = u16::from_ne_bytes([b[4], b[5]]);
        if len < 16 || len > b.len() {
            break;
        }
        if t == NLMSG_DONE {
            return DumpEnd::Done;
        }
        if t == NLMSG_ERROR {
            // nlmsgerr: the (negative) error code first, inside this message;
            // one too short to hold it is a bad message, not an index panic
            return DumpEnd::Error(match b[..len].get(16..20) {
                Some(e) => errno(i32::from_ne_bytes([e[0], e[1], e[2], e[3]])),
                None => libc::EBADMSG,
            });
        }
        out.push((t, b[16..len].to_vec()));
        b = &b[(len.div_ceil(4) * 4).min(b.len())..];
    }
    DumpEnd::More
}

/// An address of a dump (message type `t`, body `b`): IPv4 with a local address.
pub fn parse_addr(t: u16, b: &[u8]) -> Option<AddrEntry> {
    if t != RTM_NEWADDR || b.len() < 8 {
        return None;
    }
    let local = attrs(b, 8)
        .into_iter()
        .find(|(t, _)| *t == IFA_LOCAL)
        .and_then(|(_, d)| ip4(d))?;
    Some(AddrEntry {
        index: i32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
        ip: local,
        prefix: b[1],
    })
}

/// A route of a dump (message type `t`, body `b`) when it is in the main table.
pub fn parse_route(t: u16, b: &[u8]) -> Option<RouteEntry> {
    if t != RTM_NEWROUTE || b.len() < 12 || b[4] != 254 {
        return None;
    }
    Some(route_entry(b, &attrs(b, 12), b[1]))
}

/// A route message's body `b` (at least 12 bytes) and its attributes as a
/// `RouteEntry`: destination, gateway, output link and metric.
fn route_entry(b: &[u8], list: &[(u16, &[u8])], prefix: u8) -> RouteEntry {
    let mut r = RouteEntry {
        dst: std::net::Ipv4Addr::UNSPECIFIED,
        prefix,
        gateway: None,
        index: 0,
        protocol: b[5],
        metric: 0,
    };
    for &(t, d) in list {
        match t {
            RTA_DST => r.dst = ip4(d).unwrap_or(r.dst),
            RTA_GATEWAY => r.gateway = ip4(d),
            RTA_OIF if d.len() == 4 => r.index = i32::from_ne_bytes([d[0], d[1], d[2], d[3]]),
            RTA_PRIORITY if d.len() == 4 => r.metric = u32::from_ne_bytes([d[0], d[1], d[2], d[3]]),
            _ => {}
        }
    }
    r
}
