//! The DHCPv6 client state machine (RFC 8415 §18), sans I/O: driven by
//! `(now, event)`, it returns actions. Time is a monotonic `Duration`
//! from the caller and random numbers (transaction ids, RAND of §15) come
//! from the caller's `Random`, so tests run it on virtual time with chosen
//! randomness.
//!
//! Bindings are kept until their valid lifetimes end or a server says
//! they are gone: a refused renewal (NoPrefixAvail, NoAddrsAvail, inside
//! the IA or inside the lease) keeps the lease and keeps asking, through
//! RENEW, REBIND and, once it has really ended, SOLICIT (odhcp6c #61: a
//! prefix dropped on such an answer cost its users 12 hours). A configured
//! prefix that is not granted is asked for again (RENEW's back-off, 10 s to
//! 600 s) for as long as it is missing. A lost carrier changes no binding
//! and sends nothing; its return CONFIRMs addresses or REBINDs when
//! prefixes are held (§18.2.12). Only an explicit stop RELEASEs.

mod answers;
mod binding;
mod config;
mod retrans;
#[cfg(test)]
mod tests;

use super::msg::{Ia, IaAddr, Kind, Message};
use binding::IaState;
pub use binding::{Bindings, Lease, Outcome, MIN_T1};
pub use config::{Config, PdHint, Want};
use retrans::{params, Exchange, INF_MAX_RT, SOL_MAX_RT};
use std::time::Duration;

/// Where random numbers come from (the shell: getrandom; tests: a list).
pub type Random = Box<dyn FnMut() -> u32>;

/// Information refresh time (option 32) by default, and at least (§21.23).
pub const INFO_REFRESH: Duration = Duration::from_secs(86400);
pub const IRT_MINIMUM: Duration = Duration::from_secs(600);
/// CONFIRM gives up after this (CNF_MAX_RD, §7.6) and the addresses stay.
pub const CNF_MAX_RD: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Not started, or waiting for the link (nothing held).
    Idle,
    Soliciting,
    Requesting,
    /// Bindings held, no exchange running.
    Bound,
    Renewing,
    Rebinding,
    Confirming,
    Informing,
    /// Stateless: information received, waiting for its refresh.
    Informed,
    Releasing,
    /// Stopped: the shell may exit.
    Done,
}

#[derive(Debug)]
pub enum Event<'a> {
    Start {
        link_up: bool,
    },
    /// A message from port 547, decoded.
    Packet(&'a Message),
    Timer,
    LinkUp,
    LinkDown,
    /// Renew at once (odhcp6c's SIGUSR1).
    RenewNow,
    /// Explicit stop: RELEASE what is held, then `Done`.
    Stop,
    /// A router advertisement on the link, its M (managed) and O (other
    /// configuration) flags (RFC 4861 §4.2); only `Config::follow_ra` reads it.
    RouterAdvert {
        managed: bool,
        other: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// To `msg::ALL_SERVERS`, port 547, from our link-local address.
    Send(Message),
    /// Bindings where there were none.
    Bound(Bindings),
    /// Bindings changed (renewed, one expired, one given back).
    Updated(Bindings),
    /// Bindings confirmed by REBIND (after T2, or a replug).
    Rebound(Bindings),
    /// Nothing held any more; `withdrawn` says what ended.
    Unbound(Bindings),
    /// Stateless: DNS servers and domains.
    Informed(Bindings),
    /// The carrier is back: the kernel is to forget the link's IPv6
    /// neighbours it could not resolve while the cable was out. It would
    /// send their next solicitation only at its retransmission timer (1 s),
    /// with the LAN's traffic to the upstream router queued behind it;
    /// forgotten, the next packet solicits at once.
    ForgetNeighbours,
    Done,
}

/// An Advertise kept while SOLICIT collects them.
#[derive(Clone, Debug)]
struct Offer {
    server: Vec<u8>,
    preference: u8,
    /// How many of the IA types we want it offers.
    kinds: u8,
    na: Vec<IaAddr>,
    pd: Vec<IaAddr>,
}

pub struct Client {
    cfg: Config,
    random: Random,
    state: State,
    link_up: bool,
    ex: Option<Exchange>,
    offers: Vec<Offer>,
    /// The server asked by REQUEST and RENEW: the chosen one, then the one
    /// of the bindings.
    server: Option<Vec<u8>>,
    /// Leases of the chosen Advertise, named in the REQUEST.
    hints_na: Vec<IaAddr>,
    hints_pd: Vec<IaAddr>,
    na: IaState,
    pd: IaState,
    dns: Vec<std::net::Ipv6Addr>,
    domains: Vec<String>,
    sol_max_rt: Duration,
    inf_max_rt: Duration,
    refresh_at: Option<Duration>,
    /// What the RELEASE names (taken when stopping).
    released: (Vec<Ia>, Vec<Ia>),
    /// The M and O flags of the last router advertisement, if one came.
    ra: Option<(bool, bool)>,
}

fn ours(ias: &[Ia], iaid: u32) -> Option<&Ia> {
    ias.iter().find(|ia| ia.iaid == iaid)
}

impl Client {
    pub fn new(cfg: Config, random: Random) -> Client {
        let sol_max_rt = cfg.sol_max_rt.unwrap_or(SOL_MAX_RT);
        Client {
            cfg,
            random,
            state: State::Idle,
            link_up: false,
            ex: None,
            offers: Vec::new(),
            server: None,
            hints_na: Vec::new(),
            hints_pd: Vec::new(),
            na: IaState::default(),
            pd: IaState::default(),
            dns: Vec::new(),
            domains: Vec::new(),
            sol_max_rt,
            inf_max_rt: INF_MAX_RT,
            refresh_at: None,
            released: (Vec::new(), Vec::new()),
            ra: None,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// The transaction id of the exchange running, if one is.
    pub fn xid(&self) -> Option<u32> {
        self.ex.as_ref().map(|e| e.xid)
    }

    pub fn bindings(&self, now: Duration) -> Bindings {
        self.report(now, Vec::new())
    }

    fn report(&self, now: Duration, withdrawn: Vec<Lease>) -> Bindings {
        Bindings {
            addresses: self.na.snapshot(now),
            prefixes: self.pd.snapshot(now),
            withdrawn,
            dns: self.dns.clone(),
            domains: self.domains.clone(),
            server: self.server.clone().unwrap_or_default(),
        }
    }

    fn holds(&self) -> bool {
        !self.na.is_empty() || !self.pd.is_empty()
    }

    /// The first T1 and T2 of the IAs that hold leases.
    fn renew_at(&self) -> Option<Duration> {
        [&self.na, &self.pd]
            .iter()
            .filter(|i| !i.is_empty())
            .filter_map(|i| i.t1)
            .min()
    }
    fn rebind_at(&self) -> Option<Duration> {
        [&self.na, &self.pd]
            .iter()
            .filter(|i| !i.is_empty())
            .filter_map(|i| i.t2)
            .min()
    }
    /// REBIND's MRD: until every valid lifetime has ended (`None`: one never does).
    fn last_expiry(&self) -> Option<Duration> {
        Some(self.na.last_expiry()?.max(self.pd.last_expiry()?))
    }

    /// When `Event::Timer` is due: expiry of a lease (carrier or not), and
    /// with the carrier the exchange's next transmission or end, T1, or the
    /// information refresh.
    pub fn deadline(&self) -> Option<Duration> {
        let expiry = [self.na.next_expiry(), self.pd.next_expiry()]
            .into_iter()
            .flatten()
            .min();
        let own = if !self.link_up {
            None
        } else if let Some(ex) = &self.ex {
            Some(ex.deadline())
        } else {
            match self.state {
                State::Bound => self.renew_at(),
                State::Informed => self.refresh_at,
                _ => None,
            }
        };
        [expiry, own].into_iter().flatten().min()
    }

    fn xid_new(&mut self) -> u32 {
        (self.random)() & 0xff_ffff
    }

    fn params(&self, kind: Kind) -> retrans::Params {
        params(kind, self.sol_max_rt, self.inf_max_rt)
    }

    /// Start an exchange of `kind` and send its first message now.
    fn begin(&mut self, now: Duration, kind: Kind, mrd_end: Option<Duration>) -> Vec<Action> {
        let xid = self.xid_new();
        self.ex = Some(Exchange::new(kind, xid, now, self.params(kind), mrd_end));
        self.state = match kind {
            Kind::Solicit => State::Soliciting,
            Kind::Request => State::Requesting,
            Kind::Renew => State::Renewing,
            Kind::Rebind => State::Rebinding,
            Kind::Confirm => State::Confirming,
            Kind::Release => State::Releasing,
            _ => State::Informing,
        };
        self.transmit(now)
    }

    /// Start from nothing: SOLICIT, or INFORMATION-REQUEST when stateless;
    /// without the carrier, wait for it.
    fn begin_fresh(&mut self, now: Duration) -> Vec<Action> {
        self.offers.clear();
        self.hints_na.clear();
        self.hints_pd.clear();
        self.ex = None;
        if !self.link_up {
            self.state = if self.state == State::Informed {
                State::Informed
            } else {
                State::Idle
            };
            return Vec::new();
        }
        let (info, quiet) = match (self.cfg.waits_for_ra(), self.ra) {
            (false, _) => (self.cfg.stateless(), false),
            (true, Some((true, _))) => (self.cfg.stateless(), false),
            (true, Some((false, true))) => (true, false),
            // no RA yet, or one without M and O: no DHCPv6 on this link
            (true, _) => (false, true),
        };
        if quiet {
            self.state = State::Idle;
            return Vec::new();
        }
        if info {
            self.begin(now, Kind::InformationRequest, None)
        } else {
            self.server = None;
            self.begin(now, Kind::Solicit, None)
        }
    }

    /// (Re)send the exchange's message.
    fn transmit(&mut self, now: Duration) -> Vec<Action> {
        let m = self.message(now);
        let r = (self.random)();
        if let Some(ex) = self.ex.as_mut() {
            ex.transmit(now, r);
        }
        m.into_iter().map(Action::Send).collect()
    }

    fn pd_hint(&self) -> Vec<IaAddr> {
        match self.cfg.pd {
            Some(h) if h.len != 0 || !h.prefix.is_unspecified() => vec![IaAddr {
                addr: h.prefix,
                len: h.len,
                preferred: 0,
                valid: 0,
                status: None,
            }],
            _ => Vec::new(),
        }
    }

    fn message(&self, now: Duration) -> Option<Message> {
        let ex = self.ex.as_ref()?;
        let mut m = Message::new(ex.kind, ex.xid);
        m.client_id = Some(self.cfg.duid.clone());
        m.elapsed = Some(ex.elapsed(now));
        let iaid = self.cfg.iaid;
        match ex.kind {
            Kind::InformationRequest => m.oro = self.cfg.oro(true),
            Kind::Confirm => m.ia_na.push(self.na.request_ia(iaid, &[])),
            Kind::Release => {
                m.server_id = self.server.clone();
                (m.ia_na, m.ia_pd) = self.released.clone();
            }
            k => {
                m.oro = self.cfg.oro(false);
                m.rapid_commit = k == Kind::Solicit && self.cfg.rapid_commit;
                if matches!(k, Kind::Request | Kind::Renew) {
                    m.server_id = self.server.clone();
                }
                if self.cfg.na != Want::None {
                    m.ia_na.push(self.na.request_ia(iaid, &self.hints_na));
                }
                if self.cfg.pd.is_some() {
                    let hint = if self.hints_pd.is_empty() {
                        self.pd_hint()
                    } else {
                        self.hints_pd.clone()
                    };
                    m.ia_pd.push(self.pd.request_ia(iaid, &hint));
                }
            }
        }
        Some(m)
    }

    pub fn handle(&mut self, now: Duration, ev: Event) -> Vec<Action> {
        if self.state == State::Done {
            return Vec::new();
        }
        match ev {
            Event::Start { link_up } => {
                self.link_up = link_up;
                self.begin_fresh(now)
            }
            Event::LinkDown => {
                self.link_up = false;
                self.ex = None;
                self.offers.clear();
                self.state = match self.state {
                    State::Releasing => {
                        self.state = State::Done;
                        return vec![Action::Done];
                    }
                    _ if self.holds() => State::Bound,
                    State::Informed => State::Informed,
                    _ => State::Idle,
                };
                Vec::new()
            }
            Event::LinkUp => {
                if self.link_up {
                    return Vec::new();
                }
                self.link_up = true;
                let mut a = vec![Action::ForgetNeighbours];
                a.extend(if !self.pd.is_empty() {
                    let mrd = self.last_expiry();
                    self.begin(now, Kind::Rebind, mrd)
                } else if !self.na.is_empty() {
                    self.begin(now, Kind::Confirm, Some(now.saturating_add(CNF_MAX_RD)))
                } else {
                    self.begin_fresh(now)
                });
                a
            }
            Event::RenewNow if self.link_up => {
                if self.holds() {
                    let mrd = self.rebind_at();
                    self.begin(now, Kind::Renew, mrd)
                } else {
                    self.begin_fresh(now)
                }
            }
            Event::RenewNow => Vec::new(),
            Event::Stop => self.stop(now),
            Event::RouterAdvert { managed, other } => {
                self.ra = Some((managed, other));
                if !self.cfg.waits_for_ra() || !self.link_up {
                    return Vec::new();
                }
                match self.state {
                    // what the flags now allow, when nothing runs yet
                    State::Idle => self.begin_fresh(now),
                    // stateless so far, and now M: SOLICIT
                    State::Informing | State::Informed if managed && !self.cfg.stateless() => {
                        self.begin_fresh(now)
                    }
                    _ => Vec::new(),
                }
            }
            Event::Timer => self.timer(now),
            Event::Packet(m) => self.packet(now, m),
        }
    }

    /// Stop using every lease, RELEASE them (while the carrier is there),
    /// then `Done`.
    fn stop(&mut self, now: Duration) -> Vec<Action> {
        let mut a = Vec::new();
        let had = self.holds();
        if had {
            let iaid = self.cfg.iaid;
            let keep = |s: &IaState| (!s.is_empty()).then(|| s.request_ia(iaid, &[]));
            self.released = (
                keep(&self.na).into_iter().collect(),
                keep(&self.pd).into_iter().collect(),
            );
            let mut w: Vec<Lease> = self
                .na
                .leases
                .iter()
                .chain(&self.pd.leases)
                .map(|h| h.gone())
                .collect();
            self.na = IaState::default();
            self.pd = IaState::default();
            w.dedup();
            a.push(Action::Unbound(self.report(now, w)));
        }
        if had && self.link_up && self.server.is_some() {
            a.extend(self.begin(now, Kind::Release, None));
        } else {
            self.ex = None;
            self.state = State::Done;
            a.push(Action::Done);
        }
        a
    }

    fn timer(&mut self, now: Duration) -> Vec<Action> {
        let mut a = Vec::new();
        let mut w = Vec::new();
        self.na.expire(now, &mut w);
        self.pd.expire(now, &mut w);
        if !w.is_empty() {
            if self.holds() {
                a.push(Action::Updated(self.report(now, w)));
            } else {
                a.push(Action::Unbound(self.report(now, w)));
                if self.state != State::Releasing {
                    a.extend(self.begin_fresh(now));
                    return a;
                }
            }
        }
        if !self.link_up {
            return a;
        }
        match &self.ex {
            Some(ex) if now >= ex.deadline() => a.extend(self.exchange_timer(now)),
            Some(_) => {}
            None => match self.state {
                State::Bound if self.renew_at().is_some_and(|t| now >= t) => {
                    let rebind = self.rebind_at().is_some_and(|t| now >= t);
                    a.extend(if rebind {
                        let mrd = self.last_expiry();
                        self.begin(now, Kind::Rebind, mrd)
                    } else {
                        let mrd = self.rebind_at();
                        self.begin(now, Kind::Renew, mrd)
                    });
                }
                State::Informed if self.refresh_at.is_some_and(|t| now >= t) => {
                    a.extend(self.begin(now, Kind::InformationRequest, None))
                }
                _ => {}
            },
        }
        a
    }

    fn exchange_timer(&mut self, now: Duration) -> Vec<Action> {
        let Some(ex) = &self.ex else {
            return Vec::new();
        };
        let failed = ex.failed(now);
        match ex.kind {
            Kind::Solicit if !self.offers.is_empty() && ex.first_rt_over(now) => self.choose(now),
            Kind::Request if failed => {
                if self.holds() {
                    self.ex = None;
                    self.state = State::Bound;
                    Vec::new()
                } else {
                    self.begin_fresh(now)
                }
            }
            Kind::Renew if failed => {
                let mrd = self.last_expiry();
                self.begin(now, Kind::Rebind, mrd)
            }
            Kind::Confirm | Kind::Rebind if failed => {
                // no answer: the leases stay until they end (§18.2.3)
                self.ex = None;
                self.state = if self.holds() {
                    State::Bound
                } else {
                    State::Idle
                };
                Vec::new()
            }
            Kind::Release if failed => {
                self.ex = None;
                self.state = State::Done;
                vec![Action::Done]
            }
            _ if now >= ex.next => self.transmit(now),
            _ => Vec::new(),
        }
    }
}
