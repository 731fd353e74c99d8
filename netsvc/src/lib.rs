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

/// How long a poke waits for a sibling's runsv that is still starting (boot).
pub const POKE_WAIT: std::time::Duration = std::time::Duration::from_secs(3);
