//! A small rtnetlink client: link state (carrier) by request and as events.
//! Written against rtnetlink(7) directly: the general-purpose crates parse
//! every link kind and cost half a megabyte of binary.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const NLM_F_REQUEST: u16 = 1;
const RTMGRP_LINK: u32 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_CARRIER_DOWN_COUNT: u16 = 48;

/// One link as the kernel reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub index: i32,
    pub flags: u32,
    pub name: Option<String>,
    pub operstate: Option<u8>,
    /// How often the carrier went down since boot (kernel 4.16+): a quick
    /// unplug and replug can reach userspace as one "up" message, and
    /// this counter still tells that the cable was out.
    pub carrier_downs: Option<u32>,
    pub deleted: bool,
}

impl Link {
    /// Carrier as a user means it: administratively up and RUNNING (the
    /// kernel's operstate is up or unknown). LOWER_UP alone is not enough:
    /// an admin-up veth reports it before it can carry traffic.
    pub fn carrier(&self) -> bool {
        !self.deleted
            && self.flags & libc::IFF_UP as u32 != 0
            && self.flags & libc::IFF_RUNNING as u32 != 0
    }
}

/// Parse a buffer of netlink messages into the link messages it holds.
pub fn parse_links(mut b: &[u8]) -> Vec<Link> {
    let mut out = Vec::new();
    while b.len() >= 16 {
        let len = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let typ = u16::from_ne_bytes([b[4], b[5]]);
        if len < 16 || len > b.len() {
            break;
        }
        let body = &b[16..len];
        if (typ == RTM_NEWLINK || typ == RTM_DELLINK) && body.len() >= 16 {
            let mut link = Link {
                index: i32::from_ne_bytes([body[4], body[5], body[6], body[7]]),
                flags: u32::from_ne_bytes([body[8], body[9], body[10], body[11]]),
                name: None,
                operstate: None,
                carrier_downs: None,
                deleted: typ == RTM_DELLINK,
            };
            let mut a = &body[16..];
            while a.len() >= 4 {
                let alen = u16::from_ne_bytes([a[0], a[1]]) as usize;
                let atype = u16::from_ne_bytes([a[2], a[3]]) & 0x3fff;
                if alen < 4 || alen > a.len() {
                    break;
                }
                let data = &a[4..alen];
                match atype {
                    IFLA_IFNAME => {
                        let n = data.split(|&c| c == 0).next().unwrap_or(&[]);
                        link.name = Some(String::from_utf8_lossy(n).into_owned());
                    }
                    IFLA_OPERSTATE if !data.is_empty() => link.operstate = Some(data[0]),
                    IFLA_CARRIER_DOWN_COUNT if data.len() >= 4 => {
                        link.carrier_downs =
                            Some(u32::from_ne_bytes([data[0], data[1], data[2], data[3]]))
                    }
                    _ => {}
                }
                a = &a[(alen.div_ceil(4) * 4).min(a.len())..];
            }
            out.push(link);
        }
        let step = len.div_ceil(4) * 4;
        if step >= b.len() {
            break;
        }
        b = &b[step..];
    }
    out
}

pub struct Netlink {
    fd: OwnedFd,
    seq: u32,
}

impl Netlink {
    /// A route socket subscribed to link events.
    pub fn link_events() -> io::Result<Netlink> {
        // SAFETY: plain socket calls with valid, zeroed structures.
        unsafe {
            let fd = libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                libc::NETLINK_ROUTE,
            );
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            let owned = OwnedFd::from_raw_fd(fd);
            let mut sa: libc::sockaddr_nl = std::mem::zeroed();
            sa.nl_family = libc::AF_NETLINK as u16;
            sa.nl_groups = RTMGRP_LINK;
            if libc::bind(
                fd,
                (&sa as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            Ok(Netlink { fd: owned, seq: 1 })
        }
    }

    /// Ask for one link's state; the answer arrives like an event.
    pub fn request_link(&mut self, index: i32) -> io::Result<()> {
        let mut m = Vec::with_capacity(32);
        m.extend_from_slice(&32u32.to_ne_bytes());
        m.extend_from_slice(&RTM_GETLINK.to_ne_bytes());
        m.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
        m.extend_from_slice(&self.seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&[libc::AF_UNSPEC as u8, 0, 0, 0]);
        m.extend_from_slice(&index.to_ne_bytes());
        m.extend_from_slice(&[0u8; 8]);
        self.seq += 1;
        // SAFETY: valid buffer.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), m.as_ptr().cast(), m.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// All link messages waiting (never blocks).
    pub fn read_links(&self) -> Vec<Link> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 16384];
        loop {
            // SAFETY: valid buffer.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n <= 0 {
                break;
            }
            out.extend(parse_links(&buf[..n as usize]));
        }
        out
    }
}

impl AsRawFd for Netlink {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn newlink(index: i32, flags: u32, name: &str, oper: u8) -> Vec<u8> {
        let mut attrs = Vec::new();
        let n = name.len() + 1;
        attrs.extend_from_slice(&((4 + n) as u16).to_ne_bytes());
        attrs.extend_from_slice(&IFLA_IFNAME.to_ne_bytes());
        attrs.extend_from_slice(name.as_bytes());
        attrs.push(0);
        while attrs.len() % 4 != 0 {
            attrs.push(0);
        }
        attrs.extend_from_slice(&5u16.to_ne_bytes());
        attrs.extend_from_slice(&IFLA_OPERSTATE.to_ne_bytes());
        attrs.extend_from_slice(&[oper, 0, 0, 0]);
        let len = 16 + 16 + attrs.len();
        let mut m = Vec::new();
        m.extend_from_slice(&(len as u32).to_ne_bytes());
        m.extend_from_slice(&RTM_NEWLINK.to_ne_bytes());
        m.extend_from_slice(&[0u8; 10]);
        m.extend_from_slice(&[0, 0, 1, 0]);
        m.extend_from_slice(&index.to_ne_bytes());
        m.extend_from_slice(&flags.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&attrs);
        m
    }

    #[test]
    fn parses_link_messages() {
        let up = (libc::IFF_UP | libc::IFF_RUNNING | libc::IFF_LOWER_UP) as u32;
        let mut b = newlink(3, up, "eth0", 6);
        b.extend(newlink(
            4,
            libc::IFF_UP as u32 | libc::IFF_LOWER_UP as u32,
            "veth1",
            2,
        ));
        let links = parse_links(&b);
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].name.as_deref(), Some("eth0"));
        assert_eq!(links[0].operstate, Some(6));
        assert!(links[0].carrier());
        assert!(
            !links[1].carrier(),
            "LOWER_UP without RUNNING is no carrier"
        );
        // garbage does not panic
        assert!(parse_links(&[0xff; 7]).is_empty());
        assert!(parse_links(&b[..20]).is_empty());
    }
}
