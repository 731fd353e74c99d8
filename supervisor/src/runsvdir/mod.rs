//! `runsvdir [-P] DIR [LOG]`: one runsv per service subdirectory. `core` is
//! the pure table of directories and their runsv (restart throttle,
//! back-off); `shell` the poll loop over signals and inotify, the scans and
//! the processes.

pub mod cli;
pub mod core;
pub mod shell;

pub fn main(args: &[OsString]) -> i32 {
    match cli::parse(&args[1.min(args.len())..]) {
        Some(cli::Cli::Help) => common::getopt::help(cli::HELP),
        Some(cli::Cli::Run(opts)) => shell::run(opts),
        None => {
            common::out::err(cli::USAGE);
            100
        }
    }
}

use std::ffi::OsString;
