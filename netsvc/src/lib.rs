//! Network services: DHCPv4 client, zeroconf, link watcher, pinger, fw,
//! netlink helpers and ipconf files. They cooperate through the supervision
//! tree: each pokes its siblings' control FIFOs.

pub mod arp;
pub mod dhcp;
pub mod dhcp6;
pub mod fw;
pub mod ifplugd;
pub mod netlink;
pub mod packet;
pub mod pinger;
pub mod ra;
pub mod random;
pub mod zcip;

use std::sync::atomic::{AtomicBool, Ordering};

/// How long a poke waits for a sibling's runsv that is still starting (boot).
pub const POKE_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Datagrams a daemon reads from one socket per poll round at most (packet,
/// ARP, netlink): a host flooding it cannot starve signals and timers.
pub const MAX_READS_PER_ROUND: usize = 64;

static STOPPING: AtomicBool = AtomicBool::new(false);

/// This process was told to stop. Its last pokes then do not wait: the
/// tree may be shutting down, and a sibling's runsv that is gone stays gone.
pub fn stopping() {
    STOPPING.store(true, Ordering::Relaxed);
}

/// How often a poke that found its sibling's runsv still starting is tried again.
pub const POKE_RETRY: std::time::Duration = std::time::Duration::from_millis(20);

/// Pokes waiting for a sibling's runsv that is still starting: (service
/// directory, letters, give up at). Each daemon is one thread with one poll
/// loop, which asks `pokes_deadline` for its timeout and calls
/// `retry_pokes` every round: a poke never blocks the loop.
static PENDING: std::sync::Mutex<Vec<(std::path::PathBuf, String, std::time::Instant)>> =
    std::sync::Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<(std::path::PathBuf, String, std::time::Instant)>>
{
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// The sibling's runsv is not there yet (no `control`, or no reader on it).
fn not_ready(e: &std::io::Error, dir: &std::path::Path) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENXIO)) && dir.is_dir()
}

/// Send control letters to a sibling service. At boot a sibling's runsv may
/// still be starting: then the letters are kept and sent from the poll loop
/// (`retry_pokes`) for up to `POKE_WAIT`, after any earlier ones for that
/// directory, and this returns Ok. Once this process is stopping, a poke is
/// sent once or not at all.
pub fn poke(dir: &std::path::Path, letters: &str) -> std::io::Result<()> {
    let mut q = pending();
    if let Some(p) = q.iter_mut().find(|p| p.0 == dir) {
        p.1.push_str(letters);
        return Ok(());
    }
    match supervisor::sv::send(dir, letters) {
        Err(e) if not_ready(&e, dir) && !STOPPING.load(Ordering::Relaxed) => {
            q.push((
                dir.to_path_buf(),
                letters.to_string(),
                std::time::Instant::now() + POKE_WAIT,
            ));
            Ok(())
        }
        r => r,
    }
}

/// How long the poll loop may sleep before pokes must be tried again.
pub fn pokes_deadline() -> Option<std::time::Duration> {
    (!pending().is_empty()).then_some(POKE_RETRY)
}

/// Try the waiting pokes again; returns the ones given up on, with why.
pub fn retry_pokes() -> Vec<(std::path::PathBuf, std::io::Error)> {
    let mut failed = Vec::new();
    let now = std::time::Instant::now();
    pending().retain(
        |(dir, letters, give_up)| match supervisor::sv::send(dir, letters) {
            Ok(()) => false,
            Err(e) if not_ready(&e, dir) && now < *give_up => true,
            Err(e) => {
                failed.push((dir.clone(), e));
                false
            }
        },
    );
    failed
}

/// At exit, outside any loop: send what is still waiting, for at most
/// `POKE_WAIT` (the last lease or its loss must still reach fw).
pub fn flush_pokes() {
    let end = std::time::Instant::now() + POKE_WAIT;
    while pokes_deadline().is_some() && std::time::Instant::now() < end {
        std::thread::sleep(POKE_RETRY);
        let _ = retry_pokes();
    }
}

/// The earlier of a loop's own timeout and the pokes' retry.
pub fn with_pokes(timeout: Option<std::time::Duration>) -> Option<std::time::Duration> {
    earliest(timeout, pokes_deadline())
}

/// The sooner of two poll timeouts, `None` meaning "no timeout".
pub fn earliest(
    a: Option<std::time::Duration>,
    b: Option<std::time::Duration>,
) -> Option<std::time::Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Each loop's round: retry the pokes and say which were given up on.
pub fn retry_pokes_and_say(prog: &str) {
    for (dir, e) in retry_pokes() {
        common::out::err(&format!(
            "{prog}: cannot poke {}: {}\n",
            dir.display(),
            common::errtext::describe(&e)
        ));
    }
}

/// What one round of a daemon's loop over a signalfd and one other
/// descriptor found.
pub struct Round {
    /// a stop signal came (TERM, INT, ...: whatever the signalfd holds)
    pub stop: bool,
    /// the other descriptor is readable
    pub readable: bool,
}

/// One round of zcip's and ifplugd's loop: wait for a signal, `fd`, the
/// loop's own `timeout` or the pokes' retry, then retry the pokes.
pub fn wait_round(
    poll: &mut common::poll::PollSet,
    sigfd: &common::sig::SignalFd,
    fd: std::os::fd::RawFd,
    timeout: Option<std::time::Duration>,
    prog: &str,
) -> Round {
    use std::os::fd::AsRawFd;
    poll.clear();
    let si = poll.add(sigfd.as_raw_fd());
    let fi = poll.add(fd);
    let _ = poll.wait(with_pokes(timeout));
    retry_pokes_and_say(prog);
    Round {
        stop: poll.readable(si) && !sigfd.read_all().is_empty(),
        readable: poll.readable(fi),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poke_to_a_runsv_still_starting_waits_in_the_queue_not_in_a_sleep() {
        let dir = common::fsutil::scratch_dir("poke").unwrap();
        std::fs::create_dir_all(dir.join("supervise")).unwrap();
        let t0 = std::time::Instant::now();
        poke(&dir, "u").unwrap();
        poke(&dir, "d").unwrap();
        assert!(
            t0.elapsed() < std::time::Duration::from_millis(100),
            "the poke blocked"
        );
        assert_eq!(pokes_deadline(), Some(POKE_RETRY));
        assert!(retry_pokes().is_empty(), "still waiting, not failed");
        // the runsv comes: a FIFO with a reader
        let fifo = dir.join("supervise/control");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let mut reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap();
        assert!(retry_pokes().is_empty());
        assert_eq!(pokes_deadline(), None);
        let mut got = String::new();
        use std::io::Read;
        let _ = reader.read_to_string(&mut got);
        assert_eq!(got, "ud", "both letters, in order");
        // a directory that is not there fails at once
        assert!(poke(&dir.join("nothing"), "u").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
    use std::os::unix::fs::OpenOptionsExt;
}
