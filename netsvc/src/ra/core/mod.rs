//! The advertiser of one interface, pure: `(now, event) -> actions` on
//! virtual time, the random numbers handed in. It keeps the interface's
//! addresses as the kernel reports them (contract 2 of issue 16: each
//! global, non-temporary /64 that is not the kernel's own SLAAC address
//! gives a prefix, with the lifetimes it has left) and decides when an RA
//! goes out and what it says (RFC 4861 §6.2):
//! - unsolicited RAs at random intervals in [MinRtrAdvInterval,
//!   MaxRtrAdvInterval], the first `MAX_INITIAL_RTR_ADVERTISEMENTS` at most
//!   `MAX_INITIAL_RTR_ADVERT_INTERVAL` apart, again after every change;
//! - a changed prefix set (one added, gone, deprecated, or a lifetime cut
//!   short) goes out at once, within `MIN_DELAY_BETWEEN_RAS` of the last
//!   multicast RA; so do lifetimes made longer (a renewed lease) when the
//!   hosts' countdown of those last sent would run out before the next RA
//!   (short lifetimes: the hosts' addresses would be deprecated, then gone,
//!   under a prefix the router still holds);
//! - a solicitation from a link-local address is answered at once, by
//!   unicast, at most `UNICAST_BURST` per `MIN_DELAY_BETWEEN_RAS`; others
//!   (from `::`, or beyond the budget) get the next multicast RA, after
//!   §6.2.6's random delay and rate limit. The delay exists so that several
//!   routers do not answer a multicast solicitation at the same instant and
//!   one multicast RA serves many solicitors; a unicast answer reaches one
//!   host and costs the others nothing (RFC 7772 asks for unicast answers),
//!   and the budget bounds what a flood of solicitations can make us send;
//! - nothing while there is no prefix, except one RA with router lifetime
//!   0 when the last prefix went after RAs had gone out, and at the stop
//!   (§6.2.5): hosts then stop using this router at once.

pub mod msg;

use msg::{Advert, PrefixInfo};
use std::net::Ipv6Addr;
use std::time::Duration;

/// RFC 4861 §10, router constants.
pub const MAX_INITIAL_RTR_ADVERT_INTERVAL: Duration = Duration::from_secs(16);
pub const MAX_INITIAL_RTR_ADVERTISEMENTS: u8 = 3;
pub const MIN_DELAY_BETWEEN_RAS: Duration = Duration::from_secs(3);
pub const MAX_RA_DELAY_TIME: Duration = Duration::from_millis(500);

/// Unicast answers to solicitations per `MIN_DELAY_BETWEEN_RAS` at most.
pub const UNICAST_BURST: u32 = 10;
/// Addresses of the interface kept at most (a /64 each is advertised).
pub const MAX_ADDRESSES: usize = 64;
/// After a failed send (no link-local address yet: DAD), try again this soon.
pub const RETRY: Duration = Duration::from_secs(1);

/// `IFA_PROTO` of the kernel's own SLAAC addresses (kernel 5.18+).
pub const IFAPROT_KERNEL_RA: u8 = 2;

/// An IPv6 address of the interface as the kernel reported it (a dump or
/// an event); lifetimes left in seconds, `u32::MAX` forever.
pub use crate::netlink::Addr6Entry as Address;
use crate::netlink::{IFA_F_DADFAILED, IFA_F_DEPRECATED, IFA_F_MANAGETEMPADDR, IFA_F_TEMPORARY};

/// Contract 2: global scope, a /64, not temporary, not the kernel's SLAAC
/// address (nor the base of temporary ones), not failed DAD.
pub fn gives_prefix(a: &Address) -> bool {
    a.scope == 0
        && a.prefix == 64
        && a.flags & (IFA_F_TEMPORARY | IFA_F_DADFAILED | IFA_F_MANAGETEMPADDR) == 0
        && a.proto != IFAPROT_KERNEL_RA
        && !a.ip.is_multicast()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub min_interval: Duration,
    pub max_interval: Duration,
    pub managed: bool,
    pub other: bool,
    /// Router lifetime; `None`: 3 × MaxRtrAdvInterval (at most 9000 s) while
    /// the router has an IPv6 default route, else 0.
    pub lifetime: Option<u16>,
    pub hop_limit: u8,
    pub mtu: Option<u32>,
    /// DNS servers; empty: the router's own address in each prefix.
    pub rdnss: Vec<Ipv6Addr>,
    pub dnssl: Vec<String>,
    /// The interface's link-layer address (source link-layer option).
    pub mac: Option<[u8; 6]>,
}

impl Default for Config {
    /// RFC 4861 §6.2.1's defaults: MaxRtrAdvInterval 600 s, MinRtrAdvInterval
    /// 0.33 × that, AdvCurHopLimit 64.
    fn default() -> Config {
        Config {
            min_interval: Duration::from_secs(198),
            max_interval: Duration::from_secs(600),
            managed: false,
            other: false,
            lifetime: None,
            hop_limit: 64,
            mtu: None,
            rdnss: Vec::new(),
            dnssl: Vec::new(),
            mac: None,
        }
    }
}

impl Config {
    /// RDNSS and DNSSL lifetimes: 3 × MaxRtrAdvInterval (RFC 8106 §5.1's
    /// default, at least MaxRtrAdvInterval).
    fn dns_lifetime(&self) -> u32 {
        u32::try_from(self.max_interval.as_secs().saturating_mul(3)).unwrap_or(u32::MAX)
    }
}

pub enum Event<'a> {
    /// An address of the interface: dumped, added, changed or deleted.
    Address(Address),
    /// The address dump is complete: from now on the set counts.
    Synced,
    /// The event socket overflowed: the addresses are forgotten, a new dump follows.
    Resync,
    /// Whether the router has an IPv6 default route now.
    DefaultRoute(bool),
    /// An ICMPv6 message from `from` with its hop limit, if known.
    Solicit {
        from: Ipv6Addr,
        hop_limit: Option<u8>,
        msg: &'a [u8],
    },
    /// `deadline()` has come.
    Timer,
    /// The last multicast RA could not be sent.
    SendFailed,
    /// SIGTERM: the final RA, if any.
    Stop,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send this RA to all nodes (ff02::1).
    Multicast(Vec<u8>),
    /// Send this RA to one solicitor.
    Unicast(Ipv6Addr, Vec<u8>),
    /// The addresses are known and none gives a prefix: ready, nothing to say.
    NothingToAdvertise,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    ip: Ipv6Addr,
    preferred: u32,
    valid: u32,
    /// when the kernel reported those lifetimes
    at: Duration,
}

/// A lifetime reported at `at`, counted down to `now`.
fn left(v: u32, at: Duration, now: Duration) -> u32 {
    if v == u32::MAX {
        return v;
    }
    let gone = u32::try_from(now.saturating_sub(at).as_secs()).unwrap_or(u32::MAX);
    v.saturating_sub(gone)
}

fn slash64(ip: Ipv6Addr) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(ip) & !((1u128 << 64) - 1))
}

pub type Random = Box<dyn FnMut() -> u32>;

pub struct Advertiser {
    cfg: Config,
    rand: Random,
    entries: Vec<Entry>,
    synced: bool,
    default_route: bool,
    next: Option<Duration>,
    last_multicast: Option<Duration>,
    initial_left: u8,
    /// RAs with prefixes went out and no RA with lifetime 0 since
    advertising: bool,
    /// the prefixes as last judged, and when
    shown: Vec<PrefixInfo>,
    shown_at: Duration,
    /// the prefixes of the last multicast RA, and when: what hosts count down
    sent: Vec<PrefixInfo>,
    sent_at: Duration,
    unicast_window: (Duration, u32),
}

impl Advertiser {
    pub fn new(cfg: Config, rand: Random) -> Advertiser {
        Advertiser {
            cfg,
            rand,
            entries: Vec::new(),
            synced: false,
            default_route: false,
            next: None,
            last_multicast: None,
            initial_left: MAX_INITIAL_RTR_ADVERTISEMENTS,
            advertising: false,
            shown: Vec::new(),
            shown_at: Duration::ZERO,
            sent: Vec::new(),
            sent_at: Duration::ZERO,
            unicast_window: (Duration::ZERO, 0),
        }
    }

    /// When `Event::Timer` is due.
    pub fn deadline(&self) -> Option<Duration> {
        self.next
    }

    /// Whether RAs with prefixes are going out (the stop then sends a final one).
    pub fn advertising(&self) -> bool {
        self.advertising
    }

    /// The prefixes to advertise now: a /64 per address that gives one, the
    /// longest lifetimes of its addresses, sorted, `MAX_PREFIXES` at most.
    pub fn prefixes(&self, now: Duration) -> Vec<PrefixInfo> {
        let mut out: Vec<PrefixInfo> = Vec::new();
        for e in &self.entries {
            let valid = left(e.valid, e.at, now);
            if valid == 0 {
                continue; // the kernel removes it any moment
            }
            let p = PrefixInfo {
                prefix: slash64(e.ip),
                valid,
                preferred: left(e.preferred, e.at, now).min(valid),
            };
            // kept sorted by prefix (no sort: its code is large)
            let key = |x: &PrefixInfo| u128::from(x.prefix);
            match out.iter().position(|o| key(o) >= key(&p)) {
                Some(i) if out[i].prefix == p.prefix => {
                    out[i].valid = out[i].valid.max(p.valid);
                    out[i].preferred = out[i].preferred.max(p.preferred);
                }
                Some(i) => out.insert(i, p),
                None => out.push(p),
            }
        }
        out.truncate(msg::MAX_PREFIXES);
        out
    }

    /// The RA as it would go out now, with `lifetime` as router lifetime
    /// (`None`: the configured or automatic one).
    pub fn advert(&self, now: Duration, lifetime: Option<u16>) -> Advert {
        let c = &self.cfg;
        let prefixes = self.prefixes(now);
        let auto = if self.default_route {
            u16::try_from(c.max_interval.as_secs().saturating_mul(3).min(9000)).unwrap_or(9000)
        } else {
            0
        };
        let dns = c.dns_lifetime();
        let mut rdnss = Vec::new();
        if !c.rdnss.is_empty() {
            rdnss.push((dns, c.rdnss.clone()));
        } else {
            // the router's own address in each prefix: those in a prefix
            // still preferred, or, when none is, the deprecated ones (the
            // server there still answers until they go); the others with
            // lifetime 0, so hosts stop asking them at once
            let ok = |e: &Entry| left(e.preferred, e.at, now) > 0;
            let any_ok = self.entries.iter().any(&ok);
            let (mut live, mut gone) = (Vec::new(), Vec::new());
            let mut life = dns;
            for e in &self.entries {
                let in_set = prefixes.iter().any(|p| p.prefix == slash64(e.ip));
                if !in_set {
                    continue;
                }
                let list = if ok(e) || !any_ok {
                    life = life.min(left(e.valid, e.at, now));
                    &mut live
                } else {
                    &mut gone
                };
                let ip = u128::from(e.ip);
                let at = list
                    .iter()
                    .position(|x| u128::from(*x) > ip)
                    .unwrap_or(list.len());
                list.insert(at, e.ip);
            }
            rdnss.push((life, live));
            rdnss.push((0, gone));
        }
        Advert {
            hop_limit: c.hop_limit,
            managed: c.managed,
            other: c.other,
            lifetime: lifetime.or(c.lifetime).unwrap_or(auto),
            source_mac: c.mac,
            mtu: c.mtu,
            prefixes,
            rdnss,
            dnssl: (!c.dnssl.is_empty()).then(|| (dns, c.dnssl.clone())),
        }
    }

    /// A random duration in [0, span] (millisecond steps).
    fn random_up_to(&mut self, span: Duration) -> Duration {
        let ms = u64::try_from(span.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(u64::from((self.rand)()) % ms.saturating_add(1))
    }

    /// The earliest a multicast RA may go after `now` (the rate limit).
    fn allowed(&self, now: Duration) -> Duration {
        match self.last_multicast {
            Some(t) => now.max(t.saturating_add(MIN_DELAY_BETWEEN_RAS)),
            None => now,
        }
    }

    fn send_by(&mut self, t: Duration) {
        self.next = Some(self.next.map_or(t, |n| n.min(t)));
    }

    /// Compare the prefixes with those last judged: a change (one came,
    /// went or was deprecated, or a lifetime is shorter than the countdown
    /// says) sends an RA as soon as the rate limit allows, and restarts the
    /// initial fast ones.
    fn judge(&mut self, now: Duration) {
        let now_set = self.prefixes(now);
        let shrunk = |old: u32, new: u32| {
            let expected = left(old, self.shown_at, now);
            new.saturating_add(2) < expected
        };
        let changed = now_set.len() != self.shown.len()
            || now_set.iter().zip(&self.shown).any(|(n, o)| {
                n.prefix != o.prefix
                    || (n.preferred == 0) != (o.preferred == 0)
                    || shrunk(o.valid, n.valid)
                    || shrunk(o.preferred, n.preferred)
            });
        let stale = !changed && self.hosts_run_out(now, &now_set);
        self.shown = now_set;
        self.shown_at = now;
        if stale {
            // only the lifetimes: no fast RAs again
            let t = self.allowed(now);
            self.send_by(t);
            return;
        }
        if !changed {
            return;
        }
        if self.shown.is_empty() && !self.advertising {
            self.next = None;
            return;
        }
        self.initial_left = MAX_INITIAL_RTR_ADVERTISEMENTS;
        let t = self.allowed(now);
        self.send_by(t);
    }

    /// Whether a prefix of `now_set` has lifetimes that the hosts, counting
    /// down those of the last multicast RA, would see run out before the
    /// next RA is due, while the router has longer ones now.
    fn hosts_run_out(&self, now: Duration, now_set: &[PrefixInfo]) -> bool {
        let Some(next) = self.next else {
            return false;
        };
        let until_next = u32::try_from(next.saturating_sub(now).as_secs()).unwrap_or(u32::MAX);
        now_set.iter().any(|n| {
            self.sent.iter().any(|o| {
                let short = |old: u32, new: u32| {
                    let hosts = left(old, self.sent_at, now);
                    hosts <= until_next && new > hosts.saturating_add(2)
                };
                o.prefix == n.prefix
                    && n.preferred > 0
                    && (short(o.preferred, n.preferred) || short(o.valid, n.valid))
            })
        })
    }

    pub fn handle(&mut self, now: Duration, ev: Event<'_>) -> Vec<Action> {
        match ev {
            Event::Address(a) => {
                let at = self.entries.iter().position(|e| e.ip == a.ip);
                match (at, a.deleted || !gives_prefix(&a)) {
                    (_, true) => self.entries.retain(|e| e.ip != a.ip),
                    (i, false) => {
                        let deprecated = a.flags & IFA_F_DEPRECATED != 0;
                        let e = Entry {
                            ip: a.ip,
                            preferred: if deprecated {
                                0
                            } else {
                                a.preferred.min(a.valid)
                            },
                            valid: a.valid,
                            at: now,
                        };
                        match i {
                            Some(i) => self.entries[i] = e,
                            None if self.entries.len() < MAX_ADDRESSES => self.entries.push(e),
                            None => {}
                        }
                    }
                }
                if self.synced {
                    self.judge(now);
                }
                Vec::new()
            }
            Event::Synced => {
                self.synced = true;
                self.judge(now);
                if self.shown.is_empty() && !self.advertising {
                    return vec![Action::NothingToAdvertise];
                }
                Vec::new()
            }
            Event::Resync => {
                self.synced = false;
                self.entries.clear();
                Vec::new()
            }
            Event::DefaultRoute(on) => {
                if on != self.default_route {
                    self.default_route = on;
                    if self.advertising && self.cfg.lifetime.is_none() {
                        let t = self.allowed(now);
                        self.send_by(t);
                    }
                }
                Vec::new()
            }
            Event::Solicit {
                from,
                hop_limit,
                msg,
            } => self.solicited(now, from, hop_limit, msg),
            Event::Timer => self.timer(now),
            Event::SendFailed => {
                self.initial_left = self.initial_left.saturating_add(1);
                let t = now.saturating_add(RETRY);
                self.send_by(t);
                Vec::new()
            }
            Event::Stop => {
                if self.advertising {
                    self.advertising = false;
                    self.next = None;
                    return vec![Action::Multicast(self.advert(now, Some(0)).build())];
                }
                Vec::new()
            }
        }
    }

    fn solicited(
        &mut self,
        now: Duration,
        from: Ipv6Addr,
        hop_limit: Option<u8>,
        m: &[u8],
    ) -> Vec<Action> {
        // §6.1.1: only from the link itself (hop limit 255), well formed;
        // and no answer at all while there is nothing to advertise
        if hop_limit != Some(255) || msg::parse_rs(m, from).is_none() {
            return Vec::new();
        }
        if !self.synced || self.shown.is_empty() {
            return Vec::new();
        }
        if from.segments()[0] & 0xffc0 == 0xfe80 {
            if now >= self.unicast_window.0.saturating_add(MIN_DELAY_BETWEEN_RAS) {
                self.unicast_window = (now, 0);
            }
            if self.unicast_window.1 < UNICAST_BURST {
                self.unicast_window.1 += 1;
                return vec![Action::Unicast(from, self.advert(now, None).build())];
            }
        }
        let delay = self.random_up_to(MAX_RA_DELAY_TIME);
        let t = self.allowed(now.saturating_add(delay));
        self.send_by(t);
        Vec::new()
    }

    fn timer(&mut self, now: Duration) -> Vec<Action> {
        if self.next.is_none_or(|t| now < t) {
            return Vec::new();
        }
        self.next = None;
        if !self.synced {
            return Vec::new();
        }
        self.last_multicast = Some(now);
        if self.shown.is_empty() {
            // the last prefix went: say once that this router is gone
            if !self.advertising {
                return Vec::new();
            }
            self.advertising = false;
            self.sent.clear();
            return vec![Action::Multicast(self.advert(now, Some(0)).build())];
        }
        self.advertising = true;
        let span = self.cfg.max_interval.saturating_sub(self.cfg.min_interval);
        let mut wait = self
            .cfg
            .min_interval
            .saturating_add(self.random_up_to(span));
        self.initial_left = self.initial_left.saturating_sub(1);
        if self.initial_left > 0 {
            wait = wait.min(MAX_INITIAL_RTR_ADVERT_INTERVAL);
        }
        self.next = Some(now.saturating_add(wait));
        let ra = self.advert(now, None);
        self.sent.clone_from(&ra.prefixes);
        self.sent_at = now;
        vec![Action::Multicast(ra.build())]
    }
}

/// Any bytes as what ra reads from outside, the entry point of the fuzz
/// target `ra_msg`: a router solicitation (into the advertiser, from a
/// link-local address and from `::`), a control message, a socket address,
/// a route event, and an RA read back. Never panics; panics only when an RA
/// built from what `parse_ra` read does not read back to the same bytes, or
/// when what the advertiser sends is not an RA that reads back.
pub fn digest_untrusted(bytes: &[u8]) {
    let _ = msg::hop_limit(bytes);
    let _ = msg::sockaddr6(bytes);
    let _ = crate::netlink::default_route6_event(24, bytes);
    if let Some(a) = msg::parse_ra(bytes) {
        let b1 = a.build();
        let a2 = msg::parse_ra(&b1).expect("an RA built does not parse");
        assert_eq!(a2.build(), b1, "build(parse(build(a))) != build(a)");
    }
    let mut n = 0u32;
    let mut ad = Advertiser::new(
        Config {
            dnssl: vec!["lan.example".into()],
            mac: Some([2, 0, 0, 0, 0, 1]),
            ..Config::default()
        },
        Box::new(move || {
            n = n.wrapping_add(0x9e37_79b9);
            n
        }),
    );
    let lan = Address {
        index: 1,
        ip: Ipv6Addr::new(0x2001, 0xdb8, 1, 1, 0, 0, 0, 1),
        prefix: 64,
        scope: 0,
        flags: 0,
        proto: 0,
        preferred: 3600,
        valid: 7200,
        deleted: false,
    };
    let mut now = Duration::from_secs(1);
    ad.handle(now, Event::Address(lan));
    ad.handle(now, Event::Synced);
    let mut out = ad.handle(now, Event::Timer);
    for from in [
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2),
        Ipv6Addr::UNSPECIFIED,
    ] {
        for _ in 0..12 {
            now += Duration::from_millis(100);
            out.extend(ad.handle(
                now,
                Event::Solicit {
                    from,
                    hop_limit: Some(255),
                    msg: bytes,
                },
            ));
            if ad.deadline().is_some_and(|d| d <= now) {
                out.extend(ad.handle(now, Event::Timer));
            }
        }
    }
    out.extend(ad.handle(now, Event::Stop));
    for a in out {
        if let Action::Multicast(b) | Action::Unicast(_, b) = a {
            let ra = msg::parse_ra(&b).expect("what ra sends is an RA");
            assert_eq!(ra.build(), b);
        }
    }
}

#[cfg(test)]
mod tests;
