//! Network interfaces by name: index, name of an index, bringing one up,
//! its MTU, its MAC address. (The daemons that need more talk rtnetlink; these are ioctls.)
//!
//! rustix answers the index and name questions; flags, MTU and MAC have no safe
//! rustix call, so they go through one `ioctl(2)` on an `ifreq` of our own
//! (a name and a plain byte area instead of libc's union, so reading the
//! answer needs no unsafe).

use rustix::net::{AddressFamily, SocketFlags, SocketType};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

/// The kernel's `struct ifreq`: the name, then 24 bytes whose first ones
/// hold the value of the request (a short for flags, an int for the MTU
/// and the index).
#[repr(C)]
struct IfReq {
    name: [u8; libc::IF_NAMESIZE],
    value: [u8; 24],
}

// The kernel copies exactly this many bytes in and out.
const _: () = assert!(std::mem::size_of::<IfReq>() == std::mem::size_of::<libc::ifreq>());

impl IfReq {
    fn new(name: &str) -> IfReq {
        let mut r = IfReq {
            name: [0; libc::IF_NAMESIZE],
            value: [0; 24],
        };
        for (d, b) in r
            .name
            .iter_mut()
            .zip(name.bytes().take(libc::IF_NAMESIZE - 1))
        {
            *d = b;
        }
        r
    }
    fn short(&self) -> i16 {
        i16::from_ne_bytes([self.value[0], self.value[1]])
    }
    fn set_short(&mut self, v: i16) {
        self.value[..2].copy_from_slice(&v.to_ne_bytes());
    }
    fn int(&self) -> i32 {
        i32::from_ne_bytes([self.value[0], self.value[1], self.value[2], self.value[3]])
    }
    fn set_int(&mut self, v: i32) {
        self.value[..4].copy_from_slice(&v.to_ne_bytes());
    }
}

/// The only requests made on an `IfReq`: each reads or writes one
/// `struct ifreq` and nothing beyond it.
#[derive(Clone, Copy)]
enum Request {
    GetFlags,
    SetFlags,
    GetMtu,
    SetMtu,
    GetName,
    GetHwAddr,
}

fn ioctl(sock: &OwnedFd, request: Request, req: &mut IfReq) -> io::Result<()> {
    let code = match request {
        Request::GetFlags => libc::SIOCGIFFLAGS,
        Request::SetFlags => libc::SIOCSIFFLAGS,
        Request::GetMtu => libc::SIOCGIFMTU,
        Request::SetMtu => libc::SIOCSIFMTU,
        Request::GetName => libc::SIOCGIFNAME,
        Request::GetHwAddr => libc::SIOCGIFHWADDR,
    };
    // SAFETY: each of these requests reads and/or writes one struct ifreq
    // (netdevice(7)) through the pointer; `req` is an exclusive borrow of
    // an IfReq of exactly that size and layout, live for the call.
    let r = unsafe { libc::ioctl(sock.as_raw_fd(), code as _, req as *mut IfReq) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A throwaway socket for interface requests.
fn socket() -> io::Result<OwnedFd> {
    Ok(rustix::net::socket_with(
        AddressFamily::INET,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        None,
    )?)
}

/// The index of interface `name`, if it exists.
pub fn index_of(name: &str) -> Option<i32> {
    let i = rustix::net::netdevice::name_to_index(socket().ok()?, name).ok()?;
    (i != 0).then_some(i as i32)
}

/// The name of interface `index`, or `#INDEX` when it has none (for messages).
pub fn name_of(index: i32) -> String {
    let mut req = IfReq::new("");
    req.set_int(index);
    match socket().and_then(|s| ioctl(&s, Request::GetName, &mut req)) {
        Ok(()) => crate::cstr::bytes_to_string(&req.name),
        Err(_) => format!("#{index}"),
    }
}

/// Set IFF_UP on interface `name` (nothing to do when it is up already).
pub fn set_up(name: &str) -> io::Result<()> {
    let s = socket()?;
    let mut req = IfReq::new(name);
    ioctl(&s, Request::GetFlags, &mut req)?;
    let up = libc::IFF_UP as i16;
    if req.short() & up == 0 {
        req.set_short(req.short() | up);
        ioctl(&s, Request::SetFlags, &mut req)?;
    }
    Ok(())
}

/// The MTU of interface `name`.
pub fn mtu(name: &str) -> io::Result<u32> {
    let mut req = IfReq::new(name);
    ioctl(&socket()?, Request::GetMtu, &mut req)?;
    Ok(req.int() as u32)
}

/// The MAC address of interface `name` (a `sockaddr`: the family, then
/// the address).
pub fn hw_address(name: &str) -> io::Result<[u8; 6]> {
    let mut req = IfReq::new(name);
    ioctl(&socket()?, Request::GetHwAddr, &mut req)?;
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&req.value[2..8]);
    Ok(mac)
}

/// Set the MTU of interface `name`.
pub fn set_mtu(name: &str, mtu: u32) -> io::Result<()> {
    let mut req = IfReq::new(name);
    req.set_int(mtu as i32);
    ioctl(&socket()?, Request::SetMtu, &mut req)
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_mtu_and_a_missing_interface() {
        assert!(super::mtu("lo").is_ok_and(|m| m >= 68));
        assert!(super::mtu("no-such-if0").is_err());
    }

    #[test]
    fn loopback_index_and_name() {
        let i = super::index_of("lo").expect("lo exists");
        assert_eq!(super::name_of(i), "lo");
        assert_eq!(super::index_of("no-such-if0"), None);
        assert_eq!(super::name_of(1_000_000), "#1000000");
        // a name longer than IFNAMSIZ is no interface, and no panic
        assert_eq!(super::index_of(&"x".repeat(40)), None);
    }
}
