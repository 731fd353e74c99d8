//! `runsvdir [-P] DIR [LOG]`: one runsv per service subdirectory. `core` is
//! the pure table of directories and their runsv (restart throttle,
//! back-off); `shell` the poll loop over signals and inotify, the scans and
//! the processes.

pub mod cli;
pub mod core;
pub mod shell;

pub fn main(args: &[OsString]) -> i32 {
    let cli = cli::parse(args);
    crate::dispatch(cli, cli::HELP, cli::USAGE, 100, shell::run)
}

use std::ffi::OsString;
