//! What the client does with a server's answer: Advertises collected and
//! chosen (§18.2.9), Replies to REQUEST, RENEW and REBIND (§18.2.10.1),
//! CONFIRM (§18.2.10.2's NotOnLink) and INFORMATION-REQUEST.

use super::binding::{self, IaState, Outcome};
use super::config::Want;
use super::retrans::{randomised, Exchange, MAX_RT_RANGE};
use super::{ours, Action, Client, Offer, State, INFO_REFRESH, IRT_MINIMUM};
use crate::dhcp6::core::msg::{status, Ia, IaAddr, Kind, Message, INFINITY};
use std::time::Duration;

/// The leases of an advertised IA we could use.
fn offered(ia: Option<&Ia>, pd: bool) -> Vec<IaAddr> {
    let Some(ia) = ia.filter(|ia| ia.code() == status::SUCCESS && !(ia.t1 > ia.t2 && ia.t2 > 0))
    else {
        return Vec::new();
    };
    ia.addrs
        .iter()
        .filter(|a| a.valid > 0 && binding::usable(a, pd).is_some())
        .map(|a| IaAddr {
            preferred: 0,
            valid: 0,
            status: None,
            ..a.clone()
        })
        .collect()
}

impl Client {
    /// REQUEST the best Advertise: highest preference, then the one that
    /// offers more of what we want, then the first.
    pub(super) fn choose(&mut self, now: Duration) -> Vec<Action> {
        let mut best: Option<Offer> = None;
        for o in self.offers.drain(..) {
            if best
                .as_ref()
                .is_none_or(|b| (o.preference, o.kinds) > (b.preference, b.kinds))
            {
                best = Some(o);
            }
        }
        let Some(o) = best else {
            return Vec::new();
        };
        self.server = Some(o.server);
        self.hints_na = o.na;
        self.hints_pd = o.pd;
        self.begin(now, Kind::Request, None)
    }

    /// SOL_MAX_RT and INF_MAX_RT from any reply of ours (§18.2.9, §18.2.10).
    fn learn_max_rt(&mut self, m: &Message) {
        let ok = |v: Option<u32>| {
            v.filter(|v| MAX_RT_RANGE.contains(v))
                .map(|v| Duration::from_secs(v.into()))
        };
        if let Some(v) = ok(m.sol_max_rt) {
            self.sol_max_rt = v;
        }
        if let Some(v) = ok(m.inf_max_rt) {
            self.inf_max_rt = v;
        }
        let p = self.ex.as_ref().map(|e| self.params(e.kind));
        if let (Some(ex), Some(p)) = (self.ex.as_mut(), p) {
            ex.params = p;
        }
    }

    pub(super) fn packet(&mut self, now: Duration, m: &Message) -> Vec<Action> {
        let Some(ex) = &self.ex else {
            return Vec::new();
        };
        // RFC 8415 §16.10/§16.11: ours (transaction, client id), from a server
        if m.xid != ex.xid
            || m.client_id.as_deref() != Some(&self.cfg.duid[..])
            || m.server_id.is_none()
        {
            return Vec::new();
        }
        if !matches!(m.kind, Kind::Advertise | Kind::Reply) {
            return Vec::new();
        }
        self.learn_max_rt(m);
        let Some(ex) = &self.ex else {
            return Vec::new();
        };
        match (ex.kind, m.kind) {
            (Kind::Solicit, Kind::Advertise) => self.advertise(now, m),
            (Kind::Solicit, Kind::Reply) if self.cfg.rapid_commit && m.rapid_commit => {
                self.reply(now, m, Kind::Request)
            }
            (k @ (Kind::Request | Kind::Renew | Kind::Rebind), Kind::Reply) => {
                self.reply(now, m, k)
            }
            (Kind::Confirm, Kind::Reply) => self.confirmed(now, m),
            (Kind::InformationRequest, Kind::Reply) => self.informed(now, m),
            (Kind::Release, Kind::Reply) => {
                self.ex = None;
                self.state = State::Done;
                vec![Action::Done]
            }
            _ => Vec::new(),
        }
    }

    /// An Advertise with nothing we can use is ignored (§18.2.9); one of
    /// preference 255 is taken at once, and so is any once the first RT
    /// has passed.
    fn advertise(&mut self, now: Duration, m: &Message) -> Vec<Action> {
        let iaid = self.cfg.iaid;
        let na = if self.cfg.na == Want::None {
            Vec::new()
        } else {
            offered(ours(&m.ia_na, iaid), false)
        };
        let pd = if self.cfg.pd.is_none() {
            Vec::new()
        } else {
            offered(ours(&m.ia_pd, iaid), true)
        };
        let kinds = u8::from(!na.is_empty()) + u8::from(!pd.is_empty());
        if kinds == 0 || (self.cfg.na == Want::Force && na.is_empty()) {
            return Vec::new();
        }
        let server = m.server_id.clone().unwrap_or_default();
        let preference = m.preference.unwrap_or(0);
        self.offers.retain(|o| o.server != server);
        self.offers.push(Offer {
            server,
            preference,
            kinds,
            na,
            pd,
        });
        let over = self.ex.as_ref().is_some_and(|e| e.first_rt_over(now));
        if preference == 255 || over {
            self.choose(now)
        } else {
            Vec::new()
        }
    }

    /// A Reply to REQUEST (or a Rapid Commit SOLICIT), RENEW or REBIND
    /// (§18.2.10.1).
    fn reply(&mut self, now: Duration, m: &Message, kind: Kind) -> Vec<Action> {
        if matches!(m.code(), status::UNSPEC_FAIL | status::USE_MULTICAST) {
            // not an answer: the retransmissions go on, at their rate
            return Vec::new();
        }
        let before = self.holds();
        let iaid = self.cfg.iaid;
        let mut w = Vec::new();
        let na = match self.cfg.na {
            Want::None => Outcome::Missing,
            _ => self.na.apply(now, ours(&m.ia_na, iaid), false, &mut w),
        };
        let pd = match self.cfg.pd {
            None => Outcome::Missing,
            Some(_) => self.pd.apply(now, ours(&m.ia_pd, iaid), true, &mut w),
        };
        let granted = na == Outcome::Granted || pd == Outcome::Granted;
        if kind == Kind::Request && !granted && w.is_empty() {
            return Vec::new(); // nothing for us: REQUEST goes on, then SOLICIT
        }
        self.server = m.server_id.clone();
        if granted {
            self.dns = m.dns.clone();
            self.domains = m.domains.clone();
        }
        let mut a = Vec::new();
        if !self.holds() {
            a.push(Action::Unbound(self.report(now, w)));
            a.extend(self.begin_fresh(now));
            return a;
        }
        if granted || !w.is_empty() {
            let b = self.report(now, w);
            a.push(if !before {
                Action::Bound(b)
            } else if kind == Kind::Rebind {
                Action::Rebound(b)
            } else {
                Action::Updated(b)
            });
        }
        let no_binding = Outcome::Refused(status::NO_BINDING);
        if kind != Kind::Request && (na == no_binding || pd == no_binding) {
            a.extend(self.begin(now, Kind::Request, None));
            return a;
        }
        let missing = (self.cfg.pd.is_some() && pd != Outcome::Granted)
            || (self.cfg.na == Want::Force && na != Outcome::Granted);
        if !missing {
            self.ex = None;
            self.state = State::Bound;
            return a;
        }
        // Keep asking for what is missing, at RENEW's (or REBIND's) pace,
        // in a new transaction (a copy of this Reply is then foreign).
        let xid = self.xid_new();
        let mrd = if kind == Kind::Rebind {
            self.last_expiry()
        } else {
            self.rebind_at()
        };
        match self.ex.as_mut() {
            Some(ex) if kind != Kind::Request && ex.kind == kind => {
                ex.xid = xid;
                ex.mrd_end = mrd;
            }
            _ => {
                let p = self.params(Kind::Renew);
                let first = now.saturating_add(randomised(p.irt, (self.random)(), false));
                self.ex = Some(Exchange::new(Kind::Renew, xid, first, p, mrd));
                self.state = State::Renewing;
            }
        }
        a
    }

    fn confirmed(&mut self, now: Duration, m: &Message) -> Vec<Action> {
        match m.code() {
            status::UNSPEC_FAIL | status::USE_MULTICAST => Vec::new(),
            status::NOT_ON_LINK => {
                // another link: these addresses are of no use here
                let w = self.na.leases.drain(..).map(|h| h.gone()).collect();
                self.na = IaState::default();
                let mut a = vec![Action::Unbound(self.report(now, w))];
                a.extend(self.begin_fresh(now));
                a
            }
            _ => {
                self.ex = None;
                self.state = State::Bound;
                Vec::new()
            }
        }
    }

    fn informed(&mut self, now: Duration, m: &Message) -> Vec<Action> {
        if matches!(m.code(), status::UNSPEC_FAIL | status::USE_MULTICAST) {
            return Vec::new();
        }
        self.dns = m.dns.clone();
        self.domains = m.domains.clone();
        self.server = m.server_id.clone();
        self.refresh_at = match m.info_refresh {
            Some(INFINITY) => None,
            Some(s) => Some(now.saturating_add(Duration::from_secs(s.into()).max(IRT_MINIMUM))),
            None => Some(now.saturating_add(INFO_REFRESH)),
        };
        self.ex = None;
        self.state = State::Informed;
        vec![Action::Informed(self.report(now, Vec::new()))]
    }
}
