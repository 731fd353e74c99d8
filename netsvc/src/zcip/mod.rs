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

/// `zcip_IF/check` (a link to ferrite): exit 0 while the interface holds a
/// 169.254.0.0/16 address now, 1 when not, quietly. Readiness says an
/// address was claimed since the start; this says one is there still.
pub fn check_main(_args: &[OsString]) -> i32 {
    let words = common::service::args_file(cli::PROG);
    let Ok(cli::Parsed::Run(o)) = cli::parse(&words, &common::service::dir_name(), true) else {
        return 1;
    };
    let Some(index) = common::iface::index_of(&o.interface) else {
        return 1;
    };
    let held = crate::netlink::Rtnl::open()
        .and_then(|mut nl| nl.addresses())
        .is_ok_and(|all| all.iter().any(|a| a.index == index && a.ip.is_link_local()));
    i32::from(!held)
}
