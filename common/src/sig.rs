//! Signals as file descriptor events (signalfd), so every daemon has one
//! poll loop and no async-signal-safety puzzles. The signals are blocked
//! for the calling thread; children get a clean mask back through
//! [`clean_child`] (std's Command inherits the mask and resets only
//! SIGPIPE).
//!
//! rustix has no signalfd and no safe signal mask, so this module keeps
//! three raw calls: `rt_sigprocmask`, `signalfd4` and taking ownership of
//! the descriptor signalfd4 returns. The signal set is the kernel's: a
//! 64-bit word with bit `n - 1` for signal `n`, built here without unsafe.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The kernel's signal set (`sizeof(kernel_sigset_t)` is 8 on every
/// architecture ferrite builds for).
type KernelSet = u64;
const KERNEL_SET_BYTES: usize = std::mem::size_of::<KernelSet>();

/// The kernel signal set of `signals`; numbers outside 1..=64 are left out.
fn kernel_set(signals: &[i32]) -> KernelSet {
    signals
        .iter()
        .filter(|&&s| (1..=64).contains(&s))
        .fold(0, |set, &s| set | 1 << (s - 1))
}

/// `rt_sigprocmask(how, set, NULL)` for the calling thread. Async-signal-
/// safe and allocation-free, so [`clean_child`] calls it between fork and exec.
fn sigprocmask(how: libc::c_int, set: KernelSet) -> io::Result<()> {
    // SAFETY: rt_sigprocmask reads KERNEL_SET_BYTES bytes from `&set`, a
    // live u64 of exactly that size, and writes nothing (the old-set pointer
    // is null); `how` is one of the SIG_* constants callers pass.
    let r = unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            how,
            &set as *const KernelSet,
            std::ptr::null_mut::<KernelSet>(),
            KERNEL_SET_BYTES,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

pub struct SignalFd {
    fd: OwnedFd,
}

/// Block `signals` in the calling thread (call before any thread starts
/// when the process is multi-threaded, e.g. under the test harness).
pub fn block(signals: &[i32]) -> io::Result<()> {
    sigprocmask(libc::SIG_BLOCK, kernel_set(signals))
}

/// Unblock `signals` in the calling thread.
pub fn unblock(signals: &[i32]) {
    let _ = sigprocmask(libc::SIG_UNBLOCK, kernel_set(signals));
}

impl SignalFd {
    /// Block `signals` and return a non-blocking, close-on-exec signalfd for them.
    pub fn new(signals: &[i32]) -> io::Result<Self> {
        block(signals)?;
        let set = kernel_set(signals);
        // SAFETY: signalfd4(-1, ...) makes a new descriptor; it reads
        // KERNEL_SET_BYTES bytes from `&set`, a live u64 of that size.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_signalfd4,
                -1,
                &set as *const KernelSet,
                KERNEL_SET_BYTES,
                libc::SFD_NONBLOCK | libc::SFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just returned by signalfd4 and nothing else has
        // seen it, so this OwnedFd is its only owner.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
        Ok(SignalFd { fd })
    }

    /// All pending signal numbers (empty when none; never blocks).
    pub fn read_all(&self) -> Vec<i32> {
        // struct signalfd_siginfo is 128 bytes; ssi_signo is its first u32.
        let mut sigs = Vec::new();
        let mut info = [0u8; 128];
        while let Ok(128) = rustix::io::read(&self.fd, &mut info) {
            sigs.push(u32::from_ne_bytes([info[0], info[1], info[2], info[3]]) as i32);
        }
        sigs
    }
}

/// The usual start of a daemon: a signalfd for `signals`, or the line
/// `PROG: signalfd: REASON` on stderr and `None`; the caller returns its
/// own exit code (the tool it mimics decides: 1 for BusyBox's, 111 for runit's).
pub fn open_signalfd(prog: &str, signals: &[i32]) -> Option<SignalFd> {
    SignalFd::new(signals)
        .inspect_err(|e| {
            crate::out::err(&format!(
                "{prog}: signalfd: {}\n",
                crate::errtext::describe(e)
            ))
        })
        .ok()
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
/// Any child: `wait4(-1)` (rustix's `waitpid(None)` is `wait4(0)`, only
/// the children in our own process group, which misses every orphan that
/// started a group or a session of its own).
pub fn reap_any() -> Option<(i32, ExitStatus)> {
    match rustix::process::wait(rustix::process::WaitOptions::NOHANG) {
        Ok(Some((pid, status))) => Some((
            pid.as_raw_nonzero().get(),
            ExitStatus::from_wait(status.as_raw()),
        )),
        _ => None,
    }
}

/// Whether the calling process has no children at all (`waitid` says
/// ECHILD). Asked with WNOWAIT, so an exited child stays to be reaped.
pub fn no_children() -> bool {
    use rustix::process::{waitid, WaitId, WaitIdOptions};
    let opts = WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT | WaitIdOptions::EXITED;
    matches!(waitid(WaitId::All, opts), Err(rustix::io::Errno::CHILD))
}

/// `sig` as rustix's signal; `None` for 0 and numbers that name no signal.
fn signal(sig: i32) -> Option<rustix::process::Signal> {
    rustix::process::Signal::from_named_raw(sig)
}

/// Send `sig` to `pid`; errors (e.g. the process is already gone) are ignored.
pub fn kill(pid: i32, sig: i32) {
    let _ = send(pid, sig);
}

/// Send `sig` to `pid` (> 0), saying why it failed.
pub fn send(pid: i32, sig: i32) -> io::Result<()> {
    let (Some(pid), Some(sig)) = (rustix::process::Pid::from_raw(pid.max(0)), signal(sig)) else {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    };
    Ok(rustix::process::kill_process(pid, sig)?)
}

/// `kill(-1, sig)`: every process the caller may signal except itself (and
/// PID 1). Only PID 1 at shutdown has a reason to call this.
pub fn kill_all(sig: i32) -> io::Result<()> {
    let sig = signal(sig).ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
    Ok(rustix::process::kill_process_group(
        rustix::process::Pid::INIT,
        sig,
    )?)
}

/// Give a child started by `cmd` a clean signal state: nothing blocked (our
/// signalfd signals would otherwise stay blocked across exec; std's Command
/// keeps the parent's mask). SIGPIPE is put back to its default by std
/// itself. Every daemon starts its children through this.
pub fn clean_child(cmd: &mut std::process::Command) -> &mut std::process::Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs between fork and exec, where only
    // async-signal-safe calls are allowed: it makes one rt_sigprocmask
    // system call and neither allocates nor takes a lock.
    unsafe { cmd.pre_exec(|| sigprocmask(libc::SIG_SETMASK, 0)) }
}

/// Wait up to `timeout` for `pid` (not necessarily our child) to exit,
/// without polling: a pidfd becomes readable when the process ends. On a
/// kernel without pidfd_open (before 5.3) `gone` is asked every 50 ms
/// instead. True when it ended.
pub fn wait_exit(pid: i32, timeout: std::time::Duration, gone: impl Fn() -> bool) -> bool {
    let start = std::time::Instant::now();
    let pidfd = rustix::process::Pid::from_raw(pid.max(0))
        .and_then(|p| rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).ok());
    if let Some(fd) = pidfd {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_sets() {
        assert_eq!(kernel_set(&[]), 0);
        assert_eq!(kernel_set(&[libc::SIGHUP]), 1);
        assert_eq!(
            kernel_set(&[libc::SIGCHLD, libc::SIGTERM]),
            1 << 16 | 1 << 14
        );
        assert_eq!(kernel_set(&[0, -3, 65]), 0, "no signal, no bit");
        assert_eq!(kernel_set(&[64]), 1 << 63);
    }

    #[test]
    fn a_signal_arrives_on_the_descriptor() {
        // SIGWINCH is harmless when it slips through; block it first so
        // that the harness's other threads never take it.
        let fd = SignalFd::new(&[libc::SIGWINCH]).unwrap();
        assert!(fd.read_all().is_empty());
        // raise(3) signals this thread, which blocks SIGWINCH now.
        // SAFETY: raise takes a signal number and nothing else.
        unsafe { libc::raise(libc::SIGWINCH) };
        assert_eq!(fd.read_all(), [libc::SIGWINCH]);
        unblock(&[libc::SIGWINCH]);
    }

    #[test]
    fn sending_to_nobody_fails_cleanly() {
        assert!(send(0, libc::SIGTERM).is_err());
        assert!(send(-5, libc::SIGTERM).is_err());
        assert!(send(std::process::id() as i32, 0).is_err(), "0 is not sent");
        assert!(send(std::process::id() as i32, libc::SIGCONT).is_ok());
    }

    #[test]
    // the child is reaped by reap_any, which is what this test is about
    #[allow(clippy::zombie_processes)]
    fn a_child_in_a_session_of_its_own_is_reaped() {
        use std::os::unix::process::CommandExt;
        let child = std::process::Command::new("sh")
            .args(["-c", "exit 7"])
            .process_group(0)
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let start = std::time::Instant::now();
        // other tests' children may be reaped here too; ours must come
        let got = loop {
            match reap_any() {
                Some((p, st)) if p == pid => break Some(st),
                _ if start.elapsed() > std::time::Duration::from_secs(5) => break None,
                _ => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        };
        assert_eq!(got, Some(ExitStatus { code: 7, signal: 0 }));
    }

    #[test]
    fn exit_statuses() {
        // (this test binary's only child is the one reaped above, which
        // reap_any may take from any thread: no Command::status here)
        assert_eq!(
            ExitStatus::from_wait(3 << 8),
            ExitStatus { code: 3, signal: 0 }
        );
        assert_eq!(
            ExitStatus::from_wait(libc::SIGKILL),
            ExitStatus {
                code: -1,
                signal: 9
            }
        );
    }
}
