//! `dhcp_IF/check` (a link to ferrite): exit 0 while the client holds a
//! lease now, 1 when not, quietly (`sv -w` may run it often). runsv's
//! readiness says the service bound a lease since it started; this says
//! it still has one: the lease state the client keeps names a lease of
//! this interface (a NAK or an expiry removes it), and its address is on
//! the interface (taken off at deconfig). Not the wall clock: a board
//! without a real-time clock stamps its lease in 1970.

use super::state::read_state_file;
use crate::dhcp::cli::NativeOptions;
use crate::dhcp::core::{ipconf::interface_from_dir, lease};

pub fn holds_lease(n: &NativeOptions) -> bool {
    let mut o = n.udhcpc.clone();
    if !o.interface_given {
        let Some(ifname) = std::env::current_dir()
            .ok()
            .and_then(|d| interface_from_dir(&d))
        else {
            return false;
        };
        o.interface = ifname;
    }
    let (Ok(mac), Some(index)) = (
        crate::packet::hw_address(&o.interface),
        common::iface::index_of(&o.interface),
    ) else {
        return false;
    };
    let path = o.state_dir.join(format!("{}.lease", o.interface));
    let Ok(Some(text)) = read_state_file(&path) else {
        return false;
    };
    // now = 0: the lease as written, whatever the clock says
    let Some((held, _)) = lease::from_state(&text, mac, 0) else {
        return false;
    };
    crate::netlink::Rtnl::open()
        .and_then(|mut nl| nl.addresses())
        .is_ok_and(|all| all.iter().any(|a| a.index == index && a.ip == held.ip))
}
