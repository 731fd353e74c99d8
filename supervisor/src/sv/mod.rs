//! `sv [-v] [-w SEC] COMMAND SERVICE...`: runit's service control tool, same
//! commands, status lines and exit codes, plus readiness: a service that
//! uses notification shows `; ready 3s` or `; starting`, and `sv -w` waits
//! for it. `cli` the options, `core` (pure) the command table, the path
//! rule, the wait conditions and the status line, `shell` the probes of
//! `supervise/`, the control writes and the wait on inotify.

pub mod cli;
pub mod core;
pub mod shell;

pub use shell::{lsb_main, open_fifo, probe, send, Probe};

pub fn main(args: &[OsString]) -> i32 {
    shell::run(args)
}

use std::ffi::OsString;
