//! Waiting for a directory to change (inotify), instead of looking again
//! every few seconds.

use rustix::fs::inotify;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

/// Entries created, written, moved in or out, or deleted; the directory itself gone.
pub const DIR_CHANGES: u32 = libc::IN_CREATE
    | libc::IN_CLOSE_WRITE
    | libc::IN_MOVED_TO
    | libc::IN_MOVED_FROM
    | libc::IN_DELETE
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF;

/// One inotify watch on one path.
pub struct Watch(OwnedFd);

impl Watch {
    pub fn new(path: &Path, mask: u32) -> io::Result<Watch> {
        let fd = inotify::init(inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC)?;
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        inotify::add_watch(
            &fd,
            c.as_c_str(),
            inotify::WatchFlags::from_bits_retain(mask),
        )?;
        Ok(Watch(fd))
    }

    /// Read and forget the pending events (the descriptor is non-blocking);
    /// for loops that poll this watch's descriptor with others.
    pub fn drain(&self) {
        let mut buf = [0u8; 4096];
        while matches!(rustix::io::read(&self.0, &mut buf), Ok(n) if n > 0) {}
    }

    /// Block until something happened (or `timeout` passed); false on timeout.
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        let mut p = crate::poll::PollSet::new();
        let i = p.add(self.0.as_raw_fd());
        let _ = p.wait(timeout);
        if !p.readable(i) {
            return false;
        }
        self.drain();
        true
    }
}

impl AsRawFd for Watch {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.0.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_wakes_the_waiter() {
        let dir = std::env::temp_dir().join(format!("ferrite-inotify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let w = Watch::new(&dir, DIR_CHANGES).unwrap();
        assert!(!w.wait(Some(Duration::from_millis(20))));
        std::fs::write(dir.join("env.out"), "x").unwrap();
        assert!(w.wait(Some(Duration::from_secs(1))));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(Watch::new(&dir, DIR_CHANGES).is_err());
    }
}
