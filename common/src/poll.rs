//! A thin wrapper over poll(2): the one event loop primitive of every daemon.
//!
//! The set holds plain descriptor numbers (callers add a signalfd, a
//! socket, a FIFO, each owned elsewhere), so it calls poll(2) itself on
//! its own array: rustix's poll wants borrowed descriptors, which a number
//! cannot soundly become here.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

pub struct PollSet {
    fds: Vec<libc::pollfd>,
}

impl Default for PollSet {
    fn default() -> Self {
        Self::new()
    }
}

impl PollSet {
    pub fn new() -> Self {
        PollSet { fds: Vec::new() }
    }

    /// Start a new round: forget the previous descriptors.
    pub fn clear(&mut self) {
        self.fds.clear();
    }

    /// Watch `fd` for input; returns its index for `readable`.
    pub fn add(&mut self, fd: RawFd) -> usize {
        self.fds.push(libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        });
        self.fds.len() - 1
    }

    /// Wait until a descriptor is ready or `timeout` passes (`None` = forever).
    /// EINTR counts as a wake-up with nothing ready.
    pub fn wait(&mut self, timeout: Option<Duration>) -> io::Result<usize> {
        let ms: i32 = match timeout {
            None => -1,
            // Round up so a deadline is never woken for just before it is due.
            Some(d) => d.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32,
        };
        for p in &mut self.fds {
            p.revents = 0;
        }
        // SAFETY: the pointer and length describe our own live Vec of
        // pollfd, which poll(2) reads and whose `revents` it writes; a
        // descriptor number that is closed or reused is no memory hazard
        // (poll reports POLLNVAL or watches the new file).
        let n = unsafe { libc::poll(self.fds.as_mut_ptr(), self.fds.len() as libc::nfds_t, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(0);
            }
            return Err(e);
        }
        Ok(n as usize)
    }

    /// Whether descriptor `idx` has input, hang-up or an error pending.
    pub fn readable(&self, idx: usize) -> bool {
        self.fds
            .get(idx)
            .is_some_and(|p| p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn a_pipe_with_data_is_readable_and_a_timeout_is_not() {
        let (r, w) = rustix::pipe::pipe().unwrap();
        let mut p = PollSet::new();
        let i = p.add(r.as_raw_fd());
        assert_eq!(p.wait(Some(Duration::from_millis(10))).unwrap(), 0);
        assert!(!p.readable(i));
        rustix::io::write(&w, b"x").unwrap();
        assert_eq!(p.wait(Some(Duration::from_millis(10))).unwrap(), 1);
        assert!(p.readable(i));
        assert!(!p.readable(i + 1));
    }
}
