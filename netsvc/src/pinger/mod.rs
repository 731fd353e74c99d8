//! `pinger`: the seed's `dhcp_IF_pinger` watchdog. It pings the router of
//! the lease (`../dhcp_IF/env.out`) every 67 s, every 5 s after a failure,
//! and after 5 failures in a row restarts `dhcp_IF` (and `supplicant_IF`
//! when there is one) through the supervision tree. No lease or no router:
//! it waits until the DHCP service's directory changes (inotify). A new
//! lease's router is first pinged one retry after it appeared, once fw has
//! applied the lease. Intervals and the count are options (`cli`).
//!
//! `core` is the pinger, `(now, event) -> actions` on virtual time;
//! `shell` runs it: one poll loop over a signalfd, inotify on the DHCP
//! service's directory and one ICMP socket, its timeout the core's deadline.

pub mod cli;
pub mod core;
pub mod shell;

use std::ffi::OsString;

pub fn main(args: &[OsString]) -> i32 {
    let words = common::service::words(cli::PROG, args);
    let cwd = std::env::current_dir().unwrap_or_default();
    match cli::parse(&words, &cwd) {
        Ok(cli::Parsed::Run(o)) => shell::main(o),
        Ok(cli::Parsed::Help) => common::getopt::help(cli::HELP),
        Err(text) => {
            common::out::err(&text);
            cli::USAGE_EXIT
        }
    }
}
