//! `pinger`: the seed's `dhcp_IF_pinger` watchdog. It pings the router of
//! the lease (`../dhcp_IF/env.out`) every 67 s, every 5 s after a failure,
//! and after 5 failures in a row restarts `dhcp_IF` (and `supplicant_IF`
//! when there is one) through the supervision tree. No lease or no router:
//! it waits until the DHCP service's directory changes (inotify). A new
//! lease's router is first pinged one retry after it appeared, once fw has
//! applied the lease. Intervals and the count are options:
//! `pinger [-i IF] [--interval SECS] [--retry SECS] [--failures N] [--timeout SECS]`.
//!
//! `Pinger` is the core, `(now, event) -> actions` on virtual time; `run`
//! is the shell: one poll loop over a signalfd, inotify on the DHCP
//! service's directory and one ICMP socket, its timeout the core's deadline.

use common::errtext::describe;
use common::out;
use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PROG: &str = "pinger";

/// The pure part: what a ping result means.
#[derive(Debug)]
pub struct Watchdog {
    pub interval: Duration,
    pub retry: Duration,
    pub max_failures: u32,
    failures: u32,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Ping again after this long.
    Wait(Duration),
    /// Restart the DHCP client (and supplicant), then wait this long.
    Restart(Duration),
}

impl Watchdog {
    pub fn new(interval: Duration, retry: Duration, max_failures: u32) -> Watchdog {
        Watchdog {
            interval,
            retry,
            max_failures: max_failures.max(1),
            failures: 0,
        }
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }

    pub fn result(&mut self, answered: bool) -> Verdict {
        if answered {
            self.failures = 0;
            return Verdict::Wait(self.interval);
        }
        self.failures += 1;
        if self.failures >= self.max_failures {
            self.failures = 0;
            // give the new lease time to come before judging again
            return Verdict::Restart(self.interval);
        }
        Verdict::Wait(self.retry)
    }
}

/// The first router in an `env.out` (`router='10.0.2.2 10.0.2.1'`).
pub fn router_from_env(text: &str) -> Option<Ipv4Addr> {
    let line = text.lines().find_map(|l| l.strip_prefix("router="))?;
    line.trim_matches('\'')
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum = 0u32;
    for c in data.chunks(2) {
        sum += u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// What the core is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The lease's router now (None: no lease, or one without a router).
    Lease(Option<Ipv4Addr>),
    /// An echo reply with this sequence number came from this address.
    Reply { from: Ipv4Addr, seq: u16 },
    /// The deadline passed.
    Timer,
    /// The echo could not be sent (the text says why); counts as no answer.
    SendFailed(String),
}

/// What the shell does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Say(String),
    Ping {
        router: Ipv4Addr,
        seq: u16,
    },
    /// Restart the DHCP client (and the supplicant).
    Restart,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    NoRouter,
    /// The next echo goes at this time.
    PingAt(Duration),
    /// Echo `seq` is out; no answer by this time is a failure.
    Awaiting {
        seq: u16,
        until: Duration,
    },
}

/// The pinger's core: which router, when to ping, what an answer or its
/// absence means. No sockets, no clock.
#[derive(Debug)]
pub struct Pinger {
    interface: String,
    interval: Duration,
    retry: Duration,
    failures: u32,
    timeout: Duration,
    wd: Watchdog,
    router: Option<Ipv4Addr>,
    phase: Phase,
    seq: u16,
    /// The next answer is the first of this lease (said once).
    first_ping: bool,
    waiting_said: bool,
}

impl Pinger {
    pub fn new(
        interface: &str,
        interval: Duration,
        retry: Duration,
        failures: u32,
        timeout: Duration,
    ) -> Pinger {
        Pinger {
            interface: interface.to_string(),
            interval,
            retry,
            failures,
            timeout,
            wd: Watchdog::new(interval, retry, failures),
            router: None,
            phase: Phase::NoRouter,
            seq: 0,
            first_ping: false,
            waiting_said: false,
        }
    }

    /// When the core wants `Event::Timer`; None while it waits for a lease.
    pub fn deadline(&self) -> Option<Duration> {
        match self.phase {
            Phase::NoRouter => None,
            Phase::PingAt(t) => Some(t),
            Phase::Awaiting { until, .. } => Some(until),
        }
    }

    pub fn handle(&mut self, now: Duration, ev: Event) -> Vec<Action> {
        let mut out = Vec::new();
        match ev {
            // the same router again (and "waiting" already said): nothing new
            Event::Lease(r) if r == self.router && (r.is_some() || self.waiting_said) => {}
            Event::Lease(None) => {
                if !self.waiting_said {
                    out.push(Action::Say(format!(
                        "no lease with a router on {} yet; waiting",
                        self.interface
                    )));
                    self.waiting_said = true;
                }
                self.router = None;
                self.phase = Phase::NoRouter;
            }
            Event::Lease(Some(router)) => {
                // A new lease: fw applies it a moment after the client wrote
                // it. Pinging at once would count "network unreachable"
                // against a router that is fine, so the first ping waits one retry.
                self.waiting_said = false;
                out.push(Action::Say(format!(
                    "router {router} on {}: first ping in {:?}",
                    self.interface, self.retry
                )));
                self.router = Some(router);
                self.wd = Watchdog::new(self.interval, self.retry, self.failures);
                self.first_ping = true;
                self.phase = Phase::PingAt(now.saturating_add(self.retry));
            }
            Event::Timer => match (self.phase, self.router) {
                (Phase::PingAt(t), Some(router)) if now >= t => {
                    self.seq = self.seq.wrapping_add(1);
                    self.phase = Phase::Awaiting {
                        seq: self.seq,
                        until: now.saturating_add(self.timeout),
                    };
                    out.push(Action::Ping {
                        router,
                        seq: self.seq,
                    });
                }
                (Phase::Awaiting { until, .. }, Some(_)) if now >= until => {
                    self.verdict(now, false, &mut out)
                }
                _ => {}
            },
            Event::Reply { from, seq } => {
                if matches!(self.phase, Phase::Awaiting { seq: s, .. } if s == seq)
                    && Some(from) == self.router
                {
                    self.verdict(now, true, &mut out);
                }
            }
            Event::SendFailed(why) => {
                if let (Phase::Awaiting { .. }, Some(router)) = (self.phase, self.router) {
                    out.push(Action::Say(format!("ping {router}: {why}")));
                    self.verdict(now, false, &mut out);
                }
            }
        }
        out
    }

    fn verdict(&mut self, now: Duration, answered: bool, out: &mut Vec<Action>) {
        let Some(router) = self.router else { return };
        if !answered {
            out.push(Action::Say(format!(
                "router {router} does not answer ({}/{})",
                self.wd.failures() + 1,
                self.wd.max_failures
            )));
        } else if self.first_ping || self.wd.failures() > 0 {
            // said once per lease and after failures, not every interval
            out.push(Action::Say(format!("router {router} answers")));
        }
        self.first_ping = false;
        let wait = match self.wd.result(answered) {
            Verdict::Wait(d) => d,
            Verdict::Restart(d) => {
                out.push(Action::Restart);
                d
            }
        };
        self.phase = Phase::PingAt(now.saturating_add(wait));
    }
}

/// An ICMP echo socket: a ping socket (the kernel matches replies to it),
/// or a raw one as root where ping sockets are not allowed.
struct IcmpSocket {
    fd: std::os::fd::OwnedFd,
    raw: bool,
}

impl IcmpSocket {
    fn open() -> std::io::Result<IcmpSocket> {
        use std::os::fd::FromRawFd;
        let flags = libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK;
        // SAFETY: socket(2) with constant arguments; the result is checked.
        let mut fd =
            unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | flags, libc::IPPROTO_ICMP) };
        let mut raw = false;
        if fd < 0 {
            // SAFETY: as above.
            fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW | flags, libc::IPPROTO_ICMP) };
            raw = true;
        }
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor that nothing else owns.
        Ok(IcmpSocket {
            fd: unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) },
            raw,
        })
    }

    fn send(&self, ip: Ipv4Addr, seq: u16) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        let id = (std::process::id() & 0xffff) as u16;
        let mut pkt = vec![8u8, 0, 0, 0];
        pkt.extend_from_slice(&id.to_be_bytes());
        pkt.extend_from_slice(&seq.to_be_bytes());
        pkt.extend_from_slice(b"ferrite pinger");
        let c = checksum(&pkt);
        pkt[2..4].copy_from_slice(&c.to_be_bytes());
        // SAFETY: an all-zero sockaddr_in is valid; fields set below.
        let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        sa.sin_family = libc::AF_INET as u16;
        sa.sin_addr.s_addr = u32::from_ne_bytes(ip.octets());
        // SAFETY: sendto(2) with a buffer and address that live across the call.
        let r = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                pkt.as_ptr().cast(),
                pkt.len(),
                0,
                (&sa as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as u32,
            )
        };
        if r < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// The echo replies waiting (at most `MAX_READS_PER_ROUND`, so an ICMP
    /// flood cannot keep the loop from its signals and deadlines): (from, seq).
    fn replies(&self) -> Vec<(Ipv4Addr, u16)> {
        use std::os::fd::AsRawFd;
        let mut out = Vec::new();
        let mut buf = [0u8; 1500];
        for _ in 0..crate::MAX_READS_PER_ROUND {
            // SAFETY: an all-zero sockaddr_in is valid for recvfrom to fill.
            let mut from: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            let mut len = std::mem::size_of::<libc::sockaddr_in>() as u32;
            // SAFETY: recvfrom(2) into buffers that live across the call.
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                    (&mut from as *mut libc::sockaddr_in).cast(),
                    &mut len,
                )
            };
            let Ok(n) = usize::try_from(n) else { break };
            let b = buf.get(..n).unwrap_or(&[]);
            if let Some(seq) = echo_reply_seq(b, self.raw) {
                out.push((Ipv4Addr::from(u32::from_be(from.sin_addr.s_addr)), seq));
            }
        }
        out
    }
}

/// The sequence number of an ICMP echo reply (`raw`: with its IP header).
pub fn echo_reply_seq(b: &[u8], raw: bool) -> Option<u16> {
    let icmp = if raw {
        b.get(usize::from(b.first()? & 0xf) * 4..)?
    } else {
        b
    };
    (icmp.len() >= 8 && icmp[0] == 0).then(|| u16::from_be_bytes([icmp[6], icmp[7]]))
}

struct Opts {
    interface: String,
    interval: Duration,
    retry: Duration,
    failures: u32,
    timeout: Duration,
    svdir: PathBuf,
}

/// Seconds for `what`: at least 1 ms (0 would ping in a busy loop), at most a day.
fn secs(what: &str, v: &str) -> Result<Duration, String> {
    common::num::secs_f64(what, v, 0.001, common::num::MAX_SECS as f64)
}

fn parse(words: &[String], o: &mut Opts) -> Result<(), String> {
    let mut i = 0;
    while i < words.len() {
        let v = words.get(i + 1).cloned().unwrap_or_default();
        match words[i].as_str() {
            "-i" => o.interface = v,
            "--interval" => o.interval = secs("--interval", &v)?,
            "--retry" => o.retry = secs("--retry", &v)?,
            "--failures" => o.failures = common::num::ranged("--failures", &v, 1, 1000)? as u32,
            "--timeout" => o.timeout = secs("--timeout", &v)?,
            w => return Err(format!("unknown argument {w}")),
        }
        i += 2;
    }
    Ok(())
}

pub fn main(args: &[OsString]) -> i32 {
    let words = common::service::words(PROG, args);
    let cwd = std::env::current_dir().unwrap_or_default();
    let dir = common::service::dir_name();
    let mut o = Opts {
        interface: dir
            .strip_prefix("dhcp_")
            .and_then(|d| d.strip_suffix("_pinger"))
            .unwrap_or("")
            .to_string(),
        interval: Duration::from_secs(67),
        retry: Duration::from_secs(5),
        failures: 5,
        timeout: Duration::from_secs(1),
        svdir: cwd
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/var/service")),
    };
    if let Err(e) = parse(&words, &mut o) {
        out::err(&format!("{PROG}: {e}\nusage: pinger [-i IF] [--interval SECS] [--retry SECS] [--failures N] [--timeout SECS]\n"));
        return 100;
    }
    if o.interface.is_empty() {
        out::err(&format!(
            "{PROG}: no interface: give -i IF or run it as dhcp_IF_pinger/run\n"
        ));
        return 100;
    }
    let code = run(o);
    crate::flush_pokes();
    code
}

fn say(msg: &str) {
    let _ = out::out(&format!("{PROG}: {msg}\n"));
}

/// The router of the lease in `dhcp/env.out`, if any.
fn lease_router(dhcp: &Path) -> Option<Ipv4Addr> {
    std::fs::read_to_string(dhcp.join("env.out"))
        .ok()
        .as_deref()
        .and_then(router_from_env)
}

fn run(o: Opts) -> i32 {
    let dhcp = o.svdir.join(format!("dhcp_{}", o.interface));
    let supplicant = o.svdir.join(format!("supplicant_{}", o.interface));
    let sigfd = match common::sig::SignalFd::new(&[libc::SIGTERM, libc::SIGINT, libc::SIGHUP]) {
        Ok(s) => s,
        Err(e) => {
            out::err(&format!("{PROG}: signalfd: {}\n", describe(&e)));
            return 111;
        }
    };
    let sock = match IcmpSocket::open() {
        Ok(s) => s,
        Err(e) => {
            out::err(&format!(
                "{PROG}: cannot open an ICMP socket: {}\n",
                describe(&e)
            ));
            return 111;
        }
    };
    let epoch = Instant::now();
    let now = || epoch.elapsed();
    let mut core = Pinger::new(&o.interface, o.interval, o.retry, o.failures, o.timeout);
    // The DHCP service's directory, or its parent until it exists.
    let mut watch: Option<(common::inotify::Watch, bool)> = None;
    let mut actions = core.handle(now(), Event::Lease(lease_router(&dhcp)));
    let mut poll = common::poll::PollSet::new();
    loop {
        let mut more = Vec::new();
        for a in std::mem::take(&mut actions) {
            match a {
                Action::Say(m) => say(&m),
                Action::Ping { router, seq } => {
                    if let Err(e) = sock.send(router, seq) {
                        more.extend(core.handle(now(), Event::SendFailed(describe(&e))));
                    }
                }
                Action::Restart => {
                    for svc in [&dhcp, &supplicant] {
                        if svc.is_dir() {
                            say(&format!("restarting {}", svc.display()));
                            if let Err(e) = crate::poke(svc, "tcu") {
                                say(&format!(
                                    "cannot restart {}: {}",
                                    svc.display(),
                                    describe(&e)
                                ));
                            }
                        }
                    }
                }
            }
        }
        if !more.is_empty() {
            actions = more;
            continue;
        }
        // (Re)watch the DHCP directory; its parent while it does not exist.
        if !watch
            .as_ref()
            .is_some_and(|(_, on_dir)| *on_dir || !dhcp.is_dir())
        {
            let on_dir = dhcp.is_dir();
            let target = if on_dir {
                dhcp.as_path()
            } else {
                o.svdir.as_path()
            };
            watch = common::inotify::Watch::new(target, common::inotify::DIR_CHANGES)
                .ok()
                .map(|w| (w, on_dir));
            // it may have changed before the watch was in place
            actions = core.handle(now(), Event::Lease(lease_router(&dhcp)));
            if !actions.is_empty() {
                continue;
            }
        }
        // Without inotify, look at the lease again every retry.
        let relook = watch.is_none().then_some(o.retry);
        let timeout = crate::earliest(core.deadline().map(|d| d.saturating_sub(now())), relook);
        poll.clear();
        let i_sig = poll.add(sigfd.as_raw_fd());
        let i_sock = poll.add(sock.fd.as_raw_fd());
        let i_watch = watch.as_ref().map(|(w, _)| poll.add(w.as_raw_fd()));
        if let Err(e) = poll.wait(crate::with_pokes(timeout)) {
            out::err(&format!("{PROG}: poll: {}\n", describe(&e)));
            std::thread::sleep(Duration::from_millis(100));
        }
        crate::retry_pokes_and_say(PROG);
        if poll.readable(i_sig) {
            if let Some(sig) = sigfd.read_all().into_iter().next() {
                let name = match sig {
                    libc::SIGTERM => "SIGTERM",
                    libc::SIGINT => "SIGINT",
                    _ => "SIGHUP",
                };
                say(&format!("received {name}: stopping"));
                return 0;
            }
        }
        if poll.readable(i_sock) {
            for (from, seq) in sock.replies() {
                actions.extend(core.handle(now(), Event::Reply { from, seq }));
            }
        }
        let changed = i_watch.is_some_and(|i| poll.readable(i));
        if changed {
            if let Some((w, on_dir)) = &watch {
                w.drain();
                // the directory itself went: watch its parent again
                if *on_dir && !dhcp.is_dir() {
                    watch = None;
                }
            }
        }
        if changed || relook.is_some() {
            actions.extend(core.handle(now(), Event::Lease(lease_router(&dhcp))));
        }
        actions.extend(core.handle(now(), Event::Timer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_failures_and_restarts_after_the_limit() {
        let s = Duration::from_secs;
        let mut w = Watchdog::new(s(67), s(5), 5);
        assert_eq!(w.result(true), Verdict::Wait(s(67)));
        for _ in 0..4 {
            assert_eq!(w.result(false), Verdict::Wait(s(5)));
        }
        assert_eq!(w.result(false), Verdict::Restart(s(67)));
        // a success in between starts the count again
        for _ in 0..4 {
            w.result(false);
        }
        w.result(true);
        assert_eq!(w.result(false), Verdict::Wait(s(5)));
    }

    #[test]
    fn numbers_out_of_range_are_errors() {
        // Regression: `--interval inf` aborted in Duration::from_secs_f64.
        let mut o = Opts {
            interface: String::new(),
            interval: Duration::from_secs(67),
            retry: Duration::from_secs(5),
            failures: 5,
            timeout: Duration::from_secs(1),
            svdir: PathBuf::new(),
        };
        let w = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        for bad in [
            "--interval inf",
            "--interval NaN",
            "--retry -1",
            "--timeout 1e30",
            "--failures 0",
            "--interval 0",
        ] {
            assert!(parse(&w(bad), &mut o).is_err(), "{bad}");
        }
        assert!(parse(&w("--interval 0.5 --failures 3"), &mut o).is_ok());
        assert_eq!((o.interval, o.failures), (Duration::from_millis(500), 3));
    }

    fn says(a: &[Action]) -> Vec<&str> {
        a.iter()
            .filter_map(|a| match a {
                Action::Say(m) => Some(m.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_core_pings_a_new_router_one_retry_later_and_then_every_interval() {
        let s = Duration::from_secs;
        let r = Ipv4Addr::new(10, 0, 2, 2);
        let mut p = Pinger::new("eth0", s(67), s(5), 5, s(1));
        assert!(says(&p.handle(s(0), Event::Lease(None)))[0].contains("waiting"));
        assert_eq!(p.deadline(), None, "no wake-ups without a lease");
        assert!(p.handle(s(1), Event::Lease(None)).is_empty(), "said once");
        p.handle(s(10), Event::Lease(Some(r)));
        assert_eq!(p.deadline(), Some(s(15)));
        assert!(
            p.handle(s(12), Event::Timer).is_empty(),
            "not before its time"
        );
        assert_eq!(
            p.handle(s(15), Event::Timer),
            vec![Action::Ping { router: r, seq: 1 }]
        );
        // a reply with another sequence number or from elsewhere is not it
        assert!(p.handle(s(15), Event::Reply { from: r, seq: 9 }).is_empty());
        assert!(p
            .handle(
                s(15),
                Event::Reply {
                    from: Ipv4Addr::new(1, 2, 3, 4),
                    seq: 1
                }
            )
            .is_empty());
        assert_eq!(
            says(&p.handle(s(15), Event::Reply { from: r, seq: 1 })),
            ["router 10.0.2.2 answers"]
        );
        assert_eq!(p.deadline(), Some(s(82)));
        assert_eq!(
            p.handle(s(82), Event::Timer),
            vec![Action::Ping { router: r, seq: 2 }]
        );
        assert!(
            says(&p.handle(s(82), Event::Reply { from: r, seq: 2 })).is_empty(),
            "said once per lease"
        );
    }

    #[test]
    fn the_core_restarts_dhcp_after_n_silent_pings() {
        let s = Duration::from_secs;
        let r = Ipv4Addr::new(10, 0, 2, 2);
        let mut p = Pinger::new("eth0", s(67), s(5), 3, s(1));
        p.handle(s(0), Event::Lease(Some(r)));
        let mut t = s(5);
        for n in 1..=3 {
            assert!(matches!(
                p.handle(t, Event::Timer)[..],
                [Action::Ping { .. }]
            ));
            let a = p.handle(t + s(1), Event::Timer);
            assert!(
                says(&a)[0].contains(&format!("does not answer ({n}/3)")),
                "{a:?}"
            );
            assert_eq!(a.contains(&Action::Restart), n == 3);
            t = p.deadline().unwrap();
        }
        assert_eq!(
            t,
            s(18 + 67),
            "pings at 5, 11, 17; the third silence restarts and waits an interval"
        );
        // a send error counts as no answer
        p.handle(t, Event::Timer);
        assert!(
            says(&p.handle(t, Event::SendFailed("Network unreachable".into())))[0]
                .contains("unreachable")
        );
    }

    #[test]
    fn a_new_router_mid_ping_starts_over_and_deadlines_never_overflow() {
        let s = Duration::from_secs;
        let (a, b) = (Ipv4Addr::new(10, 0, 2, 2), Ipv4Addr::new(10, 0, 3, 1));
        let mut p = Pinger::new("eth0", s(86_400), s(86_400), 5, s(86_400));
        p.handle(s(0), Event::Lease(Some(a)));
        p.handle(s(86_400), Event::Timer);
        p.handle(s(86_401), Event::Lease(Some(b)));
        assert!(p
            .handle(s(86_401), Event::Reply { from: a, seq: 1 })
            .is_empty());
        assert_eq!(p.deadline(), Some(s(86_401 + 86_400)));
        let mut q = Pinger::new("eth0", Duration::MAX, Duration::MAX, 1, Duration::MAX);
        q.handle(Duration::MAX, Event::Lease(Some(a)));
        assert_eq!(q.deadline(), Some(Duration::MAX));
        assert!(echo_reply_seq(&[], true).is_none() && echo_reply_seq(&[0xff], true).is_none());
        assert_eq!(echo_reply_seq(&[0, 0, 0, 0, 0, 1, 0, 7], false), Some(7));
    }

    #[test]
    fn router_from_the_lease_environment() {
        assert_eq!(
            router_from_env("ip='10.0.2.15'\nrouter='10.0.2.2 10.0.2.1'\n"),
            Some(Ipv4Addr::new(10, 0, 2, 2))
        );
        assert_eq!(router_from_env("ip='10.0.2.15'\n"), None);
        assert_eq!(router_from_env("router='x'\n"), None);
    }
}
