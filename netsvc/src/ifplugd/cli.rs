//! BusyBox's ifplugd command line, `-i IF -r PROG [-x ARG] -u SECS -d SECS
//! -a -q -l -p -M -n -s -f -F -I -t SECS -k`, into `Options`. Pure: the
//! caller says whether it runs as `ifplugd_IF/run` and in which directory.

use common::getopt::{self, Opt, Spec};

pub const PROG: &str = "ifplugd";

/// A mistake on the command line exits with this.
pub const USAGE_EXIT: i32 = 1;

/// `--help`: the usage and a line per option. Its first line is the usage
/// a mistake prints.
pub const HELP: &str = "usage: ifplugd [-anqlpMI] -i IFACE [-r PROG] [-x ARG] [-u SECS] [-d SECS]
  -i IFACE    the interface (eth0; as ifplugd_IFACE/run, IFACE)
  -r PROG     run PROG IFACE up|down [ARG]; without it, up or down dhcp_IFACE and zcip_IFACE under $SVDIR
  -x ARG      an extra argument for PROG
  -u SECS     the carrier must be up this long before \"up\" (0)
  -d SECS     the carrier must be down this long before \"down\" (5)
  -a          do not set the interface up
  -n          stay in the foreground
  -q          no \"down\" at exit
  -l          \"down\" at start when there is no carrier
  -p          no \"up\" at start when there is a carrier
  -M          the interface may be missing, and come and go
  -I          carry on when PROG fails
  -k          stop the ifplugd running on IFACE
  -t SECS     accepted, no effect (netlink events, no polling)
  -m ARG      accepted, no effect
  -s -f -F -v -W  accepted, no effect
";

/// The usage line of a mistake: the first line of `HELP`.
fn usage_line() -> &'static str {
    HELP.split_inclusive('\n').next().unwrap_or(HELP)
}

const SPEC: Spec<'static> = Spec {
    flags: "aqplMIknsfFvW",
    values: "irxudtm",
    optional: "",
    long: &[],
    ..Spec::EMPTY
};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub interface: String,
    pub script: Option<String>,
    pub extra: Option<String>,
    pub up_delay: u64,
    pub down_delay: u64,
    pub no_ifup: bool,
    pub no_down_on_exit: bool,
    pub no_up_on_start: bool,
    pub always_run_on_start: bool,
    pub may_disappear: bool,
    pub ignore_script_errors: bool,
    pub kill: bool,
    /// -n, or run as a service: stay in the foreground
    pub foreground: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Run(Options),
    Help,
}

/// The words after `ifplugd`; `service`: it runs as `SERVICE/run` in the
/// directory `dir` (`ifplugd_IF` names the interface when no `-i` does).
/// An error is the whole text for stderr: why, then the usage.
pub fn parse(words: &[String], service: bool, dir: &str) -> Result<Parsed, String> {
    let mut words = words.to_vec();
    if service && !words.iter().any(|w| w.starts_with("-i")) {
        if let Some(ifname) = dir.strip_prefix("ifplugd_") {
            words.push("-i".into());
            words.push(ifname.into());
        }
    }
    match options(&words) {
        Ok(Some(mut o)) => {
            o.foreground |= service;
            Ok(Parsed::Run(o))
        }
        Ok(None) => Ok(Parsed::Help),
        Err(e) => Err(format!("{PROG}: {e}\n{}", usage_line())),
    }
}

/// The options, or None for `--help`.
fn options(args: &[String]) -> Result<Option<Options>, String> {
    let mut o = Options {
        up_delay: 0,
        down_delay: 5,
        ..Options::default()
    };
    let (opts, rest) = getopt::parse_spec(args, &SPEC).map_err(|e| e.to_string())?;
    let secs =
        |c: char, v: &str| common::num::ranged(&format!("-{c}"), v, 0, common::num::MAX_SECS);
    for opt in opts {
        match opt {
            Opt::Help => return Ok(None),
            Opt::Value('i', v) => o.interface = v,
            Opt::Value('r', v) => o.script = Some(v),
            Opt::Value('x', v) => o.extra = Some(v),
            Opt::Value('u', v) => o.up_delay = secs('u', &v)?,
            Opt::Value('d', v) => o.down_delay = secs('d', &v)?,
            Opt::Value(_, _) => {} // -t (events make polling unnecessary), -m
            Opt::Flag('a') => o.no_ifup = true,
            Opt::Flag('q') => o.no_down_on_exit = true,
            Opt::Flag('p') => o.no_up_on_start = true,
            Opt::Flag('l') => o.always_run_on_start = true,
            Opt::Flag('M') => o.may_disappear = true,
            Opt::Flag('I') => o.ignore_script_errors = true,
            Opt::Flag('k') => o.kill = true,
            Opt::Flag('n') => o.foreground = true,
            Opt::Flag(_) => {} // -s -f -F -v -W
            Opt::Long(_) | Opt::LongValue(..) => return Err("unknown option".into()),
        }
    }
    if let Some(w) = args.get(rest) {
        return Err(format!("unexpected argument {w}"));
    }
    if o.interface.is_empty() {
        o.interface = "eth0".into();
    }
    Ok(Some(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    use common::argv::words_of as w;

    fn p(s: &str) -> Result<Options, String> {
        match parse(&w(s), false, "/")? {
            Parsed::Run(o) => Ok(o),
            Parsed::Help => Err("help".into()),
        }
    }

    #[test]
    fn busybox_command_lines() {
        // the seed's ifplugd_if/run
        let o = p("-apqns -t3 -u8 -d8 -i eth0 -r ./ifplugd_handler").unwrap();
        assert!(o.no_ifup && o.no_up_on_start && o.no_down_on_exit);
        assert_eq!((o.up_delay, o.down_delay), (8, 8));
        assert_eq!(o.script.as_deref(), Some("./ifplugd_handler"));
        let o = p("-i wlan0 -M -I -l -x extra").unwrap();
        assert!(o.may_disappear && o.ignore_script_errors && o.always_run_on_start);
        assert_eq!(o.extra.as_deref(), Some("extra"));
        assert_eq!(o.down_delay, 5, "BusyBox's default down delay");
        assert!(p("-Z").is_err());
        assert!(p("-u x").is_err());
    }

    #[test]
    fn delays_out_of_range_are_errors() {
        // Regression: `-u 18446744073709551615` overflowed the debounce deadline.
        let e = p("-i eth0 -u 18446744073709551615").unwrap_err();
        assert!(e.contains("-u") && e.contains("out of range"), "{e}");
        assert!(p("-i eth0 -d 86401").is_err());
        assert!(p("-i eth0 -u 86400 -d 0").is_ok());
    }

    #[test]
    fn a_service_takes_its_interface_from_the_directory_and_stays_in_front() {
        let Ok(Parsed::Run(o)) = parse(&w("-u 1"), true, "ifplugd_wlan0") else {
            panic!()
        };
        assert_eq!(
            (o.interface.as_str(), o.up_delay, o.foreground),
            ("wlan0", 1, true)
        );
        let Ok(Parsed::Run(o)) = parse(&w("-ieth1"), true, "ifplugd_wlan0") else {
            panic!()
        };
        assert_eq!(o.interface, "eth1", "-i wins");
        assert_eq!(p("").unwrap().interface, "eth0");
        assert!(!p("").unwrap().foreground);
    }

    #[test]
    fn mistakes_say_why_then_the_usage_and_help_is_asked_for() {
        assert_eq!(
            p("-Z").unwrap_err(),
            format!("ifplugd: unknown option -Z\n{}", usage_line())
        );
        assert_eq!(
            p("-i").unwrap_err(),
            format!("ifplugd: option -i needs a value\n{}", usage_line())
        );
        assert_eq!(
            p("-i eth0 stray").unwrap_err(),
            format!("ifplugd: unexpected argument stray\n{}", usage_line())
        );
        assert!(p("--bogus")
            .unwrap_err()
            .starts_with("ifplugd: unknown option --bogus\n"));
        assert_eq!(p("-n --help"), Err("help".into()));
        for line in HELP.lines().skip(1) {
            assert!(line.starts_with("  -"), "one line per option: {line}");
        }
    }
}
