//! `getty [-iLhn] [-l LOGIN] [-f ISSUE] [-H HOST] [-I INIT] [-t SEC] [-a USER] BAUD TTY [TERM]`
//! (BusyBox's command line; `TTY BAUD` is accepted too). Opens the tty as
//! the controlling terminal of a new session, sets speed and sane termios,
//! prints the issue file, asks for a login name and execs the login program.
//!
//! As a service, `getty_TTY/run` may be a link to ferrite: the tty is the
//! directory name's suffix, options come from an optional `./args` file
//! (words, e.g. `-L -a root 115200`) and the speed defaults to 115200.
//! A bad `./args` (too big, NUL bytes, not UTF-8, a directory, ...) is one
//! line on stderr and ignored (`common::service::read_args`).

pub mod cli;
pub mod core;
pub mod shell;

use std::ffi::OsString;

pub fn main(args: &[OsString]) -> i32 {
    shell::run(args)
}
