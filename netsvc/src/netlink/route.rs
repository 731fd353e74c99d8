//! Routes: IPv4 and IPv6 (unicast, and IPv6 `unreachable`), added,
//! removed, listed from the main table or from every table (for
//! `fw::shadow`). The encoders and decoders are pure; the `Rtnl` methods
//! send them.

use super::msg::{self, RTM_DELROUTE, RTM_GETROUTE, RTM_NEWROUTE};
use super::Rtnl;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};

/// `struct rtmsg`: family, dst_len, src_len, tos, table, protocol, scope,
/// type, flags.
const RTMSG_LEN: usize = 12;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_TABLE: u16 = 15;
const RT_TABLE_MAIN: u8 = 254;
const RT_TABLE_LOCAL: u32 = 255;
use super::msg::SCOPE_LINK;
/// `RTN_UNICAST`: a route to a link or a gateway.
pub const UNICAST: u8 = 1;
/// `RTN_UNREACHABLE`: the destinations answer "unreachable" (ICMP).
pub const UNREACHABLE: u8 = 7;
/// The metric the kernel gives an IPv6 route that names none.
pub const IP6_DEFAULT_METRIC: u32 = 1024;

/// An IPv4 route: destination/prefix (0/0 is the default route), gateway, device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    pub dst: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Option<Ipv4Addr>,
    pub index: i32,
    /// Who made the route (rtnetlink's protocol; fw marks its own).
    pub protocol: u8,
    pub metric: u32,
}

/// An IPv4 route of the main table as the kernel lists it: the same
/// fields as the route one asks for.
pub type RouteEntry = RouteSpec;

/// An IPv6 route: destination/prefix (::/0 the default route), gateway,
/// device (0: none, as for an `unreachable` route), who made it, metric
/// (0: the kernel's 1024) and type (`UNICAST`, `UNREACHABLE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route6 {
    pub dst: Ipv6Addr,
    pub prefix: u8,
    pub gateway: Option<Ipv6Addr>,
    pub index: i32,
    pub protocol: u8,
    pub metric: u32,
    pub kind: u8,
}

/// A route of either family as rtnetlink carries it, addresses in 16
/// bytes (an IPv4 one in the first four): what the one encoder writes and
/// the one decoder reads. `RouteSpec` and `Route6` are its two faces.
struct Wire {
    family: u8,
    dst: [u8; 16],
    prefix: u8,
    gateway: Option<[u8; 16]>,
    oif: Option<u32>,
    protocol: u8,
    scope: u8,
    kind: u8,
    metric: u32,
    table: u32,
}

/// The length of an address of `family` (`AF_INET` or `AF_INET6`).
fn addr_len(family: u8) -> usize {
    if i32::from(family) == libc::AF_INET6 {
        16
    } else {
        4
    }
}

/// `a` in 16 bytes, the rest zero.
fn widen(a: &[u8]) -> [u8; 16] {
    let mut w = [0u8; 16];
    for (w, a) in w.iter_mut().zip(a) {
        *w = *a;
    }
    w
}

/// The body of `RTM_NEWROUTE`/`RTM_DELROUTE` for `r` (main table).
fn encode(r: &Wire) -> Vec<u8> {
    let n = addr_len(r.family);
    // rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
    let mut b = vec![
        r.family,
        r.prefix.min(8 * n as u8),
        0,
        0,
        RT_TABLE_MAIN,
        r.protocol,
        r.scope,
        r.kind,
    ];
    b.extend_from_slice(&0u32.to_ne_bytes());
    if r.prefix > 0 {
        msg::put_attr(&mut b, RTA_DST, &r.dst[..n]);
    }
    if let Some(g) = &r.gateway {
        msg::put_attr(&mut b, RTA_GATEWAY, &g[..n]);
    }
    if let Some(i) = r.oif {
        msg::put_attr(&mut b, RTA_OIF, &i.to_ne_bytes());
    }
    if r.metric > 0 {
        msg::put_attr(&mut b, RTA_PRIORITY, &r.metric.to_ne_bytes());
    }
    b
}

/// The route in the body `b` of a route message, when it is of `family`:
/// its table from `RTA_TABLE` (ids over 255) or the header, addresses of
/// the wrong length ignored, the prefix at most the address's bits.
fn decode(b: &[u8], family: i32) -> Option<Wire> {
    let h = b.get(..RTMSG_LEN)?;
    if i32::from(h[0]) != family {
        return None;
    }
    let n = addr_len(h[0]);
    let addr = |d: &[u8]| (d.len() == n).then(|| widen(d));
    let mut r = Wire {
        family: h[0],
        dst: [0; 16],
        prefix: h[1].min(8 * n as u8),
        gateway: None,
        oif: None,
        protocol: h[5],
        scope: h[6],
        kind: h[7],
        metric: 0,
        table: u32::from(h[4]),
    };
    for (t, d) in msg::attrs(b, RTMSG_LEN) {
        match t {
            RTA_DST => r.dst = addr(d).unwrap_or(r.dst),
            RTA_GATEWAY => r.gateway = addr(d),
            RTA_OIF => r.oif = msg::u32_of(d).or(r.oif),
            RTA_PRIORITY => r.metric = msg::u32_of(d).unwrap_or(r.metric),
            RTA_TABLE => r.table = msg::u32_of(d).unwrap_or(r.table),
            _ => {}
        }
    }
    Some(r)
}

/// A route of a dump of `family` (message type `t`, body `b`) from any
/// table but `local` (`main_only`: from the main table), when it is a
/// unicast, blackhole, unreachable or prohibit route (`any_kind`: of any
/// type).
fn listed(t: u16, b: &[u8], family: i32, main_only: bool, any_kind: bool) -> Option<Wire> {
    if t != RTM_NEWROUTE {
        return None;
    }
    let r = decode(b, family)?;
    let table_ok = if main_only {
        r.table == u32::from(RT_TABLE_MAIN)
    } else {
        r.table != RT_TABLE_LOCAL
    };
    // rtm_type: unicast 1, blackhole 6, unreachable 7, prohibit 8
    (table_ok && (any_kind || matches!(r.kind, 1 | 6..=8))).then_some(r)
}

impl From<&RouteSpec> for Wire {
    fn from(r: &RouteSpec) -> Wire {
        Wire {
            family: libc::AF_INET as u8,
            dst: widen(&r.dst.octets()),
            prefix: r.prefix,
            gateway: r.gateway.map(|g| widen(&g.octets())),
            oif: Some(r.index as u32),
            protocol: r.protocol,
            // universe, link when there is no gateway
            scope: if r.gateway.is_some() { 0 } else { SCOPE_LINK },
            kind: UNICAST,
            metric: r.metric,
            table: u32::from(RT_TABLE_MAIN),
        }
    }
}

impl From<Wire> for RouteEntry {
    fn from(r: Wire) -> RouteEntry {
        let v4 = |a: [u8; 16]| Ipv4Addr::new(a[0], a[1], a[2], a[3]);
        RouteEntry {
            dst: v4(r.dst),
            prefix: r.prefix,
            gateway: r.gateway.map(v4),
            index: r.oif.map_or(0, |i| i as i32),
            protocol: r.protocol,
            metric: r.metric,
        }
    }
}

impl From<&Route6> for Wire {
    fn from(r: &Route6) -> Wire {
        Wire {
            family: libc::AF_INET6 as u8,
            dst: r.dst.octets(),
            prefix: r.prefix,
            gateway: r.gateway.map(|g| g.octets()),
            oif: (r.index > 0).then_some(r.index as u32),
            protocol: r.protocol,
            scope: 0,
            kind: r.kind,
            metric: r.metric,
            table: u32::from(RT_TABLE_MAIN),
        }
    }
}

impl From<Wire> for Route6 {
    fn from(r: Wire) -> Route6 {
        Route6 {
            dst: Ipv6Addr::from(r.dst),
            prefix: r.prefix,
            gateway: r.gateway.map(Ipv6Addr::from),
            index: r.oif.map_or(0, |i| i as i32),
            protocol: r.protocol,
            metric: r.metric,
            kind: r.kind,
        }
    }
}

/// The body of `RTM_NEWROUTE`/`RTM_DELROUTE` for `r`.
pub fn route_body(r: &RouteSpec) -> Vec<u8> {
    encode(&r.into())
}

/// A route of a dump (message type `t`, body `b`) when it is in the main table.
pub fn parse_route(t: u16, b: &[u8]) -> Option<RouteEntry> {
    listed(t, b, libc::AF_INET, true, true).map(RouteEntry::from)
}

/// A route of a dump (message type `t`, body `b`) from any routing table
/// but `local` (the kernel's own local and broadcast routes): unicast,
/// blackhole, unreachable and prohibit routes, so that a VPN's default
/// route in its own table (wg-quick's 51820, reached by a policy rule) is
/// seen too. A route without `RTA_OIF` (multipath, blackhole) has index 0.
pub fn route_of_any_table(t: u16, b: &[u8]) -> Option<RouteEntry> {
    listed(t, b, libc::AF_INET, false, false).map(RouteEntry::from)
}

/// The body of an IPv6 `RTM_NEWROUTE`/`RTM_DELROUTE` for `r` (main table).
pub fn route6_body(r: &Route6) -> Vec<u8> {
    encode(&r.into())
}

/// An IPv6 route of the main table in a dump (message type `t`, body `b`):
/// unicast, blackhole, unreachable or prohibit.
pub fn parse_route6(t: u16, b: &[u8]) -> Option<Route6> {
    listed(t, b, libc::AF_INET6, true, false).map(Route6::from)
}

/// An IPv6 route of any table but `local` (as `route_of_any_table`).
pub fn route6_of_any_table(t: u16, b: &[u8]) -> Option<Route6> {
    listed(t, b, libc::AF_INET6, false, false).map(Route6::from)
}

/// Whether a route event (message type `t`, body `b`) is about an IPv6
/// unicast default route of the main table, added or removed: only such a
/// route makes a box a default router (unreachable, blackhole and other
/// tables' routes do not), so only such an event is worth a new look.
pub fn default_route6_event(t: u16, b: &[u8]) -> bool {
    matches!(t, RTM_NEWROUTE | RTM_DELROUTE)
        && decode(b, libc::AF_INET6).is_some_and(|r| {
            r.prefix == 0 && r.kind == UNICAST && r.table == u32::from(RT_TABLE_MAIN)
        })
}

impl Rtnl {
    pub fn add_route(&mut self, r: &RouteSpec) -> io::Result<()> {
        match self.sock.request(
            RTM_NEWROUTE,
            msg::NLM_F_CREATE | msg::NLM_F_EXCL,
            &route_body(r),
        ) {
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
            other => other,
        }
    }

    pub fn del_route(&mut self, r: &RouteSpec) -> io::Result<()> {
        self.sock.request(RTM_DELROUTE, 0, &route_body(r))
    }

    fn route_dump(&mut self) -> io::Result<Vec<(u16, Vec<u8>)>> {
        let mut body = [0u8; RTMSG_LEN];
        body[0] = libc::AF_INET as u8;
        self.sock.dump(RTM_GETROUTE, &body)
    }

    /// Every IPv4 route of the main table.
    pub fn routes(&mut self) -> io::Result<Vec<RouteEntry>> {
        Ok(self
            .route_dump()?
            .iter()
            .filter_map(|(t, b)| parse_route(*t, b))
            .collect())
    }

    /// Every IPv4 route of every table but `local` (see `route_of_any_table`).
    pub fn routes_of_every_table(&mut self) -> io::Result<Vec<RouteEntry>> {
        Ok(self
            .route_dump()?
            .iter()
            .filter_map(|(t, b)| route_of_any_table(*t, b))
            .collect())
    }

    /// Add an IPv6 route (one that is there already is no error).
    pub fn add_route6(&mut self, r: &Route6) -> io::Result<()> {
        match self.sock.request(
            RTM_NEWROUTE,
            msg::NLM_F_CREATE | msg::NLM_F_EXCL,
            &route6_body(r),
        ) {
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
            other => other,
        }
    }

    pub fn del_route6(&mut self, r: &Route6) -> io::Result<()> {
        self.sock.request(RTM_DELROUTE, 0, &route6_body(r))
    }

    fn route6_dump(&mut self) -> io::Result<Vec<(u16, Vec<u8>)>> {
        let mut body = [0u8; RTMSG_LEN];
        body[0] = libc::AF_INET6 as u8;
        self.sock.dump(RTM_GETROUTE, &body)
    }

    /// Every IPv6 route of the main table.
    pub fn routes6(&mut self) -> io::Result<Vec<Route6>> {
        Ok(self
            .route6_dump()?
            .iter()
            .filter_map(|(t, b)| parse_route6(*t, b))
            .collect())
    }

    /// Every IPv6 route of every table but `local`.
    pub fn routes6_of_every_table(&mut self) -> io::Result<Vec<Route6>> {
        Ok(self
            .route6_dump()?
            .iter()
            .filter_map(|(t, b)| route6_of_any_table(*t, b))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::msg::{put_attr as attr, RTM_NEWADDR};

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

    #[test]
    fn an_added_route_lists_back() {
        let spec = RouteSpec {
            dst: Ipv4Addr::new(10, 9, 0, 0),
            prefix: 16,
            gateway: Some(Ipv4Addr::new(10, 0, 0, 1)),
            index: 4,
            protocol: 0x66,
            metric: 20,
        };
        let b = route_body(&spec);
        let r = parse_route(RTM_NEWROUTE, &b).unwrap();
        assert_eq!(
            (r.dst, r.prefix, r.gateway, r.index, r.protocol, r.metric),
            (spec.dst, 16, spec.gateway, 4, 0x66, 20)
        );
        assert_eq!(route_of_any_table(RTM_NEWROUTE, &b), Some(r));
        // the default route carries no RTA_DST; an on-link one has link scope
        let d = route_body(&RouteSpec {
            prefix: 0,
            gateway: None,
            metric: 0,
            ..spec
        });
        assert_eq!(d[6], SCOPE_LINK);
        let r = parse_route(RTM_NEWROUTE, &d).unwrap();
        assert_eq!((r.dst, r.prefix, r.metric), (Ipv4Addr::UNSPECIFIED, 0, 0));
        // another table is not the main one
        let mut other = b.clone();
        other[4] = 100;
        assert_eq!(parse_route(RTM_NEWROUTE, &other), None);
        assert_eq!(parse_route6(RTM_NEWROUTE, &b), None, "not IPv6");
    }

    #[test]
    fn ipv6_routes_list_back() {
        let via = Route6 {
            dst: "2001:db8:5::".parse().unwrap(),
            prefix: 48,
            gateway: Some("fe80::1".parse().unwrap()),
            index: 2,
            protocol: 0x66,
            metric: 1024,
            kind: UNICAST,
        };
        let b = route6_body(&via);
        assert_eq!(parse_route6(RTM_NEWROUTE, &b), Some(via));
        assert_eq!(route6_of_any_table(RTM_NEWROUTE, &b), Some(via));
        assert_eq!(route_of_any_table(RTM_NEWROUTE, &b), None, "not IPv4");
        // unreachable: no device, no gateway; the default route no RTA_DST
        let unr = Route6 {
            prefix: 56,
            gateway: None,
            index: 0,
            metric: 0,
            kind: UNREACHABLE,
            ..via
        };
        let b = route6_body(&unr);
        assert!(!msg::attrs(&b, RTMSG_LEN).any(|(t, _)| t == RTA_OIF));
        assert_eq!(parse_route6(RTM_NEWROUTE, &b), Some(unr));
        let d = route6_body(&Route6 { prefix: 0, ..via });
        assert!(!msg::attrs(&d, RTMSG_LEN).any(|(t, _)| t == RTA_DST));
        assert_eq!(
            parse_route6(RTM_NEWROUTE, &d).unwrap().dst,
            Ipv6Addr::UNSPECIFIED
        );
        // another table: of any table only; local and local routes: none
        let mut other = route6_body(&via);
        attr(&mut other, RTA_TABLE, &51820u32.to_ne_bytes());
        assert_eq!(parse_route6(RTM_NEWROUTE, &other), None);
        assert_eq!(route6_of_any_table(RTM_NEWROUTE, &other), Some(via));
        let mut local = route6_body(&via);
        local[4] = 255;
        assert_eq!(route6_of_any_table(RTM_NEWROUTE, &local), None);
        let mut kind = route6_body(&via);
        kind[7] = 2;
        assert_eq!(route6_of_any_table(RTM_NEWROUTE, &kind), None);
        // a prefix byte over 128 is 128; torn bodies are no panic
        let mut long = route6_body(&via);
        long[1] = 200;
        assert_eq!(parse_route6(RTM_NEWROUTE, &long).unwrap().prefix, 128);
        for n in 0..long.len() {
            let _ = route6_of_any_table(RTM_NEWROUTE, &long[..n]);
        }
    }

    #[test]
    fn default_routes_of_the_main_table_only() {
        let route = |typ: u8, dst_len: u8, table: u32| {
            let mut b = vec![
                libc::AF_INET6 as u8,
                dst_len,
                0,
                0,
                254,
                3,
                0,
                typ,
                0,
                0,
                0,
                0,
            ];
            attr(&mut b, 15, &table.to_ne_bytes());
            attr(&mut b, 5, &"fe80::1".parse::<Ipv6Addr>().unwrap().octets());
            b
        };
        assert!(default_route6_event(24, &route(1, 0, 254)));
        assert!(default_route6_event(25, &route(1, 0, 254)));
        assert!(
            !default_route6_event(24, &route(1, 64, 254)),
            "not a default route"
        );
        assert!(!default_route6_event(24, &route(7, 0, 254)), "unreachable");
        assert!(
            !default_route6_event(24, &route(1, 0, 51820)),
            "another table"
        );
        assert!(!default_route6_event(20, &route(1, 0, 254)));
        assert!(!default_route6_event(24, &route(1, 0, 254)[..11]));
        let mut v4 = route(1, 0, 254);
        v4[0] = libc::AF_INET as u8;
        assert!(!default_route6_event(24, &v4));
    }
}
