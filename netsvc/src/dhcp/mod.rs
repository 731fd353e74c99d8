//! The DHCPv4 client. `core` is pure (wire format, leases, the state
//! machine, framing), `shell` does the I/O (sockets, the poll loop, the
//! handler script, native mode's files), `cli` reads the command lines.

pub mod cli;
pub mod core;
pub mod shell;

pub use self::core::{lease, msg};
use std::ffi::OsString;

/// `udhcpc`: BusyBox's command line and handler-script protocol.
pub fn main(args: &[OsString]) -> i32 {
    match cli::parse_args(&common::argv::words(args)) {
        Ok(o) if o.help => common::getopt::help(cli::HELP),
        Ok(o) => shell::udhcpc(o),
        Err(e) => shell::usage_error("udhcpc", &e),
    }
}

/// `dhcp`: the native client, udhcpc's options (also from `./args`) plus
/// its own; no shell, files and fw instead of a script.
pub fn native_main(args: &[OsString]) -> i32 {
    match cli::parse_native(&common::service::words("dhcp", args)) {
        Ok(n) if n.udhcpc.help => {
            common::getopt::help(&format!("{}{}", cli::NATIVE_HELP, cli::HELP))
        }
        Ok(n) => shell::dhcp(n),
        Err(e) => shell::usage_error("dhcp", &e),
    }
}

/// `dhcp_IF/check`: 0 while a lease is held now (see `shell::check`).
pub fn check_main(_args: &[OsString]) -> i32 {
    match cli::parse_native(&common::service::args_file("dhcp")) {
        Ok(n) if shell::check::holds_lease(&n) => 0,
        _ => 1,
    }
}
