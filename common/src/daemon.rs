//! Going to the background the way BusyBox's daemons do when they are run
//! from a shell without `-f`/`-n`: the caller gets its prompt back, the
//! daemon keeps running. Under a supervisor they stay in the foreground.

/// Fork once: the parent exits 0 at once, the child goes on in a session of
/// its own with stdin and stdout on /dev/null (so `$(daemon ...)` in a
/// script returns); stderr, where the daemons say what they do, stays where
/// the caller pointed it (BusyBox would send it to syslog). When fork fails
/// the process simply stays in the foreground. Call it while single-threaded.
pub fn background() {
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
            pid if pid > 0 => libc::_exit(0),
            _ => {}
        }
    }
}
