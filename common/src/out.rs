//! Writing to stdout/stderr with plain `write(2)`: `println!` panics on EPIPE or EIO,
//! and with `panic = "abort"` that would kill a daemon (or PID 1) for a closed console.

use std::os::fd::RawFd;

/// Write all of `buf` to `fd`, retrying on EINTR; errors are returned, never panicked on.
pub fn write_all(fd: RawFd, mut buf: &[u8]) -> std::io::Result<()> {
    while !buf.is_empty() {
        // SAFETY: buf is a valid slice for its length.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        buf = &buf[n as usize..];
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

/// `PROG: warning: MSG\n` on stderr.
pub fn warn(prog: &str, msg: &str) {
    err(&format!("{prog}: warning: {msg}\n"));
}

/// `PROG: fatal: MSG\n` on stderr.
pub fn fatal(prog: &str, msg: &str) {
    err(&format!("{prog}: fatal: {msg}\n"));
}
