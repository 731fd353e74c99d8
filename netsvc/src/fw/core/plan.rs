//! What fw must change, pure: the wanted addresses and routes against what
//! the kernel has (and what fw itself applied last time), as a list of
//! operations. Running it on its own result gives no operations.

use crate::netlink::{Addr, RouteSpec};
use std::net::Ipv4Addr;

/// Routes fw installs carry this rtnetlink protocol number, so that fw
/// recognises (and removes) only its own.
pub const FW_PROTO: u8 = 0x66;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct A {
    pub index: i32,
    pub ip: Ipv4Addr,
    pub prefix: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct R {
    pub index: i32,
    pub dst: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Option<Ipv4Addr>,
    pub metric: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    DelRoute(R),
    DelAddr(A),
    AddAddr(A),
    AddRoute(R),
}

/// `previous`: addresses fw applied in its last run (from its state file);
/// only those are ever removed. `ours`: routes in the kernel with FW_PROTO.
pub fn diff(
    wanted_a: &[A],
    wanted_r: &[R],
    current_a: &[A],
    previous: &[A],
    ours: &[R],
) -> Vec<Op> {
    let mut ops = Vec::new();
    for r in ours {
        if !wanted_r.contains(r) {
            ops.push(Op::DelRoute(*r));
        }
    }
    for a in previous {
        if !wanted_a.contains(a) && current_a.contains(a) {
            ops.push(Op::DelAddr(*a));
        }
    }
    for a in wanted_a {
        if !current_a.contains(a) {
            ops.push(Op::AddAddr(*a));
        }
    }
    for r in wanted_r {
        if !ours.contains(r) {
            ops.push(Op::AddRoute(*r));
        }
    }
    ops
}

/// Where an interface's configuration goes: its place in `prefer`, or after
/// all of those (the sort that uses it is stable, so file order stays).
pub fn preference_rank(interface: &str, prefer: &[String]) -> usize {
    prefer
        .iter()
        .position(|p| p == interface)
        .unwrap_or(prefer.len())
}

/// A link index and an MTU.
pub type LinkMtu = (i32, u32);

/// MTUs, by link index: `wanted` from the ipconf files, `current` in the
/// kernel, `saved` the MTU each link had before fw changed it (its state
/// file). Returns the MTUs to set and the new `saved`: a link no file asks
/// an MTU for any more gets its own back.
pub fn mtus(
    wanted: &[LinkMtu],
    current: &[LinkMtu],
    saved: &[LinkMtu],
) -> (Vec<LinkMtu>, Vec<LinkMtu>) {
    let now = |i: i32| current.iter().find(|c| c.0 == i).map(|c| c.1);
    let (mut set, mut keep) = (Vec::new(), Vec::new());
    for &(i, m) in wanted {
        let Some(cur) = now(i) else { continue };
        let orig = saved.iter().find(|s| s.0 == i).map_or(cur, |s| s.1);
        if cur != m {
            set.push((i, m));
        }
        if orig != m || saved.iter().any(|s| s.0 == i) {
            keep.push((i, orig));
        }
    }
    for &(i, orig) in saved {
        if wanted.iter().any(|w| w.0 == i) {
            continue;
        }
        if now(i).is_some_and(|cur| cur != orig) {
            set.push((i, orig));
        }
    }
    (set, keep)
}

/// The netlink address for `a`: its broadcast the last of its subnet
/// (none on /31 and /32), forever.
pub fn addr(a: &A) -> Addr {
    let bc = if a.prefix < 31 {
        Some(Ipv4Addr::from(u32::from(a.ip) | (u32::MAX >> a.prefix)))
    } else {
        None
    };
    Addr {
        ip: a.ip,
        prefix: a.prefix,
        broadcast: bc,
        lifetime: u32::MAX,
    }
}

/// The netlink route for `r`, marked as fw's own.
pub fn spec(r: &R) -> RouteSpec {
    RouteSpec {
        dst: r.dst,
        prefix: r.prefix,
        gateway: r.gateway,
        index: r.index,
        protocol: FW_PROTO,
        metric: r.metric,
    }
}

/// `r` as `ip route` shows it, for fw's log.
pub fn show(r: &R, name_of: &dyn Fn(i32) -> String) -> String {
    let dst = if r.prefix == 0 {
        "default".to_string()
    } else {
        format!("{}/{}", r.dst, r.prefix)
    };
    match r.gateway {
        Some(g) => format!("{dst} via {g} dev {} metric {}", name_of(r.index), r.metric),
        None => format!("{dst} dev {} metric {}", name_of(r.index), r.metric),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(i: i32, last: u8, p: u8) -> A {
        A {
            index: i,
            ip: Ipv4Addr::new(10, 0, 0, last),
            prefix: p,
        }
    }
    fn r(i: i32, gw: u8, metric: u32) -> R {
        R {
            index: i,
            dst: Ipv4Addr::UNSPECIFIED,
            prefix: 0,
            gateway: Some(Ipv4Addr::new(10, 0, 0, gw)),
            metric,
        }
    }

    #[test]
    fn only_the_difference_and_idempotent() {
        let wa = [a(2, 5, 24)];
        let wr = [r(2, 1, 10)];
        let ops = diff(&wa, &wr, &[], &[], &[]);
        assert_eq!(ops, [Op::AddAddr(wa[0]), Op::AddRoute(wr[0])]);
        // after applying: nothing to do
        assert!(diff(&wa, &wr, &wa, &wa, &wr).is_empty());
        // an address not made by fw is left alone
        assert!(diff(&wa, &wr, &[wa[0], a(3, 9, 8)], &wa, &wr).is_empty());
    }

    #[test]
    fn lost_lease_removes_what_fw_made() {
        let old_a = [a(2, 5, 24)];
        let old_r = [r(2, 1, 10)];
        let ops = diff(&[], &[], &old_a, &old_a, &old_r);
        assert_eq!(ops, [Op::DelRoute(old_r[0]), Op::DelAddr(old_a[0])]);
        // a new address on the same link: old goes, new comes, route re-added after
        let na = [a(2, 7, 24)];
        let ops = diff(&na, &old_r, &old_a, &old_a, &old_r);
        assert_eq!(ops, [Op::DelAddr(old_a[0]), Op::AddAddr(na[0])]);
    }

    #[test]
    fn mtu_set_kept_and_given_back() {
        // a lease asks 1400 on a 1500 link: set, 1500 remembered
        let (set, saved) = mtus(&[(2, 1400)], &[(2, 1500)], &[]);
        assert_eq!((set, saved.clone()), (vec![(2, 1400)], vec![(2, 1500)]));
        // again: nothing to do, still remembered
        assert_eq!(
            mtus(&[(2, 1400)], &[(2, 1400)], &saved),
            (vec![], saved.clone())
        );
        // the lease is gone: 1500 back, nothing remembered
        assert_eq!(mtus(&[], &[(2, 1400)], &saved), (vec![(2, 1500)], vec![]));
        // the MTU the link has already: nothing to set or remember
        assert_eq!(mtus(&[(3, 1500)], &[(3, 1500)], &[]), (vec![], vec![]));
        // a link that is gone: nothing
        assert_eq!(mtus(&[(4, 9000)], &[], &[]), (vec![], vec![]));
    }

    #[test]
    fn netlink_forms_and_the_log_line() {
        let lease = addr(&a(2, 5, 24));
        assert_eq!(lease.broadcast, Some(Ipv4Addr::new(10, 0, 0, 255)));
        assert_eq!(lease.lifetime, u32::MAX);
        assert_eq!(addr(&a(2, 5, 31)).broadcast, None);
        let name = |i: i32| format!("eth{i}");
        assert_eq!(
            show(&r(2, 1, 10), &name),
            "default via 10.0.0.1 dev eth2 metric 10"
        );
        let on_link = R {
            dst: Ipv4Addr::new(10, 9, 0, 0),
            prefix: 16,
            gateway: None,
            ..r(3, 1, 0)
        };
        assert_eq!(show(&on_link, &name), "10.9.0.0/16 dev eth3 metric 0");
        assert_eq!(spec(&on_link).protocol, FW_PROTO);
    }

    #[test]
    fn preferred_interfaces_first_then_file_order() {
        let prefer = vec!["wwan0".to_string(), "eth0".to_string()];
        let mut ifs = vec!["eth1", "eth0", "wlan0", "wwan0"];
        ifs.sort_by_key(|i| preference_rank(i, &prefer));
        assert_eq!(ifs, ["wwan0", "eth0", "eth1", "wlan0"]);
        assert_eq!(preference_rank("eth0", &[]), 0);
    }
}
