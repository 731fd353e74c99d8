//! The pinger's command line, `[-i IF] [--interval SECS] [--retry SECS]
//! [--failures N] [--timeout SECS]`, into `Options`. Pure: the caller
//! passes the current directory (`dhcp_IF_pinger` names the interface, its
//! parent is the service tree).

use common::getopt::{self, long, Error, Opt, Spec, Takes};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const PROG: &str = "pinger";

/// A mistake on the command line exits with this (daemontools' 100).
pub const USAGE_EXIT: i32 = 100;

/// `--help`: the usage and a line per option. Its first line is the usage
/// a mistake prints.
pub const HELP: &str =
    "usage: pinger [-i IF] [--interval SECS] [--retry SECS] [--failures N] [--timeout SECS]
  -i IF             the interface (as dhcp_IF_pinger/run, IF)
  --interval SECS   ping the lease's router this often (67)
  --retry SECS      this long after a failure, and before a new router's first ping (5)
  --failures N      restart dhcp_IF after N failures in a row (5)
  --timeout SECS    an answer later than this is a failure (1)
";

const SPEC: Spec<'static> = Spec {
    long: &[
        long("interval", Takes::Value),
        long("retry", Takes::Value),
        long("failures", Takes::Value),
        long("timeout", Takes::Value),
    ],
    values: "i",
    flags: "",
    optional: "",
    ..Spec::EMPTY
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub interface: String,
    pub interval: Duration,
    pub retry: Duration,
    pub failures: u32,
    pub timeout: Duration,
    /// the service tree: `dhcp_IF` and `supplicant_IF` are in it
    pub svdir: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Run(Options),
    Help,
}

/// Seconds for `what`: at least 1 ms (0 would ping in a busy loop), at most a day.
fn secs(what: &str, v: &str) -> Result<Duration, String> {
    common::num::secs_frac(
        what,
        v,
        Duration::from_millis(1),
        Duration::from_secs(common::num::MAX_SECS),
    )
}

/// The words after `pinger`, run in `cwd`. An error is the whole text for
/// stderr.
pub fn parse(words: &[String], cwd: &Path) -> Result<Parsed, String> {
    let dir = cwd
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut o = Options {
        interface: dir
            .strip_prefix("dhcp_")
            .and_then(|d| d.strip_suffix("_pinger"))
            .unwrap_or("")
            .to_string(),
        interval: Duration::from_secs(67),
        retry: Duration::from_secs(5),
        failures: 5,
        timeout: Duration::from_secs(1),
        svdir: cwd
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/var/service")),
    };
    match options(words, &mut o) {
        Ok(false) => {}
        Ok(true) => return Ok(Parsed::Help),
        Err(e) => return Err(format!("{PROG}: {e}\n{}", usage_line())),
    }
    if o.interface.is_empty() {
        return Err(format!(
            "{PROG}: no interface: give -i IF or run it as dhcp_IF_pinger/run\n"
        ));
    }
    Ok(Parsed::Run(o))
}

/// Set `o` from the options; true for `--help`.
fn options(words: &[String], o: &mut Options) -> Result<bool, String> {
    let (opts, first) = getopt::parse_spec(words, &SPEC).map_err(|e| match e {
        Error::Unknown(w) => format!("unknown argument {w}"),
        e => e.to_string(),
    })?;
    for opt in opts {
        match opt {
            Opt::Help => return Ok(true),
            Opt::Value(_, v) => o.interface = v,
            Opt::LongValue("interval", v) => o.interval = secs("--interval", &v)?,
            Opt::LongValue("retry", v) => o.retry = secs("--retry", &v)?,
            Opt::LongValue("failures", v) => {
                o.failures = common::num::ranged("--failures", &v, 1, 1000)? as u32
            }
            Opt::LongValue(_, v) => o.timeout = secs("--timeout", &v)?,
            Opt::Flag(_) | Opt::Long(_) => {}
        }
    }
    match words.get(first) {
        Some(w) => Err(format!("unknown argument {w}")),
        None => Ok(false),
    }
}

/// The usage line of a mistake: the first line of `HELP`.
fn usage_line() -> &'static str {
    HELP.split_inclusive('\n').next().unwrap_or(HELP)
}

#[cfg(test)]
mod tests {
    use super::*;

    use common::argv::words_of as w;

    fn p(s: &str) -> Result<Options, String> {
        match parse(&w(s), Path::new("/sv/dhcp_eth0_pinger"))? {
            Parsed::Run(o) => Ok(o),
            Parsed::Help => Err("help".into()),
        }
    }

    #[test]
    fn numbers_out_of_range_are_errors() {
        // Regression: `--interval inf` aborted in Duration::from_secs_f64.
        for bad in [
            "--interval inf",
            "--interval NaN",
            "--retry -1",
            "--timeout 1e30",
            "--failures 0",
            "--interval 0",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
        let o = p("--interval 0.5 --failures 3").unwrap();
        assert_eq!((o.interval, o.failures), (Duration::from_millis(500), 3));
    }

    #[test]
    fn the_service_directory_gives_the_interface_and_the_tree() {
        let o = p("").unwrap();
        assert_eq!(o.interface, "eth0");
        assert_eq!(o.svdir, PathBuf::from("/sv"));
        assert_eq!(
            (o.interval, o.retry, o.failures, o.timeout),
            (
                Duration::from_secs(67),
                Duration::from_secs(5),
                5,
                Duration::from_secs(1)
            )
        );
        let o = p("-i wlan0 --retry 0.2 --timeout=0.3").unwrap();
        assert_eq!(o.interface, "wlan0");
        assert_eq!(
            (o.retry, o.timeout),
            (Duration::from_millis(200), Duration::from_millis(300))
        );
        let e = parse(&[], Path::new("/sv/elsewhere")).unwrap_err();
        assert_eq!(
            e,
            "pinger: no interface: give -i IF or run it as dhcp_IF_pinger/run\n"
        );
    }

    #[test]
    fn mistakes_say_why_then_the_usage_and_help_is_asked_for() {
        let cases = [
            ("-x", "unknown argument -x"),
            ("--bogus 1", "unknown argument --bogus"),
            ("stray", "unknown argument stray"),
            ("--interval", "option --interval needs a value"),
        ];
        for (words, why) in cases {
            let want = format!("pinger: {why}\n{}", usage_line());
            assert_eq!(p(words), Err(want), "{words}");
        }
        assert_eq!(p("-i eth1 --help"), Err("help".into()));
        assert!(
            HELP.lines().skip(1).all(|l| l.starts_with("  -")),
            "a line per option"
        );
    }
}
