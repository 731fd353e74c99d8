//! `ra`: Router Advertisements on a LAN interface (RFC 4861, RDNSS and
//! DNSSL of RFC 8106), the part of radvd/odhcpd a small router needs. The
//! prefixes are the interface's own global /64 addresses as the kernel
//! reports them (fw puts them there): `core` is the pure advertiser and the
//! wire format, `shell` the raw ICMPv6 socket, the netlink events and the
//! poll loop, `cli` the command line (`ra_IF/run` names the interface).

pub mod cli;
pub mod core;
pub mod shell;

use std::ffi::OsString;

pub fn main(args: &[OsString]) -> i32 {
    match cli::parse(
        &common::service::words("ra", args),
        &common::service::dir_name(),
    ) {
        Ok(o) if o.help => common::getopt::help(cli::HELP),
        Ok(o) => shell::run(o),
        Err(e) => {
            common::out::err(&format!("ra: {e}\n"));
            common::out::err(cli::USAGE);
            1
        }
    }
}
