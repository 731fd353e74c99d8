//! The bindings the client holds: per IA its leases (addresses or
//! prefixes) with absolute lifetimes, and T1/T2; how a server's IA
//! changes them (RFC 8415 §18.2.10.1); what the shell is told.

use super::super::msg::{status, Ia, IaAddr, INFINITY};
use std::net::Ipv6Addr;
use std::time::Duration;

/// T1 is never sooner than this after a reply (tiny or zero lifetimes
/// would make the client renew in a busy loop: odhcp6c #35).
pub const MIN_T1: Duration = Duration::from_secs(10);

/// An address or prefix with what is left of its lifetimes, in seconds
/// (`INFINITY` for ever), as the shell and the handler script get it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub addr: Ipv6Addr,
    pub len: u8,
    pub preferred: u32,
    pub valid: u32,
}

/// What the client holds, as each event reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bindings {
    pub addresses: Vec<Lease>,
    /// Delegated prefixes; a replaced one stays here deprecated
    /// (preferred 0) until its valid lifetime ends.
    pub prefixes: Vec<Lease>,
    /// Leases that ended with this event (expired, given back with a valid
    /// lifetime of 0, not on this link, released): to remove, or to
    /// announce once more with lifetime 0.
    pub withdrawn: Vec<Lease>,
    pub dns: Vec<Ipv6Addr>,
    pub domains: Vec<String>,
    /// The DUID of the server of the bindings.
    pub server: Vec<u8>,
}

/// A lease with absolute ends (`None`: never).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    pub addr: Ipv6Addr,
    pub len: u8,
    pub preferred_end: Option<Duration>,
    pub valid_end: Option<Duration>,
}

fn end(now: Duration, secs: u32) -> Option<Duration> {
    (secs != INFINITY).then(|| now.saturating_add(Duration::from_secs(secs.into())))
}

fn left(now: Duration, end: Option<Duration>) -> u32 {
    end.map_or(INFINITY, |e| {
        e.saturating_sub(now).as_secs().min((INFINITY - 1).into()) as u32
    })
}

impl Held {
    /// As it is reported once it ended: both lifetimes 0.
    pub fn gone(&self) -> Lease {
        Lease {
            addr: self.addr,
            len: self.len,
            preferred: 0,
            valid: 0,
        }
    }

    pub fn lease(&self, now: Duration) -> Lease {
        Lease {
            addr: self.addr,
            len: self.len,
            preferred: left(now, self.preferred_end),
            valid: left(now, self.valid_end),
        }
    }
}

/// How a server answered for one IA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// At least one lease granted.
    Granted,
    /// Not in the reply, or discarded (T1 > T2).
    Missing,
    /// A status code for the IA, or for every lease in it (NoPrefixAvail
    /// inside the IAPREFIX: odhcp6c #61's case), or no lease granted.
    Refused(u16),
}

/// One IA_NA or IA_PD of ours.
#[derive(Clone, Debug, Default)]
pub struct IaState {
    pub leases: Vec<Held>,
    /// Renew at, rebind at (`None`: never).
    pub t1: Option<Duration>,
    pub t2: Option<Duration>,
}

/// A lease a client may use: addresses unicast, prefixes /1 to /64 (a
/// router splits a delegated prefix into a /64 per LAN; a longer one is
/// of no use to it, a /0 is absurd), host bits cleared.
pub(super) fn usable(a: &IaAddr, pd: bool) -> Option<(Ipv6Addr, u8)> {
    if a.preferred > a.valid || a.status.as_ref().is_some_and(|s| s.code != status::SUCCESS) {
        return None;
    }
    if pd {
        if !(1..=64).contains(&a.len) {
            return None;
        }
        let mask = u128::MAX << (128 - a.len as u32);
        Some((Ipv6Addr::from(u128::from(a.addr) & mask), a.len))
    } else {
        let bad = a.addr.is_unspecified() || a.addr.is_loopback() || a.addr.is_multicast();
        (!bad).then_some((a.addr, 128))
    }
}

impl IaState {
    pub fn is_empty(&self) -> bool {
        self.leases.is_empty()
    }

    /// Take a server's IA (RFC 8415 §18.2.10.1): leases with a valid
    /// lifetime of 0 go (into `withdrawn`), the others are added or get
    /// their new lifetimes. Leases the reply does not name are left as they
    /// are, except that when the server grants a new one (a changed prefix)
    /// they are deprecated: preferred 0, valid as it was (RFC 7084 L-13).
    /// A refused IA changes nothing: its leases run on to their ends.
    pub fn apply(
        &mut self,
        now: Duration,
        ia: Option<&Ia>,
        pd: bool,
        withdrawn: &mut Vec<Lease>,
    ) -> Outcome {
        let Some(ia) = ia else {
            return Outcome::Missing;
        };
        if ia.t1 > ia.t2 && ia.t2 > 0 {
            return Outcome::Missing; // §21.4, §21.21: discarded
        }
        if ia.code() != status::SUCCESS {
            return Outcome::Refused(ia.code());
        }
        let mut granted = 0;
        let mut fresh = false;
        let mut shortest = INFINITY;
        let mut named = Vec::new();
        let mut refusal = status::NO_ADDRS_AVAIL;
        for a in &ia.addrs {
            let Some((addr, len)) = usable(a, pd) else {
                if let Some(s) = &a.status {
                    refusal = s.code;
                }
                continue;
            };
            named.push((addr, len));
            let at = self
                .leases
                .iter()
                .position(|h| h.addr == addr && h.len == len);
            if a.valid == 0 {
                if let Some(i) = at {
                    withdrawn.push(self.leases.remove(i).gone());
                }
                continue;
            }
            let h = Held {
                addr,
                len,
                preferred_end: end(now, a.preferred),
                valid_end: end(now, a.valid),
            };
            match at {
                Some(i) => self.leases[i] = h,
                None => {
                    fresh = true;
                    self.leases.push(h);
                }
            }
            granted += 1;
            if a.preferred > 0 {
                shortest = shortest.min(a.preferred);
            }
        }
        if granted == 0 {
            if pd && refusal == status::NO_ADDRS_AVAIL {
                refusal = status::NO_PREFIX_AVAIL;
            }
            return Outcome::Refused(refusal);
        }
        if fresh {
            for h in self.leases.iter_mut() {
                if !named.contains(&(h.addr, h.len)) {
                    h.preferred_end = Some(now);
                }
            }
        }
        // §14.2 / §21.4: T1 and T2 of 0 are the client's choice: 0.5 and
        // 0.8 of the shortest preferred lifetime.
        let part = |given: u32, tenths: u64| match given {
            0 if shortest == INFINITY => INFINITY,
            0 => (shortest as u64 * tenths / 10) as u32,
            t => t,
        };
        let (t1, t2) = (part(ia.t1, 5), part(ia.t2, 8));
        let t1 = (t1 != INFINITY)
            .then(|| now.saturating_add(Duration::from_secs(t1.into()).max(MIN_T1)));
        let t2 = (t2 != INFINITY)
            .then(|| now.saturating_add(Duration::from_secs(t2.into()).max(MIN_T1)));
        self.t1 = t1;
        self.t2 = match (t1, t2) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (_, b) => b,
        };
        Outcome::Granted
    }

    /// Remove the leases whose valid lifetime has ended.
    pub fn expire(&mut self, now: Duration, withdrawn: &mut Vec<Lease>) {
        self.leases.retain(|h| {
            let gone = h.valid_end.is_some_and(|e| now >= e);
            if gone {
                withdrawn.push(h.gone());
            }
            !gone
        });
        if self.leases.is_empty() {
            (self.t1, self.t2) = (None, None);
        }
    }

    /// The nearest end of a valid lifetime.
    pub fn next_expiry(&self) -> Option<Duration> {
        self.leases.iter().filter_map(|h| h.valid_end).min()
    }

    /// The last end of a valid lifetime; `None` if one is for ever (zero
    /// when none is held).
    pub fn last_expiry(&self) -> Option<Duration> {
        self.leases
            .iter()
            .map(|h| h.valid_end)
            .try_fold(Duration::ZERO, |m, e| e.map(|e| m.max(e)))
    }

    pub fn snapshot(&self, now: Duration) -> Vec<Lease> {
        self.leases.iter().map(|h| h.lease(now)).collect()
    }

    /// The IA as a client sends it to name what it holds (RFC 8415 §18.2.4:
    /// T1, T2 and lifetimes 0), or `hints` when it holds nothing.
    pub fn request_ia(&self, iaid: u32, hints: &[IaAddr]) -> Ia {
        let mut ia = Ia::new(iaid);
        ia.addrs = self
            .leases
            .iter()
            .map(|h| IaAddr {
                addr: h.addr,
                len: h.len,
                preferred: 0,
                valid: 0,
                status: None,
            })
            .collect();
        if ia.addrs.is_empty() {
            ia.addrs = hints.to_vec();
        }
        ia
    }
}
