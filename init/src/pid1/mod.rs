//! `init`: PID 1. Stage 1 boots (see `boot`), stage 2 runs `runsvdir` and
//! reaps every orphan, stage 3 stops everything and ends with `reboot(2)`.
//! It never panics and never exits while it is the machine's PID 1: every
//! error is reported on the console and handled.
//!
//! `init --no-boot --svdir DIR` skips stage 1 and the final unmounting, for
//! containers and for tests in a PID namespace. `reboot(2)` is only called by
//! a process whose pid is 1; elsewhere init only ever signals its own children.

pub mod cli;
pub mod shell;

use std::ffi::OsString;

pub fn main(args: &[OsString]) -> i32 {
    let (opts, said) = cli::parse(&common::argv::words(args));
    let is_pid1 = shell::is_pid1();
    if opts.help && !is_pid1 {
        // before anything of PID 1 happens: no signals blocked, no mounts
        return common::getopt::help(cli::USAGE);
    }
    for line in &said {
        crate::boot::log(line);
    }
    if opts.help {
        crate::boot::log("ignoring --help: this is PID 1");
    }
    shell::run(&opts, args, is_pid1)
}
