//! A small rtnetlink client, written against rtnetlink(7) directly: link
//! state (carrier) by request and as events, addresses with lifetimes,
//! routes, neighbours the kernel could not resolve. `msg` encodes
//! and decodes (pure, fuzzed); `link`, `addr`, `route` and `neigh` are the
//! typed operations with their pure encoders and decoders; `socket` is
//! the one socket they all use. The general-purpose crates parse every
//! link kind and cost 400 KB of binary (docs/architecture.md).

mod addr;
mod link;
pub mod msg;
mod neigh;
mod route;
mod socket;

pub use addr::{
    addr6_body, addr_body, parse_addr, parse_addr6, Addr, Addr6, Addr6Entry, AddrEntry, FOREVER,
    IFA_F_DADFAILED, IFA_F_DEPRECATED, IFA_F_MANAGETEMPADDR, IFA_F_NODAD, IFA_F_NOPREFIXROUTE,
    IFA_F_PERMANENT, IFA_F_TEMPORARY, IFA_F_TENTATIVE,
};
pub use link::{link_of, parse_links, Link, Netlink};
pub use msg::{ack, Dump, DumpEnd};
pub use neigh::{forget_after_replug, neigh_body, parse_neigh, Neigh, NUD_FAILED, NUD_INCOMPLETE};
pub use route::{
    default_route6_event, parse_route, parse_route6, route6_body, route6_of_any_table, route_body,
    route_of_any_table, Route6, RouteEntry, RouteSpec, IP6_DEFAULT_METRIC, UNICAST, UNREACHABLE,
};

use std::io;

/// A netlink socket for changes and dumps (not subscribed to events); it
/// waits for each answer at most a few seconds.
pub struct Rtnl {
    sock: socket::Socket,
}

impl Rtnl {
    pub fn open() -> io::Result<Rtnl> {
        Ok(Rtnl {
            sock: socket::Socket::open(0, false)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads only: the kernel's own answers through the one socket type.
    #[test]
    fn the_kernel_answers_dumps_and_a_link_request() {
        let mut nl = Rtnl::open().expect("netlink socket");
        let addrs = nl.addresses().expect("address dump");
        assert!(addrs.iter().all(|a| a.prefix <= 32));
        nl.routes().expect("route dump");
        nl.routes_of_every_table().expect("dump of every table");
        // IPv6: loopback's ::1 is permanent (when IPv6 is on at all)
        let a6 = nl.addresses6().expect("IPv6 address dump");
        if let Some(lo) = a6.iter().find(|a| a.ip == std::net::Ipv6Addr::LOCALHOST) {
            assert_eq!((lo.prefix, lo.valid), (128, FOREVER));
            assert!(lo.flags & IFA_F_PERMANENT != 0);
        }
        nl.routes6().expect("IPv6 route dump");
        nl.routes6_of_every_table()
            .expect("IPv6 dump of every table");
        let _events = Netlink::addr6_events().expect("IPv6 address watcher");
        // loopback resolves no neighbours: the dump answers, nothing goes
        assert_eq!(
            nl.forget_unresolved(libc::AF_INET6, 1)
                .expect("neighbour dump"),
            0
        );
        assert_eq!(nl.forget_unresolved(libc::AF_INET, 1).expect("ARP dump"), 0);
        // a request the kernel refuses is an error, not a hang
        let e = nl.del_route(&RouteSpec {
            dst: std::net::Ipv4Addr::new(203, 0, 113, 0),
            prefix: 24,
            gateway: None,
            index: i32::MAX,
            protocol: 0x66,
            metric: 0,
        });
        assert!(e.is_err());
        // the watcher: loopback (index 1) answers like an event
        let mut w = Netlink::link_events().expect("watcher");
        w.request_link(1).expect("link request");
        let mut seen = Vec::new();
        for _ in 0..100 {
            seen.extend(w.read_links());
            if seen.iter().any(|l| l.index == 1) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(seen.iter().any(|l| l.index == 1 && l.name.is_some()));
    }
}

#[cfg(test)]
mod kernel_tests {
    use super::*;

    /// Changes the kernel: run only in a network namespace of its own,
    /// `unshare -n TEST_BINARY --ignored netlink::kernel_tests`
    /// (tests/fw6.rs covers the same through fw).
    #[test]
    #[ignore]
    fn ipv6_addresses_and_routes_in_the_kernel() {
        common::iface::set_up("lo").unwrap();
        let mut nl = Rtnl::open().unwrap();
        let a = Addr6 {
            ip: "2001:db8:7::1".parse().unwrap(),
            prefix: 64,
            flags: IFA_F_NODAD,
            preferred: 300,
            valid: 600,
            proto: 0x66,
        };
        nl.set_address6(1, &a).unwrap();
        // the kernel's entry for a.ip
        let entry = |nl: &mut Rtnl| {
            let e = *nl
                .addresses6()
                .unwrap()
                .iter()
                .find(|e| e.ip == a.ip)
                .unwrap();
            eprintln!("{e:?}");
            e
        };
        let e = entry(&mut nl);
        assert!(e.preferred <= 300 && e.preferred >= 298 && e.valid <= 600);
        assert_eq!(e.proto, 0x66);
        // deprecate it
        nl.set_address6(
            1,
            &Addr6 {
                preferred: 0,
                valid: 100,
                ..a
            },
        )
        .unwrap();
        assert_eq!(entry(&mut nl).preferred, 0);
        let u = Route6 {
            dst: "2001:db8:100::".parse().unwrap(),
            prefix: 56,
            gateway: None,
            index: 0,
            protocol: 0x66,
            metric: 0,
            kind: UNREACHABLE,
        };
        nl.add_route6(&u).unwrap();
        nl.add_route6(&u).unwrap();
        let rs = nl.routes6().unwrap();
        for r in &rs {
            eprintln!("{r:?}");
        }
        assert!(rs
            .iter()
            .any(|r| r.kind == UNREACHABLE && r.prefix == 56 && r.protocol == 0x66));
        nl.del_route6(&u).unwrap();
        nl.del_address6(1, &a).unwrap();
        assert!(!nl.addresses6().unwrap().iter().any(|e| e.ip == a.ip));
    }
}
