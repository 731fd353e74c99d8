//! A small rtnetlink client, written against rtnetlink(7) directly: link
//! state (carrier) by request and as events, addresses with lifetimes,
//! routes. `msg` encodes and decodes (pure, fuzzed); `link`, `addr` and
//! `route` are the typed operations with their pure encoders and
//! decoders; `socket` is the one socket they all use. The general-purpose
//! crates parse every link kind and cost 400 KB of binary
//! (docs/architecture.md).

mod addr;
mod link;
pub mod msg;
mod route;
mod socket;

pub use addr::{addr_body, parse_addr, Addr, AddrEntry};
pub use link::{link_of, parse_links, Link, Netlink};
pub use msg::{ack, Dump, DumpEnd};
pub use route::{parse_route, route_body, route_of_any_table, RouteEntry, RouteSpec};

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
