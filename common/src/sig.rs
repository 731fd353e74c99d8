//! Signals as file descriptor events (signalfd), so every daemon has one
//! poll loop and no async-signal-safety puzzles. The signals are blocked
//! for the calling thread; children get a clean mask back (std's Command
//! resets it before exec).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub struct SignalFd {
    fd: OwnedFd,
}

fn sigset(signals: &[i32]) -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in signals {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Block `signals` in the calling thread (call before any thread starts
/// when the process is multi-threaded, e.g. under the test harness).
pub fn block(signals: &[i32]) -> io::Result<()> {
    let set = sigset(signals);
    // SAFETY: valid set pointer, null old-set.
    let r = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    Ok(())
}

/// Unblock `signals` in the calling thread.
pub fn unblock(signals: &[i32]) {
    let set = sigset(signals);
    // SAFETY: valid set pointer.
    unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
}

impl SignalFd {
    /// Block `signals` and return a non-blocking, close-on-exec signalfd for them.
    pub fn new(signals: &[i32]) -> io::Result<Self> {
        block(signals)?;
        let set = sigset(signals);
        // SAFETY: valid set; flags are constants.
        let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor we own.
        Ok(SignalFd {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// All pending signal numbers (empty when none; never blocks).
    pub fn read_all(&self) -> Vec<i32> {
        let mut sigs = Vec::new();
        loop {
            // SAFETY: signalfd_siginfo is plain data, read into it by size.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let n = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    (&mut info as *mut libc::signalfd_siginfo).cast(),
                    std::mem::size_of::<libc::signalfd_siginfo>(),
                )
            };
            if n != std::mem::size_of::<libc::signalfd_siginfo>() as isize {
                break;
            }
            sigs.push(info.ssi_signo as i32);
        }
        sigs
    }
}

impl AsRawFd for SignalFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// How a reaped child ended, in the two numbers runit's `finish` receives:
/// the exit code (or -1 when killed) and the terminating signal (or 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitStatus {
    pub code: i32,
    pub signal: i32,
}

impl ExitStatus {
    pub fn from_wait(status: i32) -> Self {
        if libc::WIFEXITED(status) {
            ExitStatus {
                code: libc::WEXITSTATUS(status),
                signal: 0,
            }
        } else if libc::WIFSIGNALED(status) {
            ExitStatus {
                code: -1,
                signal: libc::WTERMSIG(status),
            }
        } else {
            ExitStatus {
                code: -1,
                signal: status & 0x7f,
            }
        }
    }
}

/// Reap one exited child without blocking: `Some((pid, status))` or `None`.
pub fn reap_any() -> Option<(i32, ExitStatus)> {
    let mut status = 0;
    // SAFETY: plain syscall with a valid out-pointer.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    if pid > 0 {
        Some((pid, ExitStatus::from_wait(status)))
    } else {
        None
    }
}

/// Send `sig` to `pid`; errors (e.g. the process is already gone) are ignored.
pub fn kill(pid: i32, sig: i32) {
    if pid > 0 {
        // SAFETY: plain syscall.
        unsafe { libc::kill(pid, sig) };
    }
}

/// Give a child started by `cmd` a clean signal state: nothing blocked (our
/// signalfd signals would otherwise stay blocked across exec) and SIGPIPE at
/// its default. Every daemon starts its children through this.
pub fn clean_child(cmd: &mut std::process::Command) -> &mut std::process::Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            Ok(())
        })
    }
}

/// Wait up to `timeout` for `pid` (not necessarily our child) to exit,
/// without polling: a pidfd becomes readable when the process ends. On a
/// kernel without pidfd_open (before 5.3) `gone` is asked every 50 ms
/// instead. True when it ended.
pub fn wait_exit(pid: i32, timeout: std::time::Duration, gone: impl Fn() -> bool) -> bool {
    let start = std::time::Instant::now();
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd >= 0 {
        // SAFETY: a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
        let mut poll = crate::poll::PollSet::new();
        loop {
            let left = timeout.saturating_sub(start.elapsed());
            if left.is_zero() {
                return gone();
            }
            poll.clear();
            let idx = poll.add(fd.as_raw_fd());
            if poll.wait(Some(left)).is_ok() && poll.readable(idx) {
                return true;
            }
        }
    }
    while start.elapsed() < timeout {
        if gone() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    gone()
}
