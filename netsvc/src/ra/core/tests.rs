//! The advertiser on virtual time.

use super::msg::{parse_ra, Advert};
use super::*;
use crate::netlink::{IFA_F_MANAGETEMPADDR, IFA_F_TEMPORARY};

fn s(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn a(t: &str) -> Ipv6Addr {
    t.parse().unwrap()
}

/// The router's LAN address as fw puts it there.
fn lan(ip: &str, preferred: u32, valid: u32) -> Address {
    Address {
        index: 2,
        ip: a(ip),
        prefix: 64,
        scope: 0,
        flags: 0,
        proto: 0,
        preferred,
        valid,
        deleted: false,
    }
}

/// Random numbers that are always `r`.
fn fixed(r: u32) -> Random {
    Box::new(move || r)
}

fn adv(cfg: Config, r: u32) -> Advertiser {
    Advertiser::new(cfg, fixed(r))
}

fn rs() -> Vec<u8> {
    vec![133, 0, 0, 0, 0, 0, 0, 0]
}

fn solicit(m: &[u8], from: &str) -> Event<'static> {
    // the message outlives the call in every test
    let m: &'static [u8] = Box::leak(m.to_vec().into_boxed_slice());
    Event::Solicit {
        from: a(from),
        hop_limit: Some(255),
        msg: m,
    }
}

fn sent(actions: &[Action]) -> Vec<Advert> {
    actions
        .iter()
        .filter_map(|x| match x {
            Action::Multicast(b) | Action::Unicast(_, b) => parse_ra(b),
            Action::NothingToAdvertise => None,
        })
        .collect()
}

/// Run the timer at every deadline up to `until`; the RAs and their times.
fn run_until(ad: &mut Advertiser, until: Duration) -> Vec<(Duration, Advert)> {
    let mut out = Vec::new();
    while let Some(t) = ad.deadline().filter(|&t| t <= until) {
        for r in sent(&ad.handle(t, Event::Timer)) {
            out.push((t, r));
        }
    }
    out
}

#[test]
fn no_prefix_nothing_at_all_not_even_an_answer() {
    let mut ad = adv(Config::default(), 7);
    // a link-local and a temporary address, a /128, a SLAAC one: none counts
    let mut ll = lan("fe80::1", u32::MAX, u32::MAX);
    ll.scope = 253;
    let mut tmp = lan("2001:db8:1:1::99", 100, 200);
    tmp.flags = IFA_F_TEMPORARY;
    let mut host = lan("2001:db8:1:1::7", 100, 200);
    host.prefix = 128;
    let mut slaac = lan("2001:db8:1:1::8", 100, 200);
    slaac.proto = IFAPROT_KERNEL_RA;
    let mut mngtmp = lan("2001:db8:1:1::9", 100, 200);
    mngtmp.flags = IFA_F_MANAGETEMPADDR;
    for x in [ll, tmp, host, slaac, mngtmp] {
        assert!(ad.handle(s(0), Event::Address(x)).is_empty());
    }
    assert_eq!(
        ad.handle(s(0), Event::Synced),
        vec![Action::NothingToAdvertise]
    );
    assert_eq!(ad.deadline(), None);
    assert!(ad.handle(s(1), solicit(&rs(), "fe80::2")).is_empty());
    assert!(ad.handle(s(1), solicit(&rs(), "::")).is_empty());
    assert_eq!(ad.deadline(), None);
    assert!(
        ad.handle(s(2), Event::Stop).is_empty(),
        "no final RA either"
    );
}

#[test]
fn a_prefix_at_start_goes_out_at_once_then_three_fast_then_in_the_interval() {
    let mut ad = adv(Config::default(), u32::MAX);
    ad.handle(s(5), Event::Address(lan("2001:db8:1:1::1", 3600, 7200)));
    assert_eq!(ad.deadline(), None, "not before the dump is complete");
    assert!(ad.handle(s(5), Event::Synced).is_empty());
    assert_eq!(ad.deadline(), Some(s(5)));
    let ras = run_until(&mut ad, s(5000));
    let times: Vec<Duration> = ras.iter().map(|(t, _)| *t).collect();
    assert_eq!(times[0], s(5));
    // the first three at most 16 s apart (RFC 4861 §6.2.4)
    assert_eq!(times[1] - times[0], s(16));
    assert_eq!(times[2] - times[1], s(16));
    for w in times[2..].windows(2) {
        let gap = w[1] - w[0];
        assert!(gap >= s(198) && gap <= s(600), "{gap:?}");
    }
    let first = &ras[0].1;
    assert_eq!(
        (first.hop_limit, first.managed, first.other),
        (64, false, false)
    );
    assert_eq!(first.lifetime, 0, "no default route: not a default router");
    assert_eq!(first.prefixes.len(), 1);
    assert_eq!(first.prefixes[0].prefix, a("2001:db8:1:1::"));
    assert_eq!(
        (first.prefixes[0].preferred, first.prefixes[0].valid),
        (3600, 7200)
    );
    // the lifetimes count down as the kernel's do
    let (t, later) = &ras[3];
    let gone = (*t - s(5)).as_secs() as u32;
    assert_eq!(later.prefixes[0].preferred, 3600 - gone);
    assert_eq!(later.prefixes[0].valid, 7200 - gone);
    // once valid runs out the prefix is gone, and with it the RAs
    assert!(ras.last().unwrap().0 <= s(5 + 7200 + 600));
}

#[test]
fn random_intervals_fill_the_configured_range() {
    let cfg = Config {
        min_interval: s(4),
        max_interval: s(10),
        ..Config::default()
    };
    let mut n = 0u32;
    let mut ad = Advertiser::new(
        cfg,
        Box::new(move || {
            n = n.wrapping_add(1237);
            n
        }),
    );
    ad.handle(
        s(0),
        Event::Address(lan("2001:db8:1:1::1", u32::MAX, u32::MAX)),
    );
    ad.handle(s(0), Event::Synced);
    let times: Vec<Duration> = run_until(&mut ad, s(2000)).iter().map(|r| r.0).collect();
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|g| *g >= s(4) && *g <= s(10)), "{gaps:?}");
    assert!(gaps.iter().any(|g| *g < s(6)) && gaps.iter().any(|g| *g > s(8)));
    // forever stays forever
    let ra = ad.advert(s(1999), None);
    assert_eq!(ra.prefixes[0].valid, u32::MAX);
}

#[test]
fn deprecation_reaches_hosts_at_once_within_the_rate_limit() {
    let mut ad = adv(Config::default(), 0);
    ad.handle(s(0), Event::Address(lan("2001:db8:1:1::1", 3600, 7200)));
    ad.handle(s(0), Event::Synced);
    assert_eq!(run_until(&mut ad, s(100)).len(), 3);
    // fw deprecates it (RFC 7084 L-13): preferred 0, valid at most 7200
    ad.handle(s(101), Event::Address(lan("2001:db8:1:1::1", 0, 7000)));
    assert_eq!(
        ad.deadline(),
        Some(s(101)),
        "at once: the last RA was long ago"
    );
    let r = sent(&ad.handle(s(101), Event::Timer));
    assert_eq!(r[0].prefixes[0].preferred, 0);
    assert_eq!(r[0].prefixes[0].valid, 7000);
    // a new prefix one second later waits for MIN_DELAY_BETWEEN_RAS
    ad.handle(s(102), Event::Address(lan("2001:db8:1:2::1", 3600, 7200)));
    assert_eq!(ad.deadline(), Some(s(104)));
    let r = sent(&ad.handle(s(104), Event::Timer));
    assert_eq!(r[0].prefixes.len(), 2);
    // then again fast ones: a lost RA does not leave hosts on the old prefix
    assert_eq!(ad.deadline(), Some(s(104 + 16)));
    // the RDNSS: the new prefix's address, the deprecated one with lifetime 0
    assert_eq!(
        r[0].rdnss,
        vec![
            (1800, vec![a("2001:db8:1:2::1")]),
            (0, vec![a("2001:db8:1:1::1")])
        ]
    );
}

#[test]
fn a_renewal_that_only_refreshes_lifetimes_sends_nothing_extra() {
    let mut ad = adv(Config::default(), 0);
    ad.handle(s(0), Event::Address(lan("2001:db8:1:1::1", 3600, 7200)));
    ad.handle(s(0), Event::Synced);
    run_until(&mut ad, s(50));
    let next = ad.deadline();
    // the same, counted down: no change
    ad.handle(s(60), Event::Address(lan("2001:db8:1:1::1", 3540, 7140)));
    assert_eq!(ad.deadline(), next);
    // renewed: longer lifetimes, no hurry
    ad.handle(s(70), Event::Address(lan("2001:db8:1:1::1", 3600, 7200)));
    assert_eq!(ad.deadline(), next);
    // cut short (valid down to 600): at once
    ad.handle(s(80), Event::Address(lan("2001:db8:1:1::1", 500, 600)));
    assert_eq!(ad.deadline(), Some(s(80)));
}

#[test]
fn a_renewal_of_short_lifetimes_goes_out_before_the_hosts_count_them_down() {
    // kea's lifetimes in tests/ipv6_chain.rs: preferred 40 s, valid 60 s,
    // renewed every 20 s (T1); the fast RAs at start are 16 s apart, the
    // others 198-600 s
    let mut ad = adv(Config::default(), 0);
    ad.handle(s(0), Event::Address(lan("2001:db8:1:1::1", 40, 60)));
    ad.handle(s(0), Event::Synced);
    assert_eq!(run_until(&mut ad, s(16)).len(), 2);
    // renewed at 20 s: the hosts have 20 s left, the next RA (at 32 s)
    // comes before that and carries the new lifetimes
    ad.handle(s(20), Event::Address(lan("2001:db8:1:1::1", 40, 60)));
    assert_eq!(ad.deadline(), Some(s(32)));
    let r = run_until(&mut ad, s(32));
    assert_eq!(r[0].1.prefixes[0].preferred, 28);
    let next = ad.deadline().unwrap();
    assert!(next >= s(230), "{next:?}");
    // counted down only: nothing
    ad.handle(s(35), Event::Address(lan("2001:db8:1:1::1", 25, 45)));
    assert_eq!(ad.deadline(), Some(next));
    // renewed at 40 s: the hosts would deprecate their addresses at 60 s,
    // long before the next RA: one goes out now, with the new lifetimes,
    // and no fast ones after it
    ad.handle(s(40), Event::Address(lan("2001:db8:1:1::1", 40, 60)));
    assert_eq!(ad.deadline(), Some(s(40)));
    let r = run_until(&mut ad, s(40));
    let p = &r[0].1.prefixes[0];
    assert_eq!((p.preferred, p.valid), (40, 60));
    assert!(ad.deadline().unwrap() >= s(238));
    // a deprecated prefix is not kept alive this way
    ad.handle(s(50), Event::Address(lan("2001:db8:1:1::1", 0, 60)));
    run_until(&mut ad, s(53));
    let next = ad.deadline();
    ad.handle(s(60), Event::Address(lan("2001:db8:1:1::1", 0, 60)));
    assert_eq!(ad.deadline(), next);
}

#[test]
fn solicitations_from_link_local_are_answered_at_once_by_unicast_within_a_budget() {
    let mut ad = adv(Config::default(), 400);
    ad.handle(s(0), Event::Address(lan("2001:db8:1:1::1", 3600, 7200)));
    ad.handle(s(0), Event::Synced);
    run_until(&mut ad, s(0));
    let mut with_slla = rs();
    with_slla.extend_from_slice(&[1, 1, 2, 0, 0, 0, 0, 2]);
    let got = ad.handle(s(1), solicit(&with_slla, "fe80::2"));
    assert!(matches!(&got[..], [Action::Unicast(to, _)] if *to == a("fe80::2")));
    assert_eq!(sent(&got)[0].prefixes.len(), 1);
    // a flood: UNICAST_BURST answers, then the multicast schedule
    let mut answered = 1;
    for i in 0..100 {
        let at = s(1) + ms(i);
        answered += ad.handle(at, solicit(&rs(), "fe80::3")).len();
    }
    assert_eq!(answered, UNICAST_BURST as usize);
    // the multicast one: after the delay, and MIN_DELAY_BETWEEN_RAS after the last
    assert_eq!(ad.deadline(), Some(s(3)));
    let r = run_until(&mut ad, s(3));
    assert_eq!(r.len(), 1);
    // after the window the budget is back
    assert_eq!(ad.handle(s(5), solicit(&rs(), "fe80::3")).len(), 1);
}

#[test]
fn solicitations_from_the_unspecified_address_get_a_delayed_multicast() {
    let mut ad = adv(Config::default(), 250);
    ad.handle(s(0), Event::Address(lan("2001:db8:1:1::1", 3600, 7200)));
    ad.handle(s(0), Event::Synced);
    run_until(&mut ad, s(0));
    assert!(ad.handle(s(10), solicit(&rs(), "::")).is_empty());
    assert_eq!(
        ad.deadline(),
        Some(s(10) + ms(250)),
        "random delay up to 500 ms"
    );
    // a second one does not push it later
    assert!(ad.handle(s(10) + ms(100), solicit(&rs(), "::")).is_empty());
    assert_eq!(ad.deadline(), Some(s(10) + ms(250)));
    assert_eq!(run_until(&mut ad, s(11)).len(), 1);
    // right after a multicast RA the rate limit holds it back
    assert!(ad.handle(s(11), solicit(&rs(), "::")).is_empty());
    assert_eq!(ad.deadline(), Some(s(10) + ms(250) + s(3)));
}

#[test]
fn bad_solicitations_are_dropped() {
    let mut ad = adv(Config::default(), 0);
    ad.handle(s(0), Event::Address(lan("2001:db8:1:1::1", 3600, 7200)));
    ad.handle(s(0), Event::Synced);
    run_until(&mut ad, s(0));
    let next = ad.deadline();
    let off_link = Event::Solicit {
        from: a("fe80::2"),
        hop_limit: Some(254),
        msg: &[133, 0, 0, 0, 0, 0, 0, 0],
    };
    assert!(ad.handle(s(1), off_link).is_empty());
    let unknown = Event::Solicit {
        from: a("fe80::2"),
        hop_limit: None,
        msg: &[133, 0, 0, 0, 0, 0, 0, 0],
    };
    assert!(ad.handle(s(1), unknown).is_empty());
    let mut slla_from_nowhere = rs();
    slla_from_nowhere.extend_from_slice(&[1, 1, 2, 0, 0, 0, 0, 2]);
    for m in [
        vec![],
        vec![133],
        vec![133, 1, 0, 0, 0, 0, 0, 0],
        vec![133, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
        vec![135, 0, 0, 0, 0, 0, 0, 0],
    ] {
        assert!(ad.handle(s(1), solicit(&m, "fe80::2")).is_empty(), "{m:?}");
    }
    assert!(ad
        .handle(s(1), solicit(&slla_from_nowhere, "::"))
        .is_empty());
    assert_eq!(ad.deadline(), next, "nothing scheduled");
}

#[test]
fn the_router_lifetime_follows_the_default_route_unless_configured() {
    let mut ad = adv(Config::default(), 0);
    ad.handle(s(0), Event::Address(lan("2001:db8:1:1::1", 3600, 7200)));
    ad.handle(s(0), Event::Synced);
    assert_eq!(run_until(&mut ad, s(0))[0].1.lifetime, 0);
    ad.handle(s(10), Event::DefaultRoute(true));
    assert_eq!(
        ad.deadline(),
        Some(s(10)),
        "a changed lifetime goes out at once"
    );
    assert_eq!(run_until(&mut ad, s(10))[0].1.lifetime, 1800);
    ad.handle(s(20), Event::DefaultRoute(true));
    assert_eq!(ad.deadline(), Some(s(26)), "no change, the schedule stays");
    let cfg = Config {
        lifetime: Some(9000),
        max_interval: s(1800),
        min_interval: s(600),
        ..Config::default()
    };
    let ad = adv(cfg, 0);
    assert_eq!(ad.advert(s(0), None).lifetime, 9000);
    let mut ad = adv(
        Config {
            max_interval: s(4000),
            ..Config::default()
        },
        0,
    );
    ad.handle(s(0), Event::DefaultRoute(true));
    assert_eq!(
        ad.advert(s(0), None).lifetime,
        9000,
        "3 x max, at most 9000"
    );
}

#[test]
fn stop_sends_a_final_ra_with_router_lifetime_0() {
    let mut ad = adv(Config::default(), 0);
    ad.handle(s(0), Event::DefaultRoute(true));
    ad.handle(s(0), Event::Address(lan("2001:db8:1:1::1", 3600, 7200)));
    ad.handle(s(0), Event::Synced);
    run_until(&mut ad, s(0));
    let r = sent(&ad.handle(s(5), Event::Stop));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].lifetime, 0);
    assert_eq!(
        r[0].prefixes.len(),
        1,
        "the prefixes stay: the addresses do"
    );
    assert_eq!(ad.deadline(), None);
    assert!(ad.handle(s(6), Event::Stop).is_empty(), "once");
}

#[test]
fn the_last_prefix_going_says_goodbye_once_then_silence() {
    let mut ad = adv(Config::default(), 0);
    ad.handle(s(0), Event::DefaultRoute(true));
    ad.handle(s(0), Event::Address(lan("2001:db8:1:1::1", 3600, 7200)));
    ad.handle(s(0), Event::Synced);
    run_until(&mut ad, s(0));
    let mut gone = lan("2001:db8:1:1::1", 0, 0);
    gone.deleted = true;
    ad.handle(s(1), Event::Address(gone));
    assert_eq!(ad.deadline(), Some(s(3)));
    let r = run_until(&mut ad, s(10_000));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].1.lifetime, 0);
    assert!(r[0].1.prefixes.is_empty() && r[0].1.rdnss.is_empty());
    assert!(ad.handle(s(20), solicit(&rs(), "fe80::2")).is_empty());
    assert!(ad.handle(s(20), Event::Stop).is_empty());
}

#[test]
fn options_the_configuration_asks_for() {
    let cfg = Config {
        managed: true,
        other: true,
        mtu: Some(1480),
        mac: Some([2, 0, 0, 0, 0, 1]),
        rdnss: vec![a("2001:db8::53")],
        dnssl: vec!["lan.example".into()],
        ..Config::default()
    };
    let mut ad = adv(cfg, 0);
    ad.handle(s(0), Event::Address(lan("2001:db8:1:1::1", 3600, 7200)));
    ad.handle(s(0), Event::Address(lan("2001:db8:1:1::2", 100, 9000)));
    ad.handle(s(0), Event::Synced);
    let r = &run_until(&mut ad, s(0))[0].1;
    assert!(r.managed && r.other);
    assert_eq!(r.mtu, Some(1480));
    assert_eq!(r.source_mac, Some([2, 0, 0, 0, 0, 1]));
    assert_eq!(r.rdnss, vec![(1800, vec![a("2001:db8::53")])]);
    assert_eq!(r.dnssl, Some((1800, vec!["lan.example".to_string()])));
    // two addresses in one /64: one prefix, the longest lifetimes
    assert_eq!(r.prefixes.len(), 1);
    assert_eq!((r.prefixes[0].preferred, r.prefixes[0].valid), (3600, 9000));
    // the own addresses as DNS servers, at most as long as they live
    let mut own = adv(Config::default(), 0);
    own.handle(s(0), Event::Address(lan("2001:db8:1:1::1", 300, 600)));
    own.handle(s(0), Event::Synced);
    assert_eq!(
        own.advert(s(0), None).rdnss[0],
        (600, vec![a("2001:db8:1:1::1")])
    );
}

#[test]
fn a_resync_forgets_and_relearns_without_an_extra_ra() {
    let mut ad = adv(Config::default(), 0);
    ad.handle(s(0), Event::Address(lan("2001:db8:1:1::1", 3600, 7200)));
    ad.handle(s(0), Event::Synced);
    run_until(&mut ad, s(40));
    let next = ad.deadline();
    ad.handle(s(50), Event::Resync);
    assert!(run_until(&mut ad, s(50)).is_empty());
    ad.handle(s(50), Event::Address(lan("2001:db8:1:1::1", 3550, 7150)));
    ad.handle(s(50), Event::Synced);
    assert_eq!(ad.deadline(), next);
}

#[test]
fn a_failed_send_is_tried_again_soon() {
    let mut ad = adv(Config::default(), 0);
    ad.handle(s(0), Event::Address(lan("2001:db8:1:1::1", 3600, 7200)));
    ad.handle(s(0), Event::Synced);
    run_until(&mut ad, s(0));
    ad.handle(s(0), Event::SendFailed);
    assert_eq!(ad.deadline(), Some(s(1)));
}

#[test]
fn time_near_the_end_of_duration_saturates() {
    let end = Duration::MAX - ms(1);
    let mut ad = adv(Config::default(), u32::MAX);
    ad.handle(end, Event::Address(lan("2001:db8:1:1::1", 3600, 7200)));
    ad.handle(end, Event::Synced);
    assert_eq!(ad.deadline(), Some(end));
    assert_eq!(sent(&ad.handle(end, Event::Timer)).len(), 1);
    assert_eq!(ad.deadline(), Some(Duration::MAX));
    ad.handle(end, solicit(&rs(), "::"));
    ad.handle(end, Event::SendFailed);
    assert!(ad.deadline().is_some());
    // lifetimes reported long ago are gone, not wrapped
    let mut old = adv(Config::default(), 0);
    old.handle(s(0), Event::Address(lan("2001:db8:1:1::1", 3600, 7200)));
    assert!(old.prefixes(Duration::MAX).is_empty());
}

#[test]
fn the_fuzz_entry_takes_any_bytes() {
    let mut x = 0x1234_5678u32;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let seeds: Vec<Vec<u8>> = vec![
        rs(),
        [rs(), vec![1, 1, 2, 0, 0, 0, 0, 2]].concat(),
        Advertiser::new(Config::default(), fixed(0))
            .advert(s(0), Some(1800))
            .build(),
        super::msg::Advert {
            dnssl: Some((5, vec!["a.b".into(), "c".into()])),
            rdnss: vec![(5, vec![a("2001:db8::1")])],
            ..Advert::default()
        }
        .build(),
    ];
    for seed in seeds {
        super::digest_untrusted(&seed);
        for i in 0..300 {
            let mut b = seed.clone();
            let flips = 1 + next() as usize % 4;
            for _ in 0..flips {
                if !b.is_empty() {
                    let at = next() as usize % b.len();
                    b[at] = next() as u8;
                }
            }
            if i % 3 == 0 {
                let cut = next() as usize % (b.len() + 1);
                b.truncate(cut);
            }
            super::digest_untrusted(&b);
        }
    }
}
