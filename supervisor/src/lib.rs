//! The supervision suite: runsvdir, runsv, sv/svc/svok and the chpst family,
//! byte-compatible with runit's `supervise/` protocol. The two daemons have
//! the folders every daemon has (`cli`, pure `core`, I/O `shell`); the
//! tools are a file each, their pure parts (`svargs`) apart.

pub mod chpst;
pub mod runsv;
pub mod runsvdir;
pub mod sv;
pub mod svargs;
pub mod svc;
pub mod svlogd;

pub use runsv::core::{service, status};
pub use runsvdir::core as scan;

/// What a command line asks for: the help, or a run with these options.
#[derive(Debug, PartialEq, Eq)]
pub enum Cli<O> {
    Help,
    Run(O),
}

/// The end of a `main`: the help on stdout (exit 0), the run, or for a
/// usage error (`None`) the tool's usage message and exit code.
pub(crate) fn dispatch<O>(
    cli: Option<Cli<O>>,
    help: &str,
    usage: &str,
    usage_code: i32,
    run: impl FnOnce(O) -> i32,
) -> i32 {
    match cli {
        Some(Cli::Help) => common::getopt::help(help),
        Some(Cli::Run(o)) => run(o),
        None => {
            common::out::err(usage);
            usage_code
        }
    }
}

/// Test words: `s` split at blanks.
#[cfg(test)]
pub(crate) fn argv(s: &str) -> Vec<std::ffi::OsString> {
    s.split_whitespace().map(Into::into).collect()
}
