//! The I/O of readiness for one supervised program set: the notification
//! pipe of the current `run` (`notification-fd`) and the `$NOTIFY_SOCKET`
//! datagram socket (`notify-socket`). Both are descriptors in runsv's one
//! poll loop; what they mean is decided in `core::readiness`.

use crate::runsv::core::readiness::{
    datagram_says_ready, in_tree, parse_notification_fd, pipe_says_ready, ppid_from_stat,
    NOTIFICATION_FD_FILE, NOTIFY_SOCKET_FILE, READY_FD_ENV,
};
use common::errtext::describe;
use rustix::net::{
    recvmsg, AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SocketAddrUnix,
    SocketFlags, SocketType,
};
use std::io::{IoSliceMut, Read};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// The environment variable `sd_notify` reads.
pub const NOTIFY_SOCKET_ENV: &str = "NOTIFY_SOCKET";

#[derive(Default)]
pub struct Notifier {
    /// The read end of the current run's notification pipe.
    pipe: Option<OwnedFd>,
    /// The datagram socket and its `$NOTIFY_SOCKET` value (`@` + abstract
    /// name), kept across restarts while `notify-socket` exists.
    socket: Option<(OwnedFd, String)>,
}

/// What one start of `run` is given: the pipe's write end and the
/// descriptor number it must have, and the socket's address.
pub struct Grant {
    pipe: Option<(OwnedFd, u32)>,
    socket: Option<String>,
}

impl Grant {
    /// Whether the program has a way to say it is ready.
    pub fn notifies(&self) -> bool {
        self.pipe.is_some() || self.socket.is_some()
    }

    /// Set up `cmd` with it: the pipe's write end on descriptor N (and N in
    /// `$FERRITE_READY_FD`), `$NOTIFY_SOCKET`; and without either variable
    /// inherited from runsv's own environment when not given.
    pub fn apply(&self, cmd: &mut Command) {
        cmd.env_remove(READY_FD_ENV).env_remove(NOTIFY_SOCKET_ENV);
        if let Some((w, n)) = &self.pipe {
            cmd.env(READY_FD_ENV, n.to_string());
            let (from, to) = (w.as_raw_fd(), *n as RawFd);
            // SAFETY: runs between fork and exec, where only
            // async-signal-safe calls are allowed; it makes one or two
            // system calls on descriptor numbers (dup2, or fcntl when the
            // write end already has the number N, since dup2 would then
            // leave close-on-exec set) and neither allocates nor locks.
            unsafe {
                cmd.pre_exec(move || {
                    let r = if from == to {
                        libc::fcntl(to, libc::F_SETFD, 0)
                    } else {
                        libc::dup2(from, to)
                    };
                    if r < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        if let Some(name) = &self.socket {
            cmd.env(NOTIFY_SOCKET_ENV, name);
        }
    }
}

/// The first bytes of a small file, `None` when it does not exist. Opened
/// without blocking (a FIFO planted there must not stop runsv) and read
/// at most 64 bytes (a huge file, /dev/zero).
fn read_small(path: &Path) -> Option<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let mut b = Vec::new();
    f.take(64).read_to_end(&mut b).ok()?;
    Some(b)
}

fn make_socket(tag: &str) -> std::io::Result<(OwnedFd, String)> {
    let fd = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )?;
    rustix::net::sockopt::set_socket_passcred(&fd, true)?;
    // An abstract name: no path length limit, nothing left on disk, and a
    // service that dropped its privileges can still reach it (the sender's
    // credentials decide, not file permissions). The random part keeps two
    // runsv of the same pid in different PID namespaces apart.
    let mut nonce = [0u8; 8];
    let _ = rustix::rand::getrandom(&mut nonce, rustix::rand::GetRandomFlags::NONBLOCK);
    let name = format!(
        "ferrite-runsv-{}-{tag}-{:016x}",
        std::process::id(),
        u64::from_ne_bytes(nonce)
    );
    rustix::net::bind(&fd, &SocketAddrUnix::new_abstract_name(name.as_bytes())?)?;
    Ok((fd, format!("@{name}")))
}

/// The parent of `pid` now, from `/proc`.
fn parent_of(pid: u32) -> Option<u32> {
    ppid_from_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

impl Notifier {
    /// Before `run` starts in `base`: what it gets. A bad `notification-fd`
    /// is refused with `warn(reason)` and the run goes on without the pipe.
    pub fn grant(&mut self, base: &Path, tag: &str, warn: &mut dyn FnMut(String)) -> Grant {
        self.pipe = None;
        let mut grant = Grant {
            pipe: None,
            socket: None,
        };
        if let Some(text) = read_small(&base.join(NOTIFICATION_FD_FILE)) {
            match parse_notification_fd(&text) {
                Err(why) => warn(format!("{why}: readiness not used")),
                Ok(n) => match rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC) {
                    Ok((r, w)) => {
                        let _ = rustix::fs::fcntl_setfl(&r, rustix::fs::OFlags::NONBLOCK);
                        self.pipe = Some(r);
                        grant.pipe = Some((w, n));
                    }
                    Err(e) => warn(format!(
                        "unable to create the notification pipe: {}: readiness not used",
                        describe(&e.into())
                    )),
                },
            }
        }
        if base.join(NOTIFY_SOCKET_FILE).exists() {
            if self.socket.is_none() {
                match make_socket(tag) {
                    Ok(s) => self.socket = Some(s),
                    Err(e) => warn(format!(
                        "unable to create the notify socket: {}: readiness not used",
                        describe(&e)
                    )),
                }
            }
            grant.socket = self.socket.as_ref().map(|(_, n)| n.clone());
        } else {
            self.socket = None;
        }
        grant
    }

    /// The run ended: its pipe says nothing any more.
    pub fn end_run(&mut self) {
        self.pipe = None;
    }

    pub fn pipe_fd(&self) -> Option<RawFd> {
        self.pipe.as_ref().map(|p| p.as_raw_fd())
    }

    pub fn socket_fd(&self) -> Option<RawFd> {
        self.socket.as_ref().map(|(s, _)| s.as_raw_fd())
    }

    /// The pipe is readable: true when a newline came. After it the pipe
    /// is still read (and what comes is dropped) until end-of-file, so a
    /// program that writes more is not killed by SIGPIPE; at end-of-file
    /// it is closed (without a newline first: never ready in this run).
    pub fn read_pipe(&mut self) -> bool {
        let Some(p) = &self.pipe else { return false };
        let mut buf = [0u8; 512];
        let mut ready = false;
        // Bounded: a program that writes without end cannot keep runsv here.
        for _ in 0..64 {
            match rustix::io::read(p, &mut buf) {
                Ok(0) => {
                    self.pipe = None;
                    return ready;
                }
                Ok(n) => ready |= buf.get(..n).is_some_and(pipe_says_ready),
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => return ready,
            }
        }
        ready
    }

    /// The socket is readable: true when a datagram from `service`'s
    /// process tree says `READY=1`. Others are read and dropped.
    pub fn read_socket(&mut self, service: u32) -> bool {
        let Some((s, _)) = &self.socket else {
            return false;
        };
        let mut ready = false;
        // Bounded: a flood of datagrams cannot keep runsv in here.
        for _ in 0..64 {
            let mut buf = [0u8; 4096];
            let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmCredentials(1))];
            let mut cmsg = RecvAncillaryBuffer::new(&mut space);
            let got = recvmsg(
                s,
                &mut [IoSliceMut::new(&mut buf)],
                &mut cmsg,
                RecvFlags::DONTWAIT | RecvFlags::CMSG_CLOEXEC,
            );
            let n = match got {
                Ok(m) => m.bytes.min(buf.len()),
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => break,
            };
            let mut sender = 0u32;
            for m in cmsg.drain() {
                if let RecvAncillaryMessage::ScmCredentials(c) = m {
                    sender = u32::try_from(c.pid.as_raw_nonzero().get()).unwrap_or(0);
                }
            }
            if buf.get(..n).is_some_and(datagram_says_ready) && in_tree(sender, service, parent_of)
            {
                ready = true;
            }
        }
        ready
    }
}
