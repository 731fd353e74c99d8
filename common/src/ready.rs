//! Telling runsv that a native daemon is ready (issue 15). A service
//! directory with `notification-fd` makes runsv hand `run` the write end of
//! a pipe on that descriptor, its number in `$FERRITE_READY_FD`; the first
//! newline written there marks the service ready. A daemon takes the
//! descriptor at its start ([`Ready::from_env`]: the variable leaves the
//! environment and the descriptor is closed on exec, so handler scripts and
//! other children neither inherit nor fake it) and says so once
//! ([`Ready::now`]). Without the variable both do nothing.

use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};

/// runsv's variable (supervisor's runsv core names the same).
pub const ENV: &str = "FERRITE_READY_FD";

/// The descriptors runsv accepts in `notification-fd`.
pub fn valid_fd(text: &str) -> Option<i32> {
    let n: i32 = text.trim().parse().ok()?;
    (3..=1023).contains(&n).then_some(n)
}

#[derive(Debug, Default)]
pub struct Ready(Option<OwnedFd>);

impl Ready {
    /// Take the readiness descriptor runsv gave this process, if any. Call
    /// it first in main, before any thread or child exists.
    pub fn from_env() -> Ready {
        let Some(value) = std::env::var_os(ENV) else {
            return Ready(None);
        };
        std::env::remove_var(ENV);
        let Some(n) = value.to_str().and_then(valid_fd) else {
            return Ready(None);
        };
        // Only a pipe is runsv's: a stale variable naming a descriptor this
        // process uses for something else is left alone.
        use std::os::unix::fs::FileTypeExt;
        let is_pipe =
            std::fs::metadata(format!("/proc/self/fd/{n}")).is_ok_and(|m| m.file_type().is_fifo());
        if !is_pipe {
            return Ready(None);
        }
        // SAFETY: descriptor n is open (its /proc entry exists) and is the
        // pipe runsv passed for this process alone; the variable that named
        // it is gone, so nothing else in the process takes ownership of it.
        let fd = unsafe { OwnedFd::from_raw_fd(n) };
        let _ = rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC);
        Ready(Some(fd))
    }

    /// Say "ready" (once: later calls do nothing) and close the descriptor.
    pub fn now(&mut self) {
        if let Some(fd) = self.0.take() {
            let _ = std::fs::File::from(fd).write_all(b"\n");
        }
    }

    /// Whether readiness is still to be said.
    pub fn pending(&self) -> bool {
        self.0.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_numbers_runsv_accepts() {
        assert_eq!(valid_fd("3"), Some(3));
        assert_eq!(valid_fd(" 9\n"), Some(9));
        assert_eq!(valid_fd("1023"), Some(1023));
        for bad in ["", "0", "1", "2", "1024", "-3", "x", "3x", "99999999999"] {
            assert_eq!(valid_fd(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn without_the_variable_nothing_happens() {
        let mut r = Ready(None);
        assert!(!r.pending());
        r.now();
        assert!(!r.pending());
    }
}
