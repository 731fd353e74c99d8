//! `runsv DIR`: supervise one service directory (and its `log/`), runit's
//! way. `core` is the pure machine of one service and the records it
//! publishes; `shell` the poll loop, the `supervise/` files and the
//! processes.

pub mod cli;
pub mod core;
pub mod shell;

pub use shell::WAIT_LOCK_ENV;

pub fn main(args: &[OsString]) -> i32 {
    let cli = cli::parse(args);
    crate::dispatch(cli, cli::HELP, cli::USAGE, 1, shell::run)
}

use std::ffi::OsString;
