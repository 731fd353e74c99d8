//! Link-layer I/O shared by the DHCP client and zcip: cooked AF_PACKET
//! sockets, broadcast frames, the interface's MAC address, ARP requests.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub const ETH_P_IP: u16 = 0x0800;
pub const ETH_P_ARP: u16 = 0x0806;

/// A non-blocking cooked packet socket for `proto` on interface `index`.
/// It is created for no protocol and then bound: one created for `proto`
/// already listens on every interface, and binding it would make the
/// kernel wait for an RCU grace period (10–30 ms, measured) to unhook it.
pub fn socket(index: i32, proto: u16) -> io::Result<OwnedFd> {
    // SAFETY: plain socket calls with valid structures.
    unsafe {
        let fd = libc::socket(
            libc::AF_PACKET,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        );
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let owned = OwnedFd::from_raw_fd(fd);
        let mut sa: libc::sockaddr_ll = std::mem::zeroed();
        sa.sll_family = libc::AF_PACKET as u16;
        sa.sll_protocol = proto.to_be();
        sa.sll_ifindex = index;
        if libc::bind(
            fd,
            (&sa as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        ) != 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(owned)
    }
}

/// Send `data` to the Ethernet broadcast address through a packet socket.
pub fn send_broadcast(fd: RawFd, index: i32, proto: u16, data: &[u8]) -> io::Result<()> {
    // SAFETY: valid buffer and address.
    unsafe {
        let mut sa: libc::sockaddr_ll = std::mem::zeroed();
        sa.sll_family = libc::AF_PACKET as u16;
        sa.sll_protocol = proto.to_be();
        sa.sll_ifindex = index;
        sa.sll_halen = 6;
        sa.sll_addr[..6].copy_from_slice(&[0xff; 6]);
        let n = libc::sendto(
            fd,
            data.as_ptr().cast(),
            data.len(),
            0,
            (&sa as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        );
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The MAC address of interface `name`.
pub fn hw_address(name: &str) -> io::Result<[u8; 6]> {
    // SAFETY: ioctl on a zeroed ifreq with the name set.
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if s < 0 {
            return Err(io::Error::last_os_error());
        }
        let sock = OwnedFd::from_raw_fd(s);
        let mut req: libc::ifreq = std::mem::zeroed();
        for (i, b) in name.bytes().take(15).enumerate() {
            req.ifr_name[i] = b as libc::c_char;
        }
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFHWADDR as _, &mut req) != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut mac = [0u8; 6];
        for (i, m) in mac.iter_mut().enumerate() {
            *m = req.ifr_ifru.ifru_hwaddr.sa_data[i] as u8;
        }
        Ok(mac)
    }
}

/// An Ethernet/IPv4 ARP request from `mac`: an RFC 5227 probe when `sender`
/// is 0.0.0.0, an announcement when it is the target.
pub fn arp_request(mac: [u8; 6], sender: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let mut p = vec![0, 1, 8, 0, 6, 4, 0, 1];
    p.extend_from_slice(&mac);
    p.extend_from_slice(&sender.octets());
    p.extend_from_slice(&[0; 6]);
    p.extend_from_slice(&target.octets());
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_layout() {
        let p = arp_request(
            [2, 0, 0, 0, 0, 1],
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::new(169, 254, 7, 7),
        );
        assert_eq!(p.len(), 28);
        assert_eq!(&p[6..8], &[0, 1], "request");
        assert_eq!(&p[14..18], &[0, 0, 0, 0], "probe: sender 0");
        assert_eq!(&p[24..28], &[169, 254, 7, 7]);
    }
}
