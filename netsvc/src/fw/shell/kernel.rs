//! What fw changes in the kernel through netlink: addresses and its own
//! routes (only the difference `plan::diff` gives), link MTUs; and the
//! kernel's other routes, read for the TunnelVision screen.

use super::super::core::plan::{self, Op, A, FW_PROTO, R};
use super::super::core::shadow;
use super::super::core::wanted::Wanted;
use super::{say, PROG};
use crate::netlink::Rtnl;
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
