//! init's command line, pure. The kernel hands PID 1 the words of its
//! command line that it does not know itself, so nothing here is an error:
//! a word init does not know is a message and ignored, a bad value keeps
//! the default, and init boots anyway.

use common::getopt::{long, parse_spec, Error, Long, Opt, Spec, Takes};
use std::path::PathBuf;
use std::time::Duration;

/// How long services get to stop before everything is signalled.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(7);
/// The largest `--stop-timeout`: an hour.
pub const MAX_STOP_TIMEOUT: u64 = 3600;

pub const USAGE: &str = "usage: init [--no-boot] [--svdir DIR] [--stop-timeout SEC]\n\
\x20 --no-boot           no mounts, modules, hook or unmounting (containers)\n\
\x20 --svdir DIR         service directory (/var/service)\n\
\x20 --stop-timeout SEC  time services get to stop (0-3600, 7)\n";

const LONGS: &[Long] = &[
    long("no-boot", Takes::Nothing),
    long("svdir", Takes::Value),
    long("stop-timeout", Takes::Value),
];
const SPEC: Spec<'static> = Spec {
    long: LONGS,
    ..Spec::EMPTY
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub boot: bool,
    pub svdir: PathBuf,
    pub stop_timeout: Duration,
    pub help: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            boot: true,
            svdir: PathBuf::from("/var/service"),
            stop_timeout: STOP_TIMEOUT,
            help: false,
        }
    }
}

/// The options in `words` (argv without argv[0]) and the messages about
/// the words that were ignored, for the console.
pub fn parse(words: &[String]) -> (Options, Vec<String>) {
    let mut o = Options::default();
    let mut said = Vec::new();
    let mut i = 0;
    while i < words.len() {
        // One word at a time, so that an unknown one costs only itself.
        let one = &words[i..i + 1];
        let parsed = match parse_spec(one, &SPEC) {
            Ok((opts, 1)) => Some((opts, 1)),
            Err(Error::NeedsValue(_)) if i + 1 < words.len() => {
                match parse_spec(&words[i..i + 2], &SPEC) {
                    Ok((opts, 2)) => Some((opts, 2)),
                    _ => None,
                }
            }
            _ => None,
        };
        let Some((opts, used)) = parsed else {
            said.push(format!("ignoring argument {}", words[i]));
            i += 1;
            continue;
        };
        for opt in opts {
            match opt {
                Opt::Long("no-boot") => o.boot = false,
                Opt::LongValue("svdir", v) => o.svdir = PathBuf::from(v),
                Opt::LongValue("stop-timeout", v) => {
                    // PID 1 must not abort on its command line: an
                    // unbounded number would overflow the shutdown deadline.
                    match common::num::secs("--stop-timeout", &v, MAX_STOP_TIMEOUT) {
                        Ok(d) => o.stop_timeout = d,
                        Err(e) => said.push(format!("{e}; keeping {}", STOP_TIMEOUT.as_secs())),
                    }
                }
                Opt::Help => o.help = true,
                _ => {}
            }
        }
        i += used;
    }
    (o, said)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> (Options, Vec<String>) {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn a_stop_timeout_out_of_range_keeps_the_default() {
        // Regression: a huge --stop-timeout overflowed the shutdown deadline,
        // which in PID 1 is a kernel panic.
        let (o, said) = p("--stop-timeout 18446744073709551615");
        assert_eq!(o.stop_timeout, STOP_TIMEOUT);
        assert_eq!(said.len(), 1);
        assert!(said[0].ends_with("; keeping 7"), "{said:?}");
        assert_eq!(p("--stop-timeout -1").0.stop_timeout, STOP_TIMEOUT);
        assert_eq!(
            p("--stop-timeout 30").0.stop_timeout,
            Duration::from_secs(30)
        );
        assert_eq!(
            p("--stop-timeout=30").0.stop_timeout,
            Duration::from_secs(30)
        );
    }

    #[test]
    fn kernel_words_are_ignored_and_named() {
        let (o, said) = p("single --no-boot -s --svdir /tmp/sv quiet --bogus --svdir");
        assert!(!o.boot);
        assert_eq!(o.svdir, PathBuf::from("/tmp/sv"));
        assert!(!o.help);
        assert_eq!(
            said,
            [
                "ignoring argument single",
                "ignoring argument -s",
                "ignoring argument quiet",
                "ignoring argument --bogus",
                "ignoring argument --svdir",
            ]
        );
        assert_eq!(p(""), (Options::default(), vec![]));
        assert!(p("--help").0.help);
        assert_eq!(p("--no-boot=1").1, ["ignoring argument --no-boot=1"]);
    }
}
