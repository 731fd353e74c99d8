//! Link-layer I/O shared by the DHCP client and zcip: cooked AF_PACKET
//! sockets, broadcast frames, the interface's MAC address, ARP requests,
//! and the few socket calls rustix has no safe form of (a `sockaddr_ll`,
//! setsockopt options of other levels, control messages of packet
//! sockets). Each of those is one libc call in one `unsafe` block.

use rustix::net::{AddressFamily, SocketFlags, SocketType};
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

pub const ETH_P_IP: u16 = 0x0800;
pub const ETH_P_ARP: u16 = 0x0806;

/// An AF_PACKET address: interface `index`, protocol `proto`, and the
/// destination hardware address when there is one.
fn link_addr(index: i32, proto: u16, dest: Option<[u8; 6]>) -> libc::sockaddr_ll {
    let mut sll_addr = [0u8; 8];
    sll_addr[..6].copy_from_slice(&dest.unwrap_or_default());
    libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as u16,
        sll_protocol: proto.to_be(),
        sll_ifindex: index,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: if dest.is_some() { 6 } else { 0 },
        sll_addr,
    }
}

const LINK_ADDR_LEN: libc::socklen_t = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;

/// A non-blocking, close-on-exec datagram socket of `family`, for no
/// protocol yet.
pub fn nonblocking_dgram(family: AddressFamily) -> io::Result<OwnedFd> {
    Ok(rustix::net::socket_with(
        family,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )?)
}

/// A non-blocking cooked packet socket for `proto` on interface `index`.
/// It is created for no protocol and then bound: one created for `proto`
/// already listens on every interface, and binding it would make the
/// kernel wait for an RCU grace period (10–30 ms, measured) to unhook it.
pub fn socket(index: i32, proto: u16) -> io::Result<OwnedFd> {
    let fd = nonblocking_dgram(AddressFamily::PACKET)?;
    let sa = link_addr(index, proto, None);
    // SAFETY: `sa` is a complete sockaddr_ll that lives for the call, and
    // the length passed is its size; bind(2) only reads it.
    let r = unsafe { libc::bind(fd.as_raw_fd(), (&raw const sa).cast(), LINK_ADDR_LEN) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// Send `data` to the Ethernet broadcast address through a packet socket.
pub fn send_broadcast(fd: RawFd, index: i32, proto: u16, data: &[u8]) -> io::Result<()> {
    let sa = link_addr(index, proto, Some([0xff; 6]));
    // SAFETY: `data` and `sa` are live for the call with the lengths given;
    // sendto(2) only reads them (a bad `fd` is an error, EBADF, not UB).
    let n = unsafe {
        libc::sendto(
            fd,
            data.as_ptr().cast(),
            data.len(),
            0,
            (&raw const sa).cast(),
            LINK_ADDR_LEN,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The MAC address of interface `name`.
pub fn hw_address(name: &str) -> io::Result<[u8; 6]> {
    common::iface::hw_address(name)
}

/// setsockopt(2) with `value` as the option's bytes.
fn set_option<T: Copy>(fd: BorrowedFd<'_>, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: `value` is a live reference of `size_of::<T>()` bytes for the
    // call; setsockopt only reads it, and the options set here (see the
    // callers) copy what they need and keep no pointer.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Ask for PACKET_AUXDATA, which says whether a packet's checksum is final
/// (read with `recv_with_control`).
pub fn enable_auxdata(fd: impl AsFd) -> io::Result<()> {
    set_option(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_AUXDATA, &1i32)
}

/// Attach a classic BPF program, `(code, jt, jf, k)` per instruction
/// (the kernel copies it).
pub fn attach_filter(fd: impl AsFd, program: &[(u16, u8, u8, u32)]) -> io::Result<()> {
    let prog: Vec<libc::sock_filter> = program
        .iter()
        .map(|&(code, jt, jf, k)| libc::sock_filter { code, jt, jf, k })
        .collect();
    let fprog = libc::sock_fprog {
        len: u16::try_from(prog.len()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?,
        filter: prog.as_ptr().cast_mut(),
    };
    set_option(fd.as_fd(), libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)
}

/// SO_BINDTODEVICE: the socket sends and receives on interface `name` only.
pub fn bind_to_device(fd: impl AsFd, name: &str) -> io::Result<()> {
    let mut dev = [0u8; libc::IFNAMSIZ];
    for (d, s) in dev.iter_mut().zip(name.bytes().take(libc::IFNAMSIZ - 1)) {
        *d = s;
    }
    set_option(fd.as_fd(), libc::SOL_SOCKET, libc::SO_BINDTODEVICE, &dev)
}

/// The kernel's `struct user_msghdr` (libc's has private padding on musl).
#[repr(C)]
struct MsgHdr {
    name: *mut libc::c_void,
    namelen: libc::c_int,
    iov: *mut libc::iovec,
    iovlen: usize,
    control: *mut libc::c_void,
    controllen: usize,
    flags: libc::c_uint,
}

/// Receive one packet into `buf` and its control messages into `control`
/// (rustix's recvmsg drops the ones it does not know, PACKET_AUXDATA among
/// them): the packet's length and how much of `control` was filled.
pub fn recv_with_control(
    fd: impl AsFd,
    buf: &mut [u8],
    control: &mut [u8],
) -> io::Result<(usize, usize)> {
    recv_from_with_control(fd, buf, control, &mut []).map(|(n, c, _)| (n, c))
}

/// `recv_with_control` that also fills `name` with the sender's socket
/// address (a `sockaddr_in6` for an IPv6 socket): the packet's length, the
/// control bytes and the address bytes filled.
pub fn recv_from_with_control(
    fd: impl AsFd,
    buf: &mut [u8],
    control: &mut [u8],
    name: &mut [u8],
) -> io::Result<(usize, usize, usize)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut hdr = MsgHdr {
        name: name.as_mut_ptr().cast(),
        namelen: libc::c_int::try_from(name.len()).unwrap_or(0),
        iov: &raw mut iov,
        iovlen: 1,
        control: control.as_mut_ptr().cast(),
        controllen: control.len(),
        flags: 0,
    };
    // SAFETY: `hdr` is laid out as the kernel's user_msghdr and points at
    // one iovec over `buf`, at `control` and at `name`, each live and
    // writable for the length given during the call; recvmsg writes only
    // there and to `hdr`'s own length and flag fields.
    let n = unsafe { libc::recvmsg(fd.as_fd().as_raw_fd(), (&raw mut hdr).cast(), 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let namelen = usize::try_from(hdr.namelen).unwrap_or(0).min(name.len());
    Ok((n as usize, hdr.controllen.min(control.len()), namelen))
}

/// IPV6_RECVHOPLIMIT: each datagram comes with its hop limit (IPV6_HOPLIMIT).
pub fn enable_hop_limit(fd: impl AsFd) -> io::Result<()> {
    set_option(
        fd.as_fd(),
        libc::IPPROTO_IPV6,
        libc::IPV6_RECVHOPLIMIT,
        &1i32,
    )
}

/// ICMP6_FILTER (RFC 3542 §3.2) on a raw ICMPv6 socket: only messages of
/// type `pass` reach it; the kernel drops the rest before they wake us.
pub fn icmp6_pass_only(fd: impl AsFd, pass: u8) -> io::Result<()> {
    const ICMP6_FILTER: i32 = 1;
    let mut blocked = [u32::MAX; 8];
    blocked[usize::from(pass >> 5)] &= !(1u32 << (pass & 31));
    set_option(fd.as_fd(), libc::IPPROTO_ICMPV6, ICMP6_FILTER, &blocked)
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

    #[test]
    fn ffi_layouts_match_the_kernel() {
        assert_eq!(
            std::mem::size_of::<MsgHdr>(),
            std::mem::size_of::<libc::msghdr>()
        );
    }

    #[test]
    fn loopback_has_a_zero_mac_and_a_missing_interface_fails() {
        assert_eq!(hw_address("lo").unwrap(), [0; 6]);
        assert!(hw_address("no-such-if0").is_err());
    }

    #[test]
    fn control_messages_come_back() {
        // a UNIX datagram pair: recvmsg fills the data, no control messages
        let (a, b) = rustix::net::socketpair(
            AddressFamily::UNIX,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC,
            None,
        )
        .unwrap();
        rustix::net::send(&a, b"hello", rustix::net::SendFlags::empty()).unwrap();
        let (mut buf, mut control) = ([0u8; 16], [0u8; 64]);
        let (n, c) = recv_with_control(&b, &mut buf, &mut control).unwrap();
        assert_eq!((&buf[..n], c), (&b"hello"[..], 0));
    }
}
