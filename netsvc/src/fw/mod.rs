//! `fw`: the one-shot network configuration service of the seed's design.
//! It marks itself "once" first (an `up` that arrives while it runs makes
//! runsv run it once more), reads `conf/*.ipconf` and the dynamic
//! `/var/run/service/fw/*.ipconf`, and brings addresses, routes,
//! resolv.conf, the `/etc` files rendered from its `etc/` templates (see
//! `core::etc`), forwarding and the firewall to the wanted state, changing
//! only what differs. It prints what it changed (for its log) and writes
//! `up` with the time of the run.
//!
//! Routes learned from DHCP (`origin=dhcp`, or a `dhcp_IF.ipconf` without
//! it) are checked at every run against the kernel's routes on other links
//! and the locally configured ones (`core::shadow`): one that would shadow
//! a VPN's default route, or a static one, is not installed and named on
//! stderr.
//!
//! `cli` reads the command line, `core` decides (pure), `shell` reads the
//! files and the kernel and applies.

pub mod cli;
pub mod core;
pub mod shell;

pub use self::core::{etc, ipconf, plan, shadow};

use std::ffi::OsString;

pub fn main(args: &[OsString]) -> i32 {
    // as fw/run linked to ferrite: options from ./args
    let words = common::service::words(shell::PROG, args);
    let cwd = std::env::current_dir().unwrap_or_default();
    match cli::parse(&words, &cwd) {
        Ok(cli::Cmd::Run(o)) => shell::main(&o, &cwd),
        Ok(cli::Cmd::Help) => {
            let _ = common::out::out(cli::USAGE);
            common::getopt::help(cli::OPTIONS)
        }
        Err(_) => {
            common::out::err(cli::USAGE);
            100
        }
    }
}

/// `fw/check` (a link to ferrite): exit 0 once a run of fw has applied
/// everything since boot (the mark it leaves then, on /run), 1 before. fw
/// runs once per poke; readiness marks the end of each run.
pub fn check_main(_args: &[OsString]) -> i32 {
    let cwd = std::env::current_dir().unwrap_or_default();
    match cli::parse(&common::service::args_file(shell::PROG), &cwd) {
        Ok(cli::Cmd::Run(o)) => i32::from(!o.run_dir.join(shell::APPLIED_MARK).is_file()),
        _ => 1,
    }
}
