//! Network services: DHCPv4 client, zeroconf, link watcher, pinger, fw,
//! netlink helpers and ipconf files. Not built yet: see the DHCP and
//! link/zeroconf/fw issues.
