//! What fw changes in the kernel through netlink: addresses and its own
//! routes (only the difference `plan::diff` and `v6::plan6` give), link
//! MTUs; and the kernel's other routes, read for the TunnelVision screen.

use super::super::core::plan::{self, Op, A, FW_PROTO, R};
use super::super::core::wanted::Wanted;
use super::super::core::{shadow, v6};
use super::{say, PROG};
use crate::netlink::{Route6, Rtnl};
use common::errtext::describe;
use common::iface::name_of;
use common::out;

/// Addresses and fw's routes: only the difference. False on an error.
pub fn addresses_and_routes(nl: &mut Rtnl, w: &Wanted, previous: &[A]) -> bool {
    let current_a: Vec<A> = nl
        .addresses()
        .unwrap_or_default()
        .into_iter()
        .map(|a| A {
            index: a.index,
            ip: a.ip,
            prefix: a.prefix,
        })
        .collect();
    let ours = |nl: &mut Rtnl| -> Vec<R> {
        nl.routes()
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.protocol == FW_PROTO)
            .map(|r| R {
                index: r.index,
                dst: r.dst,
                prefix: r.prefix,
                gateway: r.gateway,
                metric: r.metric,
            })
            .collect()
    };
    let ops = plan::diff(&w.addrs, &w.routes, &current_a, previous, &ours(nl));
    let mut ok = apply(nl, &ops);
    // Routes again: removing an address can take routes through it along.
    let again: Vec<Op> = plan::diff(&[], &w.routes, &[], &[], &ours(nl))
        .into_iter()
        .filter(|o| matches!(o, Op::AddRoute(_)))
        .collect();
    ok &= apply(nl, &again);
    ok
}

fn apply(nl: &mut Rtnl, ops: &[Op]) -> bool {
    let mut ok = true;
    let show = |r: &R| plan::show(r, &name_of);
    for op in ops {
        let (what, r) = match op {
            Op::AddAddr(a) => (
                format!("+ {}/{} dev {}", a.ip, a.prefix, name_of(a.index)),
                nl.set_address(a.index, &plan::addr(a)),
            ),
            Op::DelAddr(a) => (
                format!("- {}/{} dev {}", a.ip, a.prefix, name_of(a.index)),
                nl.del_address(a.index, &plan::addr(a)),
            ),
            Op::AddRoute(r) => (format!("+ route {}", show(r)), nl.add_route(&plan::spec(r))),
            Op::DelRoute(r) => (format!("- route {}", show(r)), nl.del_route(&plan::spec(r))),
        };
        match r {
            Ok(()) => say(&format!("{PROG}: {what}\n")),
            Err(e) => {
                out::err(&format!("{PROG}: {what}: {}\n", describe(&e)));
                ok = false;
            }
        }
    }
    ok
}

/// Link MTUs; returns the links' own MTUs to remember, and false on an error.
pub fn mtus(want: &[plan::LinkMtu], saved: &[plan::LinkMtu]) -> (Vec<plan::LinkMtu>, bool) {
    let current: Vec<plan::LinkMtu> = want
        .iter()
        .chain(saved)
        .filter_map(|&(i, _)| Some((i, common::iface::mtu(&name_of(i)).ok()?)))
        .collect();
    let (set, keep) = plan::mtus(want, &current, saved);
    let mut ok = true;
    for (i, m) in set {
        match common::iface::set_mtu(&name_of(i), m) {
            Ok(()) => say(&format!("{PROG}: mtu {m} dev {}\n", name_of(i))),
            Err(e) => {
                out::err(&format!(
                    "{PROG}: mtu {m} dev {}: {}\n",
                    name_of(i),
                    describe(&e)
                ));
                ok = false;
            }
        }
    }
    (keep, ok)
}

/// The kernel's routes, of every table, that fw did not make (its own are
/// wanted again or not from the files alone).
pub fn other_routes(nl: &mut Rtnl) -> Result<Vec<shadow::Route>, String> {
    Ok(nl
        .routes_of_every_table()
        .map_err(|e| format!("{PROG}: reading routes: {}\n", describe(&e)))?
        .into_iter()
        .filter(|r| r.protocol != FW_PROTO)
        .map(|r| shadow::Route {
            index: r.index,
            dst: r.dst,
            prefix: r.prefix,
            gateway: r.gateway,
        })
        .collect())
}

/// The kernel's IPv6 routes of every table: (fw's own, as `v6::as_ours`,
/// the others); none when IPv6 is off.
pub fn routes6(nl: &mut Rtnl) -> (Vec<Route6>, Vec<Route6>) {
    let (ours, others): (Vec<Route6>, Vec<Route6>) = nl
        .routes6_of_every_table()
        .unwrap_or_default()
        .into_iter()
        .partition(|r| r.protocol == FW_PROTO);
    (ours.iter().map(v6::as_ours).collect(), others)
}

/// IPv6 addresses and fw's IPv6 routes (`ours`): only the difference
/// (`v6::plan6`). Returns whether fw has IPv6 addresses in the kernel
/// (before or now), and false on an error.
pub fn ipv6(nl: &mut Rtnl, w: &v6::Wanted6, ours: &[Route6]) -> (bool, bool) {
    let current = nl.addresses6().unwrap_or_default();
    let mut ok = apply6(nl, &v6::plan6(w, &current, ours));
    // routes again: a removed address can take routes through it along
    let again: Vec<v6::Op6> = v6::plan6(w, &[], &routes6(nl).0)
        .into_iter()
        .filter(|o| matches!(o, v6::Op6::AddRoute(_)))
        .collect();
    ok &= apply6(nl, &again);
    let managed = !w.addrs.is_empty() || current.iter().any(|c| c.proto == FW_PROTO);
    (managed, ok)
}

fn apply6(nl: &mut Rtnl, ops: &[v6::Op6]) -> bool {
    use v6::Op6;
    let mut ok = true;
    for op in ops {
        let (verb, r) = match op {
            Op6::Set(i, a, true) => ("+", nl.set_address6(*i, a)),
            Op6::Set(i, a, false) => ("~", nl.set_address6(*i, a)),
            Op6::Deprecate(i, a) => ("deprecated", nl.set_address6(*i, a)),
            Op6::Del(i, a) => ("-", nl.del_address6(*i, a)),
            Op6::AddRoute(r) => ("+", nl.add_route6(r)),
            Op6::DelRoute(r) => ("-", nl.del_route6(r)),
        };
        let what = match op {
            Op6::Set(i, a, _) | Op6::Deprecate(i, a) | Op6::Del(i, a) => format!(
                "{verb} {}/{} dev {} preferred {} valid {}",
                a.ip,
                a.prefix,
                name_of(*i),
                v6::secs(a.preferred),
                v6::secs(a.valid)
            ),
            Op6::AddRoute(r) | Op6::DelRoute(r) => {
                format!("{verb} {}", v6::show_route(r))
            }
        };
        match r {
            Ok(()) => say(&format!("{PROG}: {what}\n")),
            Err(e) => {
                out::err(&format!("{PROG}: {what}: {}\n", describe(&e)));
                ok = false;
            }
        }
    }
    ok
}
