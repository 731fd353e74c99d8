//! The DHCPv4 client state machine (RFC 2131 §4.4), sans I/O: it is driven
//! by `(now, event)` and returns actions; time is a monotonic `Duration`
//! given by the caller, so tests run it on virtual time.
//!
//! A lease in force is kept until it expires or a server NAKs it (RFC 2131
//! §3.2: a client that hears neither ACK nor NAK "MAY choose to use the
//! previously allocated network address ... for the remainder of the
//! unexpired lease"). Silence after a replug, a server that is down, and a
//! carrier that is away while T1 or T2 pass never cost the address: the
//! client goes on asking, and hands over only once a new lease is bound.

mod check;
mod config;
mod reboot;

use super::lease::Lease;
use super::msg::{opt, Message, MsgType, BOOTREPLY};
use crate::arp::Arp;
use check::Probe;
pub use config::Config;
use std::net::Ipv4Addr;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Not started, or waiting for the link.
    Init,
    /// DISCOVER sent; with a lease still in force (after INIT-REBOOT went
    /// unanswered) it goes on with back-off until that lease expires.
    Selecting,
    Requesting,
    /// ARP probe of the acknowledged address (`-a`), with a deadline.
    Checking,
    Bound,
    Renewing,
    Rebinding,
    /// INIT-REBOOT: verifying a lease (the one in force after a replug, or
    /// a remembered one after a restart); DISCOVERs go out alongside.
    Rebooting,
    /// After a failed round, until the pause ends.
    Paused,
    /// After RELEASE, until told to renew.
    Released,
}

/// One event at a time, never stored: the size of `Start` does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Event<'a> {
    Start {
        link_up: bool,
        remembered: Option<(Lease, Duration)>,
    },
    Packet(&'a Message),
    Timer,
    LinkUp,
    LinkDown,
    /// SIGUSR1
    RenewNow,
    /// SIGUSR2
    Release,
    /// An ARP frame seen on the link (only looked at while `Checking`).
    Arp(Arp),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dest {
    Broadcast,
    Unicast(Ipv4Addr),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Send(Message, Dest),
    /// udhcpc events: the script's argument.
    Deconfig,
    Bound(Lease),
    Renew(Lease),
    Nak,
    LeaseFail,
    /// Broadcast an RFC 5227 ARP probe (sender 0.0.0.0) for this address
    /// and report the ARP frames seen as `Event::Arp`.
    SendArpProbe(Ipv4Addr),
    /// Another host has the address being probed; a DECLINE follows.
    Conflict(Ipv4Addr, [u8; 6]),
    /// Remember the lease (for INIT-REBOOT after a restart): the lease and
    /// when it was obtained.
    Remember(Lease),
    Forget,
    /// The carrier is back under a lease: have the kernel forget the
    /// link's neighbours it could not resolve with the cable out (ARP
    /// retries only every second otherwise, the traffic queued behind).
    ForgetNeighbours,
}

/// A lease and when it was obtained.
#[derive(Clone, Debug)]
struct Held {
    lease: Lease,
    at: Duration,
}

impl Held {
    fn after(&self, secs: u32) -> Duration {
        self.at.saturating_add(Duration::from_secs(secs as u64))
    }
    fn t1(&self) -> Duration {
        self.after(self.lease.t1)
    }
    fn t2(&self) -> Duration {
        self.after(self.lease.t2)
    }
    fn expiry(&self) -> Duration {
        self.after(self.lease.lease)
    }
}

pub struct Client {
    cfg: Config,
    state: State,
    xid: u32,
    rng: u64,
    link_up: bool,
    /// When the current exchange started (for `secs`).
    started: Duration,
    /// Tries of the current exchange (DISCOVERs, or REQUESTs of an offer).
    tries: u32,
    /// The state's own deadline: retransmission, T1, end of a pause.
    timer: Option<Duration>,
    /// INIT-REBOOT: the next DISCOVER sent alongside the REQUESTs.
    discover_at: Option<Duration>,
    /// INIT-REBOOT: when it began, and REQUESTs sent.
    reboot_since: Duration,
    reboot_tries: u32,
    offer: Option<Lease>,
    /// The lease in force: its address is configured.
    held: Option<Held>,
    /// A remembered lease being verified by INIT-REBOOT (not configured).
    candidate: Option<Held>,
    probe: Option<Probe>,
}

/// RFC 2131 §4.1: retransmissions at most 64 s apart.
const MAX_TIMEOUT: Duration = Duration::from_secs(64);
/// RFC 2131 §4.4.5: renew/rebind retransmissions no more often than this.
const MIN_RENEW_RETRY: Duration = Duration::from_secs(60);
/// A remembered lease with less left than this is not worth verifying.
const MIN_REMEMBERED: Duration = Duration::from_secs(10);

impl Client {
    pub fn new(cfg: Config) -> Client {
        let rng = cfg.seed | 1;
        Client {
            cfg,
            state: State::Init,
            xid: 0,
            rng,
            link_up: false,
            started: Duration::ZERO,
            tries: 0,
            timer: None,
            discover_at: None,
            reboot_since: Duration::ZERO,
            reboot_tries: 0,
            offer: None,
            held: None,
            candidate: None,
            probe: None,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// The lease in force (its address configured), if any.
    pub fn lease(&self) -> Option<&Lease> {
        self.held.as_ref().map(|h| &h.lease)
    }

    pub fn xid(&self) -> u32 {
        self.xid
    }

    /// When `Event::Timer` is due: the nearest of the state's deadline, the
    /// next DISCOVER of INIT-REBOOT and the expiry of the lease in force
    /// (which holds even while the carrier is away).
    pub fn deadline(&self) -> Option<Duration> {
        [
            self.timer,
            self.discover_at,
            self.held.as_ref().map(Held::expiry),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn random(&mut self) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// `base` doubled `tries` times (at most 64 s), ± one eighth of jitter.
    fn backoff(&mut self, base: Duration, tries: u32) -> Duration {
        let d = base
            .saturating_mul(2u32.saturating_pow(tries.min(8)))
            .min(MAX_TIMEOUT);
        let ms = d.as_millis().min(u64::MAX as u128) as u64;
        let eighth = ms / 8;
        let jitter = if eighth == 0 {
            0
        } else {
            self.random() % (2 * eighth + 1)
        };
        Duration::from_millis(ms - eighth + jitter)
    }

    fn new_xid(&mut self, now: Duration) {
        self.xid = self.random() as u32;
        self.started = now;
        self.tries = 0;
    }

    fn known_ip(&self) -> Option<Ipv4Addr> {
        self.held
            .as_ref()
            .or(self.candidate.as_ref())
            .map(|h| h.lease.ip)
    }

    fn holds(&self, ip: Ipv4Addr) -> bool {
        self.held.as_ref().is_some_and(|h| h.lease.ip == ip)
    }

    fn discover(&mut self, now: Duration) -> Vec<Action> {
        self.state = State::Selecting;
        self.offer = None;
        if !self.link_up {
            self.timer = None;
            return Vec::new();
        }
        let m = self.discover_message(now);
        let wait = self.backoff(self.cfg.initial_timeout, self.tries);
        self.broadcast_try(now, m, wait)
    }

    fn request_offer(&mut self, now: Duration) -> Vec<Action> {
        let Some(offer) = self.offer.clone() else {
            return self.start_over(now);
        };
        self.state = State::Requesting;
        let mut m = self.base_message(now, MsgType::Request);
        m.set(opt::REQUESTED_IP, offer.ip.octets().to_vec());
        m.set(opt::SERVER_ID, offer.server.octets().to_vec());
        let wait = self.backoff(self.cfg.initial_timeout, self.tries);
        self.broadcast_try(now, m, wait)
    }

    /// Broadcast one try of an exchange and wait `wait` for its answer.
    fn broadcast_try(&mut self, now: Duration, m: Message, wait: Duration) -> Vec<Action> {
        self.timer = Some(now.saturating_add(wait));
        self.tries = self.tries.saturating_add(1);
        vec![Action::Send(m, Dest::Broadcast)]
    }

    /// RENEWING (unicast to the server) or REBINDING (broadcast) request.
    fn renew_request(&mut self, now: Duration) -> Vec<Action> {
        let Some(h) = self.held.clone() else {
            return self.start_over(now);
        };
        let mut m = self.base_message(now, MsgType::Request);
        m.ciaddr = h.lease.ip;
        let (dest, until) = if self.state == State::Renewing {
            (Dest::Unicast(h.lease.server), h.t2())
        } else {
            (Dest::Broadcast, h.expiry())
        };
        let half = until.saturating_sub(now) / 2;
        self.timer = Some(now.saturating_add(half.max(MIN_RENEW_RETRY)).min(until));
        vec![Action::Send(m, dest)]
    }

    /// Back to INIT with a fresh transaction; a lease in force stays.
    fn start_over(&mut self, now: Duration) -> Vec<Action> {
        self.new_xid(now);
        self.candidate = None;
        self.probe = None;
        self.discover_at = None;
        self.discover(now)
    }

    /// A round failed: pause. `leasefail` only when there is no lease in
    /// force (the script is told of a lease it has not got, never of one
    /// it still has).
    fn fail_round(&mut self, now: Duration) -> Vec<Action> {
        self.state = State::Paused;
        self.timer = Some(now.saturating_add(self.cfg.failure_pause));
        if self.held.is_some() {
            Vec::new()
        } else {
            vec![Action::LeaseFail]
        }
    }

    /// The lease is gone (NAK or expiry): tell the script, forget it, start
    /// over.
    fn lose_lease(&mut self, now: Duration, nak: bool) -> Vec<Action> {
        let mut a = Vec::new();
        if nak {
            a.push(Action::Nak);
        }
        if self.held.take().is_some() {
            a.push(Action::Deconfig);
            a.push(Action::Forget);
        } else if self.candidate.is_some() {
            a.push(Action::Forget);
        }
        a.extend(self.start_over(now));
        a
    }

    /// A new lease is in force. The same address as the lease it replaces
    /// is a `renew` (as BusyBox reports an ACK while renewing or
    /// rebinding); another address, or none before, is `bound`, whose
    /// handler replaces the old address (no `deconfig` first: the box is
    /// never left without an address, and fw runs once, not twice).
    fn bind(&mut self, now: Duration, acked: Duration, lease: Lease) -> Vec<Action> {
        let renewal = self.holds(lease.ip);
        let held = Held {
            lease: lease.clone(),
            at: acked,
        };
        self.timer = self.link_up.then(|| held.t1());
        self.held = Some(held);
        self.candidate = None;
        self.probe = None;
        self.offer = None;
        self.discover_at = None;
        self.state = State::Bound;
        self.tries = 0;
        let ev = if renewal {
            Action::Renew(lease.clone())
        } else {
            Action::Bound(lease.clone())
        };
        // remembered as obtained now: what is left of it (the check took a while)
        let mut left = lease;
        let spent = now.saturating_sub(acked).as_secs_f64().ceil() as u32;
        left.lease = left.lease.saturating_sub(spent);
        vec![ev, Action::Remember(left)]
    }

    pub fn handle(&mut self, now: Duration, ev: Event) -> Vec<Action> {
        match ev {
            Event::Start {
                link_up,
                remembered,
            } => {
                self.link_up = link_up;
                let mut a = vec![Action::Deconfig];
                self.new_xid(now);
                match remembered {
                    // still valid: verify it (INIT-REBOOT), once the link is up
                    Some((lease, left)) if left > MIN_REMEMBERED => {
                        let mut l = lease;
                        l.lease = left.as_secs().min(u32::MAX as u64) as u32;
                        (l.t1, l.t2) = (l.lease / 2, (l.lease as u64 * 7 / 8) as u32);
                        self.candidate = Some(Held { lease: l, at: now });
                        self.state = State::Rebooting;
                        if link_up {
                            a.extend(self.begin_reboot(now));
                        }
                    }
                    _ => a.extend(self.discover(now)),
                }
                a
            }
            Event::LinkDown => {
                self.link_up = false;
                // Nothing is sent into a dead link: no retransmissions, no
                // renewals at T1/T2 (they wait for the carrier); the lease's
                // expiry stays a deadline. A pause runs on.
                if self.state != State::Paused {
                    self.timer = None;
                }
                self.discover_at = None;
                if self.state == State::Checking {
                    self.probe = None;
                    self.state = State::Init;
                }
                Vec::new()
            }
            Event::LinkUp => {
                if self.link_up {
                    return Vec::new();
                }
                self.link_up = true;
                let mut a = match self.state {
                    State::Released => Vec::new(),
                    // verify the lease at once: the cable may be on another network
                    _ if self.held.is_some() || self.candidate.is_some() => self.begin_reboot(now),
                    _ => self.start_over(now),
                };
                if self.held.is_some() {
                    a.push(Action::ForgetNeighbours);
                }
                a
            }
            Event::RenewNow => match self.state {
                State::Bound | State::Renewing | State::Rebinding if self.link_up => {
                    self.new_xid(now);
                    self.state = State::Renewing;
                    self.renew_request(now)
                }
                State::Released | State::Paused | State::Init => self.start_over(now),
                // not bound yet, a lease still in force: ask again at once
                State::Rebooting | State::Selecting | State::Requesting
                    if self.link_up && (self.held.is_some() || self.candidate.is_some()) =>
                {
                    self.begin_reboot(now)
                }
                _ => Vec::new(),
            },
            Event::Release => {
                let mut a = Vec::new();
                if let Some(h) = self.held.take() {
                    if self.link_up {
                        let mut m = self.base_message(now, MsgType::Release);
                        m.ciaddr = h.lease.ip;
                        m.set(opt::SERVER_ID, h.lease.server.octets().to_vec());
                        a.push(Action::Send(m, Dest::Unicast(h.lease.server)));
                    }
                    a.push(Action::Deconfig);
                    a.push(Action::Forget);
                }
                self.state = State::Released;
                self.timer = None;
                self.discover_at = None;
                self.candidate = None;
                self.probe = None;
                self.offer = None;
                a
            }
            Event::Arp(p) => self.arp(now, p),
            Event::Timer => self.timer_fired(now),
            Event::Packet(m) => self.packet(now, m),
        }
    }

    fn timer_fired(&mut self, now: Duration) -> Vec<Action> {
        // The lease in force ends at its expiry, whatever else goes on,
        // carrier or not.
        if self.held.as_ref().is_some_and(|h| now >= h.expiry()) {
            return self.lose_lease(now, false);
        }
        let due = |t: Option<Duration>| t.is_some_and(|t| now >= t);
        let (timer_due, discover_due) = (due(self.timer), due(self.discover_at));
        if !timer_due && !discover_due {
            return Vec::new();
        }
        if !self.link_up && self.state != State::Paused {
            self.timer = None;
            self.discover_at = None;
            return Vec::new();
        }
        let mut a = Vec::new();
        if discover_due {
            self.discover_at = None;
            if self.state == State::Rebooting {
                a.extend(self.reboot_discover(now));
            }
        }
        if !timer_due {
            return a;
        }
        self.timer = None;
        a.extend(match self.state {
            // with a lease in force, DISCOVERs go on (back-off up to 64 s)
            // until it expires
            State::Selecting if self.held.is_some() || self.tries < self.cfg.tries => {
                self.discover(now)
            }
            State::Requesting if self.tries < self.cfg.tries => self.request_offer(now),
            State::Selecting | State::Requesting => self.fail_round(now),
            State::Rebooting => self.reboot_timer(now),
            State::Paused | State::Init => self.start_over(now),
            State::Checking => self.probe_timer(now),
            State::Bound => {
                self.state = State::Renewing;
                self.new_xid(now);
                self.renew_request(now)
            }
            State::Renewing | State::Rebinding => match self.held.clone() {
                None => self.start_over(now),
                Some(h) => {
                    if self.state == State::Renewing && now >= h.t2() {
                        self.state = State::Rebinding;
                        self.new_xid(now);
                    }
                    self.renew_request(now)
                }
            },
            State::Released => Vec::new(),
        });
        a
    }

    fn packet(&mut self, now: Duration, m: &Message) -> Vec<Action> {
        if m.op != BOOTREPLY || m.xid != self.xid || m.mac() != self.cfg.mac {
            return Vec::new();
        }
        let Some(t) = m.msg_type() else {
            return Vec::new();
        };
        match (self.state, t) {
            // an OFFER answers the DISCOVERs of INIT-REBOOT too
            (State::Selecting | State::Rebooting, MsgType::Offer) => {
                match super::lease::Lease::from_message(m) {
                    Some(l) => {
                        self.offer = Some(l);
                        self.discover_at = None;
                        self.candidate = None;
                        self.tries = 0;
                        self.request_offer(now)
                    }
                    None => Vec::new(),
                }
            }
            (
                State::Requesting | State::Rebooting | State::Renewing | State::Rebinding,
                MsgType::Ack,
            ) => {
                let Some(l) = super::lease::Lease::from_message(m) else {
                    return Vec::new();
                };
                // BusyBox probes a new address, not the one it renews
                if self.state == State::Requesting && self.cfg.arp_check && !self.holds(l.ip) {
                    return self.begin_probe(now, l);
                }
                self.bind(now, now, l)
            }
            (
                State::Requesting | State::Rebooting | State::Renewing | State::Rebinding,
                MsgType::Nak,
            ) => {
                // RFC 2131: a NAK must come from the server we talk to, when we know it
                if let (Some(h), Some(sid)) = (&self.held, m.get(opt::SERVER_ID)) {
                    if self.state == State::Renewing && sid != h.lease.server.octets() {
                        return Vec::new();
                    }
                }
                self.lose_lease(now, true)
            }
            // a late NAK to INIT-REBOOT (same xid), after its REQUESTs ended
            (State::Selecting, MsgType::Nak) if self.held.is_some() => self.lose_lease(now, true),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The new network's server offers NEW_IP at `offer` and acknowledges
    /// it at `ack`: what the client does on the ACK.
    fn offer_then_ack(c: &mut Client, offer: Duration, ack: Duration) -> Vec<Action> {
        c.handle(
            offer,
            Event::Packet(&reply_from(c, MsgType::Offer, NEW_IP, NEW_SERVER, 600)),
        );
        c.handle(
            ack,
            Event::Packet(&reply_from(c, MsgType::Ack, NEW_IP, NEW_SERVER, 600)),
        )
    }

    /// A client of seed `seed` started with no lease remembered, and what
    /// its start did.
    fn started(seed: u64, link_up: bool) -> (Client, Vec<Action>) {
        let mut c = Client::new(Config::new(MAC, seed));
        let a = c.handle(
            s(0.0),
            Event::Start {
                link_up,
                remembered: None,
            },
        );
        (c, a)
    }

    /// A client started with `l` remembered, `left` of it left, link up.
    fn remembering(l: &Lease, left: Duration) -> Client {
        let mut c = Client::new(Config::new(MAC, 9));
        c.handle(
            s(0.0),
            Event::Start {
                link_up: true,
                remembered: Some((l.clone(), left)),
            },
        );
        c
    }
    use crate::dhcp::msg::{opt, BOOTREQUEST};

    const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const OTHER_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];
    const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 50);
    const NEW_SERVER: Ipv4Addr = Ipv4Addr::new(10, 9, 0, 1);
    const NEW_IP: Ipv4Addr = Ipv4Addr::new(10, 9, 0, 77);

    fn s(x: f64) -> Duration {
        Duration::from_secs_f64(x)
    }

    fn reply_from(c: &Client, t: MsgType, ip: Ipv4Addr, server: Ipv4Addr, lease: u32) -> Message {
        let mut m = Message::new(BOOTREPLY, c.xid(), MAC);
        m.yiaddr = ip;
        m.set(opt::MSG_TYPE, vec![t as u8]);
        m.set(opt::SERVER_ID, server.octets().to_vec());
        m.set(opt::SUBNET_MASK, vec![255, 255, 255, 0]);
        m.set(opt::ROUTER, server.octets().to_vec());
        m.set(opt::LEASE_TIME, lease.to_be_bytes().to_vec());
        m
    }

    fn reply(c: &Client, t: MsgType, ip: Ipv4Addr, lease: u32) -> Message {
        reply_from(c, t, ip, SERVER, lease)
    }

    fn sent(a: &[Action]) -> Vec<(MsgType, Dest)> {
        a.iter()
            .filter_map(|x| match x {
                Action::Send(m, d) => Some((m.msg_type().unwrap(), *d)),
                _ => None,
            })
            .collect()
    }

    /// Fire every timer up to `until` (no answers), with what each gave.
    fn silence(c: &mut Client, until: Duration) -> Vec<(Duration, Action)> {
        let mut out = Vec::new();
        while let Some(d) = c.deadline().filter(|&d| d <= until) {
            for a in c.handle(d, Event::Timer) {
                out.push((d, a));
            }
        }
        out
    }

    fn sends_of(log: &[(Duration, Action)], t: MsgType) -> Vec<Duration> {
        log.iter()
            .filter_map(|(at, a)| match a {
                Action::Send(m, _) if m.msg_type() == Some(t) => Some(*at),
                _ => None,
            })
            .collect()
    }

    fn script_events(log: &[(Duration, Action)]) -> Vec<&Action> {
        log.iter()
            .map(|(_, a)| a)
            .filter(|a| !matches!(a, Action::Send(..)))
            .collect()
    }

    fn bound_client(lease: u32) -> Client {
        let mut c = Client::new(Config::new(MAC, 42));
        c.handle(
            s(0.0),
            Event::Start {
                link_up: true,
                remembered: None,
            },
        );
        c.handle(
            s(0.01),
            Event::Packet(&reply(&c, MsgType::Offer, IP, lease)),
        );
        let a = c.handle(s(0.02), Event::Packet(&reply(&c, MsgType::Ack, IP, lease)));
        assert!(matches!(a[0], Action::Bound(_)), "{a:?}");
        c
    }

    /// Bound for an hour, cable out at 10 s, back at 12 s.
    fn replugged() -> (Client, Vec<Action>) {
        let mut c = bound_client(3600);
        assert!(c.handle(s(10.0), Event::LinkDown).is_empty());
        let a = c.handle(s(12.0), Event::LinkUp);
        (c, a)
    }

    #[test]
    fn discover_offer_request_ack() {
        let (mut c, a) = started(1, true);
        assert_eq!(a[0], Action::Deconfig);
        assert_eq!(sent(&a), [(MsgType::Discover, Dest::Broadcast)]);
        let Action::Send(d, _) = &a[1] else { panic!() };
        assert_eq!(d.get(opt::CLIENT_ID), Some(&[1, 2, 0, 0, 0, 0, 1][..]));
        assert_eq!(d.get(opt::REQUESTED_IP), None, "no address to ask for");
        assert_eq!(d.flags, 0, "no broadcast flag unless asked (-B)");
        let mut cfg = Config::new(MAC, 1);
        cfg.broadcast_flag = true;
        let mut b = Client::new(cfg);
        let ab = b.handle(
            s(0.0),
            Event::Start {
                link_up: true,
                remembered: None,
            },
        );
        let Action::Send(db, _) = &ab[1] else {
            panic!()
        };
        assert_eq!(db.flags, 0x8000);
        assert!(d
            .get(opt::PARAM_LIST)
            .unwrap()
            .contains(&opt::CLASSLESS_ROUTES));
        let a = c.handle(s(0.01), Event::Packet(&reply(&c, MsgType::Offer, IP, 3600)));
        assert_eq!(sent(&a), [(MsgType::Request, Dest::Broadcast)]);
        let Action::Send(r, _) = &a[0] else { panic!() };
        assert_eq!(r.get(opt::REQUESTED_IP), Some(&IP.octets()[..]));
        assert_eq!(r.get(opt::SERVER_ID), Some(&SERVER.octets()[..]));
        assert_eq!(c.state(), State::Requesting);
        let a = c.handle(s(0.02), Event::Packet(&reply(&c, MsgType::Ack, IP, 3600)));
        assert!(matches!(&a[0], Action::Bound(l) if l.ip == IP));
        assert!(matches!(&a[1], Action::Remember(_)));
        assert_eq!(c.state(), State::Bound);
        assert_eq!(c.deadline(), Some(s(0.02) + s(1800.0)));
    }

    #[test]
    fn retransmission_backs_off_then_leasefail_and_retry() {
        let mut c = Client::new(Config::new(MAC, 7));
        c.handle(
            s(0.0),
            Event::Start {
                link_up: true,
                remembered: None,
            },
        );
        let mut now = s(0.0);
        let mut waits = Vec::new();
        for _ in 0..2 {
            let d = c.deadline().unwrap();
            waits.push((d - now).as_secs_f64());
            now = d;
            assert_eq!(
                sent(&c.handle(now, Event::Timer)),
                [(MsgType::Discover, Dest::Broadcast)]
            );
        }
        // 0.5 s then 1 s, each within one eighth
        assert!((0.4375..=0.5625).contains(&waits[0]), "{waits:?}");
        assert!((0.875..=1.125).contains(&waits[1]), "{waits:?}");
        now = c.deadline().unwrap();
        assert_eq!(c.handle(now, Event::Timer), [Action::LeaseFail]);
        assert_eq!(c.state(), State::Paused);
        assert_eq!(c.deadline(), Some(now + s(20.0)));
        // the timer before it is due does nothing
        assert!(c.handle(now + s(1.0), Event::Timer).is_empty());
        assert_eq!(
            sent(&c.handle(now + s(20.0), Event::Timer)),
            [(MsgType::Discover, Dest::Broadcast)]
        );
    }

    #[test]
    fn foreign_replies_are_ignored() {
        let mut c = Client::new(Config::new(MAC, 3));
        c.handle(
            s(0.0),
            Event::Start {
                link_up: true,
                remembered: None,
            },
        );
        let mut wrong_xid = reply(&c, MsgType::Offer, IP, 60);
        wrong_xid.xid ^= 1;
        let mut wrong_mac = reply(&c, MsgType::Offer, IP, 60);
        wrong_mac.chaddr[5] ^= 1;
        let mut request = reply(&c, MsgType::Offer, IP, 60);
        request.op = BOOTREQUEST;
        let ack = reply(&c, MsgType::Ack, IP, 60);
        let no_ip = reply(&c, MsgType::Offer, Ipv4Addr::UNSPECIFIED, 60);
        for m in [wrong_xid, wrong_mac, request, ack, no_ip] {
            assert!(c.handle(s(0.1), Event::Packet(&m)).is_empty());
            assert_eq!(c.state(), State::Selecting);
        }
    }

    #[test]
    fn renewing_rebinding_and_expiry() {
        let mut c = bound_client(100); // T1 50, T2 87.5 -> 87
        let t0 = s(0.02);
        let a = c.handle(t0 + s(50.0), Event::Timer);
        assert_eq!(sent(&a), [(MsgType::Request, Dest::Unicast(SERVER))]);
        let Action::Send(r, _) = &a[0] else { panic!() };
        assert_eq!(r.ciaddr, IP);
        assert_eq!(r.get(opt::SERVER_ID), None, "RENEWING sends no server id");
        assert_eq!(c.state(), State::Renewing);
        // no answer: the next try is at T2 at the latest
        assert_eq!(c.deadline(), Some(t0 + s(87.0)));
        let a = c.handle(t0 + s(87.0), Event::Timer);
        assert_eq!(sent(&a), [(MsgType::Request, Dest::Broadcast)]);
        assert_eq!(c.state(), State::Rebinding);
        assert_eq!(c.deadline(), Some(t0 + s(100.0)));
        let a = c.handle(t0 + s(100.0), Event::Timer);
        assert_eq!(a[0], Action::Deconfig);
        assert_eq!(a[1], Action::Forget);
        assert_eq!(sent(&a), [(MsgType::Discover, Dest::Broadcast)]);
        assert!(c.lease().is_none());
    }

    #[test]
    fn renewal_ack_is_a_renew_event() {
        let mut c = bound_client(100);
        c.handle(s(50.1), Event::Timer);
        let a = c.handle(s(50.2), Event::Packet(&reply(&c, MsgType::Ack, IP, 100)));
        assert!(matches!(&a[0], Action::Renew(l) if l.ip == IP));
        assert_eq!(c.state(), State::Bound);
        assert_eq!(c.deadline(), Some(s(100.2)));
    }

    #[test]
    fn nak_restarts_at_once() {
        let mut c = bound_client(100);
        c.handle(s(50.1), Event::Timer);
        let old = c.xid();
        let a = c.handle(
            s(50.2),
            Event::Packet(&reply(&c, MsgType::Nak, Ipv4Addr::UNSPECIFIED, 0)),
        );
        assert_eq!(&a[..3], [Action::Nak, Action::Deconfig, Action::Forget]);
        assert_eq!(sent(&a), [(MsgType::Discover, Dest::Broadcast)]);
        assert_ne!(c.xid(), old);
    }

    #[test]
    fn init_reboot_verifies_a_remembered_lease() {
        let l = bound_client(3600).lease().unwrap().clone();
        // acknowledged
        let mut c = Client::new(Config::new(MAC, 9));
        let a = c.handle(
            s(0.0),
            Event::Start {
                link_up: true,
                remembered: Some((l.clone(), s(3000.0))),
            },
        );
        assert_eq!(sent(&a), [(MsgType::Request, Dest::Broadcast)]);
        let Action::Send(r, _) = &a[1] else { panic!() };
        assert_eq!(r.get(opt::REQUESTED_IP), Some(&IP.octets()[..]));
        assert_eq!(r.get(opt::SERVER_ID), None);
        assert_eq!(r.ciaddr, Ipv4Addr::UNSPECIFIED);
        assert_eq!(c.state(), State::Rebooting);
        let a = c.handle(s(0.01), Event::Packet(&reply(&c, MsgType::Ack, IP, 3600)));
        // the remembered address was not configured (Start said deconfig)
        assert!(matches!(&a[0], Action::Bound(_)), "{a:?}");
        // no answer (another network): DISCOVERs from 1 s on, asking for
        // the remembered address; nothing to deconfigure, no leasefail
        // before the INIT-REBOOT REQUESTs end
        let mut c = remembering(&l, s(3000.0));
        let log = silence(&mut c, s(4.0));
        let d = sends_of(&log, MsgType::Discover);
        assert_eq!(d[0], s(1.0), "{log:?}");
        assert!(script_events(&log).is_empty(), "{log:?}");
        let Some((_, Action::Send(m, _))) = log.iter().find(
            |(_, a)| matches!(a, Action::Send(m, _) if m.msg_type() == Some(MsgType::Discover)),
        ) else {
            panic!()
        };
        assert_eq!(m.get(opt::REQUESTED_IP), Some(&IP.octets()[..]));
        // an OFFER of the new network then binds
        let a = c.handle(
            s(4.1),
            Event::Packet(&reply_from(&c, MsgType::Offer, NEW_IP, NEW_SERVER, 600)),
        );
        assert_eq!(sent(&a), [(MsgType::Request, Dest::Broadcast)]);
        let a = c.handle(
            s(4.2),
            Event::Packet(&reply_from(&c, MsgType::Ack, NEW_IP, NEW_SERVER, 600)),
        );
        assert!(matches!(&a[0], Action::Bound(l) if l.ip == NEW_IP), "{a:?}");
        // never answered at all: leasefail after the tries, as without a memory
        let mut c = remembering(&l, s(3000.0));
        let log = silence(&mut c, s(10.0));
        assert_eq!(script_events(&log), [&Action::LeaseFail], "{log:?}");
        // an expired memory is not used
        let mut c = Client::new(Config::new(MAC, 9));
        let a = c.handle(
            s(0.0),
            Event::Start {
                link_up: true,
                remembered: Some((l, s(5.0))),
            },
        );
        assert_eq!(sent(&a), [(MsgType::Discover, Dest::Broadcast)]);
    }

    #[test]
    fn a_replug_under_a_lease_has_the_unresolved_neighbours_forgotten() {
        // the INIT-REBOOT goes out, and the kernel is told to forget what
        // it could not resolve with the cable out (ARP's 1 s retry)
        let (mut c, a) = replugged();
        assert_eq!(a.last(), Some(&Action::ForgetNeighbours), "{a:?}");
        assert_eq!(sent(&a), [(MsgType::Request, Dest::Broadcast)]);
        // a second link-up while up, or one without a lease: nothing to forget
        assert!(c.handle(s(13.0), Event::LinkUp).is_empty());
        let (mut fresh, _) = started(1, false);
        let a = fresh.handle(s(1.0), Event::LinkUp);
        assert!(!a.contains(&Action::ForgetNeighbours), "{a:?}");
    }

    #[test]
    fn replug_into_silence_keeps_the_lease() {
        // Regression: 500 ms without an answer to INIT-REBOOT deconfigured
        // a lease with most of its hour left.
        let (mut c, a) = replugged();
        assert_eq!(sent(&a), [(MsgType::Request, Dest::Broadcast)]);
        assert_eq!(c.state(), State::Rebooting);
        let log = silence(&mut c, s(12.0 + 600.0));
        assert!(
            script_events(&log).is_empty(),
            "no deconfig, forget or leasefail while the lease holds: {log:?}"
        );
        assert_eq!(c.lease().map(|l| l.ip), Some(IP));
        // INIT-REBOOT REQUESTs with back-off for 4 s: 0.25, 0.5, 1, 2 s apart
        let r = sends_of(&log, MsgType::Request);
        assert!(r.len() == 4 && r.iter().all(|&t| t < s(16.0)), "{r:?}");
        for (i, w) in r.windows(2).enumerate() {
            let want = 0.5 * 2f64.powi(i as i32);
            let got = (w[1] - w[0]).as_secs_f64();
            assert!((got - want).abs() <= want / 8.0 + 1e-9, "{r:?}");
        }
        // DISCOVERs from 1 s after the replug, doubling, at most 64 s apart
        let d = sends_of(&log, MsgType::Discover);
        assert_eq!(d[0], s(13.0), "{d:?}");
        let gaps: Vec<f64> = d.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()).collect();
        assert!((0.4375..=0.5625).contains(&gaps[0]), "{gaps:?}");
        assert!(gaps.iter().all(|&g| g <= 72.0), "{gaps:?}");
        assert!(
            gaps.iter().rev().take(3).all(|&g| g >= 56.0),
            "capped: {gaps:?}"
        );
        assert!(d.len() < 20, "no storm: {}", d.len());
        // every one asks for the address in force
        for (_, a) in &log {
            if let Action::Send(m, _) = a {
                assert_eq!(m.get(opt::REQUESTED_IP), Some(&IP.octets()[..]));
                assert_eq!(m.ciaddr, Ipv4Addr::UNSPECIFIED);
            }
        }
        // the server comes back: its OFFER of the same address is a renew
        let t = s(620.0);
        let a = c.handle(t, Event::Packet(&reply(&c, MsgType::Offer, IP, 3600)));
        assert_eq!(sent(&a), [(MsgType::Request, Dest::Broadcast)]);
        let a = c.handle(t, Event::Packet(&reply(&c, MsgType::Ack, IP, 3600)));
        assert!(matches!(&a[0], Action::Renew(l) if l.ip == IP), "{a:?}");
        assert_eq!(c.state(), State::Bound);
        assert_eq!(c.deadline(), Some(t + s(1800.0)));
    }

    #[test]
    fn silence_until_expiry_deconfigures_at_expiry() {
        let mut c = bound_client(100); // expires at 100.02
        c.handle(s(10.0), Event::LinkDown);
        c.handle(s(12.0), Event::LinkUp);
        let log = silence(&mut c, s(99.0));
        assert!(script_events(&log).is_empty(), "{log:?}");
        assert!(c.deadline().unwrap() <= s(100.02));
        let log = silence(&mut c, s(100.02));
        assert_eq!(
            script_events(&log),
            [&Action::Deconfig, &Action::Forget],
            "{log:?}"
        );
        assert_eq!(log[0].0, s(100.02));
        assert!(c.lease().is_none());
        assert_eq!(c.state(), State::Selecting);
        // a fresh start: now leasefail after the tries
        let log = silence(&mut c, s(110.0));
        assert_eq!(script_events(&log), [&Action::LeaseFail], "{log:?}");
    }

    #[test]
    fn init_reboot_ack_of_the_same_address_is_a_renew() {
        let (mut c, _) = replugged();
        let a = c.handle(s(12.005), Event::Packet(&reply(&c, MsgType::Ack, IP, 3600)));
        assert!(matches!(&a[0], Action::Renew(l) if l.ip == IP), "{a:?}");
        assert!(!a.contains(&Action::Deconfig));
        assert_eq!(c.state(), State::Bound);
        assert_eq!(c.deadline(), Some(s(12.005) + s(1800.0)));
        // late: answered after two retransmissions
        let (mut c, _) = replugged();
        silence(&mut c, s(12.8));
        let a = c.handle(s(12.9), Event::Packet(&reply(&c, MsgType::Ack, IP, 3600)));
        assert!(matches!(&a[0], Action::Renew(_)), "{a:?}");
    }

    #[test]
    fn moved_cable_authoritative_nak_then_new_lease() {
        let (mut c, _) = replugged();
        // a NAK from the new network: deconfig and a new lease process at once
        let a = c.handle(
            s(12.01),
            Event::Packet(&reply_from(
                &c,
                MsgType::Nak,
                Ipv4Addr::UNSPECIFIED,
                NEW_SERVER,
                0,
            )),
        );
        assert_eq!(&a[..3], [Action::Nak, Action::Deconfig, Action::Forget]);
        assert_eq!(sent(&a), [(MsgType::Discover, Dest::Broadcast)]);
        let Action::Send(d, _) = &a[3] else { panic!() };
        assert_eq!(
            d.get(opt::REQUESTED_IP),
            None,
            "the NAKed address is not asked for"
        );
        assert!(c.lease().is_none());
        let a = offer_then_ack(&mut c, s(12.02), s(12.03));
        assert!(matches!(&a[0], Action::Bound(l) if l.ip == NEW_IP), "{a:?}");
        // a NAK after the REQUESTs ended (same exchange) counts too
        let (mut c, _) = replugged();
        silence(&mut c, s(16.5));
        assert_eq!(c.state(), State::Selecting);
        let a = c.handle(
            s(16.6),
            Event::Packet(&reply(&c, MsgType::Nak, Ipv4Addr::UNSPECIFIED, 0)),
        );
        assert_eq!(&a[..3], [Action::Nak, Action::Deconfig, Action::Forget]);
    }

    #[test]
    fn moved_cable_silent_server_offer_replaces_the_lease_without_deconfig() {
        // dnsmasq without --dhcp-authoritative ignores a REQUEST for an
        // address outside its range; its OFFER answers the DISCOVER that
        // goes out 1 s after the replug.
        let (mut c, _) = replugged();
        let log = silence(&mut c, s(13.0));
        assert_eq!(sends_of(&log, MsgType::Discover), [s(13.0)]);
        let a = c.handle(
            s(13.01),
            Event::Packet(&reply_from(&c, MsgType::Offer, NEW_IP, NEW_SERVER, 600)),
        );
        assert_eq!(sent(&a), [(MsgType::Request, Dest::Broadcast)]);
        let Action::Send(r, _) = &a[0] else { panic!() };
        assert_eq!(r.get(opt::SERVER_ID), Some(&NEW_SERVER.octets()[..]));
        assert_eq!(r.get(opt::REQUESTED_IP), Some(&NEW_IP.octets()[..]));
        assert_eq!(c.state(), State::Requesting);
        assert_eq!(
            c.lease().map(|l| l.ip),
            Some(IP),
            "kept until the new one is bound"
        );
        // the INIT-REBOOT REQUESTs stop
        let log = silence(&mut c, s(13.3));
        assert!(sends_of(&log, MsgType::Request).len() <= 1, "{log:?}");
        let a = c.handle(
            s(13.3),
            Event::Packet(&reply_from(&c, MsgType::Ack, NEW_IP, NEW_SERVER, 600)),
        );
        assert_eq!(
            a,
            [
                Action::Bound(c.lease().unwrap().clone()),
                Action::Remember(c.lease().unwrap().clone())
            ]
        );
        assert_eq!(c.lease().map(|l| l.ip), Some(NEW_IP));
        // an OFFER within the first second is taken too
        let (mut c, _) = replugged();
        silence(&mut c, s(12.3));
        let a = c.handle(
            s(12.4),
            Event::Packet(&reply_from(&c, MsgType::Offer, NEW_IP, NEW_SERVER, 600)),
        );
        assert_eq!(sent(&a), [(MsgType::Request, Dest::Broadcast)]);
        // the new network's server never ACKs: the old lease stays, no leasefail
        let log = silence(&mut c, s(60.0));
        assert!(script_events(&log).is_empty(), "{log:?}");
        assert_eq!(c.lease().map(|l| l.ip), Some(IP));
    }

    #[test]
    fn renewals_wait_for_the_carrier() {
        let mut c = bound_client(100); // T1 50.02, T2 87.02, expiry 100.02
        assert!(c.handle(s(40.0), Event::LinkDown).is_empty());
        assert_eq!(c.deadline(), Some(s(100.02)), "only the expiry is left");
        // T1 and T2 pass with the cable out: nothing is sent
        assert!(c.handle(s(50.02), Event::Timer).is_empty());
        assert!(c.handle(s(87.02), Event::Timer).is_empty());
        assert!(c.handle(s(60.0), Event::RenewNow).is_empty());
        // the carrier returns after T1: INIT-REBOOT at once, as after a replug
        let a = c.handle(s(90.0), Event::LinkUp);
        assert_eq!(sent(&a), [(MsgType::Request, Dest::Broadcast)]);
        let Action::Send(r, _) = &a[0] else { panic!() };
        assert_eq!(r.get(opt::REQUESTED_IP), Some(&IP.octets()[..]));
        let a = c.handle(s(90.01), Event::Packet(&reply(&c, MsgType::Ack, IP, 100)));
        assert!(matches!(&a[0], Action::Renew(_)), "{a:?}");
        assert_eq!(c.deadline(), Some(s(140.01)));
        // a renewal under way when the cable goes: it waits as well
        let mut c = bound_client(100);
        c.handle(s(50.02), Event::Timer);
        assert_eq!(c.state(), State::Renewing);
        c.handle(s(51.0), Event::LinkDown);
        assert_eq!(c.deadline(), Some(s(100.02)));
    }

    #[test]
    fn lease_expires_with_the_carrier_down() {
        let mut c = bound_client(100);
        c.handle(s(40.0), Event::LinkDown);
        let log = silence(&mut c, s(200.0));
        assert_eq!(
            log.iter().map(|(_, a)| a).collect::<Vec<_>>(),
            [&Action::Deconfig, &Action::Forget],
            "deconfig at expiry and nothing sent: {log:?}"
        );
        assert_eq!(log[0].0, s(100.02));
        assert_eq!(c.deadline(), None, "then it waits for the carrier");
        let a = c.handle(s(300.0), Event::LinkUp);
        assert_eq!(sent(&a), [(MsgType::Discover, Dest::Broadcast)]);
    }

    #[test]
    fn carrier_loss_during_init_reboot_stops_sending_and_starts_over_on_return() {
        let (mut c, _) = replugged();
        c.handle(s(12.5), Event::LinkDown);
        assert_eq!(c.deadline(), Some(s(3600.02)));
        assert!(silence(&mut c, s(100.0)).is_empty());
        let a = c.handle(s(100.0), Event::LinkUp);
        assert_eq!(sent(&a), [(MsgType::Request, Dest::Broadcast)]);
        let log = silence(&mut c, s(101.0));
        assert_eq!(sends_of(&log, MsgType::Discover), [s(101.0)]);
    }

    #[test]
    fn renew_now_while_the_lease_is_unverified_asks_again_at_once() {
        let (mut c, _) = replugged();
        silence(&mut c, s(40.0));
        assert_eq!(c.state(), State::Selecting);
        let a = c.handle(s(40.5), Event::RenewNow);
        assert_eq!(sent(&a), [(MsgType::Request, Dest::Broadcast)]);
        assert_eq!(c.state(), State::Rebooting);
    }

    #[test]
    fn waits_for_the_link_before_the_first_discover() {
        let (mut c, a) = started(5, false);
        assert_eq!(a, [Action::Deconfig]);
        assert_eq!(c.deadline(), None);
        let a = c.handle(s(3.0), Event::LinkUp);
        assert_eq!(sent(&a), [(MsgType::Discover, Dest::Broadcast)]);
    }

    fn arp(op: u16, mac: [u8; 6], sender: Ipv4Addr, target: Ipv4Addr) -> Event<'static> {
        Event::Arp(Arp {
            op,
            sender_mac: mac,
            sender_ip: sender,
            target_ip: target,
        })
    }

    /// A client with the ARP check (`-a`), started, link up.
    fn checking_started(seed: u64) -> (Client, Vec<Action>) {
        let mut cfg = Config::new(MAC, seed);
        cfg.arp_check = true;
        let mut c = Client::new(cfg);
        let a = c.handle(
            s(0.0),
            Event::Start {
                link_up: true,
                remembered: None,
            },
        );
        (c, a)
    }

    fn checking_client(seed: u64) -> (Client, Vec<Action>) {
        let (mut c, _) = checking_started(seed);
        c.handle(s(0.01), Event::Packet(&reply(&c, MsgType::Offer, IP, 600)));
        let a = c.handle(s(0.02), Event::Packet(&reply(&c, MsgType::Ack, IP, 600)));
        (c, a)
    }

    #[test]
    fn arp_check_probes_on_virtual_time_then_binds() {
        let (mut c, a) = checking_client(12);
        assert_eq!(a, [Action::SendArpProbe(IP)]);
        assert_eq!(c.state(), State::Checking);
        assert!(c.lease().is_none());
        // frames that are no conflict: our own probe, other addresses, a
        // probe from us, a host asking who has our address with its own
        let quiet = [
            arp(1, MAC, Ipv4Addr::UNSPECIFIED, IP),
            arp(
                2,
                OTHER_MAC,
                Ipv4Addr::new(10, 0, 0, 9),
                Ipv4Addr::new(10, 0, 0, 1),
            ),
            arp(1, OTHER_MAC, Ipv4Addr::new(10, 0, 0, 9), IP),
        ];
        for e in quiet {
            assert!(c.handle(s(0.1), e).is_empty());
        }
        // three probes 2/3 s apart, bound 2 s after the ACK
        let log = silence(&mut c, s(10.0));
        let probes: Vec<Duration> = log
            .iter()
            .filter(|(_, a)| *a == Action::SendArpProbe(IP))
            .map(|(t, _)| *t)
            .collect();
        let third = Duration::from_millis(2000) / 3;
        assert_eq!(probes, [s(0.02) + third, s(0.02) + third * 2], "{log:?}");
        let bound_at = log
            .iter()
            .find(|(_, a)| matches!(a, Action::Bound(_)))
            .map(|(t, _)| *t);
        assert_eq!(bound_at, Some(s(0.02) + third * 3));
        assert_eq!(c.state(), State::Bound);
        // the lease counts from the ACK, not from the end of the check, and
        // is remembered with what is left of it
        assert_eq!(c.deadline(), Some(s(0.02) + s(300.0)));
        let remembered = log.iter().find_map(|(_, a)| match a {
            Action::Remember(l) => Some(l.lease),
            _ => None,
        });
        assert_eq!(remembered, Some(598));
    }

    #[test]
    fn arp_conflict_declines_and_pauses() {
        let (mut c, _) = checking_client(11);
        let a = c.handle(s(1.0), arp(2, OTHER_MAC, IP, Ipv4Addr::UNSPECIFIED));
        assert_eq!(a[0], Action::Conflict(IP, OTHER_MAC));
        assert_eq!(sent(&a), [(MsgType::Decline, Dest::Broadcast)]);
        let Action::Send(d, _) = &a[1] else { panic!() };
        assert_eq!(d.get(opt::REQUESTED_IP), Some(&IP.octets()[..]));
        assert_eq!(d.get(opt::SERVER_ID), Some(&SERVER.octets()[..]));
        assert!(!a.iter().any(|x| matches!(x, Action::Bound(_))));
        assert_eq!(c.state(), State::Paused);
        assert_eq!(c.deadline(), Some(s(11.0)));
        // later ARP frames change nothing
        assert!(c.handle(s(1.5), arp(2, OTHER_MAC, IP, IP)).is_empty());
        assert_eq!(
            sent(&c.handle(s(11.0), Event::Timer)),
            [(MsgType::Discover, Dest::Broadcast)]
        );
        // another host probing for the same address at the same time
        let (mut c, _) = checking_client(13);
        let a = c.handle(s(0.5), arp(1, OTHER_MAC, Ipv4Addr::UNSPECIFIED, IP));
        assert_eq!(sent(&a), [(MsgType::Decline, Dest::Broadcast)]);
        // ARP outside the check is ignored
        let mut c = bound_client(600);
        assert!(c.handle(s(1.0), arp(2, OTHER_MAC, IP, IP)).is_empty());
    }

    #[test]
    fn arp_check_with_the_carrier_lost_starts_over() {
        let (mut c, _) = checking_client(14);
        c.handle(s(0.5), Event::LinkDown);
        assert_eq!(c.deadline(), None);
        assert!(c.handle(s(0.6), arp(2, OTHER_MAC, IP, IP)).is_empty());
        let a = c.handle(s(5.0), Event::LinkUp);
        assert_eq!(sent(&a), [(MsgType::Discover, Dest::Broadcast)]);
    }

    #[test]
    fn arp_check_of_a_new_address_keeps_the_old_lease_meanwhile() {
        let (mut c, _) = checking_started(15);
        c.handle(s(0.01), Event::Packet(&reply(&c, MsgType::Offer, IP, 3600)));
        c.handle(s(0.02), Event::Packet(&reply(&c, MsgType::Ack, IP, 3600)));
        silence(&mut c, s(3.0));
        assert_eq!(c.state(), State::Bound);
        c.handle(s(10.0), Event::LinkDown);
        c.handle(s(12.0), Event::LinkUp);
        silence(&mut c, s(13.0));
        // the same address again: no probe (BusyBox probes new addresses only)
        c.handle(
            s(13.01),
            Event::Packet(&reply(&c, MsgType::Offer, IP, 3600)),
        );
        let a = c.handle(s(13.02), Event::Packet(&reply(&c, MsgType::Ack, IP, 3600)));
        assert!(matches!(&a[0], Action::Renew(_)), "{a:?}");
        // another address: probed, the old lease kept until then
        c.handle(s(20.0), Event::LinkDown);
        c.handle(s(22.0), Event::LinkUp);
        silence(&mut c, s(23.0));
        let a = offer_then_ack(&mut c, s(23.01), s(23.02));
        assert_eq!(a, [Action::SendArpProbe(NEW_IP)]);
        assert_eq!(c.lease().map(|l| l.ip), Some(IP));
        let log = silence(&mut c, s(26.0));
        assert!(
            matches!(
                script_events(&log)[..],
                [
                    Action::SendArpProbe(_),
                    Action::SendArpProbe(_),
                    Action::Bound(_),
                    Action::Remember(_)
                ]
            ),
            "{log:?}"
        );
        assert_eq!(c.lease().map(|l| l.ip), Some(NEW_IP));
    }

    #[test]
    fn release_and_renew_now() {
        let mut c = bound_client(3600);
        let a = c.handle(s(5.0), Event::Release);
        assert_eq!(sent(&a), [(MsgType::Release, Dest::Unicast(SERVER))]);
        assert!(a.contains(&Action::Deconfig));
        assert_eq!(c.state(), State::Released);
        assert_eq!(c.deadline(), None);
        assert_eq!(
            sent(&c.handle(s(6.0), Event::RenewNow)),
            [(MsgType::Discover, Dest::Broadcast)]
        );
        let mut c = bound_client(3600);
        assert_eq!(
            sent(&c.handle(s(5.0), Event::RenewNow)),
            [(MsgType::Request, Dest::Unicast(SERVER))]
        );
    }

    #[test]
    fn huge_timers_do_not_overflow() {
        let mut cfg = Config::new(MAC, 16);
        cfg.initial_timeout = Duration::from_secs(3600);
        cfg.failure_pause = Duration::from_secs(86_400);
        cfg.tries = 1000;
        let mut c = Client::new(cfg);
        let far = Duration::from_secs(u64::MAX / 2);
        c.handle(
            far,
            Event::Start {
                link_up: true,
                remembered: None,
            },
        );
        // an infinite lease near the end of time
        c.handle(far, Event::Packet(&reply(&c, MsgType::Offer, IP, u32::MAX)));
        c.handle(far, Event::Packet(&reply(&c, MsgType::Ack, IP, u32::MAX)));
        assert_eq!(c.state(), State::Bound);
        for _ in 0..50 {
            if let Some(d) = c.deadline() {
                c.handle(d, Event::Timer);
            }
        }
        c.handle(Duration::MAX, Event::Timer);
        c.handle(Duration::MAX, Event::LinkDown);
        c.handle(Duration::MAX, Event::LinkUp);
        for _ in 0..50 {
            c.handle(Duration::MAX, Event::Timer);
        }
        c.handle(Duration::MAX, Event::RenewNow);
        c.handle(Duration::MAX, Event::Release);
    }
}
