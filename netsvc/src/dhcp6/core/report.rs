//! What the bindings become outside the client, as text: odhcp6c's
//! handler environment (`ADDRESSES`, `PREFIXES` as `ADDR/LEN,preferred,valid`
//! space-separated, `RDNSS`, `DOMAINS`, ...; and `SERVER_DUID`), native mode's
//! `dhcp6_IF.ipconf` for fw (safe to source), and the DUID's state file.
//! Values reach a script only through its environment, never through a
//! shell string; domain names were checked by `msg` (letters, digits,
//! hyphens and dots).

use super::client::{Bindings, Lease};
use super::msg::MAX_DUID;

fn leases(l: &[Lease]) -> String {
    l.iter()
        .map(|l| format!("{}/{},{},{}", l.addr, l.len, l.preferred, l.valid))
        .collect::<Vec<_>>()
        .join(" ")
}

/// odhcp6c's environment for `SCRIPT IFACE STATE` from the bindings (the
/// `RA_*` variables are `ra`'s).
pub fn script_env(b: &Bindings) -> Vec<(&'static str, String)> {
    let dns: Vec<String> = b.dns.iter().map(|a| a.to_string()).collect();
    vec![
        ("ADDRESSES", leases(&b.addresses)),
        ("PREFIXES", leases(&b.prefixes)),
        ("RDNSS", dns.join(" ")),
        ("DOMAINS", b.domains.join(" ")),
        ("SERVER_DUID", hex(&b.server)),
    ]
}

fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

/// Native mode's `dhcp6_IF.ipconf` for fw: `if=`, `origin='dhcp6'`,
/// `ip6=`, `prefix6=` (each `ADDR/LEN,preferred,valid`, space-separated,
/// lifetimes in seconds from when the file was written), `dns6=` and
/// `domains6=` (see `fw::core::ipconf` and `fw::core::v6`).
pub fn ipconf(interface: &str, b: &Bindings) -> String {
    let mut s = format!("# written by ferrite's DHCPv6 client for {interface}\n");
    s.push_str(&format!("if={}\norigin='dhcp6'\n", quote(interface)));
    let dns: Vec<String> = b.dns.iter().map(|a| a.to_string()).collect();
    for (k, v) in [
        ("ip6", leases(&b.addresses)),
        ("prefix6", leases(&b.prefixes)),
        ("dns6", dns.join(" ")),
        ("domains6", b.domains.join(" ")),
    ] {
        if !v.is_empty() {
            s.push_str(&format!("{k}={}\n", quote(&v)));
        }
    }
    s
}

/// Whether native mode writes `dhcp6_IF.ipconf` anew and pokes fw: `old`
/// what it wrote last, `new` what it holds now (`None`: no file). On a
/// changed text, and on the same text after an exchange that refreshed
/// the lifetimes (`refreshed`: bound, updated, rebound): the file's
/// lifetimes count from its write time, so a file left alone would let fw
/// age them from the earlier write, and the uplink's address and the
/// LAN's prefix would run out under a lease that was renewed.
pub fn rewrite(old: Option<&str>, new: Option<&str>, refreshed: bool) -> bool {
    old != new || (refreshed && new.is_some())
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The DUID state file's text: one line of hex digits.
pub fn duid_text(d: &[u8]) -> String {
    format!("{}\n", hex(d))
}

/// A DUID from its state file: 2 to 130 bytes as hex (colons allowed),
/// else `None`.
pub fn duid_from_text(t: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = t
        .trim()
        .bytes()
        .filter(|&c| c != b':')
        .map(|c| (c as char).to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()?;
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let d: Vec<u8> = digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect();
    (2..=MAX_DUID).contains(&d.len()).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b() -> Bindings {
        let l = |a: &str, len, p, v| Lease {
            addr: a.parse().unwrap(),
            len,
            preferred: p,
            valid: v,
        };
        Bindings {
            addresses: vec![l("2001:db8::100", 128, 200, 300)],
            prefixes: vec![
                l("2001:db8:1100::", 56, 0, 139),
                l("2001:db8:2200::", 56, 500, 600),
            ],
            withdrawn: Vec::new(),
            dns: vec!["2001:db8::53".parse().unwrap()],
            domains: vec!["example.net".into(), "lan".into()],
            server: vec![0, 3, 0, 1, 2, 0, 0, 0, 9, 1],
        }
    }

    #[test]
    fn a_renewal_with_the_same_lifetimes_rewrites_the_file() {
        let t = ipconf("eth0", &b());
        let same = Some(t.as_str());
        // the text alone: no change, no write
        assert!(!rewrite(same, same, false));
        // RENEW or REBIND answered with the same lifetimes: the same text,
        // but counted from now, so written again (fw ages it from its mtime)
        assert!(rewrite(same, same, true));
        assert!(rewrite(None, same, true) && rewrite(None, same, false));
        // nothing held: the file goes once, and then there is nothing to do
        assert!(rewrite(same, None, false));
        assert!(!rewrite(None, None, true));
    }

    #[test]
    fn odhcp6c_environment() {
        let env = script_env(&b());
        let get = |k: &str| env.iter().find(|(n, _)| *n == k).unwrap().1.clone();
        assert_eq!(get("ADDRESSES"), "2001:db8::100/128,200,300");
        assert_eq!(
            get("PREFIXES"),
            "2001:db8:1100::/56,0,139 2001:db8:2200::/56,500,600"
        );
        assert_eq!(get("RDNSS"), "2001:db8::53");
        assert_eq!(get("DOMAINS"), "example.net lan");
        assert_eq!(get("SERVER_DUID"), "00030001020000000901");
    }

    #[test]
    fn ipconf_text() {
        let t = ipconf("eth0", &b());
        assert_eq!(
            t,
            "# written by ferrite's DHCPv6 client for eth0\nif='eth0'\norigin='dhcp6'\n\
             ip6='2001:db8::100/128,200,300'\nprefix6='2001:db8:1100::/56,0,139 2001:db8:2200::/56,500,600'\n\
             dns6='2001:db8::53'\ndomains6='example.net lan'\n"
        );
        // fw reads it back the same
        let c = crate::fw::ipconf::parse(&t, "dhcp6_eth0.ipconf").unwrap();
        assert_eq!(c[0].interface, "eth0");
        assert!(c[0].addrs.is_empty() && c[0].routes.is_empty());
        let back: Vec<Lease> = c[0]
            .prefixes6
            .iter()
            .map(|l| Lease {
                addr: l.ip,
                len: l.len,
                preferred: l.preferred,
                valid: l.valid,
            })
            .collect();
        assert_eq!(back, b().prefixes);
        assert_eq!((&c[0].dns6, &c[0].domains6), (&b().dns, &b().domains));
        assert_eq!(c[0].addrs6.len(), 1);
    }

    #[test]
    fn duid_file() {
        let d = vec![0, 3, 0, 1, 2, 0, 0, 0, 0, 1];
        assert_eq!(duid_from_text(&duid_text(&d)), Some(d.clone()));
        assert_eq!(duid_from_text("00:03:00:01:02:00:00:00:00:01"), Some(d));
        for bad in ["", "0", "zz", "00", &"00".repeat(131), "0003 0001"] {
            assert_eq!(duid_from_text(bad), None, "{bad:?}");
        }
    }
}
