//! The I/O around `Advertiser`: one poll loop over a raw ICMPv6 socket on
//! the interface (router solicitations in, advertisements out with hop
//! limit 255 from the link-local address the kernel picks for ff02::1),
//! two netlink sockets (the interface's IPv6 addresses: a dump at start,
//! then `RTNLGRP_IPV6_IFADDR` events; IPv6 default routes, looked up again
//! only when an event says one came or went) and a signalfd. No polling:
//! the loop sleeps until a packet, an event, a signal or the advertiser's
//! next deadline. Ready (`notification-fd`) once the first RA went out,
//! or once the dump says there is nothing to advertise.

use super::cli::Options;
use super::core::msg::{self, ALL_NODES, ALL_ROUTERS, ROUTER_SOLICIT};
use super::core::{Action, Advertiser, Event};
use crate::netlink::{Netlink, Rtnl};
use common::errtext::describe;
use common::poll::PollSet;
use rustix::net::{AddressFamily, SocketAddrV6};
use std::net::Ipv6Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

const PROG: &str = "ra";

/// The raw ICMPv6 socket on `ifname`: only router solicitations come in
/// (ICMP6_FILTER), each with its hop limit; RAs go out with hop limit 255
/// (RFC 4861 §6.1.2: hosts drop any other), to ff02::1 on this link.
fn icmp_socket(ifname: &str, index: u32) -> std::io::Result<OwnedFd> {
    use rustix::net::{ipproto, sockopt, SocketFlags, SocketType};
    let fd = rustix::net::socket_with(
        AddressFamily::INET6,
        SocketType::RAW,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        Some(ipproto::ICMPV6),
    )?;
    crate::packet::bind_to_device(&fd, ifname)?;
    crate::packet::icmp6_pass_only(&fd, ROUTER_SOLICIT)?;
    crate::packet::enable_hop_limit(&fd)?;
    sockopt::set_ipv6_multicast_if(&fd, index)?;
    sockopt::set_ipv6_multicast_hops(&fd, 255)?;
    sockopt::set_ipv6_unicast_hops(&fd, Some(255))?;
    let _ = sockopt::set_ipv6_multicast_loop(&fd, false);
    sockopt::set_ipv6_add_membership(&fd, &ALL_ROUTERS, index)?;
    Ok(fd)
}

struct Shell {
    o: Options,
    index: u32,
    fd: OwnedFd,
    adv: Advertiser,
    epoch: Instant,
    ready: common::ready::Ready,
}

impl Shell {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    fn log(&self, m: &str) {
        common::out::err(&format!("{PROG}: {}: {m}\n", self.o.interface));
    }

    fn send(&self, to: Ipv6Addr, ra: &[u8]) -> bool {
        let dst = SocketAddrV6::new(to, 0, 0, self.index);
        match rustix::net::sendto(&self.fd, ra, rustix::net::SendFlags::empty(), &dst) {
            Ok(_) => {
                if self.o.verbose {
                    self.log(&format!("RA to {to}, {} bytes", ra.len()));
                }
                true
            }
            Err(e) => {
                // no usable link-local address yet (DAD), or the link is down
                self.log(&format!("sending an RA to {to}: {}", describe(&e.into())));
                false
            }
        }
    }

    fn execute(&mut self, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Multicast(ra) => {
                    if self.send(ALL_NODES, &ra) {
                        self.ready.now();
                    } else {
                        let more = self.adv.handle(self.now(), Event::SendFailed);
                        debug_assert!(more.is_empty());
                    }
                }
                Action::Unicast(to, ra) => {
                    self.send(to, &ra);
                }
                Action::NothingToAdvertise => {
                    self.log("no global /64 address: nothing to advertise");
                    self.ready.now();
                }
            }
        }
    }

    /// The addresses of the interface as the kernel has them now, into the
    /// advertiser (after `Resync` or at start), then `Synced`.
    fn dump_addresses(&mut self, rtnl: &mut Rtnl) {
        match rtnl.addresses6() {
            Ok(all) => {
                for a in all.into_iter().filter(|a| a.index == self.index as i32) {
                    self.adv.handle(self.now(), Event::Address(a));
                }
                let a = self.adv.handle(self.now(), Event::Synced);
                self.execute(a);
            }
            Err(e) => self.log(&format!("address dump: {}", describe(&e))),
        }
    }

    /// Whether the box has an IPv6 unicast default route (main table).
    fn default_route(&mut self, rtnl: &mut Rtnl) {
        match rtnl.routes6() {
            Ok(r) => {
                let on = r.iter().any(|r| {
                    r.prefix == 0
                        && r.kind == crate::netlink::UNICAST
                        && r.index != self.index as i32
                });
                self.adv.handle(self.now(), Event::DefaultRoute(on));
            }
            Err(e) => self.log(&format!("route dump: {}", describe(&e))),
        }
    }

    /// Up to `MAX_READS_PER_ROUND` solicitations into the advertiser.
    fn read_solicitations(&mut self) -> Vec<Action> {
        let mut actions = Vec::new();
        let mut buf = [0u8; 1280];
        let mut control = [0u8; 64];
        let mut name = [0u8; 28];
        for _ in 0..crate::MAX_READS_PER_ROUND {
            let Ok((n, c, nl)) =
                crate::packet::recv_from_with_control(&self.fd, &mut buf, &mut control, &mut name)
            else {
                break;
            };
            let (Some(from), Some(m)) = (msg::sockaddr6(&name[..nl]), buf.get(..n)) else {
                continue;
            };
            let hop_limit = msg::hop_limit(&control[..c]);
            actions.extend(self.adv.handle(
                self.now(),
                Event::Solicit {
                    from,
                    hop_limit,
                    msg: m,
                },
            ));
        }
        actions
    }
}

pub fn run(mut o: Options) -> i32 {
    let ready = common::ready::Ready::from_env();
    let fail = |what: &str, e: std::io::Error| {
        common::out::err(&format!("{PROG}: {what}: {}\n", describe(&e)));
        1
    };
    let Some(index) = common::iface::index_of(&o.interface).and_then(|i| u32::try_from(i).ok())
    else {
        return fail(
            &format!("interface {}", o.interface),
            std::io::Error::from_raw_os_error(libc::ENODEV),
        );
    };
    let Some(sigfd) = common::sig::open_signalfd(PROG, &[libc::SIGTERM, libc::SIGINT]) else {
        return 1;
    };
    o.cfg.mac = crate::packet::hw_address(&o.interface)
        .ok()
        .filter(|m| *m != [0; 6]);
    let fd = match icmp_socket(&o.interface, index) {
        Ok(fd) => fd,
        Err(e) => return fail(&format!("ICMPv6 socket on {}", o.interface), e),
    };
    // the event sockets before the dumps, so no change falls between
    let addrs = match Netlink::addr6_events() {
        Ok(n) => n,
        Err(e) => return fail("netlink", e),
    };
    let routes = match Netlink::route6_events() {
        Ok(n) => n,
        Err(e) => return fail("netlink", e),
    };
    let mut rtnl = match Rtnl::open() {
        Ok(r) => r,
        Err(e) => return fail("netlink", e),
    };
    let adv = Advertiser::new(std::mem::take(&mut o.cfg), crate::random::source());
    let mut sh = Shell {
        o,
        index,
        fd,
        adv,
        epoch: Instant::now(),
        ready,
    };
    sh.default_route(&mut rtnl);
    sh.dump_addresses(&mut rtnl);
    let mut poll = PollSet::new();
    loop {
        let timeout = sh.adv.deadline().map(|d| d.saturating_sub(sh.now()));
        poll.clear();
        let si = poll.add(sigfd.as_raw_fd());
        let ii = poll.add(sh.fd.as_raw_fd());
        let ai = poll.add(addrs.as_raw_fd());
        let ri = poll.add(routes.as_raw_fd());
        if let Err(e) = poll.wait(timeout) {
            sh.log(&format!("poll: {}", describe(&e)));
            std::thread::sleep(Duration::from_millis(100));
        }
        if poll.readable(si) && !sigfd.read_all().is_empty() {
            let a = sh.adv.handle(sh.now(), Event::Stop);
            if !a.is_empty() {
                sh.log("stopping: a last RA with router lifetime 0");
            }
            sh.execute(a);
            return 0;
        }
        if poll.readable(ri) {
            let mut looked = false;
            let r =
                routes.read_messages(|t, b| looked |= crate::netlink::default_route6_event(t, b));
            if looked || r.is_err() {
                sh.default_route(&mut rtnl);
            }
        }
        if poll.readable(ai) {
            match addrs.read_addrs6() {
                Ok(all) => {
                    for a in all.into_iter().filter(|a| a.index == index as i32) {
                        sh.adv.handle(sh.now(), Event::Address(a));
                    }
                }
                Err(_) => {
                    // events were lost: forget and read them all again
                    sh.adv.handle(sh.now(), Event::Resync);
                    sh.dump_addresses(&mut rtnl);
                }
            }
        }
        let mut actions = Vec::new();
        if poll.readable(ii) {
            actions = sh.read_solicitations();
        }
        if sh.adv.deadline().is_some_and(|d| sh.now() >= d) {
            actions.extend(sh.adv.handle(sh.now(), Event::Timer));
        }
        sh.execute(actions);
    }
}
