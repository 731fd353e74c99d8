//! The DHCPv6 client (RFC 8415). `core` is pure (wire format, the state
//! machine, the texts it hands on), `shell` does the I/O (the UDP socket,
//! the poll loop, the handler script, native mode's file), `cli` reads the
//! command lines.

pub mod cli;
pub mod core;
pub mod shell;

use std::ffi::OsString;

/// `odhcp6c`: odhcp6c's command line and handler protocol.
pub fn odhcp6c_main(args: &[OsString]) -> i32 {
    match cli::parse_odhcp6c(&common::argv::words(args)) {
        Ok(o) if o.help => common::getopt::help(cli::HELP),
        Ok(o) => shell::run(o, false),
        Err(e) => shell::usage_error("odhcp6c", cli::USAGE, &e),
    }
}

/// `dhcp6`: the native client (options also from `./args`): no shell, the
/// bindings in `dhcp6_IF.ipconf` for fw.
pub fn main(args: &[OsString]) -> i32 {
    match cli::parse_native(&common::service::words("dhcp6", args)) {
        Ok(o) if o.help => common::getopt::help(cli::NATIVE_HELP),
        Ok(o) => shell::run(o, true),
        Err(e) => shell::usage_error("dhcp6", cli::NATIVE_USAGE, &e),
    }
}

/// `dhcp6_IF/check`: 0 while a binding is held now (see `shell::check`).
pub fn check_main(_args: &[OsString]) -> i32 {
    match cli::parse_native(&common::service::args_file("dhcp6")) {
        Ok(o) if shell::check::holds_binding(&o) => 0,
        _ => 1,
    }
}
