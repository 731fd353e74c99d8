//! The command lines: odhcp6c's (`parse_odhcp6c`: `-N try|force|none`,
//! `-P [PREFIX/]LEN`, `-s SCRIPT`, `-t SEC`, `-k`, `-e`, `-v`, `-d`,
//! `-p PIDFILE`, the interface last) and the native `dhcp6` applet's
//! (`parse_native`: the same letters, no script, and `--fw-dir`,
//! `--fw-service`, `--state-dir`; the interface from `dhcp6_IF` when it is
//! not given). Pure: words in, `Options` out, through
//! `common::getopt::parse_spec`.

use super::core::client::{PdHint, Want};
use common::getopt::{self, long, Long, Opt, Spec, Takes};
use std::net::Ipv6Addr;
use std::path::PathBuf;

/// odhcp6c's default handler.
pub const DEFAULT_SCRIPT: &str = "/usr/sbin/odhcp6c-update";

pub const USAGE: &str = "usage: odhcp6c [-N try|force|none] [-P [PREFIX/]LEN] [-s SCRIPT] [-t SEC] [-p PIDFILE] [-kedv] IFACE\n";

/// `odhcp6c --help`, on stdout.
pub const HELP: &str = "usage: odhcp6c [OPTIONS] IFACE\n\
    \x20 -N try|force|none   ask for addresses (IA_NA): if offered, required, not at all (try)\n\
    \x20 -P [PREFIX/]LEN     ask for a delegated prefix (IA_PD), LEN a hint (0: none)\n\
    \x20 -s SCRIPT           handler: SCRIPT IFACE STATE (/usr/sbin/odhcp6c-update); the RAs'\n\
    \x20                     RA_ADDRESSES, RA_ROUTES, RA_DNS, ... too, ra-updated on a change\n\
    \x20 -t SEC              longest SOLICIT retransmission timeout (3600)\n\
    \x20 -k                  send no RELEASE when stopping\n\
    \x20 -p PIDFILE          write the pid there\n\
    \x20 -d                  go to the background\n\
    \x20 -e                  messages to stderr (they always are)\n\
    \x20 -v                  say more\n\
    \x20 --state-dir DIR     where the DUID is kept (/var/lib/ferrite/dhcp6)\n\
    \x20 --help              this text\n";

pub const NATIVE_USAGE: &str = "usage: dhcp6 [-N try|force|none] [-P [PREFIX/]LEN] [-t SEC] [-kv] [--no-ra] [--fw-dir DIR] [--fw-service DIR] [--state-dir DIR] [IFACE]\n";

/// `dhcp6 --help`, on stdout.
pub const NATIVE_HELP: &str = "usage: dhcp6 [OPTIONS] [IFACE]\n\
    \x20 -N try|force|none   ask for addresses (IA_NA): if offered, required, not at all (try)\n\
    \x20 -P [PREFIX/]LEN     ask for a delegated prefix (IA_PD), LEN a hint (0: none)\n\
    \x20 -t SEC              longest SOLICIT retransmission timeout (3600)\n\
    \x20 -k                  send no RELEASE when stopping\n\
    \x20 -v                  say more\n\
    \x20 --no-ra             ask at once; else, without -P, wait for a router advertisement\n\
    \x20                     with M (addresses) or O (information only)\n\
    \x20 --fw-dir DIR        where dhcp6_IF.ipconf goes (/var/run/service/fw)\n\
    \x20 --fw-service DIR    the fw service to poke (/var/service/fw)\n\
    \x20 --state-dir DIR     where the DUID is kept (/var/lib/ferrite/dhcp6)\n\
    \x20 --help              this text\n\
    \x20 (as dhcp6_IF/run the interface is IF; more options from ./args)\n";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Empty: not given (native mode takes the service directory's).
    pub interface: String,
    pub na: Want,
    pub pd: Option<PdHint>,
    /// The handler (odhcp6c); native mode writes files instead.
    pub script: Option<String>,
    /// `-t`: SOL_MAX_RT in seconds.
    pub sol_max_rt: Option<u32>,
    /// `-k`: no RELEASE at the end.
    pub no_release: bool,
    pub verbose: bool,
    pub daemon: bool,
    pub pidfile: Option<PathBuf>,
    pub state_dir: PathBuf,
    pub fw_dir: PathBuf,
    pub fw_service: PathBuf,
    /// Wait for a router advertisement with M or O before asking (native
    /// mode without `-P`, unless `--no-ra`).
    pub follow_ra: bool,
    pub help: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            interface: String::new(),
            na: Want::Try,
            pd: None,
            script: None,
            sol_max_rt: None,
            no_release: false,
            verbose: false,
            daemon: false,
            pidfile: None,
            state_dir: PathBuf::from("/var/lib/ferrite/dhcp6"),
            fw_dir: PathBuf::from("/var/run/service/fw"),
            fw_service: PathBuf::from("/var/service/fw"),
            follow_ra: false,
            help: false,
        }
    }
}

const LONGS: &[Long] = &[long("state-dir", Takes::Value)];
const NATIVE_LONGS: &[Long] = &[
    long("state-dir", Takes::Value),
    long("fw-dir", Takes::Value),
    long("fw-service", Takes::Value),
    long("no-ra", Takes::Nothing),
];

/// `-P [PREFIX/]LEN`: a length 0 to 128 (0: no hint), a prefix optional.
pub fn prefix_hint(v: &str) -> Result<PdHint, String> {
    let (prefix, len) = match v.rsplit_once('/') {
        Some((p, l)) => (
            p.parse::<Ipv6Addr>()
                .map_err(|_| format!("-P: not an IPv6 prefix: {p}"))?,
            l,
        ),
        None => (Ipv6Addr::UNSPECIFIED, v),
    };
    let len = match len.parse::<u8>() {
        Ok(n) if n <= 128 => n,
        _ => return Err(format!("-P: not a prefix length (0 to 128): {len}")),
    };
    Ok(PdHint { len, prefix })
}

fn parse(args: &[String], native: bool) -> Result<Options, String> {
    let spec = Spec {
        flags: if native { "kv" } else { "kedv" },
        values: if native { "NPt" } else { "NPstp" },
        optional: "",
        long: if native { NATIVE_LONGS } else { LONGS },
        unchecked: false,
    };
    let (opts, first) = getopt::parse_spec(args, &spec).map_err(|e| e.to_string())?;
    let mut o = Options::default();
    if native {
        o.follow_ra = true;
    } else {
        o.script = Some(DEFAULT_SCRIPT.into());
    }
    for opt in opts {
        match opt {
            Opt::Help => o.help = true,
            Opt::Flag('k') => o.no_release = true,
            Opt::Flag('v') => o.verbose = true,
            Opt::Flag('d') => o.daemon = true,
            Opt::Flag('e') => {}
            Opt::Value('N', v) => {
                o.na = match v.as_str() {
                    "try" => Want::Try,
                    "force" => Want::Force,
                    "none" => Want::None,
                    _ => return Err(format!("-N: try, force or none, not {v}")),
                }
            }
            Opt::Value('P', v) => o.pd = Some(prefix_hint(&v)?),
            Opt::Value('s', v) => o.script = Some(v),
            Opt::Value('p', v) => o.pidfile = Some(PathBuf::from(v)),
            Opt::Value('t', v) => {
                o.sol_max_rt = Some(match v.parse::<u32>() {
                    Ok(n) if (1..=86400).contains(&n) => n,
                    _ => return Err(format!("-t: not a number of seconds (1 to 86400): {v}")),
                })
            }
            Opt::LongValue("state-dir", v) => o.state_dir = PathBuf::from(v),
            Opt::LongValue("fw-dir", v) => o.fw_dir = PathBuf::from(v),
            Opt::LongValue("fw-service", v) => o.fw_service = PathBuf::from(v),
            Opt::Long("no-ra") => o.follow_ra = false,
            Opt::Flag(c) | Opt::Value(c, _) => return Err(format!("unknown option -{c}")),
            Opt::Long(n) | Opt::LongValue(n, _) => return Err(format!("unknown option --{n}")),
        }
    }
    let rest = &args[first.min(args.len())..];
    match rest {
        [] if o.help || native => {}
        [] => return Err("no interface given".into()),
        [iface] => o.interface = iface.clone(),
        [_, extra, ..] => return Err(format!("unknown argument {extra}")),
    }
    if !o.interface.is_empty() && !common_iface_name_ok(&o.interface) {
        return Err(format!("bad interface name {}", o.interface));
    }
    Ok(o)
}

/// An interface name as the kernel takes it: 1 to 15 bytes, no `/`, no space.
fn common_iface_name_ok(n: &str) -> bool {
    (1..=15).contains(&n.len()) && !n.contains('/') && !n.contains(char::is_whitespace)
}

pub fn parse_odhcp6c(args: &[String]) -> Result<Options, String> {
    parse(args, false)
}

pub fn parse_native(args: &[String]) -> Result<Options, String> {
    parse(args, true)
}

/// The interface a service directory `dhcp6_IF` stands for.
pub fn interface_from_dir(name: &str) -> Option<String> {
    let rest = name.strip_prefix("dhcp6_")?;
    common_iface_name_ok(rest).then(|| rest.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::argv::words_of as w;

    #[test]
    fn odhcp6c_command_line() {
        let o = parse_odhcp6c(&w("-N none -P 56 -s /tmp/h -t 120 -k -e -v eth1")).unwrap();
        assert_eq!(o.na, Want::None);
        assert_eq!(
            o.pd,
            Some(PdHint {
                len: 56,
                prefix: Ipv6Addr::UNSPECIFIED
            })
        );
        assert_eq!(o.script.as_deref(), Some("/tmp/h"));
        assert_eq!(
            (o.sol_max_rt, o.no_release, o.verbose),
            (Some(120), true, true)
        );
        assert_eq!(o.interface, "eth1");
        let o = parse_odhcp6c(&w("-P 2001:db8:100::/48 -Nforce -kv wan")).unwrap();
        assert_eq!(
            o.pd.unwrap().prefix,
            "2001:db8:100::".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!((o.na, o.pd.unwrap().len), (Want::Force, 48));
        let o = parse_odhcp6c(&w("wan")).unwrap();
        assert_eq!(
            (o.na, o.pd, o.script.as_deref()),
            (Want::Try, None, Some(DEFAULT_SCRIPT))
        );
    }

    #[test]
    fn mistakes_are_named() {
        for (line, says) in [
            ("-N maybe eth0", "-N"),
            ("-P 129 eth0", "-P"),
            ("-P zz::/x eth0", "-P"),
            ("-P nope/56 eth0", "-P"),
            ("-t 0 eth0", "-t"),
            ("-t 99999999999 eth0", "-t"),
            ("-q eth0", "-q"),
            ("", "no interface"),
            ("eth0 eth1", "eth1"),
            ("-s", "-s"),
            ("a/b", "bad interface"),
        ] {
            let e = parse_odhcp6c(&w(line)).unwrap_err();
            assert!(e.contains(says), "{line}: {e}");
        }
    }

    #[test]
    fn native_command_line() {
        let o = parse_native(&w(
            "-P 60 --fw-dir /tmp/fw --fw-service /tmp/fwsvc --state-dir /tmp/st",
        ))
        .unwrap();
        assert_eq!((o.interface.as_str(), o.script.as_deref()), ("", None));
        assert_eq!(o.fw_dir, PathBuf::from("/tmp/fw"));
        assert_eq!(o.fw_service, PathBuf::from("/tmp/fwsvc"));
        assert_eq!(o.state_dir, PathBuf::from("/tmp/st"));
        assert!(
            parse_native(&w("-s /x eth0")).is_err(),
            "no script in native mode"
        );
        assert!(parse_native(&w("--help")).unwrap().help);
        assert!(o.follow_ra && !parse_native(&w("--no-ra")).unwrap().follow_ra);
        assert!(
            !parse_odhcp6c(&w("eth0")).unwrap().follow_ra,
            "odhcp6c asks at once"
        );
        assert_eq!(interface_from_dir("dhcp6_eth0").as_deref(), Some("eth0"));
        assert_eq!(interface_from_dir("dhcp_eth0"), None);
        assert_eq!(interface_from_dir("dhcp6_"), None);
    }
}
