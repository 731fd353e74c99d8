//! Links: their state (carrier) by request and as events, for the DHCP
//! client and ifplugd. `parse_links` is pure; `Netlink` is the watcher.

use super::msg::{self, RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK};
use super::socket::Socket;
use std::io;
use std::os::fd::{AsRawFd, RawFd};

/// `RTMGRP_LINK`: the multicast group of link events.
const RTMGRP_LINK: u32 = 1;
/// `RTMGRP_IPV6_IFADDR`: the multicast group of IPv6 address events.
const RTMGRP_IPV6_IFADDR: u32 = 0x100;
/// `RTMGRP_IPV6_ROUTE`: IPv6 route events.
const RTMGRP_IPV6_ROUTE: u32 = 0x400;
/// `struct ifinfomsg`: family, type, index, flags, change mask.
const IFINFOMSG_LEN: usize = 16;
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

/// The link of one message, when it is a link message (new or deleted).
pub fn link_of(m: &msg::Msg<'_>) -> Option<Link> {
    if !matches!(m.typ, RTM_NEWLINK | RTM_DELLINK) || m.body.len() < IFINFOMSG_LEN {
        return None;
    }
    let mut link = Link {
        index: msg::u32_at(m.body, 4)? as i32,
        flags: msg::u32_at(m.body, 8)?,
        name: None,
        operstate: None,
        carrier_downs: None,
        deleted: m.typ == RTM_DELLINK,
    };
    for (typ, data) in msg::attrs(m.body, IFINFOMSG_LEN) {
        match typ {
            IFLA_IFNAME => {
                let n = data.split(|&c| c == 0).next().unwrap_or(&[]);
                link.name = Some(String::from_utf8_lossy(n).into_owned());
            }
            IFLA_OPERSTATE => link.operstate = data.first().copied().or(link.operstate),
            IFLA_CARRIER_DOWN_COUNT => {
                link.carrier_downs = msg::u32_at(data, 0).or(link.carrier_downs)
            }
            _ => {}
        }
    }
    Some(link)
}

/// Parse a buffer of netlink messages into the link messages it holds.
pub fn parse_links(b: &[u8]) -> Vec<Link> {
    let mut out = Vec::new();
    for m in msg::messages(b) {
        out.extend(link_of(&m));
    }
    out
}

/// `RTM_GETLINK`'s body for one link: an ifinfomsg naming its index.
fn link_request(index: i32) -> Vec<u8> {
    let mut b = vec![libc::AF_UNSPEC as u8, 0, 0, 0];
    b.extend_from_slice(&index.to_ne_bytes());
    b.extend_from_slice(&[0u8; 8]);
    b
}

/// The link watcher: a route socket subscribed to link events, read from a
/// poll loop (it never blocks).
pub struct Netlink {
    sock: Socket,
}

impl Netlink {
    /// A route socket subscribed to link events.
    pub fn link_events() -> io::Result<Netlink> {
        Ok(Netlink {
            sock: Socket::open(RTMGRP_LINK, true)?,
        })
    }

    /// A route socket subscribed to IPv6 address events (added, changed,
    /// removed), read with `read_addrs6`. Open it before a dump of the
    /// addresses (`Rtnl::addresses6`), so no change falls between the two.
    pub fn addr6_events() -> io::Result<Netlink> {
        Ok(Netlink {
            sock: Socket::open(RTMGRP_IPV6_IFADDR, true)?,
        })
    }

    /// The IPv6 address events waiting (never blocks), at most
    /// `MAX_READS_PER_ROUND` datagrams, as `read_links`. A datagram the
    /// kernel could not deliver (`ENOBUFS`: events were lost) is
    /// `Err`: dump the addresses again.
    pub fn read_addrs6(&self) -> io::Result<Vec<super::Addr6Entry>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; super::socket::BUF_LEN];
        for _ in 0..crate::MAX_READS_PER_ROUND {
            match self.sock.recv(&mut buf) {
                Ok((got, _)) if !got.is_empty() => {
                    out.extend(msg::messages(got).filter_map(|m| super::parse_addr6(m.typ, m.body)))
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => return Err(e),
                _ => break,
            }
        }
        Ok(out)
    }

    /// A route socket subscribed to IPv6 route events (ra: whether the box
    /// has a default route), read with `read_messages`.
    pub fn route6_events() -> io::Result<Netlink> {
        Ok(Netlink {
            sock: Socket::open(RTMGRP_IPV6_ROUTE, true)?,
        })
    }

    /// Every message waiting (never blocks), as `f(type, body)`, at most
    /// `MAX_READS_PER_ROUND` datagrams; `Err` on `ENOBUFS` (events were
    /// lost: dump again), as `read_addrs6`.
    pub fn read_messages(&self, mut f: impl FnMut(u16, &[u8])) -> io::Result<()> {
        let mut buf = vec![0u8; super::socket::BUF_LEN];
        for _ in 0..crate::MAX_READS_PER_ROUND {
            match self.sock.recv(&mut buf) {
                Ok((got, _)) if !got.is_empty() => {
                    msg::messages(got).for_each(|m| f(m.typ, m.body));
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => return Err(e),
                _ => break,
            }
        }
        Ok(())
    }

    /// Ask for one link's state; the answer arrives like an event.
    pub fn request_link(&mut self, index: i32) -> io::Result<()> {
        self.sock
            .send(RTM_GETLINK, msg::NLM_F_REQUEST, &link_request(index))
            .map(drop)
    }

    /// The link messages waiting (never blocks), at most
    /// `MAX_READS_PER_ROUND` datagrams: the rest waits for the next poll
    /// round, so a storm of events cannot starve signals and timers.
    /// The link `index` as it is now: asked for, answered within 500 ms
    /// (`None` when the kernel does not answer or has no such link). For a
    /// daemon's state at start, before its event loop.
    pub fn link_now(&mut self, index: i32) -> Option<Link> {
        self.request_link(index).ok()?;
        let mut poll = common::poll::PollSet::new();
        poll.add(self.as_raw_fd());
        let _ = poll.wait(Some(std::time::Duration::from_millis(500)));
        self.read_links()
            .into_iter()
            .rev()
            .find(|l| l.index == index)
    }

    pub fn read_links(&self) -> Vec<Link> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; super::socket::BUF_LEN];
        for _ in 0..crate::MAX_READS_PER_ROUND {
            // a datagram cut short still yields its whole messages
            match self.sock.recv(&mut buf) {
                Ok((got, _)) if !got.is_empty() => out.extend(parse_links(got)),
                _ => break,
            }
        }
        out
    }
}

impl AsRawFd for Netlink {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
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

    #[test]
    fn the_carrier_down_count_and_a_deleted_link() {
        let mut body = link_request(9);
        msg::put_attr(&mut body, IFLA_CARRIER_DOWN_COUNT, &3u32.to_ne_bytes());
        let m = msg::encode(RTM_DELLINK, 0, 0, &body);
        let l = &parse_links(&m)[0];
        assert_eq!((l.index, l.carrier_downs, l.deleted), (9, Some(3), true));
        assert!(!l.carrier());
        // a link message with a short ifinfomsg is none
        assert!(parse_links(&msg::encode(RTM_NEWLINK, 0, 0, &body[..15])).is_empty());
    }
}
