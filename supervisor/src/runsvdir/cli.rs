//! runsvdir's command line, runit's: `runsvdir [-P] DIR [LOG]`. LOG is
//! runit's readproctitle space; it is accepted and unused (errors go to
//! stderr).

use common::getopt::{parse_spec, Opt, Spec};
use std::ffi::OsString;

/// runit's usage message (exit 100).
pub const USAGE: &str = "usage: runsvdir [-P] dir [log]\n";

pub const HELP: &str = "usage: runsvdir [-P] dir [log]
  -P      each runsv in a session of its own
  --help  this help
";

const SPEC: Spec<'static> = Spec {
    flags: "P",
    values: "",
    optional: "",
    long: &[],
    ..Spec::EMPTY
};

pub type Cli = crate::Cli<Options>;

#[derive(Debug, PartialEq, Eq)]
pub struct Options {
    pub dir: OsString,
    /// -P: each runsv in a new session (setsid)
    pub new_session: bool,
}

/// The whole argv; `None` is a usage error.
pub fn parse(argv: &[OsString]) -> Option<Cli> {
    let words = common::argv::words(argv);
    let args = &argv[1.min(argv.len())..];
    let (opts, first) = parse_spec(&words, &SPEC).ok()?;
    if opts.contains(&Opt::Help) {
        return Some(Cli::Help);
    }
    match &args[first..] {
        [dir] | [dir, _] if dir != "-" => Some(Cli::Run(Options {
            dir: dir.clone(),
            new_session: opts.contains(&Opt::Flag('P')),
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<Cli> {
        parse(&crate::argv(&format!("runsvdir {s}")))
    }
    fn run(dir: &str, new_session: bool) -> Option<Cli> {
        Some(Cli::Run(Options {
            dir: dir.into(),
            new_session,
        }))
    }

    #[test]
    fn runits_words() {
        assert_eq!(p("/var/service"), run("/var/service", false));
        assert_eq!(p("-P /var/service log........"), run("/var/service", true));
        assert_eq!(p("-- /s"), run("/s", false));
        assert_eq!(p("--help"), Some(Cli::Help));
        for bad in ["", "-x /s", "-", "a b c", "-P"] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }
}
