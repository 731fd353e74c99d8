//! DHCP-learned routes that would shadow other routes (CVE-2024-3661,
//! "TunnelVision"), pure. A DHCP server may send classless static routes
//! (option 121, RFC 3442); a rogue one sends `0.0.0.0/1` and `128.0.0.0/1`
//! via itself, and since the longest prefix wins, all traffic leaves by the
//! LAN instead of a VPN's `0.0.0.0/0 dev wg0`. The rule here:
//!
//! A route learned from DHCP is dropped when it is more specific than, and
//! inside, a route that guards it: any route on another interface (a VPN's,
//! another uplink's, one in another routing table), or a locally configured
//! route on any interface (fw's `conf/*.ipconf`, a VPN's own ipconf).
//!
//! - A learned route equal to a guarding one (e.g. two default routes) is
//!   kept: metrics order them.
//! - Routes on the lease's own interface that are not local configuration
//!   (the lease's own, the kernel's connected route) never guard.
//! - A default route fw itself orders by metric (another uplink's, from its
//!   ipconf) guards only when fw prefers it: its metric is below that of
//!   the lease's own default route, or the lease has none. The preferred
//!   uplink's routes take nothing from a backup uplink; a backup uplink's
//!   routes must not take traffic from the preferred one. Routes fw did not
//!   make (a VPN's, in any table) always guard.
//! - An on-link host route (`/32`, no gateway) to the gateway of a learned
//!   route that is kept is kept too: without it that route cannot be
//!   installed when the router lies outside the lease's subnet (RFC 3442's
//!   own example; cloud VMs get a `/32` address this way). Traffic to the
//!   router's address goes to the router anyway, as for any route via it.

use std::net::Ipv4Addr;

/// An IPv4 route: link index (0 for none or several), destination/prefix,
/// gateway (None: on-link).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub index: i32,
    pub dst: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Option<Ipv4Addr>,
}

/// A route learned routes must not cut into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Guard {
    pub route: Route,
    /// Configured locally (not learned from DHCP): it guards the lease's
    /// own interface as well.
    pub local: bool,
    /// A default route fw orders with this metric: it guards only a lease
    /// whose own default route has a higher metric, or that has none.
    pub ordered: Option<u32>,
}

/// A learned route that is not installed, and the route it would shadow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dropped {
    pub route: Route,
    pub shadows: Route,
}

/// The network mask of a prefix length (lengths above 32 count as 32).
fn mask(prefix: u8) -> u32 {
    u32::MAX
        .checked_shl(32u32.saturating_sub(u32::from(prefix.min(32))))
        .unwrap_or(0)
}

/// `outer` is less specific than `inner` and holds all of it.
pub fn strictly_inside(inner: &Route, outer: &Route) -> bool {
    let (pi, po) = (inner.prefix.min(32), outer.prefix.min(32));
    if pi <= po {
        return false;
    }
    let m = mask(po);
    u32::from(inner.dst) & m == u32::from(outer.dst) & m
}

/// Does `g` guard learned route `r` of a lease whose own default route has
/// metric `lease_default`?
fn guards(g: &Guard, r: &Route, lease_default: Option<u32>) -> bool {
    let preferred = match (g.ordered, lease_default) {
        (Some(theirs), Some(ours)) => theirs < ours,
        _ => true,
    };
    preferred && (g.local || g.route.index != r.index) && strictly_inside(r, &g.route)
}

/// Split `learned` (the routes of one lease, in order) into the routes to
/// install and those dropped, each with the most specific route it would
/// shadow. `lease_default`: the metric the lease's own default route gets
/// (fw's order), if it has one. `guards_` may hold the learned routes
/// themselves (as `local: false`, on their own link): they do not count
/// against themselves.
pub fn screen(
    learned: &[Route],
    lease_default: Option<u32>,
    guards_: &[Guard],
) -> (Vec<Route>, Vec<Dropped>) {
    let shadowed = |r: &Route| -> Option<Route> {
        guards_
            .iter()
            .filter(|g| guards(g, r, lease_default))
            .map(|g| g.route)
            .max_by_key(|g| g.prefix)
    };
    let verdicts: Vec<Option<Route>> = learned.iter().map(shadowed).collect();
    // the kept routes' gateways, for their on-link host routes
    let kept_gateway = |h: &Route| {
        h.prefix == 32
            && h.gateway.is_none()
            && learned
                .iter()
                .zip(&verdicts)
                .any(|(r, v)| v.is_none() && r.index == h.index && r.gateway == Some(h.dst))
    };
    let (mut keep, mut drop) = (Vec::new(), Vec::new());
    for (r, v) in learned.iter().zip(&verdicts) {
        match v {
            Some(s) if !kept_gateway(r) => drop.push(Dropped {
                route: *r,
                shadows: *s,
            }),
            _ => keep.push(*r),
        }
    }
    (keep, drop)
}

/// `DST/PREFIX [via GW] [dev NAME]` for messages (`default` for 0/0).
pub fn show(r: &Route, name_of: &dyn Fn(i32) -> String) -> String {
    let mut s = if r.prefix == 0 {
        "default".to_string()
    } else {
        format!("{}/{}", r.dst, r.prefix)
    };
    if let Some(g) = r.gateway {
        s.push_str(&format!(" via {g}"));
    }
    if r.index > 0 {
        s.push_str(&format!(" dev {}", name_of(r.index)));
    }
    s
}

/// One log line for a dropped route, by program `who` (`fw`, `dhcp`).
pub fn message(who: &str, d: &Dropped, name_of: &dyn Fn(i32) -> String) -> String {
    format!(
        "{who}: DHCP route {} dropped: it would shadow {} (CVE-2024-3661)\n",
        show(&d.route, name_of),
        show(&d.shadows, name_of)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETH0: i32 = 2;
    const ETH1: i32 = 3;
    const WG0: i32 = 9;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }
    fn r(index: i32, net: &str, gw: Option<&str>) -> Route {
        let (d, p) = net.split_once('/').unwrap();
        Route {
            index,
            dst: ip(d),
            prefix: p.parse().unwrap(),
            gateway: gw.map(ip),
        }
    }
    fn other(route: Route) -> Guard {
        Guard {
            route,
            local: false,
            ordered: None,
        }
    }
    fn local(route: Route) -> Guard {
        Guard {
            route,
            local: true,
            ordered: None,
        }
    }
    fn name(i: i32) -> String {
        match i {
            ETH0 => "eth0".into(),
            WG0 => "wg0".into(),
            _ => format!("#{i}"),
        }
    }

    #[test]
    fn the_two_halves_do_not_pull_traffic_around_a_vpn() {
        let gw = Some("192.168.1.1");
        let learned = [
            r(ETH0, "0.0.0.0/1", gw),
            r(ETH0, "128.0.0.0/1", gw),
            r(ETH0, "0.0.0.0/0", gw),
        ];
        let vpn = r(WG0, "0.0.0.0/0", None);
        let (keep, drop) = screen(&learned, None, &[other(vpn)]);
        assert_eq!(keep, [learned[2]], "the equal default route stays");
        assert_eq!(
            drop,
            [
                Dropped {
                    route: learned[0],
                    shadows: vpn
                },
                Dropped {
                    route: learned[1],
                    shadows: vpn
                }
            ]
        );
        assert_eq!(
            message("fw", &drop[0], &name),
            "fw: DHCP route 0.0.0.0/1 via 192.168.1.1 dev eth0 dropped: it would shadow default dev wg0 (CVE-2024-3661)\n"
        );
        // without the VPN they are installed
        let (keep, drop) = screen(&learned, None, &[]);
        assert_eq!((keep.len(), drop.len()), (3, 0));
    }

    #[test]
    fn inside_a_local_static_route_on_another_link() {
        let lan = r(ETH1, "10.50.0.0/16", Some("172.16.0.1"));
        let learned = [
            r(ETH0, "10.50.7.0/24", Some("192.168.1.1")),
            r(ETH0, "10.51.0.0/24", Some("192.168.1.1")),
        ];
        let (keep, drop) = screen(&learned, None, &[local(lan)]);
        assert_eq!(keep, [learned[1]]);
        assert_eq!(drop.len(), 1);
        assert_eq!(drop[0].shadows, lan);
        // a local route guards its own link too (the admin's word wins)
        let here = r(ETH0, "10.50.0.0/16", Some("192.168.1.7"));
        let (keep, _) = screen(&learned, None, &[local(here)]);
        assert_eq!(keep, [learned[1]]);
    }

    #[test]
    fn an_equal_default_route_is_kept() {
        let learned = [r(ETH0, "0.0.0.0/0", Some("192.168.1.1"))];
        let guards_ = [
            local(r(ETH1, "0.0.0.0/0", Some("172.16.0.1"))),
            other(r(WG0, "0.0.0.0/0", None)),
        ];
        assert_eq!(screen(&learned, None, &guards_), (learned.to_vec(), vec![]));
    }

    #[test]
    fn routes_on_the_lease_link_are_not_other() {
        let learned = [
            r(ETH0, "10.1.0.0/16", Some("192.168.1.1")),
            r(ETH0, "192.168.1.128/25", None),
        ];
        // the lease's own routes, the kernel's connected route, an old default
        let own = [
            other(learned[0]),
            other(learned[1]),
            other(r(ETH0, "192.168.1.0/24", None)),
            other(r(ETH0, "0.0.0.0/0", Some("192.168.1.1"))),
        ];
        assert_eq!(screen(&learned, None, &own), (learned.to_vec(), vec![]));
    }

    #[test]
    fn routes_outside_every_other_route_are_kept() {
        let learned = [
            r(ETH0, "10.99.0.0/16", Some("192.168.1.1")),
            r(ETH0, "172.20.0.0/14", Some("192.168.1.1")),
        ];
        let guards_ = [
            other(r(WG0, "10.8.0.0/24", None)),
            other(r(ETH1, "172.16.0.0/24", None)),
            local(r(ETH1, "10.98.0.0/16", Some("172.16.0.1"))),
            // a more specific route elsewhere is not shadowed, it wins anyway
            other(r(ETH1, "10.99.5.0/24", Some("172.16.0.1"))),
        ];
        assert_eq!(screen(&learned, None, &guards_), (learned.to_vec(), vec![]));
    }

    #[test]
    fn host_routes() {
        let vpn = other(r(WG0, "0.0.0.0/0", None));
        let learned = [
            r(ETH0, "1.1.1.1/32", Some("192.168.1.1")),
            r(ETH0, "8.8.8.8/32", None),
        ];
        let (keep, drop) = screen(&learned, None, &[vpn]);
        assert!(keep.is_empty());
        assert_eq!(drop.len(), 2);
        // a host route never shadows anything: nothing is more specific
        let learned = [r(ETH0, "10.0.0.0/8", Some("192.168.1.1"))];
        let host = other(r(ETH1, "10.0.0.5/32", None));
        assert_eq!(screen(&learned, None, &[host]).1, vec![]);
        // equal host routes: kept
        let learned = [r(ETH0, "10.0.0.5/32", Some("192.168.1.1"))];
        assert_eq!(screen(&learned, None, &[host]).1, vec![]);
    }

    #[test]
    fn the_routers_own_gateway_route() {
        // RFC 3442: the router lies outside the lease's /32; option 121
        // brings the host route to it and the default route via it
        let vpn = other(r(WG0, "0.0.0.0/0", None));
        let learned = [
            r(ETH0, "10.128.0.1/32", None),
            r(ETH0, "0.0.0.0/0", Some("10.128.0.1")),
            r(ETH0, "0.0.0.0/1", Some("10.128.0.1")),
        ];
        let (keep, drop) = screen(&learned, None, &[vpn]);
        assert_eq!(keep, [learned[0], learned[1]]);
        assert_eq!(drop.len(), 1);
        assert_eq!(drop[0].route, learned[2]);
        // only for the gateway of a kept route: here the only route via
        // 10.128.0.9 is dropped, so its host route is too
        let learned = [
            r(ETH0, "10.128.0.9/32", None),
            r(ETH0, "128.0.0.0/1", Some("10.128.0.9")),
        ];
        let (keep, drop) = screen(&learned, None, &[vpn]);
        assert!(keep.is_empty(), "{keep:?}");
        assert_eq!(drop.len(), 2);
        // and only for a host route on the same link, on-link
        let learned = [
            r(ETH0, "10.128.0.1/32", Some("192.168.1.1")),
            r(ETH0, "0.0.0.0/0", Some("10.128.0.1")),
        ];
        assert_eq!(screen(&learned, None, &[vpn]).1.len(), 1);
    }

    #[test]
    fn odd_prefixes_and_addresses_never_panic() {
        let weird = [
            r(ETH0, "255.255.255.255/32", None),
            r(ETH0, "10.1.2.3/8", Some("0.0.0.0")),
            Route {
                index: 0,
                dst: ip("1.2.3.4"),
                prefix: 200,
                gateway: None,
            },
        ];
        let guards_: Vec<Guard> = weird.iter().map(|r| other(*r)).collect();
        let (keep, drop) = screen(&weird, None, &guards_);
        assert_eq!(keep.len() + drop.len(), weird.len());
        // host bits in a destination do not matter
        assert!(strictly_inside(
            &r(ETH0, "10.200.1.0/24", None),
            &r(WG0, "10.1.2.3/8", None)
        ));
        assert!(!strictly_inside(
            &r(ETH0, "11.0.0.0/24", None),
            &r(WG0, "10.0.0.0/8", None)
        ));
        assert_eq!(mask(0), 0);
        assert_eq!(mask(32), u32::MAX);
        assert_eq!(mask(33), u32::MAX);
        assert_eq!(mask(1), 0x8000_0000);
    }

    #[test]
    fn fw_s_own_uplink_order_decides_between_default_routes() {
        // eth0 is preferred (its lease's default route gets metric 10), a
        // static backup default on eth1 gets 20
        let backup = Guard {
            ordered: Some(20),
            ..local(r(ETH1, "0.0.0.0/0", Some("172.16.0.1")))
        };
        let learned = [r(ETH0, "10.200.0.0/16", Some("192.168.1.9"))];
        assert_eq!(screen(&learned, Some(10), &[backup]).1, vec![]);
        // a lease on the backup link may not take traffic from the preferred one
        let preferred = Guard {
            ordered: Some(10),
            ..other(r(ETH0, "0.0.0.0/0", Some("192.168.1.1")))
        };
        let halves = [
            r(ETH1, "0.0.0.0/1", Some("172.16.0.1")),
            r(ETH1, "128.0.0.0/1", Some("172.16.0.1")),
        ];
        assert_eq!(screen(&halves, Some(20), &[preferred]).1.len(), 2);
        // nor may a lease without a default route of its own
        assert_eq!(screen(&halves, None, &[preferred]).1.len(), 2);
        // a route fw did not make guards whatever the metrics
        let vpn = other(r(WG0, "0.0.0.0/0", None));
        assert_eq!(screen(&learned, Some(10), &[vpn]).1.len(), 1);
    }
}
