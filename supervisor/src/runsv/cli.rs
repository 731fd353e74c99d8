//! runsv's command line, runit's: `runsv DIR`, no options but `--help`.
//! runit's runsv reads no options at all, so a word that starts with `-`
//! (runsvdir starts `runsv NAME` for any name without a leading dot) is
//! still a directory; `--` may come before it.

use common::getopt::{parse_spec, Opt, Spec};
use std::ffi::OsString;

/// runit's usage message (exit 1).
pub const USAGE: &str = "usage: runsv dir\n";

pub const HELP: &str = "usage: runsv dir
  --help  this help
";

pub type Cli = crate::Cli<Options>;

#[derive(Debug, PartialEq, Eq)]
pub struct Options {
    pub dir: OsString,
}

/// The whole argv; `None` is a usage error.
pub fn parse(argv: &[OsString]) -> Option<Cli> {
    let words = common::argv::words(argv);
    let args = &argv[1.min(argv.len())..];
    let operands = match parse_spec(&words, &Spec::default()) {
        Ok((opts, _)) if opts.contains(&Opt::Help) => return Some(Cli::Help),
        Ok((_, first)) => &args[first..],
        Err(_) => args,
    };
    match operands {
        [dir] => Some(Cli::Run(Options { dir: dir.clone() })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<Cli> {
        parse(&crate::argv(&format!("runsv {s}")))
    }
    fn dir(d: &str) -> Option<Cli> {
        Some(Cli::Run(Options { dir: d.into() }))
    }

    #[test]
    fn one_directory_or_help() {
        assert_eq!(p("/var/service/getty"), dir("/var/service/getty"));
        assert_eq!(p("--help"), Some(Cli::Help));
        assert_eq!(p("-odd"), dir("-odd"), "runit's runsv has no options");
        assert_eq!(p("-- -odd"), dir("-odd"));
        assert_eq!(p(""), None);
        assert_eq!(p("a b"), None);
    }
}
