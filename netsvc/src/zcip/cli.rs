//! BusyBox's `zcip [-fqv] [-r 169.254.X.X] IFACE SCRIPT` command line, with
//! the native mode's `--fw-dir DIR` and `--fw-service DIR`, into `Options`.
//! Pure: the caller passes the service directory's name and whether it
//! runs as `zcip_IF/run`.

use super::core::usable;
use common::getopt::{self, long, Opt, Spec, Takes};
use std::net::Ipv4Addr;
use std::path::PathBuf;

pub const PROG: &str = "zcip";

/// A mistake on the command line exits with this, as BusyBox's zcip does.
pub const USAGE_EXIT: i32 = 1;

/// `--help`: the usage and a line per option. Its first line is the usage
/// a mistake prints.
pub const HELP: &str = "usage: zcip [-fqv] [-r 169.254.X.X] IFACE SCRIPT
  -f                  stay in the foreground
  -q                  quit once an address is configured
  -v                  say which address is used
  -r 169.254.X.X      try this address first
  --fw-dir DIR        without SCRIPT: write zcip_IFACE.ipconf here (/var/run/service/fw)
  --fw-service DIR    without SCRIPT: poke this fw service (/var/service/fw)
";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub interface: String,
    /// None: native mode (ipconf file and fw)
    pub script: Option<String>,
    pub quit: bool,
    pub verbose: bool,
    /// -f, or run as a service: stay in the foreground
    pub foreground: bool,
    pub request: Option<Ipv4Addr>,
    pub fw_dir: PathBuf,
    pub fw_service: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Run(Options),
    Help,
}

const SPEC: Spec<'static> = Spec {
    flags: "fqv",
    values: "r",
    optional: "",
    long: &[
        long("fw-dir", Takes::Value),
        long("fw-service", Takes::Value),
    ],
    ..Spec::EMPTY
};

/// The words after `zcip`; `dir` is the current directory's name (IFACE
/// of `zcip_IFACE` when no operand names it), `service` whether it runs as
/// `SERVICE/run`. An error is the whole text for stderr: a message when
/// there is more to say, then the usage.
pub fn parse(words: &[String], dir: &str, service: bool) -> Result<Parsed, String> {
    let usage = |msg: Option<String>| match msg {
        Some(m) => format!("{PROG}: {m}\n{}", usage_line()),
        None => usage_line().to_string(),
    };
    let mut o = Options {
        interface: String::new(),
        script: None,
        quit: false,
        verbose: false,
        foreground: service,
        request: None,
        fw_dir: PathBuf::from("/var/run/service/fw"),
        fw_service: PathBuf::from("/var/service/fw"),
    };
    let (opts, first) = getopt::parse_spec(words, &SPEC).map_err(|e| usage(Some(e.to_string())))?;
    for opt in opts {
        match opt {
            Opt::Help => return Ok(Parsed::Help),
            Opt::Flag('f') => o.foreground = true,
            Opt::Flag('q') => o.quit = true,
            Opt::Flag('v') => o.verbose = true,
            Opt::Value('r', v) => match v.parse() {
                Ok(ip) if usable(ip) => o.request = Some(ip),
                _ => {
                    return Err(usage(Some(format!(
                        "-r {v}: not an address in 169.254.1.0-169.254.254.255"
                    ))))
                }
            },
            Opt::LongValue("fw-dir", v) => o.fw_dir = PathBuf::from(v),
            Opt::LongValue("fw-service", v) => o.fw_service = PathBuf::from(v),
            _ => return Err(usage(None)),
        }
    }
    match &words[first..] {
        [ifname, script] => {
            o.interface = ifname.clone();
            o.script = Some(script.clone());
        }
        [ifname] => o.interface = ifname.clone(),
        [] => match dir.strip_prefix("zcip_") {
            Some(i) if !i.is_empty() => o.interface = i.to_string(),
            _ => return Err(usage(None)),
        },
        _ => return Err(usage(None)),
    }
    Ok(Parsed::Run(o))
}

/// The usage line of a mistake: the first line of `HELP`.
fn usage_line() -> &'static str {
    HELP.split_inclusive('\n').next().unwrap_or(HELP)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str, dir: &str) -> Result<Options, String> {
        let w: Vec<String> = s.split_whitespace().map(String::from).collect();
        match parse(&w, dir, false)? {
            Parsed::Run(o) => Ok(o),
            Parsed::Help => Err("help".into()),
        }
    }

    #[test]
    fn busybox_command_lines() {
        let o = p("-fqv -r 169.254.9.9 eth0 /etc/zcip.script", "/").unwrap();
        assert!(o.foreground && o.quit && o.verbose);
        assert_eq!(o.request, Some(Ipv4Addr::new(169, 254, 9, 9)));
        assert_eq!(
            (o.interface.as_str(), o.script.as_deref()),
            ("eth0", Some("/etc/zcip.script"))
        );
        let o = p("-r169.254.1.0 eth1", "x").unwrap();
        assert_eq!(o.request, Some(Ipv4Addr::new(169, 254, 1, 0)));
        assert!(!o.foreground && o.script.is_none());
        assert_eq!(o.fw_dir, PathBuf::from("/var/run/service/fw"));
    }

    #[test]
    fn native_mode_takes_the_interface_from_the_service_directory() {
        let w = vec![
            "--fw-dir".to_string(),
            "/run/fw".into(),
            "--fw-service=/sv/fw".into(),
        ];
        let Ok(Parsed::Run(o)) = parse(&w, "zcip_wlan0", true) else {
            panic!()
        };
        assert_eq!(o.interface, "wlan0");
        assert!(o.foreground, "a service stays in the foreground");
        assert_eq!(
            (o.fw_dir, o.fw_service),
            (PathBuf::from("/run/fw"), PathBuf::from("/sv/fw"))
        );
        assert_eq!(p("", "zcip_"), Err(usage_line().to_string()));
        assert_eq!(p("", "elsewhere"), Err(usage_line().to_string()));
    }

    #[test]
    fn mistakes_say_why_then_the_usage() {
        let e = p("-r 10.0.0.1 eth0 /bin/true", "/").unwrap_err();
        assert!(
            e.starts_with("zcip: -r 10.0.0.1: not an address in 169.254.1.0-169.254.254.255\n"),
            "{e}"
        );
        assert!(e.ends_with(usage_line()));
        assert_eq!(
            p("-x eth0", "/").unwrap_err(),
            format!("zcip: unknown option -x\n{}", usage_line())
        );
        assert!(p("-r", "/")
            .unwrap_err()
            .contains("option -r needs a value"));
        assert_eq!(p("a b c", "/"), Err(usage_line().to_string()));
        assert_eq!(p("--help eth0", "/"), Err("help".into()));
        for line in HELP.lines().skip(1) {
            assert!(line.starts_with("  -"), "one line per option: {line}");
        }
    }
}
