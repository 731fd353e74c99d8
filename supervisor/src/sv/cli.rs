//! sv's command line: `[-v] [-w SEC]` before the command, `$SVWAIT` as the
//! default wait. Pure: the environment's value is passed in.

use common::getopt::{parse_spec, Opt, Spec};
use std::time::Duration;

/// runit's usage message (exit 100).
pub const USAGE: &str = "usage: sv [-v] [-w sec] command service ...\n\n";

pub const HELP: &str = "  -v      wait for the command to take effect, then report
  -w SEC  wait up to SEC seconds (7, $SVWAIT); implies -v
  --help  this help
";

pub const LSB_HELP: &str = "  -w SEC  wait up to SEC seconds (7, $SVWAIT)\n  --help  this help\n";

pub const COMMANDS: &str = "  commands: status up down once pause cont hup alarm interrupt quit 1 2 term kill exit
  start stop reload restart shutdown force-stop force-reload force-restart force-shutdown try-restart check
  timeline [--svg] [service ...]: what runsv recorded since boot, as a table or an SVG picture
";

/// The wait when neither `-w` nor `$SVWAIT` gives one (runit's).
pub const DEFAULT_WAIT: Duration = Duration::from_secs(7);

#[derive(Debug, PartialEq, Eq)]
pub struct Options {
    pub verbose: bool,
    pub wait: Duration,
}

impl Options {
    /// The defaults, with the wait of `svwait` (`$SVWAIT`) when it is a number.
    pub fn new(verbose: bool, svwait: Option<&str>) -> Options {
        Options {
            verbose,
            wait: svwait.and_then(parse_wait).unwrap_or(DEFAULT_WAIT),
        }
    }
}

fn parse_wait(s: &str) -> Option<Duration> {
    s.parse::<u64>().ok().map(Duration::from_secs)
}

const SPEC: Spec<'static> = Spec {
    flags: "v",
    values: "w",
    optional: "",
    long: &[],
    ..Spec::EMPTY
};

/// A command line sv does not understand (exit 100 with the usage).
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError;

/// The options before the command into `opts`: the index of the command
/// word; `Ok(None)` is `--help`.
pub fn parse_options(words: &[String], opts: &mut Options) -> Result<Option<usize>, UsageError> {
    let (parsed, first) = parse_spec(words, &SPEC).map_err(|_| UsageError)?;
    for opt in parsed {
        match opt {
            Opt::Help => return Ok(None),
            Opt::Flag(_) => opts.verbose = true,
            // -w implies -v
            Opt::Value(_, v) => {
                (opts.wait, opts.verbose) = (parse_wait(&v).ok_or(UsageError)?, true)
            }
            _ => return Err(UsageError),
        }
    }
    Ok(Some(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn options_before_the_command() {
        let mut o = Options::new(false, None);
        assert_eq!(o.wait, DEFAULT_WAIT);
        assert_eq!(parse_options(&words("-w 3 up a"), &mut o), Ok(Some(2)));
        assert_eq!(
            o,
            Options {
                verbose: true,
                wait: Duration::from_secs(3)
            }
        );
        let mut o = Options::new(false, Some("12"));
        assert_eq!(o.wait, Duration::from_secs(12));
        assert_eq!(parse_options(&words("-v status a"), &mut o), Ok(Some(1)));
        assert!(o.verbose);
        assert_eq!(Options::new(false, Some("soon")).wait, DEFAULT_WAIT);
        let mut o = Options::new(false, None);
        assert_eq!(parse_options(&words("--help"), &mut o), Ok(None));
        assert_eq!(parse_options(&words("-w x up a"), &mut o), Err(UsageError));
        assert_eq!(parse_options(&words("-z up a"), &mut o), Err(UsageError));
    }
}
