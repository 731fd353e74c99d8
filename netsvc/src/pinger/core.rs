//! The pinger's core, sans I/O: `Watchdog` judges ping results, `Pinger`
//! is the `(now, event) -> actions` machine on virtual time (which router,
//! when to ping, what an answer or its absence means), and the parsers of
//! what it reads (the lease's router, ICMP echo replies) and the echo it
//! sends.

use std::net::Ipv4Addr;
use std::time::Duration;

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

/// An ICMP echo request from `id` with `seq`, its checksum set.
pub fn echo_request(id: u16, seq: u16) -> Vec<u8> {
    let mut pkt = vec![8u8, 0, 0, 0];
    pkt.extend_from_slice(&id.to_be_bytes());
    pkt.extend_from_slice(&seq.to_be_bytes());
    pkt.extend_from_slice(b"ferrite pinger");
    let c = checksum(&pkt);
    pkt[2..4].copy_from_slice(&c.to_be_bytes());
    pkt
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

#[cfg(test)]
mod tests {
    use super::*;

    fn says(a: &[Action]) -> Vec<&str> {
        a.iter()
            .filter_map(|a| match a {
                Action::Say(m) => Some(m.as_str()),
                _ => None,
            })
            .collect()
    }

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
    fn an_echo_request_checks_out_and_its_reply_parses() {
        let p = echo_request(0x1234, 7);
        assert_eq!(&p[..2], &[8, 0], "echo request, code 0");
        assert_eq!(checksum(&p), 0, "the checksum covers the whole message");
        assert_eq!(&p[4..8], &[0x12, 0x34, 0, 7]);
        // the reply the kernel hands a ping socket: type 0, same id and seq
        let mut r = p.clone();
        r[0] = 0;
        assert_eq!(echo_reply_seq(&r, false), Some(7));
        assert_eq!(echo_reply_seq(&p, false), None, "a request is not a reply");
        // a raw socket's copy has the IP header first (IHL 5)
        let mut raw = vec![0x45; 1];
        raw.extend_from_slice(&[0; 19]);
        raw.extend_from_slice(&r);
        assert_eq!(echo_reply_seq(&raw, true), Some(7));
        assert_eq!(checksum(&[0xff]), 0x00ff, "an odd byte is padded");
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
