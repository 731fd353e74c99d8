//! Low-level helpers shared by every applet: console output that never panics,
//! atomic file replacement, TAI64N time stamps, signalfd, poll, errno texts,
//! the command line as text, prefix lengths and netmasks. Each exists once
//! here so that applets do not grow their own copies. System calls go
//! through rustix; the few it has no safe call for (signalfd and the signal
//! mask, fork, poll over plain descriptor numbers, interface ioctls) are
//! one `unsafe` block each, with the reason it is sound beside it.

pub mod argv;
pub mod cstr;
pub mod daemon;
pub mod elf;
pub mod errtext;
pub mod fsutil;
pub mod getopt;
pub mod iface;
pub mod inotify;
pub mod kmod;
pub mod net;
pub mod num;
pub mod out;
pub mod partition;
pub mod poll;
pub mod procfs;
pub mod ready;
pub mod service;
pub mod sig;
pub mod tai;

use std::ffi::OsString;

/// Every applet has this signature: `args[0]` is the name it was called by.
pub type AppletMain = fn(&[OsString]) -> i32;

/// One entry of the multi-call table.
pub struct Applet {
    pub name: &'static str,
    pub main: AppletMain,
    pub help: &'static str,
}
