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
    // SAFETY: single-threaded caller; the parent leaves with _exit, the
    // child only makes plain system calls.
    unsafe {
        match libc::fork() {
            0 => {
                libc::setsid();
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                if null >= 0 {
                    libc::dup2(null, 0);
                    libc::dup2(null, 1);
                    if null > 1 {
                        libc::close(null);
                    }
                }
            }
            pid if pid > 0 => {
                if let Some(p) = pidfile {
                    let _ =
                        crate::fsutil::atomic_write(p, format!("{pid}\n").as_bytes(), 0o644, false);
                }
                libc::_exit(0)
            }
            _ => {}
        }
    }
}
