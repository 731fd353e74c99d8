//! The DHCPv4 client state machine (RFC 2131 §4.4), sans I/O: it is driven
//! by `(now, event)` and returns actions; time is a monotonic `Duration`
//! given by the caller, so tests run it on virtual time.

use super::lease::Lease;
use super::msg::{opt, Message, MsgType, BOOTREPLY, BOOTREQUEST};
use std::net::Ipv4Addr;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Config {
    pub mac: [u8; 6],
    /// Option 61; by default type 1 (Ethernet) and the MAC.
    pub client_id: Vec<u8>,
    pub hostname: Option<String>,
    pub vendor_class: Option<Vec<u8>>,
    /// `-r`: the address to ask for first.
    pub request_ip: Option<Ipv4Addr>,
    /// `-O`: options to request in addition to the defaults.
    pub extra_params: Vec<u8>,
    /// `-x`: options to send.
    pub extra_options: Vec<(u8, Vec<u8>)>,
    /// `-t`: DISCOVERs (and REQUESTs) before giving up for a while.
    pub tries: u32,
    /// First retransmission timeout; doubled each time, up to 64 s (RFC 2131
    /// §4.1 starts at 4 s; a LAN answers in milliseconds, and a DISCOVER lost
    /// to a switch port that is not forwarding yet should cost half a second).
    pub initial_timeout: Duration,
    /// `-A`: pause after a failed round before trying again.
    pub failure_pause: Duration,
    /// `-a`: probe the offered address with ARP before using it.
    pub arp_check: bool,
    /// Honour option 121 (switch off against TunnelVision-style steering).
    pub classless_routes: bool,
    /// `-B`: ask servers to broadcast their replies (for relays and servers
    /// that cannot reach a client without an address by unicast).
    pub broadcast_flag: bool,
    /// Seed for transaction ids and jitter (from getrandom in the shell).
    pub seed: u64,
}

impl Config {
    pub fn new(mac: [u8; 6], seed: u64) -> Config {
        let mut client_id = vec![1];
        client_id.extend_from_slice(&mac);
        Config {
            mac,
            client_id,
            hostname: None,
            vendor_class: None,
            request_ip: None,
            extra_params: Vec::new(),
            extra_options: Vec::new(),
            tries: 3,
            initial_timeout: Duration::from_millis(500),
            failure_pause: Duration::from_secs(20),
            arp_check: false,
            classless_routes: true,
            broadcast_flag: false,
            seed,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Not started, or waiting for the link.
    Init,
    Selecting,
    Requesting,
    /// ARP probe of the acknowledged address (`-a`).
    Checking,
    Bound,
    Renewing,
    Rebinding,
    /// INIT-REBOOT: verifying a remembered lease.
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
    ArpResult {
        in_use: bool,
    },
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
    /// Probe this address with ARP and report `ArpResult`.
    ArpProbe(Ipv4Addr),
    /// Remember the lease (for INIT-REBOOT after a restart): the lease and
    /// when it was obtained.
    Remember(Lease),
    Forget,
}

/// The lease in force and when it was obtained.
#[derive(Clone, Debug)]
struct Held {
    lease: Lease,
    at: Duration,
}

impl Held {
    fn t1(&self) -> Duration {
        self.at + Duration::from_secs(self.lease.t1 as u64)
    }
    fn t2(&self) -> Duration {
        self.at + Duration::from_secs(self.lease.t2 as u64)
    }
    fn expiry(&self) -> Duration {
        self.at + Duration::from_secs(self.lease.lease as u64)
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
    tries: u32,
    timer: Option<Duration>,
    offer: Option<Lease>,
    held: Option<Held>,
    /// A lease being verified (INIT-REBOOT) or probed (ARP).
    candidate: Option<Held>,
}

const MAX_TIMEOUT: Duration = Duration::from_secs(64);
/// INIT-REBOOT waits this long per try, twice, before starting over: a cable
/// moved to another network must not wait for long timeouts.
const REBOOT_TIMEOUT: Duration = Duration::from_millis(250);
/// RFC 2131 §3.1: after a DECLINE, wait before starting again.
const DECLINE_PAUSE: Duration = Duration::from_secs(10);
/// RFC 2131 §4.4.5: renew/rebind retransmissions no more often than this.
const MIN_RENEW_RETRY: Duration = Duration::from_secs(60);

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
            offer: None,
            held: None,
            candidate: None,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn lease(&self) -> Option<&Lease> {
        self.held.as_ref().map(|h| &h.lease)
    }

    pub fn xid(&self) -> u32 {
        self.xid
    }

    /// When `Event::Timer` is due.
    pub fn deadline(&self) -> Option<Duration> {
        self.timer
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
        let d = (base * 2u32.saturating_pow(tries.min(8))).min(MAX_TIMEOUT);
        let eighth = d.as_millis() as u64 / 8;
        let jitter = if eighth == 0 {
            0
        } else {
            self.random() % (2 * eighth + 1)
        };
        Duration::from_millis(d.as_millis() as u64 - eighth + jitter)
    }

    fn new_xid(&mut self, now: Duration) {
        self.xid = self.random() as u32;
        self.started = now;
        self.tries = 0;
    }

    fn base_message(&self, now: Duration, t: MsgType) -> Message {
        let mut m = Message::new(BOOTREQUEST, self.xid, self.cfg.mac);
        m.secs = (now.saturating_sub(self.started).as_secs()).min(u16::MAX as u64) as u16;
        if self.cfg.broadcast_flag && matches!(t, MsgType::Discover | MsgType::Request) {
            m.flags = 0x8000;
        }
        m.set(opt::MSG_TYPE, vec![t as u8]);
        m.set(opt::CLIENT_ID, self.cfg.client_id.clone());
        if t != MsgType::Release && t != MsgType::Decline {
            let mut params = vec![
                opt::SUBNET_MASK,
                opt::ROUTER,
                opt::DNS,
                opt::HOSTNAME,
                opt::DOMAIN_NAME,
                opt::MTU,
                opt::BROADCAST,
                opt::NTP,
                opt::LEASE_TIME,
                opt::SERVER_ID,
                opt::T1,
                opt::T2,
                opt::DOMAIN_SEARCH,
            ];
            if self.cfg.classless_routes {
                params.push(opt::CLASSLESS_ROUTES);
            }
            for p in &self.cfg.extra_params {
                if !params.contains(p) {
                    params.push(*p);
                }
            }
            m.set(opt::PARAM_LIST, params);
            m.set(opt::MAX_SIZE, 576u16.to_be_bytes().to_vec());
            if let Some(h) = &self.cfg.hostname {
                m.set(opt::HOSTNAME, h.as_bytes().to_vec());
            }
            if let Some(v) = &self.cfg.vendor_class {
                m.set(opt::VENDOR_CLASS, v.clone());
            }
            for (c, v) in &self.cfg.extra_options {
                m.set(*c, v.clone());
            }
        }
        m
    }

    fn discover(&mut self, now: Duration) -> Vec<Action> {
        self.state = State::Selecting;
        self.offer = None;
        if !self.link_up {
            self.timer = None;
            return Vec::new();
        }
        let mut m = self.base_message(now, MsgType::Discover);
        if let Some(ip) = self.cfg.request_ip {
            m.set(opt::REQUESTED_IP, ip.octets().to_vec());
        }
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

    fn reboot_request(&mut self, now: Duration) -> Vec<Action> {
        let Some(c) = self.candidate.clone() else {
            return self.start_over(now);
        };
        self.state = State::Rebooting;
        let mut m = self.base_message(now, MsgType::Request);
        m.set(opt::REQUESTED_IP, c.lease.ip.octets().to_vec());
        self.broadcast_try(now, m, REBOOT_TIMEOUT)
    }

    /// Broadcast one try of an exchange and wait `wait` for its answer.
    fn broadcast_try(&mut self, now: Duration, m: Message, wait: Duration) -> Vec<Action> {
        self.timer = Some(now + wait);
        self.tries += 1;
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
        self.timer = Some((now + half.max(MIN_RENEW_RETRY)).min(until));
        vec![Action::Send(m, dest)]
    }

    /// Back to INIT with a fresh transaction.
    fn start_over(&mut self, now: Duration) -> Vec<Action> {
        self.new_xid(now);
        self.candidate = None;
        self.discover(now)
    }

    /// The lease is gone: tell the script, forget it, start over.
    fn lose_lease(&mut self, now: Duration, nak: bool) -> Vec<Action> {
        let mut a = Vec::new();
        if nak {
            a.push(Action::Nak);
        }
        if self.held.take().is_some() || self.candidate.is_some() {
            a.push(Action::Deconfig);
            a.push(Action::Forget);
        }
        a.extend(self.start_over(now));
        a
    }

    fn bind(&mut self, now: Duration, lease: Lease, renewal: bool) -> Vec<Action> {
        let held = Held {
            lease: lease.clone(),
            at: now,
        };
        self.timer = Some(held.t1());
        self.held = Some(held);
        self.candidate = None;
        self.state = State::Bound;
        self.tries = 0;
        let ev = if renewal {
            Action::Renew(lease.clone())
        } else {
            Action::Bound(lease.clone())
        };
        vec![ev, Action::Remember(lease)]
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
                    Some((lease, left)) if left > Duration::from_secs(10) => {
                        let mut l = lease;
                        l.lease = left.as_secs().min(u32::MAX as u64) as u32;
                        (l.t1, l.t2) = (l.lease / 2, (l.lease as u64 * 7 / 8) as u32);
                        self.candidate = Some(Held { lease: l, at: now });
                        if link_up {
                            a.extend(self.reboot_request(now));
                        } else {
                            self.state = State::Rebooting;
                        }
                    }
                    _ => a.extend(self.discover(now)),
                }
                a
            }
            Event::LinkDown => {
                self.link_up = false;
                // Nothing is sent into a dead link; lease timers keep running.
                if matches!(
                    self.state,
                    State::Selecting | State::Requesting | State::Rebooting | State::Init
                ) {
                    self.timer = None;
                }
                Vec::new()
            }
            Event::LinkUp => {
                if self.link_up {
                    return Vec::new();
                }
                self.link_up = true;
                match self.state {
                    // verify the lease at once: the cable may be on another network
                    State::Bound | State::Renewing | State::Rebinding => {
                        self.candidate = self.held.clone();
                        self.new_xid(now);
                        self.reboot_request(now)
                    }
                    State::Released => Vec::new(),
                    State::Rebooting => {
                        self.new_xid(now);
                        self.reboot_request(now)
                    }
                    _ => self.start_over(now),
                }
            }
            Event::RenewNow => match self.state {
                State::Bound | State::Renewing | State::Rebinding => {
                    self.new_xid(now);
                    self.state = State::Renewing;
                    self.renew_request(now)
                }
                State::Released | State::Paused | State::Init => self.start_over(now),
                _ => Vec::new(),
            },
            Event::Release => {
                let mut a = Vec::new();
                if let Some(h) = self.held.take() {
                    let mut m = self.base_message(now, MsgType::Release);
                    m.ciaddr = h.lease.ip;
                    m.set(opt::SERVER_ID, h.lease.server.octets().to_vec());
                    a.push(Action::Send(m, Dest::Unicast(h.lease.server)));
                    a.push(Action::Deconfig);
                    a.push(Action::Forget);
                }
                self.state = State::Released;
                self.timer = None;
                a
            }
            Event::ArpResult { in_use } => {
                if self.state != State::Checking {
                    return Vec::new();
                }
                let Some(c) = self.candidate.take() else {
                    return Vec::new();
                };
                if !in_use {
                    return self.bind(now, c.lease, false);
                }
                let mut m = self.base_message(now, MsgType::Decline);
                m.set(opt::REQUESTED_IP, c.lease.ip.octets().to_vec());
                m.set(opt::SERVER_ID, c.lease.server.octets().to_vec());
                self.state = State::Paused;
                self.timer = Some(now + DECLINE_PAUSE);
                vec![Action::Send(m, Dest::Broadcast)]
            }
            Event::Timer => self.timer_fired(now),
            Event::Packet(m) => self.packet(now, m),
        }
    }

    fn timer_fired(&mut self, now: Duration) -> Vec<Action> {
        match self.timer {
            Some(t) if now >= t => {}
            _ => return Vec::new(),
        }
        self.timer = None;
        match self.state {
            State::Selecting if self.tries < self.cfg.tries => self.discover(now),
            State::Requesting if self.tries < self.cfg.tries => self.request_offer(now),
            State::Selecting | State::Requesting => {
                self.state = State::Paused;
                self.timer = Some(now + self.cfg.failure_pause);
                vec![Action::LeaseFail]
            }
            State::Rebooting if self.tries < 2 => self.reboot_request(now),
            // no answer to INIT-REBOOT: another network, or a silent server
            State::Rebooting => self.lose_lease(now, false),
            State::Paused | State::Init => self.start_over(now),
            State::Bound => {
                self.state = State::Renewing;
                self.new_xid(now);
                self.renew_request(now)
            }
            State::Renewing | State::Rebinding => {
                let Some(h) = self.held.clone() else {
                    return self.start_over(now);
                };
                if now >= h.expiry() {
                    return self.lose_lease(now, false);
                }
                if self.state == State::Renewing && now >= h.t2() {
                    self.state = State::Rebinding;
                    self.new_xid(now);
                }
                self.renew_request(now)
            }
            State::Checking | State::Released => Vec::new(),
        }
    }

    fn packet(&mut self, now: Duration, m: &Message) -> Vec<Action> {
        if m.op != BOOTREPLY || m.xid != self.xid || m.mac() != self.cfg.mac {
            return Vec::new();
        }
        let Some(t) = m.msg_type() else {
            return Vec::new();
        };
        match (self.state, t) {
            (State::Selecting, MsgType::Offer) => match super::lease::Lease::from_message(m) {
                Some(l) => {
                    self.offer = Some(l);
                    self.tries = 0;
                    self.request_offer(now)
                }
                None => Vec::new(),
            },
            (
                State::Requesting | State::Rebooting | State::Renewing | State::Rebinding,
                MsgType::Ack,
            ) => {
                let Some(l) = super::lease::Lease::from_message(m) else {
                    return Vec::new();
                };
                match self.state {
                    State::Requesting if self.cfg.arp_check => {
                        self.candidate = Some(Held {
                            lease: l.clone(),
                            at: now,
                        });
                        self.state = State::Checking;
                        self.timer = None;
                        vec![Action::ArpProbe(l.ip)]
                    }
                    State::Requesting => self.bind(now, l, false),
                    // the same address again: a renewal; otherwise a new lease
                    _ => {
                        let same = self.held.as_ref().is_some_and(|h| h.lease.ip == l.ip)
                            || self.candidate.as_ref().is_some_and(|c| c.lease.ip == l.ip);
                        let was_held = self.held.is_some();
                        let mut a = Vec::new();
                        if !same && was_held {
                            a.push(Action::Deconfig);
                        }
                        a.extend(self.bind(now, l, same && was_held));
                        a
                    }
                }
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
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dhcp::msg::opt;

    const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 50);

    fn s(x: f64) -> Duration {
        Duration::from_secs_f64(x)
    }

    fn reply(c: &Client, t: MsgType, ip: Ipv4Addr, lease: u32) -> Message {
        let mut m = Message::new(BOOTREPLY, c.xid(), MAC);
        m.yiaddr = ip;
        m.set(opt::MSG_TYPE, vec![t as u8]);
        m.set(opt::SERVER_ID, SERVER.octets().to_vec());
        m.set(opt::SUBNET_MASK, vec![255, 255, 255, 0]);
        m.set(opt::ROUTER, SERVER.octets().to_vec());
        m.set(opt::LEASE_TIME, lease.to_be_bytes().to_vec());
        m
    }

    fn sent(a: &[Action]) -> Vec<(MsgType, Dest)> {
        a.iter()
            .filter_map(|x| match x {
                Action::Send(m, d) => Some((m.msg_type().unwrap(), *d)),
                _ => None,
            })
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

    #[test]
    fn discover_offer_request_ack() {
        let mut c = Client::new(Config::new(MAC, 1));
        let a = c.handle(
            s(0.0),
            Event::Start {
                link_up: true,
                remembered: None,
            },
        );
        assert_eq!(a[0], Action::Deconfig);
        assert_eq!(sent(&a), [(MsgType::Discover, Dest::Broadcast)]);
        let Action::Send(d, _) = &a[1] else { panic!() };
        assert_eq!(d.get(opt::CLIENT_ID), Some(&[1, 2, 0, 0, 0, 0, 1][..]));
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
        assert_eq!(c.state(), State::Rebooting);
        let a = c.handle(s(0.01), Event::Packet(&reply(&c, MsgType::Ack, IP, 3600)));
        assert!(matches!(&a[0], Action::Bound(_)));
        // no answer (another network): a fresh DISCOVER within a second
        let mut c = Client::new(Config::new(MAC, 9));
        c.handle(
            s(0.0),
            Event::Start {
                link_up: true,
                remembered: Some((l.clone(), s(3000.0))),
            },
        );
        let t1 = c.deadline().unwrap();
        assert_eq!(
            sent(&c.handle(t1, Event::Timer)),
            [(MsgType::Request, Dest::Broadcast)]
        );
        let t2 = c.deadline().unwrap();
        assert!(t2 < s(1.0));
        let a = c.handle(t2, Event::Timer);
        assert_eq!(a[0], Action::Deconfig);
        assert_eq!(sent(&a), [(MsgType::Discover, Dest::Broadcast)]);
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
    fn carrier_loss_and_return_verifies_the_lease_at_once() {
        let mut c = bound_client(3600);
        assert!(c.handle(s(10.0), Event::LinkDown).is_empty());
        assert_eq!(c.state(), State::Bound);
        let a = c.handle(s(12.0), Event::LinkUp);
        assert_eq!(sent(&a), [(MsgType::Request, Dest::Broadcast)]);
        assert_eq!(c.state(), State::Rebooting);
        // a NAK from the new network: new lease process at once
        let a = c.handle(
            s(12.01),
            Event::Packet(&reply(&c, MsgType::Nak, Ipv4Addr::UNSPECIFIED, 0)),
        );
        assert_eq!(&a[..3], [Action::Nak, Action::Deconfig, Action::Forget]);
        assert_eq!(sent(&a), [(MsgType::Discover, Dest::Broadcast)]);
    }

    #[test]
    fn waits_for_the_link_before_the_first_discover() {
        let mut c = Client::new(Config::new(MAC, 5));
        let a = c.handle(
            s(0.0),
            Event::Start {
                link_up: false,
                remembered: None,
            },
        );
        assert_eq!(a, [Action::Deconfig]);
        assert_eq!(c.deadline(), None);
        let a = c.handle(s(3.0), Event::LinkUp);
        assert_eq!(sent(&a), [(MsgType::Discover, Dest::Broadcast)]);
    }

    #[test]
    fn arp_conflict_declines_and_pauses() {
        let mut cfg = Config::new(MAC, 11);
        cfg.arp_check = true;
        let mut c = Client::new(cfg);
        c.handle(
            s(0.0),
            Event::Start {
                link_up: true,
                remembered: None,
            },
        );
        c.handle(s(0.01), Event::Packet(&reply(&c, MsgType::Offer, IP, 600)));
        let a = c.handle(s(0.02), Event::Packet(&reply(&c, MsgType::Ack, IP, 600)));
        assert_eq!(a, [Action::ArpProbe(IP)]);
        let a = c.handle(s(1.0), Event::ArpResult { in_use: true });
        assert_eq!(sent(&a), [(MsgType::Decline, Dest::Broadcast)]);
        assert_eq!(c.deadline(), Some(s(11.0)));
        assert_eq!(
            sent(&c.handle(s(11.0), Event::Timer)),
            [(MsgType::Discover, Dest::Broadcast)]
        );
        // no conflict: bound
        let mut cfg = Config::new(MAC, 12);
        cfg.arp_check = true;
        let mut c = Client::new(cfg);
        c.handle(
            s(0.0),
            Event::Start {
                link_up: true,
                remembered: None,
            },
        );
        c.handle(s(0.01), Event::Packet(&reply(&c, MsgType::Offer, IP, 600)));
        c.handle(s(0.02), Event::Packet(&reply(&c, MsgType::Ack, IP, 600)));
        assert!(matches!(
            c.handle(s(1.0), Event::ArpResult { in_use: false })[0],
            Action::Bound(_)
        ));
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
}
