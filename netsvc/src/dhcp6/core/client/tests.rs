//! The client on virtual time, against a scripted server.

use super::*;
use crate::dhcp6::core::msg::{duid_ll, opt, status, Status, INFINITY};
use std::net::Ipv6Addr;

const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const IAID: u32 = 7;

fn s(x: f64) -> Duration {
    Duration::from_secs_f64(x)
}

fn ip(t: &str) -> Ipv6Addr {
    t.parse().unwrap()
}

fn srv(n: u8) -> Vec<u8> {
    duid_ll([2, 0, 0, 0, 9, n])
}

/// Random numbers whose RAND is 0 (r % 201 == 100) but which differ, so
/// each transaction id is new.
fn calm() -> Random {
    let mut c = 0u32;
    Box::new(move || {
        c += 1;
        100 + 201 * c
    })
}

/// Always `r`: RAND is fixed at one end or the other.
fn fixed(r: u32) -> Random {
    let mut c = 0u32;
    Box::new(move || {
        c += 1;
        r + 201 * 100 * c // same r % 201 and r % 100, new xids
    })
}

fn config() -> Config {
    let mut c = Config::new(duid_ll(MAC), IAID);
    c.pd = Some(PdHint {
        len: 56,
        prefix: Ipv6Addr::UNSPECIFIED,
    });
    c
}

fn started(cfg: Config) -> (Client, Vec<Action>) {
    let mut c = Client::new(cfg, calm());
    let a = c.handle(s(0.0), Event::Start { link_up: true });
    (c, a)
}

fn addr(a: &str, len: u8, preferred: u32, valid: u32) -> IaAddr {
    IaAddr {
        addr: ip(a),
        len,
        preferred,
        valid,
        status: None,
    }
}

fn ia(t1: u32, t2: u32, addrs: Vec<IaAddr>) -> Ia {
    let mut i = Ia::new(IAID);
    (i.t1, i.t2) = (t1, t2);
    i.addrs = addrs;
    i
}

/// A server's message to `c`'s current transaction.
fn answer(c: &Client, kind: Kind, server: u8) -> Message {
    let mut m = Message::new(kind, c.xid().expect("an exchange runs"));
    m.client_id = Some(duid_ll(MAC));
    m.server_id = Some(srv(server));
    m
}

const A1: &str = "2001:db8::100";
const P1: &str = "2001:db8:1100::";
const P2: &str = "2001:db8:2200::";

/// Address A1 and prefix P1/56: T1 100, T2 160, preferred 200, valid 300.
fn grant(c: &Client, kind: Kind) -> Message {
    let mut m = answer(c, kind, 1);
    m.ia_na.push(ia(100, 160, vec![addr(A1, 128, 200, 300)]));
    m.ia_pd.push(ia(100, 160, vec![addr(P1, 56, 200, 300)]));
    m.dns = vec![ip("2001:db8::53")];
    m.domains = vec!["example.net".into()];
    m
}

fn sent(a: &[Action]) -> Vec<&Message> {
    a.iter()
        .filter_map(|x| match x {
            Action::Send(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn kinds(a: &[Action]) -> Vec<Kind> {
    sent(a).iter().map(|m| m.kind).collect()
}

/// Fire every timer up to `until` with no answer; what was sent and when.
fn silence(c: &mut Client, until: Duration) -> Vec<(Duration, Action)> {
    let mut out = Vec::new();
    let mut guard = 0;
    while let Some(d) = c.deadline().filter(|&d| d <= until) {
        for a in c.handle(d, Event::Timer) {
            out.push((d, a));
        }
        guard += 1;
        assert!(guard < 10_000, "timer loop");
    }
    out
}

fn sends_at(log: &[(Duration, Action)], k: Kind) -> Vec<Duration> {
    log.iter()
        .filter_map(|(t, a)| match a {
            Action::Send(m) if m.kind == k => Some(*t),
            _ => None,
        })
        .collect()
}

fn events(log: &[(Duration, Action)]) -> Vec<&Action> {
    log.iter()
        .map(|(_, a)| a)
        .filter(|a| !matches!(a, Action::Send(_)))
        .collect()
}

/// Bound to A1 and P1/56 at 1.2 s (SOLICIT, ADVERTISE, REQUEST, REPLY).
fn bound(cfg: Config) -> Client {
    let (mut c, _) = started(cfg);
    let adv = grant(&c, Kind::Advertise);
    c.handle(s(0.1), Event::Packet(&adv));
    let a = silence(&mut c, s(1.2));
    assert_eq!(sends_at(&a, Kind::Request).len(), 1);
    let a = c.handle(s(1.2), Event::Packet(&grant(&c, Kind::Reply)));
    assert!(matches!(a[..], [Action::Bound(_)]), "{a:?}");
    c
}

#[test]
fn solicit_advertise_request_reply() {
    let (mut c, a) = started(config());
    let m = sent(&a);
    assert_eq!(m.len(), 1);
    let sol = m[0];
    assert_eq!(sol.kind, Kind::Solicit);
    assert_eq!(sol.client_id, Some(duid_ll(MAC)));
    assert_eq!(
        (sol.server_id.as_ref(), sol.elapsed, sol.rapid_commit),
        (None, Some(0), true)
    );
    for o in [opt::DNS_SERVERS, opt::DOMAIN_LIST, opt::SOL_MAX_RT] {
        assert!(sol.oro.contains(&o), "{o} asked for");
    }
    assert_eq!(sol.ia_na, vec![Ia::new(IAID)]);
    assert_eq!(sol.ia_pd.len(), 1);
    assert_eq!(
        sol.ia_pd[0].addrs,
        vec![addr("::", 56, 0, 0)],
        "the length hint"
    );
    // an Advertise of preference 0: collected until the first RT is over
    let adv = grant(&c, Kind::Advertise);
    assert!(c.handle(s(0.1), Event::Packet(&adv)).is_empty());
    let first_rt = c.deadline().unwrap();
    assert!(first_rt > s(1.0) && first_rt <= s(1.1), "{first_rt:?}");
    let a = c.handle(first_rt, Event::Timer);
    let req = sent(&a)[0].clone();
    assert_eq!(req.kind, Kind::Request);
    assert_ne!(req.xid, sol.xid);
    assert_eq!(req.server_id, Some(srv(1)));
    assert_eq!(req.elapsed, Some(0), "a new exchange");
    assert_eq!(
        req.ia_na[0].addrs,
        vec![addr(A1, 128, 0, 0)],
        "the advertised address named"
    );
    assert_eq!(req.ia_pd[0].addrs, vec![addr(P1, 56, 0, 0)]);
    assert_eq!(c.state(), State::Requesting);
    let at = first_rt + s(0.01);
    let a = c.handle(at, Event::Packet(&grant(&c, Kind::Reply)));
    let [Action::Bound(b)] = &a[..] else {
        panic!("{a:?}")
    };
    assert_eq!(
        b.addresses,
        vec![Lease {
            addr: ip(A1),
            len: 128,
            preferred: 200,
            valid: 300
        }]
    );
    assert_eq!(
        b.prefixes,
        vec![Lease {
            addr: ip(P1),
            len: 56,
            preferred: 200,
            valid: 300
        }]
    );
    assert_eq!(
        (b.dns.clone(), b.domains.clone(), b.server.clone()),
        (
            vec![ip("2001:db8::53")],
            vec!["example.net".to_string()],
            srv(1)
        )
    );
    assert_eq!(c.state(), State::Bound);
    assert_eq!(c.deadline(), Some(at + s(100.0)), "T1");
}

#[test]
fn server_choice_by_preference_and_what_it_offers() {
    let (mut c, _) = started(config());
    let mut low = grant(&c, Kind::Advertise);
    low.preference = Some(10);
    let mut high = answer(&c, Kind::Advertise, 2);
    high.preference = Some(20);
    high.ia_pd.push(ia(0, 0, vec![addr(P2, 60, 100, 200)]));
    // equal preference, but offering both kinds
    let mut both = grant(&c, Kind::Advertise);
    both.server_id = Some(srv(3));
    both.preference = Some(20);
    for m in [&low, &high, &both] {
        assert!(c.handle(s(0.2), Event::Packet(m)).is_empty());
    }
    let a = silence(&mut c, s(1.1));
    let req: Vec<_> = a
        .iter()
        .filter_map(|(_, a)| {
            if let Action::Send(m) = a {
                Some(m)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(req[0].server_id, Some(srv(3)));

    // preference 255: at once
    let (mut c, _) = started(config());
    let mut top = grant(&c, Kind::Advertise);
    top.preference = Some(255);
    let a = c.handle(s(0.05), Event::Packet(&top));
    assert_eq!(kinds(&a), [Kind::Request]);

    // after the first RT, the first usable Advertise is taken at once
    let (mut c, _) = started(config());
    let log = silence(&mut c, s(1.5));
    assert_eq!(sends_at(&log, Kind::Solicit).len(), 1);
    let a = c.handle(s(1.6), Event::Packet(&grant(&c, Kind::Advertise)));
    assert_eq!(kinds(&a), [Kind::Request]);
}

#[test]
fn an_advertise_with_nothing_usable_is_ignored_but_its_sol_max_rt_counts() {
    let (mut c, _) = started(config());
    let mut empty = answer(&c, Kind::Advertise, 1);
    empty.status = Some(Status::new(status::NO_ADDRS_AVAIL));
    empty.sol_max_rt = Some(60);
    empty.preference = Some(255);
    assert!(c.handle(s(0.1), Event::Packet(&empty)).is_empty());
    let log = silence(&mut c, s(400.0));
    let t = sends_at(&log, Kind::Solicit);
    let gaps: Vec<f64> = t.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()).collect();
    assert!(
        gaps.iter().all(|&g| g <= 66.0),
        "SOL_MAX_RT 60 s ±10%: {gaps:?}"
    );
    assert!(gaps.last().unwrap() >= &54.0);
    // out of range (§21.24): ignored
    let mut silly = answer(&c, Kind::Advertise, 1);
    silly.sol_max_rt = Some(5);
    c.handle(s(400.0), Event::Packet(&silly));
    let log = silence(&mut c, s(1000.0));
    let t = sends_at(&log, Kind::Solicit);
    assert!(t.windows(2).all(|w| w[1] - w[0] >= s(54.0)), "{t:?}");
}

#[test]
fn force_wants_an_address_and_prefix_only_needs_none() {
    let mut cfg = config();
    cfg.na = Want::Force;
    let (mut c, _) = started(cfg);
    let mut pd_only = answer(&c, Kind::Advertise, 1);
    pd_only.preference = Some(255);
    pd_only.ia_pd.push(ia(0, 0, vec![addr(P1, 56, 100, 200)]));
    assert!(c.handle(s(0.1), Event::Packet(&pd_only)).is_empty());

    // prefix-only mode: no IA_NA asked for, a prefix alone binds
    let mut cfg = config();
    cfg.na = Want::None;
    let (mut c, a) = started(cfg);
    assert!(sent(&a)[0].ia_na.is_empty());
    let mut pd_only = answer(&c, Kind::Advertise, 1);
    pd_only.preference = Some(255);
    pd_only.ia_pd.push(ia(0, 0, vec![addr(P1, 56, 100, 200)]));
    let a = c.handle(s(0.1), Event::Packet(&pd_only));
    assert!(sent(&a)[0].ia_na.is_empty());
    let mut r = answer(&c, Kind::Reply, 1);
    r.ia_pd = pd_only.ia_pd.clone();
    let a = c.handle(s(0.2), Event::Packet(&r));
    let [Action::Bound(b)] = &a[..] else {
        panic!("{a:?}")
    };
    assert!(b.addresses.is_empty() && b.prefixes.len() == 1);
    assert_eq!(c.state(), State::Bound, "nothing missing");
}

#[test]
fn rapid_commit() {
    let (mut c, _) = started(config());
    // a Reply without Rapid Commit does not answer a SOLICIT
    let plain = grant(&c, Kind::Reply);
    assert!(c.handle(s(0.05), Event::Packet(&plain)).is_empty());
    let mut rc = grant(&c, Kind::Reply);
    rc.rapid_commit = true;
    let a = c.handle(s(0.06), Event::Packet(&rc));
    assert!(matches!(a[..], [Action::Bound(_)]), "{a:?}");
    assert!(kinds(&a).is_empty(), "no REQUEST");
    // not offered: not taken
    let mut cfg = config();
    cfg.rapid_commit = false;
    let (mut c, a) = started(cfg);
    assert!(!sent(&a)[0].rapid_commit);
    let mut rc = grant(&c, Kind::Reply);
    rc.rapid_commit = true;
    assert!(c.handle(s(0.06), Event::Packet(&rc)).is_empty());
}

#[test]
fn foreign_and_duplicate_replies_are_ignored() {
    let (mut c, _) = started(config());
    let mut top = grant(&c, Kind::Advertise);
    top.preference = Some(255);
    c.handle(s(0.05), Event::Packet(&top));
    let good = grant(&c, Kind::Reply);
    let mut wrong_xid = good.clone();
    wrong_xid.xid ^= 1;
    let mut other_client = good.clone();
    other_client.client_id = Some(duid_ll([2, 0, 0, 0, 0, 2]));
    let mut no_client = good.clone();
    no_client.client_id = None;
    let mut no_server = good.clone();
    no_server.server_id = None;
    let mut advertise = good.clone();
    advertise.kind = Kind::Advertise;
    let mut a_request = good.clone();
    a_request.kind = Kind::Request;
    for m in [
        &wrong_xid,
        &other_client,
        &no_client,
        &no_server,
        &advertise,
        &a_request,
    ] {
        assert!(c.handle(s(0.1), Event::Packet(m)).is_empty(), "{m:?}");
        assert_eq!(c.state(), State::Requesting);
    }
    assert!(matches!(
        c.handle(s(0.2), Event::Packet(&good))[..],
        [Action::Bound(_)]
    ));
    // the same Reply again (the server answered a retransmission twice)
    assert!(c.handle(s(0.3), Event::Packet(&good)).is_empty());
    assert_eq!(c.state(), State::Bound);
}

#[test]
fn renew_at_t1_rebind_at_t2_then_expiry_and_solicit() {
    let mut c = bound(config());
    let t0 = s(1.2);
    let log = silence(&mut c, t0 + s(300.0));
    let renews = sends_at(&log, Kind::Renew);
    let rebinds = sends_at(&log, Kind::Rebind);
    let secs = |v: &[Duration]| {
        v.iter()
            .map(|t| (t.as_secs_f64() - 1.2).round() as i64)
            .collect::<Vec<_>>()
    };
    // RENEW at T1 (100), REN_TIMEOUT 10 s doubling, until T2 (160)
    assert_eq!(secs(&renews), [100, 110, 130]);
    // REBIND at T2, 10 s doubling, until every valid lifetime has ended (300)
    assert_eq!(secs(&rebinds), [160, 170, 190, 230]);
    let ev = events(&log);
    let Action::Unbound(b) = ev[0] else {
        panic!("{ev:?}")
    };
    assert!(b.addresses.is_empty() && b.prefixes.is_empty());
    assert_eq!(b.withdrawn.len(), 2);
    assert_eq!(sends_at(&log, Kind::Solicit), [t0 + s(300.0)], "afresh");
    // RENEW names the server and what is held, lifetimes 0; REBIND no server
    let msgs: Vec<&Message> = log
        .iter()
        .filter_map(|(_, a)| {
            if let Action::Send(m) = a {
                Some(m)
            } else {
                None
            }
        })
        .collect();
    let renew = msgs.iter().find(|m| m.kind == Kind::Renew).unwrap();
    assert_eq!(renew.server_id, Some(srv(1)));
    assert_eq!(renew.ia_na[0].addrs, vec![addr(A1, 128, 0, 0)]);
    assert_eq!(renew.ia_pd[0].addrs, vec![addr(P1, 56, 0, 0)]);
    assert_eq!(renew.elapsed, Some(0));
    let second = msgs
        .iter()
        .filter(|m| m.kind == Kind::Renew)
        .nth(1)
        .unwrap();
    assert_eq!(
        (second.xid, second.elapsed),
        (renew.xid, Some(1000)),
        "a retransmission"
    );
    let rebind = msgs.iter().find(|m| m.kind == Kind::Rebind).unwrap();
    assert_eq!(rebind.server_id, None);
    assert_ne!(rebind.xid, renew.xid);
}

#[test]
fn renewal_reply_updates_lifetimes() {
    let mut c = bound(config());
    let a = c.handle(s(101.2), Event::Timer);
    assert_eq!(kinds(&a), [Kind::Renew]);
    let mut r = grant(&c, Kind::Reply);
    r.ia_pd[0].addrs[0].valid = 1000;
    r.ia_pd[0].addrs[0].preferred = 900;
    let a = c.handle(s(101.3), Event::Packet(&r));
    let [Action::Updated(b)] = &a[..] else {
        panic!("{a:?}")
    };
    assert_eq!((b.prefixes[0].preferred, b.prefixes[0].valid), (900, 1000));
    assert_eq!(c.state(), State::Bound);
    assert_eq!(c.deadline(), Some(s(201.3)));
    // RenewNow (SIGUSR1): at once
    let a = c.handle(s(150.0), Event::RenewNow);
    assert_eq!(kinds(&a), [Kind::Renew]);
}

#[test]
fn t1_and_t2_of_zero_come_from_the_shortest_preferred_lifetime() {
    let (mut c, _) = started(config());
    let mut top = grant(&c, Kind::Advertise);
    top.preference = Some(255);
    c.handle(s(0.0), Event::Packet(&top));
    let mut r = answer(&c, Kind::Reply, 1);
    r.ia_na.push(ia(0, 0, vec![addr(A1, 128, 1000, 2000)]));
    r.ia_pd.push(ia(0, 0, vec![addr(P1, 56, 4000, 5000)]));
    c.handle(s(0.0), Event::Packet(&r));
    assert_eq!(c.deadline(), Some(s(500.0)), "0.5 × 1000");
    let log = silence(&mut c, s(800.0));
    assert_eq!(sends_at(&log, Kind::Rebind), [s(800.0)], "0.8 × 1000");
    // tiny lifetimes never make it renew in a loop
    let (mut c, _) = started(config());
    c.handle(s(0.0), Event::Packet(&top));
    let mut r = answer(&c, Kind::Reply, 1);
    r.ia_na.push(ia(0, 0, vec![addr(A1, 128, 0, 30)]));
    c.handle(s(0.0), Event::Packet(&r));
    let log = silence(&mut c, s(29.0));
    assert!(
        sends_at(&log, Kind::Renew).iter().all(|&t| t >= MIN_T1),
        "{log:?}"
    );
    // T1 > T2: the IA is discarded (§21.4)
    let (mut c, _) = started(config());
    c.handle(s(0.0), Event::Packet(&top));
    let mut r = answer(&c, Kind::Reply, 1);
    r.ia_na.push(ia(200, 100, vec![addr(A1, 128, 1000, 2000)]));
    r.ia_pd.push(ia(0, 0, vec![addr(P1, 56, 4000, 5000)]));
    let a = c.handle(s(0.0), Event::Packet(&r));
    let [Action::Bound(b), ..] = &a[..] else {
        panic!("{a:?}")
    };
    assert!(b.addresses.is_empty() && b.prefixes.len() == 1);
}

/// odhcp6c #61: NoPrefixAvail on RENEW must neither drop the prefix nor
/// stop the renewals.
fn no_prefix_on_renew(inside: bool) {
    let mut c = bound(config());
    let a = c.handle(s(101.2), Event::Timer);
    assert_eq!(kinds(&a), [Kind::Renew]);
    let mut r = grant(&c, Kind::Reply);
    if inside {
        r.ia_pd[0].addrs[0].status = Some(Status::new(status::NO_PREFIX_AVAIL));
        r.ia_pd[0].addrs[0].valid = 0;
    } else {
        r.ia_pd[0] = ia(0, 0, vec![]);
        r.ia_pd[0].status = Some(Status::new(status::NO_PREFIX_AVAIL));
    }
    r.ia_na[0].addrs[0].valid = 3000;
    r.ia_na[0].addrs[0].preferred = 2000;
    r.ia_na[0].t1 = 1000;
    r.ia_na[0].t2 = 1600;
    let a = c.handle(s(101.3), Event::Packet(&r));
    let [Action::Updated(b)] = &a[..] else {
        panic!("{a:?}")
    };
    assert_eq!(b.prefixes.len(), 1, "the prefix is kept");
    assert!(b.withdrawn.is_empty());
    assert_eq!(b.addresses[0].valid, 3000);
    assert_eq!(c.state(), State::Renewing, "still asking");
    // the same Reply again: foreign now
    assert!(c.handle(s(101.4), Event::Packet(&r)).is_empty());
    // it keeps asking for the prefix: RENEW until the prefix's T2 (161.2),
    // then REBIND until its valid lifetime ends (301.2)
    let log = silence(&mut c, s(301.1));
    assert!(events(&log).is_empty(), "{:?}", events(&log));
    let renews = sends_at(&log, Kind::Renew);
    assert!(
        !renews.is_empty() && renews.iter().all(|&t| t < s(161.3)),
        "{renews:?}"
    );
    assert!(!sends_at(&log, Kind::Rebind).is_empty());
    for (_, a) in &log {
        if let Action::Send(m) = a {
            assert_eq!(
                m.ia_pd[0].addrs,
                vec![addr(P1, 56, 0, 0)],
                "the prefix is asked for"
            );
        }
    }
    assert_eq!(c.bindings(s(300.0)).prefixes[0].valid, 1);
    // its valid lifetime ends: reported withdrawn, the address stays
    let a = c.handle(s(301.2), Event::Timer);
    let Action::Updated(b) = &a[0] else {
        panic!("{a:?}")
    };
    assert_eq!(
        b.withdrawn,
        vec![Lease {
            addr: ip(P1),
            len: 56,
            preferred: 0,
            valid: 0
        }]
    );
    assert!(b.prefixes.is_empty() && b.addresses.len() == 1);
    // and it still asks (naming the prefix it had), at most 600 s (+10%) apart
    let log = silence(&mut c, s(3000.0));
    let asks: Vec<Duration> = log
        .iter()
        .filter_map(|(t, a)| match a {
            Action::Send(m) if m.ia_pd[0].addrs == vec![addr(P1, 56, 0, 0)] => Some(*t),
            _ => None,
        })
        .collect();
    assert!(asks.len() >= 3, "{asks:?}");
    assert!(asks.windows(2).all(|w| w[1] - w[0] <= s(660.0)));
    // a server grants a prefix again
    let mut r = grant(&c, Kind::Reply);
    r.ia_pd[0].addrs[0].addr = ip(P2);
    let a = c.handle(s(3001.0), Event::Packet(&r));
    assert!(
        matches!(&a[..], [Action::Updated(b) | Action::Rebound(b)] if b.prefixes[0].addr == ip(P2)),
        "{a:?}"
    );
    assert_eq!(c.state(), State::Bound);
}

#[test]
fn no_prefix_avail_in_the_ia_on_renew_keeps_the_prefix_and_asking() {
    no_prefix_on_renew(false);
}

#[test]
fn no_prefix_avail_inside_the_iaprefix_on_renew_keeps_the_prefix_and_asking() {
    no_prefix_on_renew(true);
}

#[test]
fn a_changed_prefix_on_rebind_deprecates_the_old_one() {
    let mut c = bound(config());
    let log = silence(&mut c, s(161.2));
    assert_eq!(sends_at(&log, Kind::Rebind), [s(161.2)]);
    // another server, another prefix; the old one not named
    let mut r = grant(&c, Kind::Reply);
    r.server_id = Some(srv(2));
    r.ia_pd[0].addrs = vec![addr(P2, 56, 500, 600)];
    let a = c.handle(s(161.3), Event::Packet(&r));
    let [Action::Rebound(b)] = &a[..] else {
        panic!("{a:?}")
    };
    assert_eq!(b.server, srv(2));
    assert_eq!(b.prefixes.len(), 2);
    let old = b.prefixes.iter().find(|p| p.addr == ip(P1)).unwrap();
    let new = b.prefixes.iter().find(|p| p.addr == ip(P2)).unwrap();
    assert_eq!(
        (old.preferred, old.valid),
        (0, 139),
        "deprecated, valid as it was"
    );
    assert_eq!((new.preferred, new.valid), (500, 600));
    // the old one goes at its end
    let log = silence(&mut c, s(301.2));
    let ev = events(&log);
    let [Action::Updated(b)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(b.withdrawn[0].addr, ip(P1));
    assert_eq!(b.prefixes.len(), 1);
    // given back with a valid lifetime of 0: withdrawn at once
    let mut c = bound(config());
    silence(&mut c, s(161.2));
    let mut r = grant(&c, Kind::Reply);
    r.ia_pd[0].addrs = vec![addr(P1, 56, 0, 0), addr(P2, 56, 500, 600)];
    let a = c.handle(s(161.3), Event::Packet(&r));
    let [Action::Rebound(b)] = &a[..] else {
        panic!("{a:?}")
    };
    assert_eq!(
        b.prefixes.iter().map(|p| p.addr).collect::<Vec<_>>(),
        [ip(P2)]
    );
    assert_eq!(
        b.withdrawn,
        vec![Lease {
            addr: ip(P1),
            len: 56,
            preferred: 0,
            valid: 0
        }]
    );
}

#[test]
fn no_binding_on_renew_requests_again() {
    let mut c = bound(config());
    c.handle(s(101.2), Event::Timer);
    let mut r = answer(&c, Kind::Reply, 1);
    r.ia_na.push(ia(0, 0, vec![]));
    r.ia_na[0].status = Some(Status::new(status::NO_BINDING));
    r.ia_pd.push(ia(0, 0, vec![]));
    r.ia_pd[0].status = Some(Status::new(status::NO_BINDING));
    let a = c.handle(s(101.3), Event::Packet(&r));
    let m = sent(&a);
    assert_eq!(m.len(), 1);
    assert_eq!(
        (m[0].kind, m[0].server_id.clone()),
        (Kind::Request, Some(srv(1)))
    );
    assert_eq!(
        m[0].ia_pd[0].addrs,
        vec![addr(P1, 56, 0, 0)],
        "what it holds"
    );
    let a = c.handle(s(101.4), Event::Packet(&grant(&c, Kind::Reply)));
    assert!(matches!(a[..], [Action::Updated(_)]), "{a:?}");
}

#[test]
fn unspec_fail_and_use_multicast_are_no_answer() {
    for code in [status::UNSPEC_FAIL, status::USE_MULTICAST] {
        let mut c = bound(config());
        c.handle(s(101.2), Event::Timer);
        let mut r = answer(&c, Kind::Reply, 1);
        r.status = Some(Status::new(code));
        assert!(c.handle(s(101.3), Event::Packet(&r)).is_empty());
        assert_eq!(c.state(), State::Renewing);
        assert_eq!(
            c.deadline(),
            Some(s(111.2)),
            "the retransmission, at its time"
        );
    }
}

#[test]
fn request_gives_up_after_ten_and_solicits_again() {
    let (mut c, _) = started(config());
    let mut top = grant(&c, Kind::Advertise);
    top.preference = Some(255);
    c.handle(s(0.0), Event::Packet(&top));
    // a Reply that grants nothing does not end it
    let mut none = answer(&c, Kind::Reply, 1);
    none.status = Some(Status::new(status::NO_ADDRS_AVAIL));
    assert!(c.handle(s(0.1), Event::Packet(&none)).is_empty());
    let log = silence(&mut c, s(300.0));
    let req = sends_at(&log, Kind::Request);
    assert_eq!(req.len(), 9, "10 REQUESTs in all (REQ_MAX_RC)");
    let gaps: Vec<u64> = std::iter::once(s(0.0))
        .chain(req.iter().copied())
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs())
        .collect();
    assert_eq!(
        gaps,
        [1, 2, 4, 8, 16, 30, 30, 30, 30],
        "REQ_TIMEOUT 1 s, REQ_MAX_RT 30 s"
    );
    // the exchange fails one RT after the tenth
    assert_eq!(sends_at(&log, Kind::Solicit)[0], s(181.0));
}

#[test]
fn solicit_retransmission_bounds() {
    for r in [0u32, 200, 99] {
        let mut c = Client::new(config(), fixed(r));
        c.handle(s(0.0), Event::Start { link_up: true });
        let log = silence(&mut c, s(30_000.0));
        let t: Vec<f64> = std::iter::once(0.0)
            .chain(
                sends_at(&log, Kind::Solicit)
                    .iter()
                    .map(|d| d.as_secs_f64()),
            )
            .collect();
        let rt: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            rt[0] > 1.0 && rt[0] <= 1.1,
            "the first RT is IRT + a positive RAND: {}",
            rt[0]
        );
        for w in rt.windows(2) {
            let (prev, next) = (w[0], w[1]);
            assert!(
                (next >= prev * 1.9 - 0.002 && next <= prev * 2.1 + 0.002)
                    || (3240.0..=3960.0).contains(&next),
                "{prev} then {next}"
            );
        }
        assert!(rt.iter().all(|&x| x <= 3960.0), "SOL_MAX_RT 3600 s ±10%");
        assert!(*rt.last().unwrap() >= 3240.0);
    }
}

#[test]
fn stateless_information_request_and_refresh() {
    let mut cfg = config();
    cfg.na = Want::None;
    cfg.pd = None;
    let (mut c, a) = started(cfg.clone());
    let m = sent(&a)[0].clone();
    assert_eq!(m.kind, Kind::InformationRequest);
    assert!(m.ia_na.is_empty() && m.ia_pd.is_empty());
    for o in [
        opt::DNS_SERVERS,
        opt::DOMAIN_LIST,
        opt::INFORMATION_REFRESH_TIME,
        opt::INF_MAX_RT,
    ] {
        assert!(m.oro.contains(&o));
    }
    let mut r = answer(&c, Kind::Reply, 1);
    r.dns = vec![ip("2001:db8::53")];
    r.domains = vec!["lan".into()];
    r.info_refresh = Some(7200);
    let a = c.handle(s(0.1), Event::Packet(&r));
    let [Action::Informed(b)] = &a[..] else {
        panic!("{a:?}")
    };
    assert_eq!(
        (b.dns.len(), b.domains.clone()),
        (1, vec!["lan".to_string()])
    );
    assert_eq!(c.state(), State::Informed);
    assert_eq!(c.deadline(), Some(s(7200.1)));
    let a = c.handle(s(7200.1), Event::Timer);
    assert_eq!(kinds(&a), [Kind::InformationRequest]);
    // no option 32: a day; below IRT_MINIMUM: 600 s
    let mut r = answer(&c, Kind::Reply, 1);
    r.info_refresh = Some(5);
    c.handle(s(7200.2), Event::Packet(&r));
    assert_eq!(c.deadline(), Some(s(7800.2)));
    let (mut c, _) = started(cfg);
    c.handle(s(1.0), Event::Packet(&answer(&c, Kind::Reply, 1)));
    assert_eq!(c.deadline(), Some(s(86401.0)));
}

#[test]
fn replug_rebinds_prefixes_and_keeps_everything_meanwhile() {
    let mut c = bound(config());
    assert!(c.handle(s(50.0), Event::LinkDown).is_empty());
    // T1 and T2 pass with the cable out: nothing is sent, nothing lost
    let log = silence(&mut c, s(200.0));
    assert!(log.is_empty(), "{log:?}");
    assert_eq!(c.bindings(s(200.0)).prefixes.len(), 1);
    let a = c.handle(s(200.0), Event::LinkUp);
    // first the kernel forgets what it could not resolve with the cable out
    assert!(matches!(a[0], Action::ForgetNeighbours), "{a:?}");
    let m = sent(&a);
    assert_eq!(m[0].kind, Kind::Rebind);
    assert_eq!(m[0].ia_pd[0].addrs, vec![addr(P1, 56, 0, 0)]);
    assert_eq!(m[0].ia_na[0].addrs, vec![addr(A1, 128, 0, 0)]);
    let a = c.handle(s(200.1), Event::Packet(&grant(&c, Kind::Reply)));
    let [Action::Rebound(b)] = &a[..] else {
        panic!("{a:?}")
    };
    assert_eq!(b.prefixes[0].addr, ip(P1), "the same prefix back");
    assert_eq!(c.state(), State::Bound);
}

#[test]
fn replug_with_addresses_only_confirms() {
    let mut cfg = config();
    cfg.pd = None;
    let (mut c, _) = started(cfg.clone());
    let mut top = answer(&c, Kind::Advertise, 1);
    top.preference = Some(255);
    top.ia_na.push(ia(100, 160, vec![addr(A1, 128, 200, 300)]));
    c.handle(s(0.0), Event::Packet(&top));
    let mut r = answer(&c, Kind::Reply, 1);
    r.ia_na = top.ia_na.clone();
    c.handle(s(0.1), Event::Packet(&r));
    let c0 = |c: &mut Client| {
        c.handle(s(10.0), Event::LinkDown);
        let a = c.handle(s(12.0), Event::LinkUp);
        let m = sent(&a)[0].clone();
        assert_eq!((m.kind, m.server_id.clone()), (Kind::Confirm, None));
        assert_eq!(m.ia_na[0].addrs, vec![addr(A1, 128, 0, 0)]);
    };
    // silence for CNF_MAX_RD: the address stays
    c0(&mut c);
    let log = silence(&mut c, s(22.5));
    assert!(events(&log).is_empty());
    assert_eq!(c.state(), State::Bound);
    // Success: stays, no event
    c0(&mut c);
    let mut ok = answer(&c, Kind::Reply, 1);
    ok.status = Some(Status::new(status::SUCCESS));
    assert!(c.handle(s(12.1), Event::Packet(&ok)).is_empty());
    assert_eq!(c.state(), State::Bound);
    // NotOnLink: another network; the address goes, SOLICIT
    c0(&mut c);
    let mut moved = answer(&c, Kind::Reply, 1);
    moved.status = Some(Status::new(status::NOT_ON_LINK));
    let a = c.handle(s(12.1), Event::Packet(&moved));
    assert!(
        matches!(&a[0], Action::Unbound(b) if b.withdrawn[0].addr == ip(A1)),
        "{a:?}"
    );
    assert_eq!(kinds(&a), [Kind::Solicit]);
}

#[test]
fn waits_for_the_carrier() {
    let mut c = Client::new(config(), calm());
    assert!(c.handle(s(0.0), Event::Start { link_up: false }).is_empty());
    assert_eq!(c.deadline(), None);
    let a = c.handle(s(5.0), Event::LinkUp);
    assert!(
        matches!(a[..], [Action::ForgetNeighbours, Action::Send(_)]),
        "{a:?}"
    );
    // a carrier report while it is up is no return: nothing to forget
    assert!(c.handle(s(5.1), Event::LinkUp).is_empty());
    // carrier lost while soliciting: quiet, then afresh
    c.handle(s(5.5), Event::LinkDown);
    assert_eq!(c.deadline(), None);
    assert_eq!(kinds(&c.handle(s(9.0), Event::LinkUp)), [Kind::Solicit]);
}

#[test]
fn leases_expire_with_the_carrier_down() {
    let mut c = bound(config());
    c.handle(s(50.0), Event::LinkDown);
    let log = silence(&mut c, s(400.0));
    let ev = events(&log);
    assert!(matches!(ev[..], [Action::Unbound(_)]), "{ev:?}");
    assert!(sends_at(&log, Kind::Solicit).is_empty());
    assert_eq!(c.state(), State::Idle);
    assert_eq!(kinds(&c.handle(s(500.0), Event::LinkUp)), [Kind::Solicit]);
}

#[test]
fn stop_releases_and_carrier_loss_does_not() {
    let mut c = bound(config());
    let a = c.handle(s(20.0), Event::Stop);
    let Action::Unbound(b) = &a[0] else {
        panic!("{a:?}")
    };
    assert_eq!(b.withdrawn.len(), 2);
    let m = sent(&a)[0].clone();
    assert_eq!((m.kind, m.server_id.clone()), (Kind::Release, Some(srv(1))));
    assert_eq!(m.ia_pd[0].addrs, vec![addr(P1, 56, 0, 0)]);
    assert_eq!(c.state(), State::Releasing);
    let a = c.handle(s(20.1), Event::Packet(&answer(&c, Kind::Reply, 1)));
    assert_eq!(a, [Action::Done]);
    assert!(c.handle(s(30.0), Event::Timer).is_empty());
    // unanswered: REL_MAX_RC (4) RELEASEs, then done
    let mut c = bound(config());
    c.handle(s(20.0), Event::Stop);
    let log = silence(&mut c, s(100.0));
    assert_eq!(sends_at(&log, Kind::Release).len(), 3);
    assert_eq!(events(&log), [&Action::Done]);
    // without the carrier: nothing sent
    let mut c = bound(config());
    c.handle(s(20.0), Event::LinkDown);
    let a = c.handle(s(21.0), Event::Stop);
    assert!(kinds(&a).is_empty());
    assert_eq!(a.last(), Some(&Action::Done));
}

#[test]
fn hostile_leases_are_dropped() {
    let (mut c, _) = started(config());
    let mut top = grant(&c, Kind::Advertise);
    top.preference = Some(255);
    c.handle(s(0.0), Event::Packet(&top));
    let mut r = answer(&c, Kind::Reply, 1);
    r.ia_na.push(ia(
        0,
        0,
        vec![
            addr("ff02::1", 128, 10, 20),
            addr(A1, 128, 500, 100),
            addr("2001:db8::7", 128, INFINITY, INFINITY),
        ],
    ));
    r.ia_pd.push(ia(
        0,
        0,
        vec![
            addr("2001:db8:1:2:3::", 80, 10, 20),
            addr("2001:db8:1:2ff::", 60, INFINITY, INFINITY),
        ],
    ));
    let a = c.handle(s(0.1), Event::Packet(&r));
    let [Action::Bound(b)] = &a[..] else {
        panic!("{a:?}")
    };
    assert_eq!(
        b.addresses,
        vec![Lease {
            addr: ip("2001:db8::7"),
            len: 128,
            preferred: INFINITY,
            valid: INFINITY
        }]
    );
    assert_eq!(
        b.prefixes,
        vec![Lease {
            addr: ip("2001:db8:1:2f0::"),
            len: 60,
            preferred: INFINITY,
            valid: INFINITY
        }],
        "host bits cleared"
    );
    assert_eq!(c.deadline(), None, "infinite: nothing to renew");
}

#[test]
fn a_missing_prefix_after_request_is_asked_for_again() {
    let (mut c, _) = started(config());
    let mut top = grant(&c, Kind::Advertise);
    top.preference = Some(255);
    c.handle(s(0.0), Event::Packet(&top));
    let mut r = grant(&c, Kind::Reply);
    r.ia_pd[0] = ia(0, 0, vec![]);
    r.ia_pd[0].status = Some(Status::new(status::NO_PREFIX_AVAIL));
    let a = c.handle(s(0.1), Event::Packet(&r));
    assert!(matches!(a[..], [Action::Bound(_)]));
    assert_eq!(c.state(), State::Renewing);
    let t = c.deadline().unwrap();
    assert!(t >= s(9.0) && t <= s(11.2), "REN_TIMEOUT: {t:?}");
    let a = c.handle(t, Event::Timer);
    assert_eq!(kinds(&a), [Kind::Renew]);
    assert_eq!(
        sent(&a)[0].ia_pd[0].addrs,
        vec![addr(P1, 56, 0, 0)],
        "the advertised prefix hinted"
    );
}

#[test]
fn a_host_follows_the_m_and_o_flags() {
    let mut cfg = config();
    cfg.pd = None;
    cfg.follow_ra = true;
    let (mut c, a) = started(cfg.clone());
    assert!(a.is_empty(), "nothing before an RA: {a:?}");
    assert_eq!(c.deadline(), None);
    // M=0, O=0 (QEMU's user network): quiet
    assert!(c
        .handle(
            s(1.0),
            Event::RouterAdvert {
                managed: false,
                other: false
            }
        )
        .is_empty());
    assert_eq!(c.state(), State::Idle);
    // O only: stateless
    let a = c.handle(
        s(2.0),
        Event::RouterAdvert {
            managed: false,
            other: true,
        },
    );
    assert_eq!(kinds(&a), [Kind::InformationRequest]);
    assert!(c
        .handle(
            s(2.5),
            Event::RouterAdvert {
                managed: false,
                other: true
            }
        )
        .is_empty());
    // M: addresses
    let a = c.handle(
        s(3.0),
        Event::RouterAdvert {
            managed: true,
            other: true,
        },
    );
    assert_eq!(kinds(&a), [Kind::Solicit]);
    assert!(c
        .handle(
            s(3.5),
            Event::RouterAdvert {
                managed: true,
                other: true
            }
        )
        .is_empty());
    // a replug: the flags known are used again
    c.handle(s(4.0), Event::LinkDown);
    assert_eq!(kinds(&c.handle(s(5.0), Event::LinkUp)), [Kind::Solicit]);
    // a router (a prefix asked for) does not wait for RAs
    let mut cfg = config();
    cfg.follow_ra = true;
    let (_, a) = started(cfg);
    assert_eq!(kinds(&a), [Kind::Solicit]);
    // nor does a client told not to follow them
    let mut cfg = config();
    cfg.pd = None;
    let (mut c, a) = started(cfg);
    assert_eq!(kinds(&a), [Kind::Solicit]);
    assert!(c
        .handle(
            s(1.0),
            Event::RouterAdvert {
                managed: false,
                other: false
            }
        )
        .is_empty());
}
