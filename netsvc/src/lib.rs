//! Network services: DHCPv4 client, zeroconf, link watcher, pinger, fw,
//! netlink helpers and ipconf files. They cooperate through the supervision
//! tree: each pokes its siblings' control FIFOs.

pub mod dhcp;
pub mod fw;
pub mod ifplugd;
pub mod netlink;
pub mod packet;
pub mod pinger;
pub mod zcip;

use std::sync::atomic::{AtomicBool, Ordering};

/// How long a poke waits for a sibling's runsv that is still starting (boot).
pub const POKE_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Datagrams a daemon reads from one socket per poll round at most (packet,
/// ARP, netlink): a host flooding it cannot starve signals and timers.
pub const MAX_READS_PER_ROUND: usize = 64;

static STOPPING: AtomicBool = AtomicBool::new(false);

/// This process was told to stop. Its last pokes then do not wait: the
/// tree may be shutting down, and a sibling's runsv that is gone stays gone.
pub fn stopping() {
    STOPPING.store(true, Ordering::Relaxed);
}

/// Send control letters to a sibling service; while running, wait a little
/// for a runsv that is still starting (see `supervisor::sv::send_when_ready`).
pub fn poke(dir: &std::path::Path, letters: &str) -> std::io::Result<()> {
    if STOPPING.load(Ordering::Relaxed) {
        supervisor::sv::send(dir, letters)
    } else {
        supervisor::sv::send_when_ready(dir, letters, POKE_WAIT)
    }
}
