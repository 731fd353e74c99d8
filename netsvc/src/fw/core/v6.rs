//! IPv6, pure: what the ipconf files ask for (`wanted6`) and the
//! difference to the kernel (`plan6`).
//!
//! - `ip6=` addresses go on their interface with their lifetimes, less the
//!   file's age (saturating; one whose valid lifetime has run out is not
//!   added). Those learned from DHCPv6 get `IFA_F_NOPREFIXROUTE`: a DHCPv6
//!   address says nothing about what is on-link (RFC 5942).
//! - `prefix6=` (delegated prefixes, RFC 8415) each get an `unreachable`
//!   route over the whole prefix (RFC 7084 WPD-5: traffic to the /64s in no
//!   use does not loop back to the ISP) and give every LAN entry with
//!   `prefix6_from=` that uplink one /64: `PREFIX:SUBNET::1/64` with the
//!   prefix's lifetimes. The kernel counts them down; ra reads them there.
//! - A delegated prefix is screened as DHCP routes are (`shadow`): one
//!   more specific than, and inside, a route on another link than its
//!   uplink (the kernel's, any table, not fw's: a VPN's) is not used, and
//!   named. DHCPv6 brings no routes; the uplink's default route is the
//!   kernel's, from router advertisements.
//! - Static routes, for links without router advertisements: `gw6=` a
//!   default route via it, `net6=` routes via `gw6` or on the link; only
//!   from local files (a DHCPv6 entry's are not believed).
//! - Every address fw adds is marked `IFA_PROTO` = `FW_PROTO` (kernel
//!   5.18+); that mark is how a later run knows which are fw's. A LAN
//!   address of a prefix no file names any more is not deleted: it is
//!   deprecated, preferred 0 and valid at most 2 hours (RFC 7084 L-13), and
//!   the kernel removes it when that ends (its hosts keep their
//!   connections meanwhile, and ra announces it so). A DHCPv6 address
//!   (`IFA_F_NOPREFIXROUTE`) the lease no longer holds, or one that was
//!   forever (a static `ip6=` taken out of `conf/`), is deleted.

use super::ipconf::IfConf;
use super::plan::FW_PROTO;
use crate::netlink::{
    Addr6, Addr6Entry, Route6, FOREVER, IFA_F_NOPREFIXROUTE, IP6_DEFAULT_METRIC, UNICAST,
    UNREACHABLE,
};
use std::net::Ipv6Addr;

/// The metric of static routes (`gw6=`, `net6=`): ahead of the kernel's
/// routes from router advertisements (1024), so a configured default
/// route wins and never collides with one of the same metric (EEXIST).
pub const STATIC_METRIC: u32 = 512;

/// RFC 7084 L-13: an old prefix stays valid at most this long.
pub const MAX_OLD_VALID: u32 = 2 * 60 * 60;

/// Lifetimes this close to the kernel's count are not set again (the
/// file's age is counted in whole seconds).
const SLACK: u32 = 5;

/// An IPv6 address to have on link `index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Want6 {
    pub index: i32,
    pub addr: Addr6,
}

/// What the files ask for in IPv6.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Wanted6 {
    pub addrs: Vec<Want6>,
    /// fw's routes: `unreachable` over each delegated prefix in use, the
    /// static ones
    pub routes: Vec<Route6>,
    pub dns: Vec<Ipv6Addr>,
    pub search: Vec<String>,
    /// the uplinks (DHCPv6 entries, prefix sources): `accept_ra=2` when
    /// forwarding is on, so the kernel keeps taking their RAs
    pub uplinks: Vec<String>,
    /// one line per thing not used, for the log
    pub notes: Vec<String>,
}

/// A lifetime `age` seconds on (forever stays forever).
pub fn aged(t: u32, age: u32) -> u32 {
    if t == FOREVER {
        t
    } else {
        t.saturating_sub(age)
    }
}

/// The mask of a prefix length (above 128 counts as 128).
fn mask(len: u8) -> u128 {
    u128::MAX
        .checked_shl(128u32.saturating_sub(u32::from(len.min(128))))
        .unwrap_or(0)
}

/// `a` with only its first `len` bits.
pub fn network(a: Ipv6Addr, len: u8) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(a) & mask(len))
}

/// `(dst, len)` is more specific than `(odst, olen)` and inside it.
pub fn strictly_inside(dst: Ipv6Addr, len: u8, odst: Ipv6Addr, olen: u8) -> bool {
    len > olen && u128::from(dst) & mask(olen) == u128::from(odst) & mask(olen)
}

/// The `::1` of /64 number `subnet` of `prefix/len` (len at most 64),
/// when that subnet is in the prefix.
pub fn subnet_address(prefix: Ipv6Addr, len: u8, subnet: u64) -> Option<Ipv6Addr> {
    if len > 64 {
        return None;
    }
    let bits = 64 - u32::from(len);
    if bits < 64 && subnet >> bits != 0 {
        return None;
    }
    let net = u128::from(prefix) & mask(len);
    Some(Ipv6Addr::from(net | (u128::from(subnet) << 64) | 1))
}

/// The most specific of the kernel's routes that prefix `dst/len` of
/// uplink `link` would shadow: more specific than it and inside it, on
/// another link.
fn shadowed(dst: Ipv6Addr, len: u8, link: i32, kernel: &[Route6]) -> Option<&Route6> {
    kernel
        .iter()
        .filter(|g| g.index != link && strictly_inside(dst, len, g.dst, g.prefix))
        .max_by_key(|g| g.prefix)
}

fn show(dst: Ipv6Addr, len: u8) -> String {
    if len == 0 {
        "default".into()
    } else {
        format!("{dst}/{len}")
    }
}

/// fw's `unreachable` route over a delegated prefix.
fn unreachable(dst: Ipv6Addr, len: u8) -> Route6 {
    Route6 {
        kind: UNREACHABLE,
        ..route(dst, len, None, 0)
    }
}

/// fw's route to `dst/len` on link `index`, via `gateway` when given.
fn route(dst: Ipv6Addr, len: u8, gateway: Option<Ipv6Addr>, index: i32) -> Route6 {
    Route6 {
        dst: network(dst, len),
        prefix: len,
        gateway,
        index,
        protocol: FW_PROTO,
        metric: IP6_DEFAULT_METRIC,
        kind: UNICAST,
    }
}

/// `present`: the entries in preference order, each with its link's
/// index (as `wanted::wanted`). `kernel`: the kernel's IPv6 routes of
/// every table that fw did not make.
/// A DHCPv6 entry's routes are not believed: DHCPv6 has none.
pub fn wanted6(present: &[(i32, IfConf)], kernel: &[Route6]) -> Wanted6 {
    let mut w = Wanted6::default();
    let add = |w: &mut Wanted6, index: i32, addr: Addr6| {
        if !w
            .addrs
            .iter()
            .any(|x| x.index == index && x.addr.ip == addr.ip)
        {
            w.addrs.push(Want6 { index, addr });
        }
    };
    // (uplink name, prefix, len, preferred, valid) of the prefixes in use
    let mut delegated: Vec<(&str, Ipv6Addr, u8, u32, u32)> = Vec::new();
    for (index, c) in present {
        let learned = c.from_dhcp6();
        if learned && !w.uplinks.contains(&c.interface) {
            w.uplinks.push(c.interface.clone());
        }
        for l in &c.addrs6 {
            let valid = aged(l.valid, c.age);
            if valid == 0 {
                continue;
            }
            let addr = Addr6 {
                ip: l.ip,
                prefix: l.len,
                flags: if learned { IFA_F_NOPREFIXROUTE } else { 0 },
                preferred: aged(l.preferred, c.age).min(valid),
                valid,
                proto: FW_PROTO,
            };
            add(&mut w, *index, addr);
        }
        for l in &c.prefixes6 {
            let (p, len) = (network(l.ip, l.len), l.len);
            let valid = aged(l.valid, c.age);
            if valid == 0 || delegated.iter().any(|d| d.1 == p && d.2 == len) {
                continue;
            }
            let why = if len > 64 {
                Some("longer than /64".to_string())
            } else {
                shadowed(p, len, *index, kernel)
                    .map(|g| format!("it would shadow {} (CVE-2024-3661)", show(g.dst, g.prefix)))
            };
            if let Some(why) = why {
                let from = &c.interface;
                w.notes
                    .push(format!("prefix {p}/{len} from {from} not used: {why}"));
                continue;
            }
            let preferred = aged(l.preferred, c.age).min(valid);
            delegated.push((c.interface.as_str(), p, len, preferred, valid));
            w.routes.push(unreachable(p, len));
        }
        if !learned {
            let via = c.gw6;
            let default = via.map(|g| (Ipv6Addr::UNSPECIFIED, 0, Some(g)));
            let nets = c.nets6.iter().map(|&(d, l)| (d, l, via));
            for (d, l, g) in default.into_iter().chain(nets) {
                // one per destination: the kernel would merge two of one
                // metric into a multipath route that never reads back
                let dst = network(d, l);
                if let Some(x) = w.routes.iter().find(|x| x.dst == dst && x.prefix == l) {
                    if x.index != *index {
                        let other = present
                            .iter()
                            .find(|(i, _)| *i == x.index)
                            .map_or("a delegated prefix", |(_, o)| o.interface.as_str());
                        w.notes.push(format!(
                            "{}: route {} not used: {other} has it",
                            c.interface,
                            show(dst, l)
                        ));
                    }
                    continue;
                }
                w.routes.push(Route6 {
                    metric: STATIC_METRIC,
                    ..route(d, l, g, *index)
                });
            }
        }
        for d in &c.dns6 {
            if !w.dns.contains(d) {
                w.dns.push(*d);
            }
        }
        for d in &c.domains6 {
            if !w.search.contains(d) {
                w.search.push(d.clone());
            }
        }
    }
    // the LANs: explicit subnets first, then the lowest free ones in order
    let lans: Vec<&(i32, IfConf)> = present
        .iter()
        .filter(|(_, c)| c.prefix6_from.is_some())
        .collect();
    let mut taken: Vec<u64> = lans.iter().filter_map(|(_, c)| c.prefix6_subnet).collect();
    for (index, c) in lans {
        let from = c.prefix6_from.as_deref().unwrap_or_default();
        if present.iter().any(|(_, u)| u.interface == from) && !w.uplinks.iter().any(|u| u == from)
        {
            w.uplinks.push(from.to_string());
        }
        let subnet = c.prefix6_subnet.unwrap_or_else(|| {
            let n = (0u64..).find(|n| !taken.contains(n)).unwrap_or(0);
            taken.push(n);
            n
        });
        for &(_, p, len, preferred, valid) in delegated.iter().filter(|d| d.0 == from) {
            let Some(ip) = subnet_address(p, len, subnet) else {
                w.notes.push(format!(
                    "{}: subnet {subnet} is not in {p}/{len} from {from}",
                    c.interface
                ));
                continue;
            };
            let addr = Addr6 {
                ip,
                prefix: 64,
                flags: 0,
                preferred,
                valid,
                proto: FW_PROTO,
            };
            add(&mut w, *index, addr);
        }
    }
    w
}

/// One change to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op6 {
    DelRoute(Route6),
    /// fw's address no file asks for any more, lifetimes as they will be
    Deprecate(i32, Addr6),
    Del(i32, Addr6),
    /// add (true) or set the lifetimes and flags of one there (false)
    Set(i32, Addr6, bool),
    AddRoute(Route6),
}

/// Lifetimes that differ by more than the slack (forever only equals forever).
fn differ(a: u32, b: u32) -> bool {
    if a == FOREVER || b == FOREVER {
        a != b
    } else {
        a.abs_diff(b) > SLACK
    }
}

/// A route of the kernel as fw compares it: an unreachable route's device
/// is the kernel's (loopback), fw names none.
pub fn as_ours(r: &Route6) -> Route6 {
    let mut r = *r;
    if r.kind == UNREACHABLE {
        r.index = 0;
    }
    r
}

/// The changes from the kernel's IPv6 addresses (`current`, all of them)
/// and fw's routes there (`ours`, `as_ours`) to `w`. Running it on its own
/// result gives none.
pub fn plan6(w: &Wanted6, current: &[Addr6Entry], ours: &[Route6]) -> Vec<Op6> {
    let mut ops = Vec::new();
    for r in ours {
        if !w.routes.contains(r) {
            ops.push(Op6::DelRoute(*r));
        }
    }
    let wanted = |c: &Addr6Entry| {
        w.addrs
            .iter()
            .any(|x| x.index == c.index && x.addr.ip == c.ip)
    };
    for c in current.iter().filter(|c| c.proto == FW_PROTO && !wanted(c)) {
        let a = c.to_addr6();
        if c.valid == FOREVER || c.flags & IFA_F_NOPREFIXROUTE != 0 {
            ops.push(Op6::Del(c.index, a));
        } else if c.preferred > 0 || c.valid > MAX_OLD_VALID {
            ops.push(Op6::Deprecate(
                c.index,
                Addr6 {
                    preferred: 0,
                    valid: c.valid.min(MAX_OLD_VALID),
                    ..a
                },
            ));
        }
    }
    for x in &w.addrs {
        let a = x.addr;
        match current.iter().find(|c| c.index == x.index && c.ip == a.ip) {
            None => ops.push(Op6::Set(x.index, a, true)),
            Some(c)
                if differ(c.preferred, a.preferred)
                    || differ(c.valid, a.valid)
                    || (c.flags ^ a.flags) & IFA_F_NOPREFIXROUTE != 0 =>
            {
                ops.push(Op6::Set(x.index, a, false))
            }
            Some(_) => {}
        }
    }
    for r in &w.routes {
        if !ours.contains(r) {
            ops.push(Op6::AddRoute(*r));
        }
    }
    ops
}

/// A lifetime for the log: seconds, or `forever`.
pub fn secs(t: u32) -> String {
    if t == FOREVER {
        "forever".into()
    } else {
        format!("{t}s")
    }
}

/// fw's route `r` for its log.
pub fn show_route(r: &Route6) -> String {
    let kind = if r.kind == UNREACHABLE {
        "unreachable"
    } else {
        "route"
    };
    let via = r.gateway.map(|g| format!(" via {g}")).unwrap_or_default();
    format!("{kind} {}{via}", show(r.dst, r.prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fw::core::ipconf::parse;
    use crate::netlink::IFA_F_DEPRECATED;

    fn conf(text: &str, age: u32) -> IfConf {
        let mut c = parse(text, "t").unwrap().remove(0);
        c.age = age;
        c
    }
    fn ip(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }
    const WAN: &str = "if=eth0\norigin=dhcp6\nip6='2001:db8:1::150/128,40,60'\nprefix6='2001:db8:100:ab00::/56,40,60'\ndns6='2001:db8:1::53'\ndomains6='lab.example'\n";
    const LAN: &str = "if=eth1\nipmask=192.168.7.1/24\nprefix6_from=eth0\n";

    /// The kernel after fw applied `w`, `elapsed` seconds later.
    fn kernel(w: &Wanted6, elapsed: u32) -> Vec<Addr6Entry> {
        w.addrs
            .iter()
            .map(|x| Addr6Entry {
                index: x.index,
                ip: x.addr.ip,
                prefix: x.addr.prefix,
                scope: 0,
                flags: x.addr.flags,
                preferred: aged(x.addr.preferred, elapsed),
                valid: aged(x.addr.valid, elapsed),
                proto: x.addr.proto,
                deleted: false,
            })
            .collect()
    }

    #[test]
    fn static_routes_from_local_files_only_and_gone_when_the_file_drops_them() {
        let local = "if=eth0\nip6=2001:db8:9::2/64\ngw6=fe80::1\nnet6='2001:db8:aa:1::7/48 2001:db8:bb::/64'\n";
        let w = wanted6(&[(2, conf(local, 0))], &[]);
        let want = |d: &str, l: u8| Route6 {
            dst: ip(d),
            prefix: l,
            gateway: Some(ip("fe80::1")),
            index: 2,
            protocol: FW_PROTO,
            metric: STATIC_METRIC,
            kind: UNICAST,
        };
        // the default route first; a net6 address is cut to its network
        assert_eq!(
            w.routes,
            [
                want("::", 0),
                want("2001:db8:aa::", 48),
                want("2001:db8:bb::", 64)
            ]
        );
        assert_eq!(show_route(&w.routes[0]), "route default via fe80::1");
        assert_eq!(plan6(&w, &kernel(&w, 0), &w.routes), []);
        // without gw6, on the link
        let w = wanted6(&[(2, conf("if=eth0\nnet6=2001:db8:bb::/64\n", 0))], &[]);
        assert_eq!(w.routes[0].gateway, None);
        // a DHCPv6 file's are not believed
        let learned = format!("{local}origin=dhcp6\n");
        assert_eq!(wanted6(&[(2, conf(&learned, 0))], &[]).routes, []);
        // taken out of the file: fw deletes them
        let none = wanted6(&[(2, conf("if=eth0\n", 0))], &[]);
        assert_eq!(
            plan6(&none, &[], &[want("::", 0)]),
            [Op6::DelRoute(want("::", 0))]
        );
        // the same route on a second link: the first file's, and a note
        let two = wanted6(
            &[
                (2, conf(local, 0)),
                (3, conf("if=eth1\ngw6=fe80::2\nnet6=2001:db8:cc::/48\n", 0)),
            ],
            &[],
        );
        assert_eq!(two.routes.len(), 4, "{:?}", two.routes);
        assert_eq!(two.routes[0], want("::", 0));
        assert_eq!(two.notes, ["eth1: route default not used: eth0 has it"]);
        assert!(parse("if=eth0\ngw6=10.0.0.1\n", "t").is_err());
        assert!(parse("if=eth0\nnet6=2001:db8::/129\n", "t").is_err());
    }

    #[test]
    fn a_delegated_prefix_numbers_the_lan_with_its_lifetimes_less_the_age() {
        let w = wanted6(&[(2, conf(WAN, 10)), (3, conf(LAN, 0))], &[]);
        assert_eq!(w.notes, Vec::<String>::new());
        let wan = w.addrs[0];
        assert_eq!(
            (wan.index, wan.addr.ip, wan.addr.prefix),
            (2, ip("2001:db8:1::150"), 128)
        );
        assert_eq!(
            (wan.addr.preferred, wan.addr.valid, wan.addr.flags),
            (30, 50, IFA_F_NOPREFIXROUTE)
        );
        let lan = w.addrs[1];
        assert_eq!(
            (lan.index, lan.addr.ip, lan.addr.prefix, lan.addr.flags),
            (3, ip("2001:db8:100:ab00::1"), 64, 0)
        );
        assert_eq!((lan.addr.preferred, lan.addr.valid), (30, 50));
        assert!(w.addrs.iter().all(|a| a.addr.proto == FW_PROTO));
        assert_eq!(
            w.routes,
            [Route6 {
                dst: ip("2001:db8:100:ab00::"),
                prefix: 56,
                gateway: None,
                index: 0,
                protocol: FW_PROTO,
                metric: IP6_DEFAULT_METRIC,
                kind: UNREACHABLE,
            }]
        );
        assert_eq!(w.dns, [ip("2001:db8:1::53")]);
        assert_eq!(w.search, ["lab.example"]);
        assert_eq!(w.uplinks, ["eth0"]);
        // applied, then run again a little later: nothing to do
        let ops = plan6(&w, &[], &[]);
        assert_eq!(ops.len(), 3);
        assert!(matches!(ops[0], Op6::Set(2, _, true)));
        assert!(matches!(ops[2], Op6::AddRoute(_)));
        assert_eq!(plan6(&w, &kernel(&w, 3), &w.routes), []);
        // a renewal (the file rewritten): the lifetimes are set again
        let renewed = wanted6(&[(2, conf(WAN, 0)), (3, conf(LAN, 0))], &[]);
        let ops = plan6(&renewed, &kernel(&w, 20), &w.routes);
        assert_eq!(ops.len(), 2, "{ops:?}");
        assert!(ops
            .iter()
            .all(|o| matches!(o, Op6::Set(_, a, false) if a.valid == 60)));
    }

    #[test]
    fn an_expired_lease_is_not_added_and_ages_saturate() {
        let w = wanted6(&[(2, conf(WAN, 60)), (3, conf(LAN, 0))], &[]);
        assert!(w.addrs.is_empty() && w.routes.is_empty());
        let w = wanted6(&[(2, conf(WAN, u32::MAX))], &[]);
        assert!(w.addrs.is_empty());
        // forever stays forever, whatever the age
        let c = conf("if=eth1\nip6=2001:db8:9::1/64\n", u32::MAX);
        let w = wanted6(&[(3, c)], &[]);
        assert_eq!((w.addrs[0].addr.valid, w.addrs[0].addr.flags), (FOREVER, 0));
        assert!(w.uplinks.is_empty());
    }

    #[test]
    fn a_new_prefix_deprecates_the_old_lan_address_and_never_deletes_it() {
        let old = wanted6(&[(2, conf(WAN, 0)), (3, conf(LAN, 0))], &[]);
        let now = kernel(&old, 5);
        let renumbered = WAN.replace("100:ab00::/56", "200:cd00::/56");
        let new = wanted6(&[(2, conf(&renumbered, 0)), (3, conf(LAN, 0))], &[]);
        let ops = plan6(&new, &now, &old.routes);
        let deprecated: Vec<_> = ops
            .iter()
            .filter_map(|o| match o {
                Op6::Deprecate(i, a) => Some((*i, a.ip, a.preferred, a.valid)),
                _ => None,
            })
            .collect();
        assert_eq!(deprecated, [(3, ip("2001:db8:100:ab00::1"), 0, 55)]);
        assert!(!ops.iter().any(|o| matches!(o, Op6::Del(..))));
        assert!(ops.contains(&Op6::DelRoute(old.routes[0])));
        assert!(ops
            .iter()
            .any(|o| matches!(o, Op6::Set(3, a, true) if a.ip == ip("2001:db8:200:cd00::1"))));
        // once deprecated it is left to run out
        let mut later = kernel(&new, 0);
        later.push(Addr6Entry {
            preferred: 0,
            valid: 40,
            flags: IFA_F_DEPRECATED,
            ..now[1]
        });
        assert_eq!(plan6(&new, &later, &new.routes), []);
        // a long valid lifetime is cut to 2 hours
        let mut long = now.clone();
        long[1].valid = 86_400;
        long[1].preferred = 0;
        let ops = plan6(&new, &long, &new.routes);
        assert!(ops.contains(&Op6::Deprecate(
            3,
            Addr6 {
                preferred: 0,
                valid: MAX_OLD_VALID,
                ..long[1].to_addr6()
            }
        )));
        // the lease lost (no file): the LAN address deprecated, the
        // DHCPv6 address on the uplink removed
        let ops = plan6(&wanted6(&[(3, conf(LAN, 0))], &[]), &now, &old.routes);
        assert!(ops.contains(&Op6::Del(2, now[0].to_addr6())), "{ops:?}");
        assert!(
            matches!(ops[2], Op6::Deprecate(3, a) if a.ip == now[1].ip),
            "{ops:?}"
        );
        assert_eq!(ops.len(), 3, "{ops:?}");
    }

    #[test]
    fn addresses_not_fws_are_left_alone_and_a_static_one_removed_goes() {
        let slaac = Addr6Entry {
            index: 2,
            ip: ip("2001:db8:1::5054:ff:fe12:3456"),
            prefix: 64,
            scope: 0,
            flags: 0,
            preferred: 100,
            valid: 200,
            proto: 2,
            deleted: false,
        };
        let w = Wanted6::default();
        assert_eq!(plan6(&w, &[slaac], &[]), []);
        let fixed = Addr6Entry {
            preferred: FOREVER,
            valid: FOREVER,
            proto: FW_PROTO,
            ..slaac
        };
        assert_eq!(plan6(&w, &[fixed], &[]), [Op6::Del(2, fixed.to_addr6())]);
    }

    #[test]
    fn subnets_explicit_automatic_and_out_of_range() {
        let p = ip("2001:db8:100:ab00::");
        assert_eq!(subnet_address(p, 56, 0), Some(ip("2001:db8:100:ab00::1")));
        assert_eq!(subnet_address(p, 56, 255), Some(ip("2001:db8:100:abff::1")));
        assert_eq!(subnet_address(p, 56, 256), None);
        assert_eq!(subnet_address(p, 64, 0), Some(ip("2001:db8:100:ab00::1")));
        assert_eq!(subnet_address(p, 64, 1), None);
        assert_eq!(subnet_address(p, 65, 0), None);
        assert_eq!(
            subnet_address(ip("::"), 0, u64::MAX),
            Some(ip("ffff:ffff:ffff:ffff::1"))
        );
        // eth2 claims 0 explicitly, eth1 gets 1; eth3's 300 does not fit
        let lan2 = "if=eth2\nprefix6_from=eth0\nprefix6_subnet=0\n";
        let lan3 = "if=eth3\nprefix6_from=eth0\nprefix6_subnet=300\n";
        let w = wanted6(
            &[
                (2, conf(WAN, 0)),
                (3, conf(LAN, 0)),
                (4, conf(lan2, 0)),
                (5, conf(lan3, 0)),
            ],
            &[],
        );
        let lan: Vec<_> = w.addrs[1..].iter().map(|a| (a.index, a.addr.ip)).collect();
        assert_eq!(
            lan,
            [
                (3, ip("2001:db8:100:ab01::1")),
                (4, ip("2001:db8:100:ab00::1"))
            ]
        );
        assert_eq!(
            w.notes,
            ["eth3: subnet 300 is not in 2001:db8:100:ab00::/56 from eth0"]
        );
    }

    #[test]
    fn a_prefix_inside_a_vpn_route_is_not_used() {
        let vpn = Route6 {
            dst: ip("2001:db8::"),
            prefix: 32,
            gateway: None,
            index: 9,
            protocol: 3,
            metric: 1024,
            kind: UNICAST,
        };
        let w = wanted6(&[(2, conf(WAN, 0)), (3, conf(LAN, 0))], &[vpn]);
        assert_eq!(w.addrs.len(), 1, "the WAN address only");
        assert!(w.routes.is_empty());
        assert_eq!(
            w.notes,
            ["prefix 2001:db8:100:ab00::/56 from eth0 not used: it would shadow 2001:db8::/32 (CVE-2024-3661)"]
        );
        // the uplink's own routes (an RA's default route) do not guard
        let ra = Route6 {
            index: 2,
            prefix: 0,
            dst: Ipv6Addr::UNSPECIFIED,
            ..vpn
        };
        let w = wanted6(&[(2, conf(WAN, 0)), (3, conf(LAN, 0))], &[ra]);
        assert_eq!((w.addrs.len(), w.routes.len()), (2, 1));
        // a prefix longer than /64 and a repeated one
        let long = "if=eth0\norigin=dhcp6\nprefix6='2001:db8:5:5:5::/80,1,2 2001:db8:6::/56 2001:db8:6::/56'\n";
        let w = wanted6(&[(2, conf(long, 0))], &[]);
        assert_eq!(w.routes.len(), 1);
        assert_eq!(
            w.notes,
            ["prefix 2001:db8:5:5:5::/80 from eth0 not used: longer than /64"]
        );
    }

    #[test]
    fn the_log_forms() {
        let u = unreachable(ip("2001:db8:100:ab00::"), 56);
        assert_eq!(show_route(&u), "unreachable 2001:db8:100:ab00::/56");
        let d = Route6 { kind: UNICAST, ..u };
        assert_eq!(show_route(&d), "route 2001:db8:100:ab00::/56");
        assert_eq!(
            (secs(5), secs(FOREVER)),
            ("5s".to_string(), "forever".to_string())
        );
        let mut k = u;
        k.index = 1;
        assert_eq!(as_ours(&k), u);
        assert!(strictly_inside(ip("2001:db8::"), 64, ip("::"), 0));
        assert!(!strictly_inside(ip("2001:db8::"), 64, ip("2001:db8::"), 64));
    }
}
