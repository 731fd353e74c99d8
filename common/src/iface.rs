//! Network interfaces by name: index, name of an index, bringing one up,
//! its MTU. (The daemons that need more talk rtnetlink; these are ioctls.)

use std::ffi::CString;
use std::io;

/// The index of interface `name`, if it exists.
pub fn index_of(name: &str) -> Option<i32> {
    let c = CString::new(name).ok()?;
    // SAFETY: valid C string.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (i != 0).then_some(i as i32)
}

/// The name of interface `index`, or `#INDEX` when it has none (for messages).
pub fn name_of(index: i32) -> String {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf has IF_NAMESIZE bytes as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(index as u32, buf.as_mut_ptr()) };
    if p.is_null() {
        return format!("#{index}");
    }
    let bytes: Vec<u8> = buf
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Set IFF_UP on interface `name` (nothing to do when it is up already).
pub fn set_up(name: &str) -> io::Result<()> {
    with_ifreq(name, |s, req| {
        // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS on a valid ifreq; ifru_flags is
        // the union member they use.
        unsafe {
            let mut r = libc::ioctl(s, libc::SIOCGIFFLAGS as _, req as *mut libc::ifreq);
            if r == 0 && req.ifr_ifru.ifru_flags & libc::IFF_UP as libc::c_short == 0 {
                req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
                r = libc::ioctl(s, libc::SIOCSIFFLAGS as _, req as *const libc::ifreq);
            }
            if r != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    })
}

/// Run `f` with an ifreq for `name` on a throwaway socket.
fn with_ifreq<T>(
    name: &str,
    f: impl FnOnce(libc::c_int, &mut libc::ifreq) -> io::Result<T>,
) -> io::Result<T> {
    // SAFETY: a plain socket, closed below; ifreq is plain data.
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if s < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (i, b) in name.bytes().take(libc::IF_NAMESIZE - 1).enumerate() {
            req.ifr_name[i] = b as libc::c_char;
        }
        let r = f(s, &mut req);
        libc::close(s);
        r
    }
}

/// The MTU of interface `name`.
pub fn mtu(name: &str) -> io::Result<u32> {
    with_ifreq(name, |s, req| {
        // SAFETY: SIOCGIFMTU fills ifru_mtu of a valid ifreq.
        if unsafe { libc::ioctl(s, libc::SIOCGIFMTU as _, req as *mut libc::ifreq) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the union member the ioctl wrote.
        Ok(unsafe { req.ifr_ifru.ifru_mtu } as u32)
    })
}

/// Set the MTU of interface `name`.
pub fn set_mtu(name: &str, mtu: u32) -> io::Result<()> {
    with_ifreq(name, |s, req| {
        req.ifr_ifru.ifru_mtu = mtu as libc::c_int;
        // SAFETY: SIOCSIFMTU reads ifru_mtu of a valid ifreq.
        if unsafe { libc::ioctl(s, libc::SIOCSIFMTU as _, req as *const libc::ifreq) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_mtu_and_a_missing_interface() {
        assert!(super::mtu("lo").is_ok_and(|m| m >= 68));
        assert!(super::mtu("no-such-if0").is_err());
    }
}
