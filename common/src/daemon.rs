//! Going to the background the way BusyBox's daemons do when they are run
//! from a shell without `-f`/`-n`: the caller gets its prompt back, the
//! daemon keeps running. Under a supervisor they stay in the foreground.

/// Fork once: the parent exits 0 at once, the child goes on in a session of
/// its own with stdin and stdout on /dev/null (so `$(daemon ...)` in a
/// script returns); stderr, where the daemons say what they do, stays where
/// the caller pointed it (BusyBox would send it to syslog). When fork fails
/// the process simply stays in the foreground. Call it while single-threaded.
///
/// With `pidfile`, the parent writes the child's pid there before it exits:
/// whoever waits for the command to return finds the file already written
/// (a child writing it itself raced a script that reads it at once).
pub fn background(pidfile: Option<&std::path::Path>) {
    // SAFETY: fork(2) copies only the calling thread; the caller is
    // single-threaded (the documented precondition), so no lock (the
    // allocator's, stdio's) can be held by a thread that does not exist in
    // the child, and the child may go on as a normal process. The parent
    // only writes a file and exits. rustix has no fork.
    let pid = unsafe { libc::fork() };
    match pid {
        0 => {
            let _ = rustix::process::setsid();
            if let Ok(null) = rustix::fs::open(
                c"/dev/null",
                // not close-on-exec: when 0 or 1 was closed, this is it
                rustix::fs::OFlags::RDWR,
                rustix::fs::Mode::empty(),
            ) {
                // dup2 clears close-on-exec on the copies; `null` itself
                // is closed when it goes out of scope (unless it is 0 or 1,
                // which open only returns when they were closed).
                let _ = rustix::stdio::dup2_stdin(&null);
                let _ = rustix::stdio::dup2_stdout(&null);
                if std::os::fd::AsRawFd::as_raw_fd(&null) <= 1 {
                    std::mem::forget(null);
                }
            }
        }
        pid if pid > 0 => {
            if let Some(p) = pidfile {
                let _ = crate::fsutil::atomic_write(p, format!("{pid}\n").as_bytes(), 0o644, false);
            }
            // nothing is buffered (every message goes out with write(2)),
            // so exiting through std flushes nothing twice
            std::process::exit(0)
        }
        _ => {}
    }
}
