//! The I/O around `Client`: one poll loop over a packet socket (before the
//! interface has an address), a UDP socket (unicast renewals), a netlink
//! socket (carrier), a signalfd and, during the `-a` check only, an ARP
//! packet socket; the decisions, the ARP check's included, are
//! `client::Client`'s. Each poll round reads at most `BUDGET` messages from
//! each socket before it looks at signals and deadlines again, so a host
//! flooding port 68 or ARP cannot starve them. The sockets are `sockets`',
//! the handler script `script`'s, the lease state file `state`'s and native
//! mode's files and fw poke `native`'s.

pub mod check;
mod native;
mod script;
mod sockets;
mod state;

use super::cli::{self, NativeOptions, Options};
use super::core::client::{Action, Client, Config, Dest, Event, State};
use super::core::frame;
use super::core::msg::Message;
use crate::netlink::Netlink;
use crate::packet::{self, ETH_P_ARP, ETH_P_IP};
use common::errtext::describe;
use common::fsutil::atomic_write;
use common::out;
use common::poll::PollSet;
use common::sig::SignalFd;
use native::Native;
use std::net::{Ipv4Addr, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

const PROG: &str = "udhcpc";
/// Messages read from one socket per poll round (netsvc's one limit).
const BUDGET: usize = crate::MAX_READS_PER_ROUND;

/// A mistake on the command line: the message and the usage on stderr, 1.
pub fn usage_error(prog: &str, e: &str) -> i32 {
    out::err(&format!("{prog}: {e}\n"));
    out::err(cli::USAGE);
    1
}

/// `udhcpc`: a handler script is told of each event.
pub fn udhcpc(o: Options) -> i32 {
    let code = run(o, None);
    crate::flush_pokes();
    code
}

/// `dhcp`: native mode (see `native`).
pub fn dhcp(n: NativeOptions) -> i32 {
    let code = native::run(n);
    crate::flush_pokes();
    code
}

struct Shell {
    o: Options,
    /// Native mode: files and fw instead of a script.
    native: Option<Native>,
    index: i32,
    mac: [u8; 6],
    pkt: OwnedFd,
    udp: Option<UdpSocket>,
    /// Open only while the client probes an address (`-a`): an ARP socket
    /// sees every ARP frame on the link.
    arp: Option<OwnedFd>,
    client: Client,
    epoch: Instant,
    last_type: u8,
    /// runsv's readiness pipe: said once the first lease is bound
    ready: common::ready::Ready,
}

impl Shell {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    fn log(&self, msg: &str) {
        if self.o.verbose {
            // with -v, seconds since start: the timing is what one debugs
            out::err(&format!("{PROG}: [{}] {msg}\n", out::secs3(self.now())));
        } else {
            out::err(&format!("{PROG}: {msg}\n"));
        }
    }

    fn send(&self, m: &Message, dest: Dest) {
        let payload = m.encode();
        let r = match (dest, &self.udp) {
            (Dest::Unicast(server), Some(udp)) => udp
                .send_to(&payload, (server, frame::SERVER_PORT))
                .map(|_| ()),
            _ => {
                let src = if m.ciaddr.is_unspecified() {
                    Ipv4Addr::UNSPECIFIED
                } else {
                    m.ciaddr
                };
                let p = frame::build(src, Ipv4Addr::BROADCAST, &payload);
                packet::send_broadcast(self.pkt.as_raw_fd(), self.index, ETH_P_IP, &p)
            }
        };
        if let Err(e) = r {
            self.log(&format!("sending: {}", describe(&e)));
        }
        if self.o.verbose {
            self.log(&format!("sent {:?} to {dest:?}", m.msg_type()));
        }
    }

    /// An RFC 5227 probe for `ip`; the ARP socket is opened for the check.
    fn arp_probe(&mut self, ip: Ipv4Addr) {
        if self.arp.is_none() {
            match sockets::arp_socket(self.index) {
                Ok(fd) => self.arp = Some(fd),
                Err(e) => {
                    // without it the check cannot see an owner: it passes,
                    // as BusyBox's does when arping fails
                    self.log(&format!("ARP socket: {}", describe(&e)));
                    return;
                }
            }
        }
        if let Some(fd) = &self.arp {
            let req = packet::arp_request(self.mac, Ipv4Addr::UNSPECIFIED, ip);
            if let Err(e) = packet::send_broadcast(fd.as_raw_fd(), self.index, ETH_P_ARP, &req) {
                self.log(&format!("sending ARP probe: {}", describe(&e)));
            } else if self.o.verbose {
                self.log(&format!("sent ARP probe for {ip}"));
            }
        }
    }

    /// Carry out the client's actions; `Some(code)` when the program must end.
    fn execute(&mut self, actions: Vec<Action>) -> Option<i32> {
        let mut bound = false;
        for a in actions {
            match a {
                Action::Send(m, d) => self.send(&m, d),
                Action::Deconfig => self.script("deconfig", None),
                Action::Bound(l) => {
                    for w in &l.warnings {
                        self.log(w);
                    }
                    self.log(&format!(
                        "lease of {} obtained from {}, lease time {}",
                        l.ip, l.server, l.lease
                    ));
                    self.last_type = 5;
                    self.script("bound", Some(&l));
                    bound = true;
                    if self.o.quit {
                        if self.o.release {
                            let r = self.client.handle(self.now(), Event::Release);
                            self.execute(r);
                        }
                        return Some(0);
                    }
                    if !self.o.foreground {
                        daemonize(&self.o);
                    }
                }
                Action::Renew(l) => {
                    self.last_type = 5;
                    self.script("renew", Some(&l));
                }
                Action::Nak => self.script("nak", None),
                Action::LeaseFail => {
                    self.log("no lease, failing");
                    self.script("leasefail", None);
                    if self.o.now {
                        return Some(1);
                    }
                    if self.o.background && !self.o.foreground {
                        daemonize(&self.o);
                    }
                }
                Action::SendArpProbe(ip) => self.arp_probe(ip),
                Action::Conflict(ip, mac) => self.log(&format!(
                    "{ip} is in use by another host: declining (its MAC {})",
                    mac.map(|b| format!("{b:02x}")).join(":")
                )),
                Action::Remember(l) => self.remember(&l),
                Action::Forget => {
                    let _ = std::fs::remove_file(self.lease_file());
                }
                Action::ForgetNeighbours => {
                    let said = crate::netlink::forget_after_replug(
                        libc::AF_INET,
                        self.index,
                        self.o.verbose,
                    );
                    if let Some(line) = said {
                        self.log(&line);
                    }
                }
            }
        }
        // ready once the lease is bound and remembered (its state is what
        // ./check reads)
        if bound {
            self.ready.now();
        }
        None
    }
}

/// Call `read_one` until it finds nothing more (returns false), at most
/// `BUDGET` times: what is left waits for the next poll round, after
/// signals and deadlines had their turn. Returns how many it read.
fn drain(mut read_one: impl FnMut() -> bool) -> usize {
    let mut n = 0;
    while n < BUDGET && read_one() {
        n += 1;
    }
    n
}

/// Go to the background (once), as BusyBox does without -f.
fn daemonize(o: &Options) {
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if DONE.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    common::daemon::background(o.pidfile.as_deref());
}

fn write_pidfile(o: &Options) {
    if let Some(p) = &o.pidfile {
        let _ = atomic_write(
            p,
            format!("{}\n", std::process::id()).as_bytes(),
            0o644,
            false,
        );
    }
}

fn run(o: Options, native: Option<Native>) -> i32 {
    let ready = common::ready::Ready::from_env();
    let fail = |what: &str, e: std::io::Error| {
        out::err(&format!("{PROG}: {what}: {}\n", describe(&e)));
        1
    };
    let (index, mac) = match sockets::interface(&o.interface) {
        Ok(x) => x,
        Err(e) => return fail(&format!("interface {}", o.interface), e),
    };
    let sigfd = match SignalFd::new(&[libc::SIGUSR1, libc::SIGUSR2, libc::SIGTERM, libc::SIGINT]) {
        Ok(s) => s,
        Err(e) => return fail("signalfd", e),
    };
    let pkt = match sockets::dhcp_socket(index, mac) {
        Ok(fd) => fd,
        Err(e) => return fail(&format!("packet socket on {}", o.interface), e),
    };
    let udp = sockets::udp_socket(&o.interface).ok();
    let mut nl = Netlink::link_events().ok();
    let mut cfg = Config::new(mac, crate::random::seed());
    if o.no_client_id {
        cfg.client_id.clear();
    }
    cfg.hostname = o.hostname.clone();
    cfg.vendor_class = o.vendor.as_ref().map(|v| v.as_bytes().to_vec());
    cfg.request_ip = o.request;
    cfg.extra_params = o.params.clone();
    cfg.extra_options = o.extra.clone();
    cfg.tries = o.tries;
    if let Some(t) = o.timeout {
        cfg.initial_timeout = Duration::from_secs(t);
    }
    cfg.failure_pause = Duration::from_secs(o.pause);
    cfg.arp_check = o.arp;
    cfg.arp_wait = o.arp_wait;
    cfg.classless_routes = !o.no_classless;
    cfg.broadcast_flag = o.broadcast_flag;
    let mut sh = Shell {
        o,
        native,
        index,
        mac,
        pkt,
        udp,
        arp: None,
        client: Client::new(cfg),
        epoch: Instant::now(),
        last_type: 0,
        ready,
    };
    if sh.o.foreground || sh.o.quit {
        write_pidfile(&sh.o);
    }
    // The carrier now: a netlink request (answered below), or assume up.
    let mut link_up = true;
    let mut carrier_downs: Option<u32> = None;
    if let Some(l) = nl.as_mut().and_then(|n| n.link_now(index)) {
        link_up = l.carrier();
        carrier_downs = l.carrier_downs;
    }
    if !link_up {
        sh.log(&format!("{}: no carrier, waiting for it", sh.o.interface));
    }
    let remembered = sh.remembered();
    let start = sh.client.handle(
        sh.now(),
        Event::Start {
            link_up,
            remembered,
        },
    );
    if let Some(code) = sh.execute(start) {
        return finish(&sh, code);
    }
    let mut poll = PollSet::new();
    let mut buf = vec![0u8; 2048];
    loop {
        let timeout = crate::with_pokes(sh.client.deadline().map(|d| d.saturating_sub(sh.now())));
        poll.clear();
        let si = poll.add(sigfd.as_raw_fd());
        let pi = poll.add(sh.pkt.as_raw_fd());
        let ui = sh.udp.as_ref().map(|u| poll.add(u.as_raw_fd()));
        let ni = nl.as_ref().map(|n| poll.add(n.as_raw_fd()));
        let ai = sh.arp.as_ref().map(|a| poll.add(a.as_raw_fd()));
        if let Err(e) = poll.wait(timeout) {
            sh.log(&format!("poll: {}", describe(&e)));
            std::thread::sleep(Duration::from_millis(100));
        }
        crate::retry_pokes_and_say(PROG);
        let mut actions = Vec::new();
        if poll.readable(si) {
            for s in sigfd.read_all() {
                match s {
                    libc::SIGUSR1 => actions.extend(sh.client.handle(sh.now(), Event::RenewNow)),
                    libc::SIGUSR2 => actions.extend(sh.client.handle(sh.now(), Event::Release)),
                    _ => {
                        crate::stopping();
                        let name = if s == libc::SIGINT {
                            "SIGINT"
                        } else {
                            "SIGTERM"
                        };
                        sh.log(&format!("received {name}: stopping"));
                        if sh.o.release {
                            let r = sh.client.handle(sh.now(), Event::Release);
                            sh.execute(r);
                        }
                        return finish(&sh, 0);
                    }
                }
            }
        }
        if let (Some(i), Some(n)) = (ni, nl.as_ref()) {
            if poll.readable(i) {
                // bounded per round by Netlink::read_links itself
                for l in n.read_links().into_iter().filter(|l| l.index == index) {
                    // a loss too short to be reported on its own still counts
                    let bounced =
                        matches!((carrier_downs, l.carrier_downs), (Some(a), Some(b)) if b > a);
                    carrier_downs = l.carrier_downs.or(carrier_downs);
                    if bounced || !l.carrier() {
                        if sh.o.verbose {
                            sh.log("carrier down");
                        }
                        actions.extend(sh.client.handle(sh.now(), Event::LinkDown));
                    }
                    if l.carrier() {
                        if sh.o.verbose {
                            sh.log("carrier up");
                        }
                        actions.extend(sh.client.handle(sh.now(), Event::LinkUp));
                    }
                }
            }
        }
        if poll.readable(pi) {
            drain(|| {
                let Some((n, ready)) = sockets::recv_packet(&sh.pkt, &mut buf) else {
                    return false;
                };
                let Some(payload) = frame::parse_with(&buf[..n], ready) else {
                    return true;
                };
                let Ok(m) = Message::decode(payload) else {
                    return true;
                };
                if let Some(t) = m.msg_type() {
                    sh.last_type = t as u8;
                }
                actions.extend(sh.client.handle(sh.now(), Event::Packet(&m)));
                true
            });
        }
        if let (Some(i), Some(u)) = (ui, sh.udp.as_ref()) {
            if poll.readable(i) {
                // Replies are read from the packet socket; this one only keeps
                // port 68 open (no ICMP unreachable) and is drained.
                let mut b = [0u8; 1500];
                drain(|| u.recv(&mut b).is_ok());
            }
        }
        if ai.is_some_and(|i| poll.readable(i)) {
            // out of `sh` while `sh` handles what it reads
            if let Some(fd) = sh.arp.take() {
                let mut b = [0u8; 64];
                drain(|| {
                    let Some(n) = sockets::recv_frame(&fd, &mut b) else {
                        return false;
                    };
                    if let Some(p) = crate::arp::parse(&b[..n]) {
                        actions.extend(sh.client.handle(sh.now(), Event::Arp(p)));
                    }
                    true
                });
                sh.arp = Some(fd);
            }
        }
        if sh.client.deadline().is_some_and(|d| sh.now() >= d) {
            actions.extend(sh.client.handle(sh.now(), Event::Timer));
        }
        if let Some(code) = sh.execute(actions) {
            return finish(&sh, code);
        }
        if sh.client.state() != State::Checking {
            sh.arp = None;
        }
        if sh.o.verbose && sh.client.state() == State::Released {
            sh.log("released; SIGUSR1 to start again");
        }
    }
}

fn finish(sh: &Shell, code: i32) -> i32 {
    if let Some(p) = &sh.o.pidfile {
        let _ = std::fs::remove_file(p);
    }
    // Native mode ends like the seed's `finish`: the address is no longer ours.
    if let Some(n) = &sh.native {
        if !sh.o.quit {
            n.deconfig(&sh.o.interface);
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};

    #[test]
    fn a_poll_round_reads_at_most_the_budget() {
        // a flooded socket: 150 datagrams waiting
        let (a, b) = rustix::net::socketpair(
            AddressFamily::UNIX,
            SocketType::DGRAM,
            SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
            None,
        )
        .unwrap();
        let mut queued = 0;
        while queued < 150 && rustix::net::send(&a, b"x", SendFlags::empty()) == Ok(1) {
            queued += 1;
        }
        assert!(queued > BUDGET, "{queued}");
        let read = || {
            let mut buf = [0u8; 8];
            rustix::net::recv(&b, &mut buf, RecvFlags::empty()).is_ok_and(|(n, _)| n > 0)
        };
        // round by round: never more than the budget, all of it in the end
        let mut rounds = Vec::new();
        loop {
            let n = drain(read);
            if n == 0 {
                break;
            }
            rounds.push(n);
            assert!(rounds.len() <= queued, "drain never ends");
        }
        assert_eq!(rounds[0], BUDGET);
        assert!(rounds.iter().all(|&n| n <= BUDGET), "{rounds:?}");
        assert_eq!(rounds.iter().sum::<usize>(), queued);
        assert_eq!(drain(read), 0);
    }
}
