//! `dhcp_IF/check` (a link to ferrite): exit 0 while the client holds a
//! lease now, 1 when not, quietly (`sv -w` may run it often). runsv's
//! readiness says the service bound a lease since it started; this says
//! it still has one: the lease state the client keeps names a lease of
//! this interface that has not run out (a NAK or an expiry removes it).

use super::state::read_state_file;
use crate::dhcp::cli::NativeOptions;
use crate::dhcp::core::{ipconf::interface_from_dir, lease};
use std::time::{SystemTime, UNIX_EPOCH};

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
    let Ok(mac) = crate::packet::hw_address(&o.interface) else {
        return false;
    };
    let Ok(now) = SystemTime::now().duration_since(UNIX_EPOCH) else {
        return false;
    };
    let path = o.state_dir.join(format!("{}.lease", o.interface));
    match read_state_file(&path) {
        Ok(Some(text)) => lease::from_state(&text, mac, now.as_secs()).is_some(),
        _ => false,
    }
}
