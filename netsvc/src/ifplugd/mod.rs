//! `ifplugd`: acts on the carrier of one interface, from netlink link events
//! (no polling). `cli` is BusyBox's command line (`-i IF -r PROG [-x ARG]
//! -u SECS -d SECS ...`); `core` the debounce, pure; `shell` the poll loop,
//! which runs the handler as `PROG IF up|down [ARG]`, or without `-r`
//! (native mode) ups and downs the services `dhcp_IF` and `zcip_IF` under
//! `$SVDIR` that exist, through their control FIFOs: `ifplugd_IF/run` can
//! be a link to ferrite.

pub mod cli;
pub mod core;
pub mod shell;

use std::ffi::OsString;

pub fn main(args: &[OsString]) -> i32 {
    let words = common::service::words(cli::PROG, args);
    let service = common::service::is_run_link(args);
    match cli::parse(&words, service, &common::service::dir_name()) {
        Ok(cli::Parsed::Run(o)) => shell::main(o),
        Ok(cli::Parsed::Help) => common::getopt::help(cli::HELP),
        Err(text) => {
            common::out::err(&text);
            cli::USAGE_EXIT
        }
    }
}
