//! `ra [-i IF] [--rdnss ADDR]... [--dnssl DOMAIN]... [--managed] [--other]
//! [--lifetime SEC] [--interval [MIN,]MAX] [--mtu BYTES] [-v]`, the
//! interface from the service directory `ra_IF` when `-i` does not name
//! one. Pure: words in, `Options` out, every number range-checked as RFC
//! 4861 §6.2.1 bounds it.

use super::core::msg::{wire_name, MAX_DOMAINS, MAX_SERVERS};
use super::core::Config;
use common::getopt::{self, alias, long, Long, Opt, Spec, Takes};
use common::num::ranged;
use std::net::Ipv6Addr;
use std::time::Duration;

pub const USAGE: &str = "usage: ra [-v] [-i IFACE] [--rdnss ADDR]... [--dnssl DOMAIN]... [--managed] [--other] [--lifetime SEC] [--interval [MIN,]MAX] [--mtu BYTES]\n";

/// `ra --help`, on stdout.
pub const HELP: &str = "usage: ra [OPTIONS]\n\
    \x20 -i IFACE            the LAN interface (as ra_IF/run: IF); its global /64 addresses are advertised\n\
    \x20 --rdnss ADDR        a DNS server to advertise (RFC 8106; up to 8); default: the router's own address in each prefix\n\
    \x20 --dnssl DOMAIN      a search domain to advertise (up to 8)\n\
    \x20 --managed           set M: addresses from DHCPv6\n\
    \x20 --other             set O: other configuration from DHCPv6\n\
    \x20 --lifetime SEC      router lifetime, 0 or MAX to 9000 (default 3 x MAX while the router has an IPv6 default route, else 0)\n\
    \x20 --interval [MIN,]MAX  seconds between unsolicited RAs: MAX 4 to 1800 (600), MIN 3 to 0.75 x MAX (0.33 x MAX)\n\
    \x20 --mtu BYTES         advertise this link MTU (1280 to 65535)\n\
    \x20 -v                  say every RA sent\n\
    \x20 --help              this text\n";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub interface: String,
    pub cfg: Config,
    pub verbose: bool,
    pub help: bool,
}

const LONGS: &[Long] = &[
    alias("interface", 'i', Takes::Value),
    long("rdnss", Takes::Value),
    long("dnssl", Takes::Value),
    long("managed", Takes::Nothing),
    long("other", Takes::Nothing),
    long("lifetime", Takes::Value),
    long("interval", Takes::Value),
    long("mtu", Takes::Value),
];

const SPEC: Spec<'static> = Spec {
    flags: "v",
    values: "i",
    optional: "",
    long: LONGS,
    unchecked: false,
};

/// `[MIN,]MAX` in seconds: MAX 4..=1800, MIN 3..=0.75 MAX, MIN by default
/// 0.33 MAX (at least 3).
fn interval(v: &str) -> Result<(Duration, Duration), String> {
    let (min, max) = match v.split_once(',') {
        Some((a, b)) => (Some(a), b),
        None => (None, v),
    };
    let max = ranged("--interval MAX", max, 4, 1800)?;
    let min = match min {
        Some(m) => ranged("--interval MIN", m, 3, max * 3 / 4)?,
        None => (max * 33 / 100).max(3),
    };
    Ok((Duration::from_secs(min), Duration::from_secs(max)))
}

/// The one form of a value's mistake: `OPTION: WHY: VALUE` ("9th": at most 8).
fn bad(opt: &str, why: &str, v: &str) -> String {
    let why = if why == "9th" {
        "at most 8 of them"
    } else {
        why
    };
    format!("{opt}: {why}: {v}")
}

/// An interface name as the kernel takes it: 1 to 15 bytes, no `/`, no space.
fn iface_name_ok(n: &str) -> bool {
    (1..=15).contains(&n.len()) && !n.contains('/') && !n.contains(char::is_whitespace)
}

/// The interface a service directory `ra_IF` stands for.
pub fn interface_from_dir(name: &str) -> Option<String> {
    let rest = name.strip_prefix("ra_")?;
    iface_name_ok(rest).then(|| rest.to_string())
}

/// The words after `ra`; `dir` the service directory's name.
pub fn parse(args: &[String], dir: &str) -> Result<Options, String> {
    let (opts, first) = getopt::parse_spec(args, &SPEC).map_err(|e| e.to_string())?;
    let mut o = Options {
        interface: String::new(),
        cfg: Config::default(),
        verbose: false,
        help: false,
    };
    let mut lifetime = None;
    for opt in opts {
        match opt {
            Opt::Help => o.help = true,
            Opt::Flag('v') => o.verbose = true,
            Opt::Value('i', v) => o.interface = v,
            Opt::LongValue("rdnss", v) => {
                let ip = v
                    .parse::<Ipv6Addr>()
                    .ok()
                    .filter(|ip| !(ip.is_unspecified() || ip.is_multicast() || ip.is_loopback()));
                match ip {
                    _ if o.cfg.rdnss.len() == MAX_SERVERS => return Err(bad("--rdnss", "9th", &v)),
                    Some(ip) => o.cfg.rdnss.push(ip),
                    None => return Err(bad("--rdnss", "not a server's IPv6 address", &v)),
                }
            }
            Opt::LongValue("dnssl", v) => {
                let ok = v
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
                if !ok || wire_name(&v).is_none() {
                    return Err(bad("--dnssl", "not a domain name", &v));
                }
                if o.cfg.dnssl.len() == MAX_DOMAINS {
                    return Err(bad("--dnssl", "9th", &v));
                }
                o.cfg.dnssl.push(v);
            }
            Opt::Long("managed") => o.cfg.managed = true,
            Opt::Long("other") => o.cfg.other = true,
            Opt::LongValue("lifetime", v) => lifetime = Some(ranged("--lifetime", &v, 0, 9000)?),
            Opt::LongValue("interval", v) => {
                (o.cfg.min_interval, o.cfg.max_interval) = interval(&v)?;
            }
            Opt::LongValue("mtu", v) => {
                o.cfg.mtu = Some(ranged("--mtu", &v, 1280, 65535)? as u32);
            }
            _ => return Err("unknown option".into()),
        }
    }
    if let Some(l) = lifetime {
        // §6.2.1: 0, or between MaxRtrAdvInterval and 9000 seconds
        let max = o.cfg.max_interval.as_secs();
        if l != 0 && l < max {
            return Err(bad(
                "--lifetime",
                "0, or the interval's MAX to 9000",
                &l.to_string(),
            ));
        }
        o.cfg.lifetime = Some(l as u16);
    }
    if let Some(w) = args.get(first) {
        return Err(bad("ra", "unknown argument", w));
    }
    if o.interface.is_empty() {
        o.interface = interface_from_dir(dir).unwrap_or_default();
    }
    if o.interface.is_empty() && !o.help {
        return Err("no interface: give -i IFACE or run it as ra_IF/run".into());
    }
    if !o.interface.is_empty() && !iface_name_ok(&o.interface) {
        return Err(bad("-i", "not an interface name", &o.interface));
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::argv::words_of as w;

    fn p(s: &str) -> Result<Options, String> {
        parse(&w(s), "/")
    }

    #[test]
    fn defaults_are_rfc_4861s() {
        let o = p("-i eth1").unwrap();
        assert_eq!(o.interface, "eth1");
        assert_eq!(o.cfg, Config::default());
        assert_eq!(o.cfg.max_interval, Duration::from_secs(600));
        assert_eq!(o.cfg.min_interval, Duration::from_secs(198));
        assert!(!o.verbose && !o.help);
    }

    #[test]
    fn every_option() {
        let o = p(
            "-v -i lan0 --rdnss 2001:db8::53 --rdnss=2001:db8::54 --dnssl lan.example \
             --managed --other --lifetime 1200 --interval 30,100 --mtu 1480",
        )
        .unwrap();
        assert!(o.verbose && o.cfg.managed && o.cfg.other);
        assert_eq!(o.cfg.rdnss.len(), 2);
        assert_eq!(o.cfg.dnssl, vec!["lan.example".to_string()]);
        assert_eq!(o.cfg.lifetime, Some(1200));
        assert_eq!(
            (o.cfg.min_interval, o.cfg.max_interval),
            (Duration::from_secs(30), Duration::from_secs(100))
        );
        assert_eq!(o.cfg.mtu, Some(1480));
        let o = p("--interface eth2 --interval 10 --lifetime 0").unwrap();
        assert_eq!(o.interface, "eth2");
        assert_eq!(
            o.cfg.min_interval,
            Duration::from_secs(3),
            "0.33 x 10, at least 3"
        );
        assert_eq!(o.cfg.lifetime, Some(0));
    }

    #[test]
    fn out_of_range_and_malformed_values_are_refused() {
        for bad in [
            "-i eth1 --interval 3",
            "-i eth1 --interval 1801",
            "-i eth1 --interval 2,100",
            "-i eth1 --interval 76,100",
            "-i eth1 --interval x",
            "-i eth1 --interval ,",
            "-i eth1 --lifetime 9001",
            "-i eth1 --lifetime 100",
            "-i eth1 --lifetime -1",
            "-i eth1 --mtu 1279",
            "-i eth1 --mtu 65536",
            "-i eth1 --rdnss ff02::1",
            "-i eth1 --rdnss ::",
            "-i eth1 --rdnss 10.0.0.1",
            "-i eth1 --dnssl a..b",
            "-i eth1 --dnssl a;b",
            "-i eth1 extra",
            "-i eth1 -x",
            "-i eth1 --bogus",
            "-i a/b",
            "-i 0123456789abcdef",
            "",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
        let many = " --rdnss 2001:db8::1".repeat(9);
        assert!(p(&format!("-i eth1{many}")).is_err());
        let e = p("-i eth1 --mtu 1").unwrap_err();
        assert!(e.contains("--mtu") && e.contains("out of range"), "{e}");
        assert_eq!(
            p("-i eth1 --dnssl a;b").unwrap_err(),
            "--dnssl: not a domain name: a;b"
        );
        assert!(p(&format!("-i eth1{many}"))
            .unwrap_err()
            .contains("at most 8"));
    }

    #[test]
    fn the_interface_from_the_service_directory() {
        assert_eq!(parse(&w(""), "ra_eth1").unwrap().interface, "eth1");
        assert_eq!(
            parse(&w("-i lan"), "ra_eth1").unwrap().interface,
            "lan",
            "-i wins"
        );
        assert!(parse(&w(""), "dhcp6_eth1").is_err());
        assert!(parse(&w(""), "ra_").is_err());
        assert!(parse(&w("--help"), "/").unwrap().help);
        for line in HELP.lines().skip(1) {
            assert!(line.starts_with("  -"), "one line per option: {line}");
        }
    }
}
