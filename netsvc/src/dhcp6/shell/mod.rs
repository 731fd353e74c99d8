//! The I/O around `Client`: one poll loop over a UDP socket on port 546
//! bound to the interface, a netlink socket (carrier) and a signalfd. Each
//! socket is read at most `MAX_READS_PER_ROUND` times a round. The random
//! numbers the core asks for come from `crate::random`. What the events do
//! (the handler script, or native mode's ipconf file and fw poke) and the
//! DUID's state file are `out`'s.

pub mod check;
mod out;

use super::cli::{self, Options};
use super::core::client::{Action, Client, Config, Event, State};
use super::core::msg::{self, Message, ALL_SERVERS, CLIENT_PORT, SERVER_PORT};
use super::core::ra::{self, RaState};
use crate::netlink::{forget_after_replug, Netlink};
use common::errtext::describe;
use common::poll::PollSet;
use common::sig::SignalFd;
use rustix::net::{AddressFamily, SocketAddrV6};
use std::net::{Ipv6Addr, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// Router solicitations: up to 3, 4 s apart, until an RA with a router
/// lifetime comes (RFC 4861 §10, as odhcp6c).
const RTR_SOLICITATION_INTERVAL: Duration = Duration::from_secs(4);

/// How long a stop waits for the server to answer the RELEASE.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// A mistake on the command line: the message and the usage on stderr, 1.
pub fn usage_error(prog: &str, usage: &str, e: &str) -> i32 {
    common::out::err(&format!("{prog}: {e}\n"));
    common::out::err(usage);
    1
}

/// The client's socket: UDP port 546 on `ifname` only, multicast out of it.
fn socket(ifname: &str, index: u32) -> std::io::Result<UdpSocket> {
    let fd = crate::packet::nonblocking_dgram(AddressFamily::INET6)?;
    let _ = rustix::net::sockopt::set_ipv6_v6only(&fd, true);
    let _ = rustix::net::sockopt::set_socket_reuseaddr(&fd, true);
    crate::packet::bind_to_device(&fd, ifname)?;
    rustix::net::sockopt::set_ipv6_multicast_if(&fd, index)?;
    let _ = rustix::net::sockopt::set_ipv6_multicast_loop(&fd, false);
    rustix::net::bind(
        &fd,
        &SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, CLIENT_PORT, 0, 0),
    )?;
    Ok(UdpSocket::from(fd))
}

/// An ICMPv6 socket on `ifname`: router advertisements come in (only
/// they, each with its hop limit), a router solicitation goes out (hop
/// limit 255, RFC 4861 §6.1.1).
fn ra_socket(ifname: &str, index: u32) -> std::io::Result<OwnedFd> {
    use rustix::net::{ipproto, SocketFlags, SocketType};
    let fd = rustix::net::socket_with(
        AddressFamily::INET6,
        SocketType::RAW,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        Some(ipproto::ICMPV6),
    )?;
    crate::packet::bind_to_device(&fd, ifname)?;
    crate::packet::icmp6_pass_only(&fd, 134)?;
    crate::packet::enable_hop_limit(&fd)?;
    rustix::net::sockopt::set_ipv6_multicast_if(&fd, index)?;
    rustix::net::sockopt::set_ipv6_multicast_hops(&fd, 255)?;
    let _ = rustix::net::sockopt::set_ipv6_multicast_loop(&fd, false);
    Ok(fd)
}

/// Ask the routers for an advertisement (all-routers, ff02::2).
fn solicit_router(fd: &OwnedFd, index: u32) {
    let to = SocketAddrV6::new(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2), 0, 0, index);
    let _ = rustix::net::sendto(
        fd,
        &msg::ROUTER_SOLICIT,
        rustix::net::SendFlags::empty(),
        &to,
    );
}

/// One router advertisement waiting on `fd`: its router and length, when
/// it is valid as RFC 4861 §6.1.2 has it (from a link-local address, hop
/// limit 255, the kernel checked the checksum); `Err` when nothing waits.
fn read_ra(fd: &OwnedFd, buf: &mut [u8]) -> Result<Option<(Ipv6Addr, usize)>, ()> {
    let (mut control, mut name) = ([0u8; 64], [0u8; 28]);
    let (n, c, nl) =
        crate::packet::recv_from_with_control(fd, buf, &mut control, &mut name).map_err(drop)?;
    let from = crate::ra::core::msg::sockaddr6(&name[..nl]);
    let hops = crate::ra::core::msg::hop_limit(&control[..c]);
    Ok(from
        .filter(|a| a.segments()[0] & 0xffc0 == 0xfe80 && hops == Some(255))
        .map(|a| (a, n.min(buf.len()))))
}

/// The interface identifier of `index`'s link-local address, which
/// odhcp6c's `RA_ADDRESSES` take (the kernel's own SLAAC addresses too,
/// unless addr_gen_mode says otherwise).
fn link_local_iid(index: u32) -> Option<u64> {
    let addrs = crate::netlink::Rtnl::open().ok()?.addresses6().ok()?;
    addrs
        .iter()
        .find(|a| a.index as u32 == index && a.ip.segments()[0] & 0xffc0 == 0xfe80)
        .map(|a| ra::iid_of(a.ip))
}

struct Shell {
    prog: &'static str,
    o: Options,
    index: u32,
    sock: UdpSocket,
    client: Client,
    epoch: Instant,
    /// Native mode: the ipconf text last written (fw is poked on a change).
    written: Option<String>,
    native: bool,
    /// runsv's readiness descriptor (`notification-fd`): said once the
    /// link's DHCPv6 is settled, a binding or information held, or a router
    /// advertisement without M and O (nothing to ask for).
    ready: common::ready::Ready,
    /// The M and O flags last logged: a change is always said.
    ra_said: Option<(bool, bool)>,
    /// odhcp6c mode: what the RAs say (the `RA_*` variables), the
    /// interface identifier of the addresses in it (and when an address
    /// dump may look for it again while unknown), when `ra-updated` is
    /// due, whether one was said since the link came up, and whether
    /// bindings are held (`bound` .. `unbound`).
    ra: Option<RaState>,
    iid: Option<u64>,
    iid_retry: Option<Duration>,
    ra_due: Option<Duration>,
    ra_told: bool,
    bound: bool,
}

impl Shell {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    fn log(&self, msg: &str) {
        if self.o.verbose {
            common::out::err(&format!(
                "{}: [{}] {msg}\n",
                self.prog,
                common::out::secs3(self.now())
            ));
        } else {
            common::out::err(&format!("{}: {msg}\n", self.prog));
        }
    }

    fn send(&self, m: &Message) {
        let to = std::net::SocketAddrV6::new(ALL_SERVERS, SERVER_PORT, 0, self.index);
        match self.sock.send_to(&m.encode(), to) {
            Ok(_) if self.o.verbose => self.log(&format!("sent {:?} (xid {:06x})", m.kind, m.xid)),
            Ok(_) => {}
            // no usable link-local address yet (DAD): the retransmission tries again
            Err(e) => self.log(&format!("sending {:?}: {}", m.kind, describe(&e))),
        }
    }

    /// odhcp6c mode: an RA into the `RA_*` set; a change makes `ra-updated`
    /// due, as odhcp6c has it: 1 s on (more changes meanwhile go with it),
    /// 10 s for the link's first while no bindings are held (DHCPv6 may
    /// bring them first; its call carries the RA's values then).
    fn heard_ra(&mut self, from: Ipv6Addr, m: &[u8], index: u32) {
        let now = self.now();
        let Some(r) = self.ra.as_mut() else {
            return;
        };
        // no link-local address known yet: a dump at most once a second
        if self.iid.is_none() && self.iid_retry.is_none_or(|t| now >= t) {
            self.iid_retry = Some(now.saturating_add(Duration::from_secs(1)));
            self.iid = link_local_iid(index);
        }
        if r.heard(m, from, self.iid, now) && self.ra_due.is_none() {
            let wait = if self.ra_told || self.bound { 1 } else { 10 };
            self.ra_due = Some(now + Duration::from_secs(wait));
        }
    }

    fn ra_updated(&mut self) {
        self.ra_told = true;
        if self.o.verbose {
            self.log("ra-updated");
        }
        let b = self.bound.then(|| self.client.bindings(self.now()));
        self.script("ra-updated", b.as_ref());
    }

    /// The carrier is back: the link's IPv6 neighbours the kernel could not
    /// resolve meanwhile go, so the next packet to them solicits at once.
    fn forget_neighbours(&self) {
        let index = i32::try_from(self.index).unwrap_or(0);
        if let Some(line) = forget_after_replug(libc::AF_INET6, index, self.o.verbose) {
            self.log(&line);
        }
    }

    /// Carry out the client's actions; `true` once it is done.
    fn execute(&mut self, actions: Vec<Action>) -> bool {
        let mut done = false;
        for a in actions {
            match a {
                Action::Send(m) => self.send(&m),
                Action::Bound(b) => {
                    self.event("bound", &b);
                    self.ready.now();
                }
                Action::Updated(b) => self.event("updated", &b),
                Action::Rebound(b) => self.event("rebound", &b),
                Action::Unbound(b) => self.event("unbound", &b),
                Action::Informed(b) => {
                    self.event("informed", &b);
                    self.ready.now();
                }
                Action::ForgetNeighbours => self.forget_neighbours(),
                Action::Done => done = true,
            }
        }
        done
    }
}

/// `odhcp6c` (a handler script) or `dhcp6` (native: files and fw).
pub fn run(mut o: Options, native: bool) -> i32 {
    let prog = if native { "dhcp6" } else { "odhcp6c" };
    let ready = common::ready::Ready::from_env();
    if o.interface.is_empty() {
        match cli::interface_from_dir(&common::service::dir_name()) {
            Some(i) => o.interface = i,
            None => {
                common::out::err(&format!(
                    "{prog}: no interface: give IFACE or run it as dhcp6_IF/run\n"
                ));
                return 1;
            }
        }
    }
    let fail = |what: &str, e: std::io::Error| {
        common::out::err(&format!("{prog}: {what}: {}\n", describe(&e)));
        1
    };
    let Some(index) = common::iface::index_of(&o.interface).and_then(|i| u32::try_from(i).ok())
    else {
        return fail(
            &format!("interface {}", o.interface),
            std::io::Error::from_raw_os_error(libc::ENODEV),
        );
    };
    let mac = match crate::packet::hw_address(&o.interface) {
        Ok(m) => m,
        Err(e) => return fail(&format!("interface {}", o.interface), e),
    };
    let sigfd = match SignalFd::new(&[libc::SIGUSR1, libc::SIGTERM, libc::SIGINT]) {
        Ok(s) => s,
        Err(e) => return fail("signalfd", e),
    };
    let sock = match socket(&o.interface, index) {
        Ok(s) => s,
        Err(e) => return fail(&format!("UDP port {CLIENT_PORT} on {}", o.interface), e),
    };
    if o.daemon && !common::service::is_run_link(&std::env::args_os().collect::<Vec<_>>()) {
        common::daemon::background(o.pidfile.as_deref());
    } else if let Some(p) = &o.pidfile {
        let _ = common::fsutil::atomic_write(
            p,
            format!("{}\n", std::process::id()).as_bytes(),
            0o644,
            false,
        );
    }
    let duid = out::duid(&o.state_dir, mac, prog);
    let mut cfg = Config::new(duid, u32::from_be_bytes([mac[2], mac[3], mac[4], mac[5]]));
    cfg.na = o.na;
    cfg.pd = o.pd;
    cfg.sol_max_rt = o.sol_max_rt.map(|s| Duration::from_secs(s.into()));
    cfg.follow_ra = o.follow_ra;
    let ra = if cfg.waits_for_ra() || !native {
        match ra_socket(&o.interface, index) {
            Ok(fd) => Some(fd),
            Err(e) => return fail("ICMPv6 socket", e),
        }
    } else {
        None
    };
    let mut nl = Netlink::link_events().ok();
    let mut sh = Shell {
        prog,
        o,
        index,
        sock,
        client: Client::new(cfg, crate::random::source()),
        epoch: Instant::now(),
        written: None,
        native,
        ready,
        ra_said: None,
        ra: (!native).then(RaState::default),
        iid: None,
        iid_retry: None,
        ra_due: None,
        ra_told: false,
        bound: false,
    };
    sh.started();
    let mut link_up = true;
    let mut carrier_downs = None;
    if let Some(l) = nl.as_mut().and_then(|n| n.link_now(index as i32)) {
        link_up = l.carrier();
        carrier_downs = l.carrier_downs;
    }
    if !link_up {
        sh.log(&format!("{}: no carrier, waiting for it", sh.o.interface));
    }
    let a = sh.client.handle(sh.now(), Event::Start { link_up });
    sh.execute(a);
    // solicitations still to send after the first, and when the next one is due
    let mut rs = (0u8, None::<Duration>);
    if let (Some(fd), true) = (&ra, link_up) {
        solicit_router(fd, index);
        rs = (2, Some(sh.now() + RTR_SOLICITATION_INTERVAL));
    }
    let mut poll = PollSet::new();
    let mut buf = vec![0u8; 65536];
    let mut stop_by: Option<Instant> = None;
    loop {
        let mut timeout = sh.client.deadline().map(|d| d.saturating_sub(sh.now()));
        if let Some(t) = stop_by {
            timeout = crate::earliest(timeout, Some(t.saturating_duration_since(Instant::now())));
        }
        if let Some(d) = crate::earliest(sh.ra_due, rs.1) {
            timeout = crate::earliest(timeout, Some(d.saturating_sub(sh.now())));
        }
        poll.clear();
        let si = poll.add(sigfd.as_raw_fd());
        let ui = poll.add(sh.sock.as_raw_fd());
        let ni = nl.as_ref().map(|n| poll.add(n.as_raw_fd()));
        let ri = ra.as_ref().map(|r| poll.add(r.as_raw_fd()));
        if let Err(e) = poll.wait(crate::with_pokes(timeout)) {
            sh.log(&format!("poll: {}", describe(&e)));
            std::thread::sleep(Duration::from_millis(100));
        }
        crate::retry_pokes_and_say(prog);
        let mut actions = Vec::new();
        if poll.readable(si) {
            for s in sigfd.read_all() {
                if s == libc::SIGUSR1 {
                    actions.extend(sh.client.handle(sh.now(), Event::RenewNow));
                    continue;
                }
                crate::stopping();
                sh.log("stopping");
                if sh.o.no_release {
                    return sh.finish();
                }
                actions.extend(sh.client.handle(sh.now(), Event::Stop));
                stop_by = Some(Instant::now() + STOP_GRACE);
            }
        }
        if let (Some(i), Some(n)) = (ni, nl.as_ref()) {
            if poll.readable(i) {
                for l in n
                    .read_links()
                    .into_iter()
                    .filter(|l| l.index == index as i32)
                {
                    let bounced =
                        matches!((carrier_downs, l.carrier_downs), (Some(a), Some(b)) if b > a);
                    carrier_downs = l.carrier_downs.or(carrier_downs);
                    if bounced || !l.carrier() {
                        actions.extend(sh.client.handle(sh.now(), Event::LinkDown));
                    }
                    // only a carrier that was gone: an MTU, flag or address
                    // change with the carrier there is no return
                    let back = l.carrier() && (bounced || !link_up);
                    link_up = l.carrier();
                    if back {
                        // odhcp6c: the link's first ra-updated waits for DHCPv6
                        (sh.iid, sh.iid_retry, sh.ra_told) = (None, None, false);
                        actions.extend(sh.client.handle(sh.now(), Event::LinkUp));
                        if let Some(fd) = &ra {
                            solicit_router(fd, index);
                            rs = (2, Some(sh.now() + RTR_SOLICITATION_INTERVAL));
                        }
                    }
                }
            }
        }
        if let (Some(i), Some(fd)) = (ri, &ra) {
            if poll.readable(i) {
                // router advertisements only (ICMP6_FILTER): at most a budget a round
                for _ in 0..crate::MAX_READS_PER_ROUND {
                    let Ok(got) = read_ra(fd, &mut buf) else {
                        break;
                    };
                    let Some((from, n)) = got else {
                        continue;
                    };
                    sh.heard_ra(from, &buf[..n], index);
                    if let Some((managed, other)) = msg::router_advert_flags(&buf[..n]) {
                        if buf[6..8] != [0, 0] {
                            rs.1 = None;
                        }
                        if sh.o.verbose || sh.ra_said != Some((managed, other)) {
                            let quiet = if managed || other {
                                ""
                            } else {
                                ": no DHCPv6 on this link, nothing sent"
                            };
                            sh.log(&format!(
                                "router advertisement: M={} O={}{quiet}",
                                managed as u8, other as u8
                            ));
                            sh.ra_said = Some((managed, other));
                        }
                        actions.extend(
                            sh.client
                                .handle(sh.now(), Event::RouterAdvert { managed, other }),
                        );
                        if !managed && !other && sh.client.state() == State::Idle {
                            sh.ready.now();
                        }
                    }
                }
            }
        }
        if poll.readable(ui) {
            for _ in 0..crate::MAX_READS_PER_ROUND {
                let Ok((n, from)) = sh.sock.recv_from(&mut buf) else {
                    break;
                };
                if from.port() != SERVER_PORT {
                    continue;
                }
                if let Ok(m) = Message::decode(&buf[..n]) {
                    if sh.o.verbose {
                        sh.log(&format!(
                            "received {:?} (xid {:06x}) from {}",
                            m.kind,
                            m.xid,
                            from.ip()
                        ));
                    }
                    actions.extend(sh.client.handle(sh.now(), Event::Packet(&m)));
                }
            }
        }
        if sh.client.deadline().is_some_and(|d| sh.now() >= d) {
            actions.extend(sh.client.handle(sh.now(), Event::Timer));
        }
        let done = sh.execute(actions);
        if sh.ra_due.is_some_and(|d| sh.now() >= d) {
            sh.ra_updated();
        }
        if let (Some(fd), true) = (&ra, rs.1.is_some_and(|d| sh.now() >= d)) {
            solicit_router(fd, index);
            rs.0 = rs.0.saturating_sub(1);
            rs.1 = (rs.0 > 0).then(|| sh.now() + RTR_SOLICITATION_INTERVAL);
        }
        if done || sh.client.state() == State::Done || stop_by.is_some_and(|t| Instant::now() >= t)
        {
            return sh.finish();
        }
    }
}
