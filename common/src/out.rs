//! Writing to stdout/stderr with plain `write(2)`: `println!` panics on EPIPE or EIO,
//! and with `panic = "abort"` that would kill a daemon (or PID 1) for a closed console.

use std::os::fd::{BorrowedFd, RawFd};

/// Write all of `buf` to `fd`, retrying on EINTR; errors are returned, never panicked on.
pub fn write_all(fd: RawFd, mut buf: &[u8]) -> std::io::Result<()> {
    // SAFETY: the borrow lives only for the write(2) calls below, while the
    // caller holds `fd` open; a number the caller closed fails with EBADF,
    // and nothing here closes or keeps it.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    while !buf.is_empty() {
        match rustix::io::write(fd, buf) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = buf.get(n..).unwrap_or_default(),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Best-effort write of a whole message to stderr; console errors are ignored.
pub fn err(msg: &str) {
    let _ = write_all(2, msg.as_bytes());
}

/// Best-effort write to stdout; returns false when stdout is gone.
pub fn out(msg: &str) -> bool {
    write_all(1, msg.as_bytes()).is_ok()
}

/// `d` as seconds with three decimals, rounded to the millisecond
/// (`12.346`), the stamp of a verbose log line; integers only, so no float
/// formatting in the binary.
pub fn secs3(d: std::time::Duration) -> String {
    let ms = d.as_nanos().saturating_add(500_000) / 1_000_000;
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// `PROG: warning: MSG\n` on stderr.
pub fn warn(prog: &str, msg: &str) {
    err(&format!("{prog}: warning: {msg}\n"));
}

/// `PROG: fatal: MSG\n` on stderr.
pub fn fatal(prog: &str, msg: &str) {
    err(&format!("{prog}: fatal: {msg}\n"));
}

#[cfg(test)]
mod tests {
    #[test]
    fn seconds_with_three_decimals() {
        use std::time::Duration;
        assert_eq!(super::secs3(Duration::ZERO), "0.000");
        assert_eq!(super::secs3(Duration::from_micros(12_345_600)), "12.346");
        assert_eq!(super::secs3(Duration::from_micros(999_600)), "1.000");
        assert_eq!(super::secs3(Duration::from_millis(86_400_007)), "86400.007");
    }
}
