//! The supervision suite: runsvdir, runsv, sv/svc/svok and the chpst family,
//! byte-compatible with runit's `supervise/` protocol. The two daemons and
//! `sv` have the folders every daemon has (`cli`, pure `core`, I/O
//! `shell`); the smaller tools are a file each.

pub mod chpst;
pub mod runsv;
pub mod runsvdir;
pub mod sv;
pub mod svc;
pub mod svlogd;

pub use runsv::core::{service, status};
pub use runsvdir::core as scan;
/// sv's pure part under its old name.
pub use sv::core as svargs;

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

/// The time since boot, suspend included (`CLOCK_BOOTTIME`): what
/// readiness times are measured in, unmoved when the clock is set.
pub(crate) fn boottime() -> std::time::Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Boottime);
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(t.tv_nsec).unwrap_or(0).min(999_999_999);
    std::time::Duration::new(secs, nanos)
}

/// Test words: `s` split at blanks.
#[cfg(test)]
pub(crate) fn argv(s: &str) -> Vec<std::ffi::OsString> {
    s.split_whitespace().map(Into::into).collect()
}
