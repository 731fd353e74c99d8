//! The one netlink socket: `NETLINK_ROUTE` through rustix (no `unsafe`),
//! requests numbered and their answers matched by sequence number, a
//! receive timeout on blocking sockets, datagrams cut short detected, and
//! dumps interrupted by a change (`NLM_F_DUMP_INTR`) asked again.

use super::msg::{self, Dump, DumpEnd};
use rustix::net::netlink::SocketAddrNetlink;
use rustix::net::sockopt::{set_socket_timeout, Timeout};
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// The receive buffer: the kernel fills a dump's datagrams up to 32 KiB
/// (`netlink_recvmsg` caps what it learns from the reader there).
pub const BUF_LEN: usize = 32 * 1024;

/// How long a blocking socket waits for the kernel's answer: it comes in
/// microseconds, unless rtnl_lock is held long elsewhere; this bounds a
/// hang, it is no latency target.
const RECV_TIMEOUT: Duration = Duration::from_secs(5);

/// How often a dump interrupted by a change is asked again before the
/// failure is reported.
const DUMP_TRIES: usize = 3;

pub struct Socket {
    fd: OwnedFd,
    seq: u32,
    nonblocking: bool,
}

impl Socket {
    /// A route socket joined to the multicast `groups` (0: none). A
    /// `nonblocking` one is for a poll loop; a blocking one waits at most
    /// `RECV_TIMEOUT` for each answer.
    pub fn open(groups: u32, nonblocking: bool) -> io::Result<Socket> {
        let flags = if nonblocking {
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK
        } else {
            SocketFlags::CLOEXEC
        };
        // NETLINK_ROUTE is protocol 0: `None`
        let fd = rustix::net::socket_with(AddressFamily::NETLINK, SocketType::RAW, flags, None)?;
        rustix::net::bind(&fd, &SocketAddrNetlink::new(0, groups))?;
        if !nonblocking {
            set_socket_timeout(&fd, Timeout::Recv, Some(RECV_TIMEOUT))?;
        }
        Ok(Socket {
            fd,
            seq: 0,
            nonblocking,
        })
    }

    /// Send one request under a fresh sequence number, which it returns.
    pub fn send(&mut self, typ: u16, flags: u16, body: &[u8]) -> io::Result<u32> {
        self.seq = self.seq.wrapping_add(1);
        let m = msg::encode(typ, flags, self.seq, body);
        let n = rustix::net::send(&self.fd, &m, SendFlags::empty())?;
        if n != m.len() {
            // a datagram goes whole or not at all: never seen
            return Err(io::Error::from_raw_os_error(libc::EMSGSIZE));
        }
        Ok(self.seq)
    }

    /// One datagram into `buf`: the bytes read, and whether the datagram
    /// was longer than `buf` (its last messages then fail the length
    /// checks). A blocking socket that waited `RECV_TIMEOUT` in vain says
    /// `TimedOut` ("timed out").
    pub fn recv<'b>(&self, buf: &'b mut [u8]) -> io::Result<(&'b [u8], bool)> {
        match rustix::net::recv(&self.fd, &mut *buf, RecvFlags::TRUNC) {
            Ok((n, whole)) => Ok((buf.get(..n).unwrap_or_default(), whole > n)),
            Err(rustix::io::Errno::AGAIN) if !self.nonblocking => {
                Err(io::ErrorKind::TimedOut.into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Send one request that asks for an acknowledgement and wait for it;
    /// other requests' answers are skipped.
    pub fn request(&mut self, typ: u16, flags: u16, body: &[u8]) -> io::Result<()> {
        let seq = self.send(typ, msg::NLM_F_REQUEST | msg::NLM_F_ACK | flags, body)?;
        let mut buf = vec![0u8; BUF_LEN];
        loop {
            let (got, _) = self.recv(&mut buf)?;
            match msg::ack(got, seq) {
                None => {}
                Some(0) => return Ok(()),
                Some(e) => return Err(io::Error::from_raw_os_error(e)),
            }
        }
    }

    /// Send a dump request and collect the bodies of its answers; one the
    /// kernel marks interrupted is asked again, `DUMP_TRIES` times at most,
    /// then it is `EAGAIN` ("temporary failure": the tables keep changing).
    pub fn dump(&mut self, typ: u16, body: &[u8]) -> io::Result<Vec<(u16, Vec<u8>)>> {
        let mut buf = vec![0u8; BUF_LEN];
        for _ in 0..DUMP_TRIES {
            let mut d = Dump::new(self.send(typ, msg::NLM_F_REQUEST | msg::NLM_F_DUMP, body)?);
            let end = loop {
                let (got, cut) = self.recv(&mut buf)?;
                if cut {
                    return Err(io::Error::from_raw_os_error(libc::EMSGSIZE));
                }
                match d.feed(got) {
                    DumpEnd::More => {}
                    end => break end,
                }
            };
            match end {
                DumpEnd::Error(e) if e != 0 => return Err(io::Error::from_raw_os_error(e)),
                _ if d.interrupted => continue,
                _ => return Ok(d.items),
            }
        }
        Err(io::Error::from_raw_os_error(libc::EAGAIN))
    }
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
