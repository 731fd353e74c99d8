//! What router advertisements tell odhcp6c's handler: the `RA_*`
//! variables, read from the RAs themselves as odhcp6c reads them (its
//! src/ra.c), not from what the kernel made of them. Pure: the shell hands
//! in each RA (from a link-local router, hop limit 255) with the time and
//! the interface identifier SLAAC addresses take; `env` says what holds
//! now, lifetimes counted down from when they were heard.
//!
//! - `RA_ADDRESSES`: `ADDR/64,preferred,valid` for each autonomous /64
//!   (the prefix and our link-local address's interface identifier).
//! - `RA_ROUTES`: `DEST/LEN,GATEWAY,valid,metric`: `::/0` via the router
//!   (metric 384, 512, 640 from its preference: high, medium, low), each
//!   route information option (RFC 4191) the same way, each on-link prefix
//!   with no gateway and metric 256.
//! - `RA_DNS`, `RA_DOMAINS`: RDNSS and DNSSL (RFC 8106), space-separated.
//! - `RA_HOPLIMIT`, `RA_MTU`, `RA_REACHABLE`, `RA_RETRANSMIT`: the last
//!   values announced (0: none yet).
//!
//! An RA changes the set when it adds or removes an entry, or moves a
//! lifetime by `HOLDOFF` seconds or more (odhcp6c's rule: a periodic RA
//! that only refreshes lifetimes changes it too, the handler then passes
//! the longer lifetimes on); the shell then calls `ra-updated`.

use super::msg::names_of;
use crate::ra::core::msg::options;
use std::net::Ipv6Addr;
use std::time::Duration;

/// A lifetime moved by less than this is no change (odhcp6c's default
/// holdoff, RFC 4861's smallest MinRtrAdvInterval).
pub const HOLDOFF: u32 = 3;
/// Entries kept in each list at most (a hostile router's RAs cost no more).
pub const MAX_ENTRIES: usize = 32;
const FOREVER: u32 = u32::MAX;

const ADDRS: usize = 0;
const ROUTES: usize = 1;
const DNS: usize = 2;
const DOMAINS: usize = 3;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    target: Ipv6Addr,
    len: u8,
    /// The gateway (routes; unspecified for an on-link prefix), the router
    /// that said it (DNS, domains).
    router: Ipv6Addr,
    /// A DNSSL domain.
    name: String,
    metric: u16,
    preferred: u32,
    valid: u32,
    /// When it was heard: the lifetimes count from then.
    at: Duration,
}

/// Seconds of `v` left at `now`, heard at `at`.
fn left(v: u32, at: Duration, now: Duration) -> u32 {
    if v == FOREVER {
        return v;
    }
    let gone = now.saturating_sub(at).as_secs();
    u32::try_from(u64::from(v).saturating_sub(gone)).unwrap_or(0)
}

/// `a` with the bits past `len` cleared.
fn masked(a: Ipv6Addr, len: u8) -> Ipv6Addr {
    let keep = u128::MAX
        .checked_shl(128 - u32::from(len.min(128)))
        .unwrap_or(0);
    Ipv6Addr::from(u128::from(a) & keep)
}

/// Not a destination an RA may announce: link-local, loopback, multicast.
fn bad_target(a: Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80 || a.is_loopback() || a.is_multicast()
}

/// A router preference (RFC 4191 §2.1, bits 3-4) as odhcp6c's metric;
/// `None` for the reserved value.
fn metric(flags: u8) -> Option<u16> {
    match (flags >> 3) & 3 {
        0 => Some(512),
        1 => Some(384),
        3 => Some(640),
        _ => None,
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_be_bytes)
}

/// The first 16 bytes from `at` (zeros where `b` ends) as an address.
fn ip6_at(b: &[u8], at: usize) -> Ipv6Addr {
    let mut a = [0u8; 16];
    for (i, x) in b.iter().skip(at).take(16).enumerate() {
        a[i] = *x;
    }
    Ipv6Addr::from(a)
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaState {
    lists: [Vec<Entry>; 4],
    hop_limit: u32,
    mtu: u32,
    reachable: u32,
    retransmit: u32,
}

impl RaState {
    /// One entry heard at `now`: added, its lifetimes renewed, or removed
    /// (valid 0). Whether that changed the set.
    fn update(&mut self, list: usize, e: Entry) -> bool {
        let now = e.at;
        let l = &mut self.lists[list];
        l.retain(|x| left(x.valid, x.at, now) > 0);
        let same = |x: &Entry| {
            (x.target, x.len, x.router, &x.name) == (e.target, e.len, e.router, &e.name)
        };
        let Some(i) = l.iter().position(same) else {
            if e.valid == 0 || l.len() >= MAX_ENTRIES {
                return false;
            }
            l.push(e);
            return true;
        };
        if e.valid == 0 {
            l.remove(i);
            return true;
        }
        let x = &mut l[i];
        let near = |new: u32, old: u32| new >= old && new - old < HOLDOFF;
        if near(e.valid, left(x.valid, x.at, now))
            && near(e.preferred, left(x.preferred, x.at, now))
            && e.metric == x.metric
        {
            return false;
        }
        *x = e;
        true
    }

    fn set(v: &mut u32, new: u32, ok: std::ops::RangeInclusive<u32>) -> bool {
        let change = ok.contains(&new) && *v != new;
        if change {
            *v = new;
        }
        change
    }

    /// A router advertisement (the ICMPv6 message) from `from`; `iid` the
    /// interface identifier of our SLAAC addresses (`None`: not known yet,
    /// no address). Whether the set changed; a malformed RA changes nothing.
    #[inline(never)]
    pub fn heard(&mut self, m: &[u8], from: Ipv6Addr, iid: Option<u64>, now: Duration) -> bool {
        if m.len() < 16 || m[0] != 134 || m[1] != 0 {
            return false;
        }
        let Some(opts) = options(m, 16) else {
            return false;
        };
        let entry = |target, len, router, metric, preferred, valid| Entry {
            target,
            len,
            router,
            name: String::new(),
            metric,
            preferred,
            valid,
            at: now,
        };
        let none = Ipv6Addr::UNSPECIFIED;
        let lifetime = u32::from(u16::from_be_bytes([m[6], m[7]]));
        let mut changed = self.update(
            ROUTES,
            entry(
                none,
                0,
                from,
                metric(m[5]).unwrap_or(512),
                lifetime,
                lifetime,
            ),
        );
        changed |= Self::set(&mut self.hop_limit, u32::from(m[4]), 1..=255);
        changed |= Self::set(&mut self.reachable, u32_at(m, 8), 1..=3_600_000);
        changed |= Self::set(&mut self.retransmit, u32_at(m, 12), 1..=60_000);
        for (t, o) in opts {
            let (len, lifetime) = (o.get(2).copied().unwrap_or(0), u32_at(o, 4));
            match t {
                5 if o.len() == 8 => changed |= Self::set(&mut self.mtu, lifetime, 1280..=65535),
                // Prefix Information (RFC 4861 §4.6.2)
                3 if o.len() == 32 && len <= 128 => {
                    let prefix = masked(ip6_at(o, 16), len);
                    let preferred = u32_at(o, 8);
                    if bad_target(prefix) || lifetime < preferred {
                        continue;
                    }
                    if o[3] & 0x80 != 0 {
                        let e = entry(prefix, len, none, 256, preferred, lifetime);
                        changed |= self.update(ROUTES, e);
                    }
                    if let Some(iid) = iid.filter(|_| o[3] & 0x40 != 0 && len == 64) {
                        let a = Ipv6Addr::from(u128::from(prefix) | u128::from(iid));
                        changed |= self.update(ADDRS, entry(a, 64, none, 256, preferred, lifetime));
                    }
                }
                // Route Information (RFC 4191 §2.3): 8, 16 or 24 bytes as the length needs
                24 if o.len() <= 24
                    && len <= 128
                    && o.len() >= 8 + usize::from(len).div_ceil(64) * 8 =>
                {
                    let dest = masked(ip6_at(o, 8), len);
                    if let (false, Some(mt)) = (bad_target(dest), metric(o[3])) {
                        changed |=
                            self.update(ROUTES, entry(dest, len, from, mt, lifetime, lifetime));
                    }
                }
                // RDNSS (RFC 8106 §5.1)
                25 if o.len() >= 24 => {
                    for at in (8..o.len() - 15).step_by(16) {
                        let e = entry(ip6_at(o, at), 128, from, 0, 0, lifetime);
                        changed |= self.update(DNS, e);
                    }
                }
                // DNSSL (RFC 8106 §5.2)
                31 if o.len() >= 16 => {
                    let mut names = Vec::new();
                    names_of(&o[8..], &mut names);
                    for name in names {
                        let mut e = entry(none, 0, from, 0, 0, lifetime);
                        e.name = name;
                        changed |= self.update(DOMAINS, e);
                    }
                }
                _ => {}
            }
        }
        changed
    }

    /// The `RA_*` variables at `now`, in odhcp6c's formats; what has
    /// expired is left out.
    #[inline(never)]
    pub fn env(&self, now: Duration) -> Vec<(&'static str, String)> {
        use std::fmt::Write;
        let mut out = Vec::new();
        for (list, key) in ["RA_ADDRESSES", "RA_ROUTES", "RA_DNS", "RA_DOMAINS"]
            .into_iter()
            .enumerate()
        {
            let mut t = String::new();
            for e in &self.lists[list] {
                let v = left(e.valid, e.at, now);
                if v == 0 {
                    continue;
                }
                if !t.is_empty() {
                    t.push(' ');
                }
                let _ = match list {
                    ADDRS => write!(t, "{}/64,{},{v}", e.target, left(e.preferred, e.at, now)),
                    ROUTES => {
                        let _ = write!(t, "{}/{},", e.target, e.len);
                        if !e.router.is_unspecified() {
                            let _ = write!(t, "{}", e.router);
                        }
                        write!(t, ",{v},{}", e.metric)
                    }
                    DNS => write!(t, "{}", e.target),
                    _ => write!(t, "{}", e.name),
                };
            }
            out.push((key, t));
        }
        for (key, v) in [
            ("RA_HOPLIMIT", self.hop_limit),
            ("RA_MTU", self.mtu),
            ("RA_REACHABLE", self.reachable),
            ("RA_RETRANSMIT", self.retransmit),
        ] {
            out.push((key, v.to_string()));
        }
        out
    }
}

/// The interface identifier (last 64 bits) of the link-local address.
pub fn iid_of(link_local: Ipv6Addr) -> u64 {
    u128::from(link_local) as u64
}

/// Any bytes as a router advertisement, twice (the second a refresh), then
/// its variables: the entry point of the fuzz target `dhcp6_ra`. Panics
/// only when a list outgrows `MAX_ENTRIES` or a value could break a
/// handler's word splitting.
pub fn digest_untrusted(bytes: &[u8]) {
    let mut s = RaState::default();
    let from = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    let first = s.heard(bytes, from, Some(1), Duration::ZERO);
    let again = s.heard(bytes, from, Some(1), Duration::from_secs(1));
    assert!(first || !again, "a refresh 1 s later is no change");
    assert!(s.lists.iter().all(|l| l.len() <= MAX_ENTRIES));
    for (_, v) in s.env(Duration::from_secs(2)) {
        assert!(
            v.bytes().all(|c| c.is_ascii_graphic() || c == b' '),
            "{v:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    const ROUTER: &str = "fe80::1";

    /// An RA: hop limit 64, router lifetime 1800, medium preference,
    /// reachable 30000, retransmit 1000, then `opts`.
    fn ra(lifetime: u16, opts: &[&[u8]]) -> Vec<u8> {
        let mut m = vec![134, 0, 0, 0, 64, 0xc0];
        m.extend_from_slice(&lifetime.to_be_bytes());
        m.extend_from_slice(&30000u32.to_be_bytes());
        m.extend_from_slice(&1000u32.to_be_bytes());
        for o in opts {
            m.extend_from_slice(o);
        }
        m
    }

    fn pio(prefix: &str, len: u8, flags: u8, valid: u32, preferred: u32) -> Vec<u8> {
        let mut o = vec![3, 4, len, flags];
        o.extend_from_slice(&valid.to_be_bytes());
        o.extend_from_slice(&preferred.to_be_bytes());
        o.extend_from_slice(&[0; 4]);
        o.extend_from_slice(&a(prefix).octets());
        o
    }

    fn rio(prefix: &str, len: u8, prf: u8, lifetime: u32) -> Vec<u8> {
        let units = 1 + usize::from(len).div_ceil(64);
        let mut o = vec![24, units as u8, len, prf << 3];
        o.extend_from_slice(&lifetime.to_be_bytes());
        o.extend_from_slice(&a(prefix).octets()[..(units - 1) * 8]);
        o
    }

    fn rdnss(lifetime: u32, servers: &[&str]) -> Vec<u8> {
        let mut o = vec![25, 1 + 2 * servers.len() as u8, 0, 0];
        o.extend_from_slice(&lifetime.to_be_bytes());
        for s in servers {
            o.extend_from_slice(&a(s).octets());
        }
        o
    }

    fn dnssl(lifetime: u32, wire: &[u8]) -> Vec<u8> {
        let mut o = vec![31, 0, 0, 0];
        o.extend_from_slice(&lifetime.to_be_bytes());
        o.extend_from_slice(wire);
        o.resize(o.len().div_ceil(8) * 8, 0);
        o[1] = (o.len() / 8) as u8;
        o
    }

    fn get(s: &RaState, now: u64, k: &str) -> String {
        let env = s.env(Duration::from_secs(now));
        env.into_iter().find(|(n, _)| *n == k).unwrap().1
    }

    fn full() -> Vec<u8> {
        ra(
            1800,
            &[
                &[5, 1, 0, 0, 0, 0, 0x05, 0xdc],
                &pio("2001:db8:1::", 64, 0xc0, 86400, 14400),
                &rio("2001:db8:77::", 48, 1, 600),
                &rdnss(300, &["2001:db8:1::53", "2001:db8:1::54"]),
                &dnssl(300, b"\x03lab\x07example\x00\x03lan\x00"),
            ],
        )
    }

    #[test]
    fn every_variable_in_odhcp6c_s_format() {
        let mut s = RaState::default();
        let iid = iid_of(a("fe80::a8bb:ccff:fedd:eeff"));
        assert!(s.heard(&full(), a(ROUTER), Some(iid), Duration::ZERO));
        assert_eq!(
            get(&s, 10, "RA_ADDRESSES"),
            "2001:db8:1:0:a8bb:ccff:fedd:eeff/64,14390,86390"
        );
        assert_eq!(
            get(&s, 10, "RA_ROUTES"),
            "::/0,fe80::1,1790,512 2001:db8:1::/64,,86390,256 2001:db8:77::/48,fe80::1,590,384"
        );
        assert_eq!(get(&s, 10, "RA_DNS"), "2001:db8:1::53 2001:db8:1::54");
        assert_eq!(get(&s, 10, "RA_DOMAINS"), "lab.example lan");
        assert_eq!(get(&s, 0, "RA_HOPLIMIT"), "64");
        assert_eq!(get(&s, 0, "RA_MTU"), "1500");
        assert_eq!(get(&s, 0, "RA_REACHABLE"), "30000");
        assert_eq!(get(&s, 0, "RA_RETRANSMIT"), "1000");
        // expired: gone (DNS after 300 s, the route after 600 s)
        assert_eq!(get(&s, 300, "RA_DNS"), "");
        assert_eq!(get(&s, 300, "RA_DOMAINS"), "");
        assert!(!get(&s, 600, "RA_ROUTES").contains("77"));
        // nothing heard: empty, zeros
        let e = RaState::default();
        assert_eq!(get(&e, 0, "RA_ROUTES"), "");
        assert_eq!(get(&e, 0, "RA_MTU"), "0");
    }

    #[test]
    fn a_refresh_within_the_holdoff_is_no_change_later_it_is() {
        let mut s = RaState::default();
        let t = Duration::from_secs;
        assert!(s.heard(&full(), a(ROUTER), Some(1), t(0)));
        assert!(!s.heard(&full(), a(ROUTER), Some(1), t(2)));
        // 3 s on, the lifetimes move by 3: passed on
        assert!(s.heard(&full(), a(ROUTER), Some(1), t(3)));
        assert_eq!(get(&s, 3, "RA_ADDRESSES"), "2001:db8:1::1/64,14400,86400");
        // a shorter lifetime is a change at once
        let short = ra(1800, &[&pio("2001:db8:1::", 64, 0xc0, 86000, 14400)]);
        assert!(s.heard(&short, a(ROUTER), Some(1), t(4)));
        // the default route withdrawn (router lifetime 0)
        assert!(s.heard(&ra(0, &[]), a(ROUTER), Some(1), t(5)));
        assert!(!get(&s, 5, "RA_ROUTES").contains("::/0"));
        assert!(!s.heard(&ra(0, &[]), a(ROUTER), Some(1), t(6)));
        // a new DNS server
        let more = ra(0, &[&rdnss(300, &["2001:db8:2::53"])]);
        assert!(s.heard(&more, a(ROUTER), Some(1), t(7)));
        assert_eq!(
            get(&s, 7, "RA_DNS"),
            "2001:db8:1::53 2001:db8:1::54 2001:db8:2::53"
        );
    }

    #[test]
    fn what_odhcp6c_leaves_out_is_left_out() {
        let mut s = RaState::default();
        let m = ra(
            0,
            &[
                // not autonomous: a route only; not /64: no address
                &pio("2001:db8:2::", 64, 0x80, 600, 300),
                &pio("2001:db8:3::", 56, 0xc0, 600, 300),
                // preferred > valid, link-local: ignored
                &pio("2001:db8:4::", 64, 0xc0, 300, 600),
                &pio("fe80::", 64, 0xc0, 600, 300),
                // reserved preference, link-local destination
                &rio("2001:db8:5::", 48, 2, 600),
                &rio("fe80::", 64, 0, 600),
                // a /64 route in a 1-unit option: too short
                &[24, 1, 64, 0, 0, 0, 1, 0],
                // MTU below 1280
                &[5, 1, 0, 0, 0, 0, 0x01, 0x00],
            ],
        );
        assert!(s.heard(&m, a(ROUTER), Some(1), Duration::ZERO));
        assert_eq!(get(&s, 0, "RA_ADDRESSES"), "");
        assert_eq!(
            get(&s, 0, "RA_ROUTES"),
            "2001:db8:2::/64,,600,256 2001:db8:3::/56,,600,256"
        );
        assert_eq!(get(&s, 0, "RA_MTU"), "0");
        // no interface identifier yet: no address
        let mut s = RaState::default();
        s.heard(&full(), a(ROUTER), None, Duration::ZERO);
        assert_eq!(get(&s, 0, "RA_ADDRESSES"), "");
    }

    #[test]
    fn malformed_advertisements_change_nothing() {
        let mut s = RaState::default();
        let good = full();
        for bad in [
            &good[..15],
            &[135, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..],
            // an option of length 0, one past the end
            &[&ra(1800, &[])[..], &[3, 0, 0, 0]].concat(),
            &[&ra(1800, &[])[..], &[3, 4, 64, 0xc0]].concat(),
        ] {
            assert!(!s.heard(bad, a(ROUTER), Some(1), Duration::ZERO));
        }
        assert_eq!(s, RaState::default());
        // a name with a bad label is skipped
        let m = ra(0, &[&dnssl(60, b"\x04a b!\x00\x02ok\x00")]);
        s.heard(&m, a(ROUTER), None, Duration::ZERO);
        assert_eq!(get(&s, 0, "RA_DOMAINS"), "ok");
        // bounded
        let mut s = RaState::default();
        for i in 0..100u16 {
            let p = format!("2001:db8:{i:x}::");
            s.heard(
                &ra(0, &[&pio(&p, 64, 0x80, 600, 300)]),
                a(ROUTER),
                None,
                Duration::ZERO,
            );
        }
        assert_eq!(s.lists[ROUTES].len(), MAX_ENTRIES);
        digest_untrusted(&full());
    }

    #[test]
    fn masks_and_lifetimes() {
        assert_eq!(masked(a("2001:db8:1:2:3::1"), 48), a("2001:db8:1::"));
        assert_eq!(masked(a("2001:db8::1"), 0), Ipv6Addr::UNSPECIFIED);
        assert_eq!(masked(a("2001:db8::1"), 128), a("2001:db8::1"));
        let t = Duration::from_secs;
        assert_eq!(left(FOREVER, t(0), t(100)), FOREVER);
        assert_eq!(left(10, t(5), t(100)), 0);
        assert_eq!(left(10, t(5), t(0)), 10);
    }
}
