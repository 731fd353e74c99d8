//! The client's sockets: a packet socket for DHCP (BPF-filtered, with each
//! packet's checksum status), a UDP socket on port 68 for unicast renewals,
//! the ARP socket of the `-a` check, and the interface's index and MAC.

use crate::dhcp::core::frame;
use crate::packet::{self, ETH_P_ARP, ETH_P_IP};
use rustix::net::{AddressFamily, RecvFlags, SocketAddrV4};
use std::io;
use std::net::{Ipv4Addr, UdpSocket};
use std::os::fd::{AsFd, OwnedFd};

/// Interface index and MAC address.
pub fn interface(name: &str) -> io::Result<(i32, [u8; 6])> {
    let index =
        common::iface::index_of(name).ok_or_else(|| io::Error::from_raw_os_error(libc::ENODEV))?;
    Ok((index, packet::hw_address(name)?))
}

/// The packet socket DHCP replies come in on (before the interface has an
/// address, the kernel's UDP stack cannot deliver them): only BOOTREPLYs
/// for `mac` pass its filter, and each tells whether its checksum is final.
pub fn dhcp_socket(index: i32, mac: [u8; 6]) -> io::Result<OwnedFd> {
    let fd = packet::socket(index, ETH_P_IP)?;
    packet::attach_filter(&fd, &frame::bpf_filter(mac))?;
    // without it every checksum counts as final, as before Linux 2.6.27
    let _ = packet::enable_auxdata(&fd);
    Ok(fd)
}

/// The ARP socket of the `-a` check.
pub fn arp_socket(index: i32) -> io::Result<OwnedFd> {
    packet::socket(index, ETH_P_ARP)
}

/// Receive one packet; returns its length and whether its checksum is
/// ready. `None` when nothing is waiting (or on an error).
pub fn recv_packet(fd: impl AsFd, buf: &mut [u8]) -> Option<(usize, bool)> {
    let mut control = [0u8; 128];
    match packet::recv_with_control(fd, buf, &mut control) {
        Ok((n, c)) if n > 0 => Some((n, frame::csum_ready(&control[..c]))),
        _ => None,
    }
}

/// Receive one frame (of the ARP socket): its length, `None` when nothing
/// is waiting.
pub fn recv_frame(fd: impl AsFd, buf: &mut [u8]) -> Option<usize> {
    rustix::net::recv(fd, buf, RecvFlags::empty())
        .ok()
        .map(|(n, _)| n)
}

/// A UDP socket on port 68 bound to the interface, for unicast renewals.
pub fn udp_socket(ifname: &str) -> io::Result<UdpSocket> {
    let fd = crate::packet::nonblocking_dgram(AddressFamily::INET)?;
    // each as before: a refused option costs only what it is for
    let _ = rustix::net::sockopt::set_socket_reuseaddr(&fd, true);
    let _ = rustix::net::sockopt::set_socket_broadcast(&fd, true);
    let _ = packet::bind_to_device(&fd, ifname);
    rustix::net::bind(
        &fd,
        &SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, frame::CLIENT_PORT),
    )?;
    Ok(UdpSocket::from(fd))
}
