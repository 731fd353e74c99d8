//! `zcip`: RFC 3927 IPv4 link-local addressing with RFC 5227 conflict
//! detection. `core` is the state machine (`Zcip`), sans I/O; `cli` is
//! BusyBox's `zcip [-fqv] [-r 169.254.X.X] IF SCRIPT`; `shell` runs the
//! machine on an ARP socket and reports to the handler (events `init`,
//! `config`, `deconfig` with `interface` and `ip` in the environment), or,
//! without SCRIPT (as `zcip_IF/run` linked to ferrite), writes
//! `/var/run/service/fw/zcip_IF.ipconf` and pokes fw instead.

pub mod cli;
pub mod core;
pub mod shell;

use std::ffi::OsString;

pub fn main(args: &[OsString]) -> i32 {
    let words = common::service::words(cli::PROG, args);
    let service = common::service::is_run_link(args);
    match cli::parse(&words, &common::service::dir_name(), service) {
        Ok(cli::Parsed::Run(o)) => shell::main(o),
        Ok(cli::Parsed::Help) => common::getopt::help(cli::HELP),
        Err(text) => {
            common::out::err(&text);
            cli::USAGE_EXIT
        }
    }
}
