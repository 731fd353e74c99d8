//! IPv4 prefix lengths and netmasks, both ways, and sockets bound at once.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::OwnedFd;

/// The netmask of a prefix length as a number (lengths above 32 count as 32).
pub fn prefix_to_mask_u32(prefix: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0)
}

/// The netmask of a prefix length (`24` -> 255.255.255.0).
pub fn prefix_to_mask(prefix: u8) -> Ipv4Addr {
    Ipv4Addr::from(prefix_to_mask_u32(prefix))
}

/// The prefix length of a contiguous netmask; `None` when its ones are not
/// all at the front (255.0.255.0).
pub fn mask_to_prefix(mask: Ipv4Addr) -> Option<u8> {
    let m = u32::from(mask);
    let p = m.leading_ones();
    (m.checked_shl(p).unwrap_or(0) == 0).then_some(p as u8)
}

/// A socket of `family`/`kind` (close-on-exec always; add
/// `SocketFlags::NONBLOCK` for a non-blocking one) bound to `addr`. The
/// descriptor is closed again when the bind fails.
pub fn bound_socket(
    family: rustix::net::AddressFamily,
    kind: rustix::net::SocketType,
    flags: rustix::net::SocketFlags,
    protocol: Option<rustix::net::Protocol>,
    addr: &impl rustix::net::addr::SocketAddrArg,
) -> io::Result<OwnedFd> {
    let fd = rustix::net::socket_with(
        family,
        kind,
        flags | rustix::net::SocketFlags::CLOEXEC,
        protocol,
    )?;
    rustix::net::bind(&fd, addr)?;
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_masks() {
        assert_eq!(prefix_to_mask(24), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(prefix_to_mask(0), Ipv4Addr::UNSPECIFIED);
        assert_eq!(prefix_to_mask(32), Ipv4Addr::BROADCAST);
        assert_eq!(prefix_to_mask(200), Ipv4Addr::BROADCAST);
        assert_eq!(prefix_to_mask_u32(1), 0x8000_0000);
        for p in 0..=32 {
            assert_eq!(mask_to_prefix(prefix_to_mask(p)), Some(p));
        }
        assert_eq!(mask_to_prefix(Ipv4Addr::new(255, 0, 255, 0)), None);
        assert_eq!(mask_to_prefix(Ipv4Addr::new(0, 0, 0, 1)), None);
    }

    #[test]
    fn a_bound_udp_socket_on_loopback() {
        use rustix::net::{AddressFamily, SocketFlags, SocketType};
        let addr = std::net::SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0);
        let fd = bound_socket(
            AddressFamily::INET,
            SocketType::DGRAM,
            SocketFlags::NONBLOCK,
            None,
            &addr,
        )
        .unwrap();
        let local = rustix::net::getsockname(&fd).unwrap();
        let v4 = std::net::SocketAddrV4::try_from(local).unwrap();
        assert_ne!(v4.port(), 0);
        // a second bind of the same port fails and leaks nothing
        assert!(bound_socket(
            AddressFamily::INET,
            SocketType::DGRAM,
            SocketFlags::empty(),
            None,
            &v4
        )
        .is_err());
    }
}
