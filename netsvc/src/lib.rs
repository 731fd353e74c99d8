//! Network services: DHCPv4 client, zeroconf, link watcher, pinger, fw,
//! netlink helpers and ipconf files. The DHCP client is being built (see the
//! DHCP issue); the others follow.

pub mod dhcp;
pub mod fw;
pub mod ifplugd;
pub mod netlink;
pub mod packet;
pub mod pinger;
pub mod zcip;
