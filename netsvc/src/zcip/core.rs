//! The RFC 3927 (IPv4 link-local) machine with RFC 5227 conflict detection,
//! sans I/O: `Zcip` is told the time and the ARP frames seen and answers
//! with the probes, announcements and handler events to do.

use std::net::Ipv4Addr;
use std::time::Duration;

// RFC 3927 §9 constants.
pub const PROBE_WAIT: Duration = Duration::from_secs(1);
pub const PROBE_NUM: u32 = 3;
pub const PROBE_MIN: Duration = Duration::from_secs(1);
pub const PROBE_MAX: Duration = Duration::from_secs(2);
pub const ANNOUNCE_WAIT: Duration = Duration::from_secs(2);
pub const ANNOUNCE_NUM: u32 = 2;
pub const ANNOUNCE_INTERVAL: Duration = Duration::from_secs(2);
pub const MAX_CONFLICTS: u32 = 10;
pub const RATE_LIMIT_INTERVAL: Duration = Duration::from_secs(60);
pub const DEFEND_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Probing { sent: u32 },
    Announcing { sent: u32 },
    Bound,
}

/// An ARP packet seen on the link (`crate::arp`).
pub use crate::arp::Arp;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// ARP probe for the address (sender IP 0).
    Probe(Ipv4Addr),
    /// ARP announcement (sender and target IP the address).
    Announce(Ipv4Addr),
    /// Handler `config`: use the address (/16).
    Config(Ipv4Addr),
    /// Handler `deconfig`: stop using it.
    Deconfig,
}

pub struct Zcip {
    mac: [u8; 6],
    rng: u64,
    pub ip: Ipv4Addr,
    state: State,
    timer: Duration,
    conflicts: u32,
    last_defend: Option<Duration>,
}

/// Is `ip` a usable link-local address (169.254.1.0 – 169.254.254.255)?
pub fn usable(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    o[0] == 169 && o[1] == 254 && (1..=254).contains(&o[2])
}

impl Zcip {
    /// Start with `requested` (`-r`) when usable, else an address chosen
    /// from the MAC, so a host gets the same address on every boot.
    pub fn new(now: Duration, mac: [u8; 6], requested: Option<Ipv4Addr>) -> (Zcip, Vec<Action>) {
        let mut seed = 0xcbf2_9ce4_8422_2325u64;
        for b in mac {
            seed = (seed ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        let mut z = Zcip {
            mac,
            rng: seed | 1,
            ip: Ipv4Addr::UNSPECIFIED,
            state: State::Probing { sent: 0 },
            timer: now,
            conflicts: 0,
            last_defend: None,
        };
        z.ip = requested.filter(|r| usable(*r)).unwrap_or_else(|| z.pick());
        // PROBE_WAIT: a random delay before the first probe
        z.timer = now + z.jitter(PROBE_WAIT);
        (z, Vec::new())
    }

    fn random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn jitter(&mut self, max: Duration) -> Duration {
        Duration::from_millis(self.random() % (max.as_millis() as u64 + 1))
    }

    fn pick(&mut self) -> Ipv4Addr {
        // 169.254.1.0 .. 169.254.254.255: 254 * 256 addresses
        let n = (self.random() % (254 * 256)) as u32 + 256;
        Ipv4Addr::new(169, 254, (n >> 8) as u8, n as u8)
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn deadline(&self) -> Option<Duration> {
        (self.state != State::Bound).then_some(self.timer)
    }

    pub fn tick(&mut self, now: Duration) -> Vec<Action> {
        if self.state == State::Bound || now < self.timer {
            return Vec::new();
        }
        match self.state {
            State::Probing { sent } if sent < PROBE_NUM => {
                self.state = State::Probing { sent: sent + 1 };
                self.timer = if sent + 1 < PROBE_NUM {
                    now + PROBE_MIN + self.jitter(PROBE_MAX - PROBE_MIN)
                } else {
                    now + ANNOUNCE_WAIT
                };
                vec![Action::Probe(self.ip)]
            }
            State::Probing { .. } => {
                // no conflict during probing: claim it
                self.state = State::Announcing { sent: 1 };
                self.timer = now + ANNOUNCE_INTERVAL;
                self.conflicts = 0;
                vec![Action::Config(self.ip), Action::Announce(self.ip)]
            }
            State::Announcing { sent } if sent < ANNOUNCE_NUM => {
                self.state = State::Announcing { sent: sent + 1 };
                self.timer = now + ANNOUNCE_INTERVAL;
                vec![Action::Announce(self.ip)]
            }
            _ => {
                self.state = State::Bound;
                Vec::new()
            }
        }
    }

    /// An ARP packet from the link.
    pub fn arp(&mut self, now: Duration, p: Arp) -> Vec<Action> {
        if p.sender_mac == self.mac {
            return Vec::new();
        }
        match self.state {
            State::Probing { .. } => {
                // someone uses it, or probes for it at the same time
                let probe_for_it = p.sender_ip.is_unspecified() && p.target_ip == self.ip;
                if p.sender_ip == self.ip || probe_for_it {
                    return self.conflict(now, false);
                }
                Vec::new()
            }
            _ if p.sender_ip == self.ip => {
                // defend once per DEFEND_INTERVAL, else give the address up
                match self.last_defend {
                    Some(t) if now < t + DEFEND_INTERVAL => self.conflict(now, true),
                    _ => {
                        self.last_defend = Some(now);
                        vec![Action::Announce(self.ip)]
                    }
                }
            }
            _ => Vec::new(),
        }
    }

    fn conflict(&mut self, now: Duration, was_configured: bool) -> Vec<Action> {
        self.conflicts += 1;
        self.ip = self.pick();
        self.state = State::Probing { sent: 0 };
        self.last_defend = None;
        let wait = if self.conflicts >= MAX_CONFLICTS {
            RATE_LIMIT_INTERVAL
        } else {
            self.jitter(PROBE_WAIT)
        };
        self.timer = now + wait;
        if was_configured {
            vec![Action::Deconfig]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [2, 0, 0, 0, 0, 7];
    const OTHER: [u8; 6] = [2, 0, 0, 0, 0, 9];

    fn run_until(
        z: &mut Zcip,
        mut now: Duration,
        until: Duration,
    ) -> (Vec<(Duration, Action)>, Duration) {
        let mut out = Vec::new();
        while let Some(d) = z.deadline() {
            if d > until {
                break;
            }
            now = d;
            for a in z.tick(now) {
                out.push((now, a));
            }
        }
        (out, now)
    }

    /// When the actions `which` picks came.
    fn times_of(ev: &[(Duration, Action)], which: impl Fn(&Action) -> bool) -> Vec<Duration> {
        ev.iter()
            .filter(|(_, a)| which(a))
            .map(|(t, _)| *t)
            .collect()
    }

    #[test]
    fn probe_announce_and_bind_with_rfc_timing() {
        let (mut z, _) = Zcip::new(Duration::ZERO, MAC, None);
        assert!(usable(z.ip));
        let (ev, _) = run_until(&mut z, Duration::ZERO, Duration::from_secs(30));
        let probes = times_of(&ev, |a| matches!(a, Action::Probe(_)));
        assert_eq!(probes.len(), 3);
        assert!(probes[0] <= PROBE_WAIT);
        for w in probes.windows(2) {
            assert!(
                w[1] - w[0] >= PROBE_MIN && w[1] - w[0] <= PROBE_MAX,
                "{probes:?}"
            );
        }
        let config = ev
            .iter()
            .position(|(_, a)| matches!(a, Action::Config(_)))
            .unwrap();
        assert_eq!(ev[config].0 - probes[2], ANNOUNCE_WAIT);
        let announces = times_of(&ev, |a| matches!(a, Action::Announce(_)));
        assert_eq!(announces.len(), 2);
        assert_eq!(announces[1] - announces[0], ANNOUNCE_INTERVAL);
        assert_eq!(z.state(), State::Bound);
        // the same MAC picks the same address again
        let (z2, _) = Zcip::new(Duration::ZERO, MAC, None);
        assert_eq!(z2.ip, z.ip);
    }

    #[test]
    fn conflict_while_probing_picks_another_address() {
        let (mut z, _) = Zcip::new(Duration::ZERO, MAC, Some(Ipv4Addr::new(169, 254, 7, 7)));
        assert_eq!(z.ip, Ipv4Addr::new(169, 254, 7, 7));
        let t = z.deadline().unwrap();
        z.tick(t);
        // another host probes for the same address at the same time
        let a = z.arp(
            t + Duration::from_millis(10),
            Arp {
                op: crate::arp::REQUEST,
                sender_mac: OTHER,
                sender_ip: Ipv4Addr::UNSPECIFIED,
                target_ip: Ipv4Addr::new(169, 254, 7, 7),
            },
        );
        assert!(a.is_empty());
        assert_ne!(z.ip, Ipv4Addr::new(169, 254, 7, 7));
        assert_eq!(z.state(), State::Probing { sent: 0 });
        // our own packets are not conflicts
        let ip = z.ip;
        assert!(z
            .arp(
                t,
                Arp {
                    op: crate::arp::REQUEST,
                    sender_mac: MAC,
                    sender_ip: ip,
                    target_ip: ip
                }
            )
            .is_empty());
        assert_eq!(z.ip, ip);
    }

    #[test]
    fn bound_address_is_defended_once_then_given_up() {
        let (mut z, _) = Zcip::new(Duration::ZERO, MAC, None);
        let (_, now) = run_until(&mut z, Duration::ZERO, Duration::from_secs(30));
        let ip = z.ip;
        let claim = Arp {
            op: crate::arp::REQUEST,
            sender_mac: OTHER,
            sender_ip: ip,
            target_ip: ip,
        };
        assert_eq!(
            z.arp(now + Duration::from_secs(1), claim),
            [Action::Announce(ip)]
        );
        // a second claim within DEFEND_INTERVAL: move away
        assert_eq!(
            z.arp(now + Duration::from_secs(5), claim),
            [Action::Deconfig]
        );
        assert_ne!(z.ip, ip);
        assert!(matches!(z.state(), State::Probing { .. }));
    }

    #[test]
    fn many_conflicts_are_rate_limited() {
        let (mut z, _) = Zcip::new(Duration::ZERO, MAC, None);
        let mut now = Duration::ZERO;
        for _ in 0..MAX_CONFLICTS {
            let ip = z.ip;
            now += Duration::from_millis(100);
            z.arp(
                now,
                Arp {
                    op: crate::arp::REQUEST,
                    sender_mac: OTHER,
                    sender_ip: ip,
                    target_ip: ip,
                },
            );
        }
        assert_eq!(z.deadline(), Some(now + RATE_LIMIT_INTERVAL));
        assert!(!usable(Ipv4Addr::new(169, 254, 0, 5)) && !usable(Ipv4Addr::new(169, 254, 255, 1)));
    }
}
