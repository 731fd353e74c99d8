//! runsvdir's bookkeeping, pure: which service directories are known (by
//! device and inode, so a renamed directory keeps its runsv), which runsv
//! belongs to which, and when a dead runsv may be started again.

use std::ffi::OsString;
use std::time::Duration;

/// runit supervises at most this many service directories.
pub const MAX_SERVICES: usize = 1000;

/// A dead runsv is restarted at once, but not sooner than this after its start.
pub const RESTART_DELAY: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub dev: u64,
    pub ino: u64,
}

/// A subdirectory seen by a scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub key: Key,
    pub name: OsString,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirAction {
    /// Start `runsv NAME`, then report `started` or `start_failed`.
    Start(Key, OsString),
    /// Send TERM to this runsv: its directory is gone.
    Term(u32),
}

#[derive(Debug)]
struct Entry {
    key: Key,
    name: OsString,
    pid: u32,
    started: Duration,
    restart_at: Option<Duration>,
    /// runsv starts in a row that failed for lack of resources
    start_failures: u32,
}

#[derive(Debug, Default)]
pub struct Table {
    entries: Vec<Entry>,
}

/// Whether a directory entry names a service (dot-directories do not).
/// Console logins (`getty_*`) start first at boot: runsvdir's first scan
/// starts only them (those not marked `down` and whose `/dev/TTY` is
/// there), and the other services once each of them is up
/// (running, and ready when it uses notification), or `HOLD_MAX` passed.
/// Under emulation every program's first run is slow, and the prompt then
/// does not wait for a dozen other starts.
pub const HOLD_MAX: Duration = Duration::from_secs(2);

pub fn is_first(name: &[u8]) -> bool {
    name.starts_with(b"getty_")
}

/// Whether a `supervise/status` record (with ferrite's extension) says
/// its service is far enough to let the others start: running, and not
/// still starting (readiness flag at byte 44: 1 means not ready yet).
pub fn lets_others_start(status: &[u8]) -> bool {
    status.get(19) == Some(&1) && status.get(44) != Some(&1)
}

pub fn is_service_name(name: &[u8]) -> bool {
    !name.is_empty() && name[0] != b'.'
}

impl Table {
    pub fn new() -> Table {
        Table::default()
    }

    /// A fresh scan result: start runsv for new directories, TERM those whose
    /// directory vanished. Directories beyond `MAX_SERVICES` are left out;
    /// the return's second value says how many.
    pub fn rescan(&mut self, now: Duration, found: &[Found]) -> (Vec<DirAction>, usize) {
        let mut actions = Vec::new();
        self.entries.retain(|e| {
            let keep = found.iter().any(|f| f.key == e.key);
            if !keep && e.pid != 0 {
                actions.push(DirAction::Term(e.pid));
            }
            keep
        });
        let mut skipped = 0;
        for f in found {
            if self.entries.iter().any(|e| e.key == f.key) {
                continue;
            }
            if self.entries.len() >= MAX_SERVICES {
                skipped += 1;
                continue;
            }
            self.entries.push(Entry {
                key: f.key,
                name: f.name.clone(),
                pid: 0,
                started: now,
                restart_at: None,
                start_failures: 0,
            });
            actions.push(DirAction::Start(f.key, f.name.clone()));
        }
        (actions, skipped)
    }

    pub fn started(&mut self, key: Key, pid: u32, now: Duration) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.key == key) {
            e.pid = pid;
            e.started = now;
            e.restart_at = None;
            e.start_failures = 0;
        }
    }

    /// `runsv NAME` could not be started; for lack of resources (fork
    /// failed) the retries back off as runsv's own do (1, 2, 4, 8 s).
    pub fn start_failed(&mut self, key: Key, now: Duration, lack_of_resources: bool) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.key == key) {
            e.pid = 0;
            e.start_failures = if lack_of_resources {
                e.start_failures.saturating_add(1)
            } else {
                0
            };
            let wait = crate::runsv::core::service::backoff(e.start_failures).max(RESTART_DELAY);
            e.restart_at = Some(now.saturating_add(wait));
        }
    }

    /// A child exited; true when it was one of our runsv.
    pub fn exited(&mut self, pid: u32, now: Duration) -> bool {
        match self.entries.iter_mut().find(|e| e.pid == pid && pid != 0) {
            Some(e) => {
                e.pid = 0;
                e.restart_at = Some((e.started + RESTART_DELAY).max(now));
                true
            }
            None => false,
        }
    }

    pub fn deadline(&self) -> Option<Duration> {
        self.entries.iter().filter_map(|e| e.restart_at).min()
    }

    /// Restarts that are due.
    pub fn tick(&mut self, now: Duration) -> Vec<DirAction> {
        let mut actions = Vec::new();
        for e in &mut self.entries {
            if e.restart_at.is_some_and(|t| t <= now) {
                e.restart_at = None;
                actions.push(DirAction::Start(e.key, e.name.clone()));
            }
        }
        actions
    }

    pub fn pids(&self) -> Vec<u32> {
        self.entries
            .iter()
            .filter(|e| e.pid != 0)
            .map(|e| e.pid)
            .collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_logins_first_until_up() {
        assert!(is_first(b"getty_ttyS0"));
        assert!(!is_first(b"dhcp_eth0"));
        let mut st = vec![0u8; 68];
        assert!(!lets_others_start(&st), "down");
        st[19] = 1;
        st[44] = 1;
        assert!(!lets_others_start(&st), "starting");
        st[44] = 2;
        assert!(lets_others_start(&st), "ready");
        st[44] = 0;
        assert!(lets_others_start(&st), "no readiness");
        assert!(lets_others_start(&st[..20]), "runit's record");
        assert!(!lets_others_start(&[]));
    }

    fn f(ino: u64, name: &str) -> Found {
        Found {
            key: Key { dev: 1, ino },
            name: name.into(),
        }
    }
    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn new_dirs_start_and_vanished_dirs_get_term() {
        let mut t = Table::new();
        let (a, _) = t.rescan(ms(0), &[f(1, "a"), f(2, "b")]);
        assert_eq!(a.len(), 2);
        t.started(Key { dev: 1, ino: 1 }, 100, ms(0));
        t.started(Key { dev: 1, ino: 2 }, 101, ms(0));
        // b renamed to c: same inode, nothing happens
        let (a, _) = t.rescan(ms(10), &[f(1, "a"), f(2, "c")]);
        assert!(a.is_empty());
        let (a, _) = t.rescan(ms(20), &[f(2, "c"), f(3, "d")]);
        assert_eq!(
            a,
            vec![
                DirAction::Term(100),
                DirAction::Start(Key { dev: 1, ino: 3 }, "d".into())
            ]
        );
        // the TERMed runsv is no longer ours
        assert!(!t.exited(100, ms(30)));
    }

    #[test]
    fn dead_runsv_restarts_at_most_once_per_second() {
        let mut t = Table::new();
        t.rescan(ms(0), &[f(1, "a")]);
        let k = Key { dev: 1, ino: 1 };
        t.started(k, 100, ms(0));
        assert!(t.exited(100, ms(300)));
        assert_eq!(t.deadline(), Some(ms(1000)));
        assert!(t.tick(ms(999)).is_empty());
        assert_eq!(t.tick(ms(1000)), vec![DirAction::Start(k, "a".into())]);
        t.started(k, 101, ms(1000));
        assert!(t.exited(101, ms(9000)));
        assert_eq!(t.deadline(), Some(ms(9000)));
    }

    #[test]
    fn runsv_that_cannot_be_forked_backs_off() {
        let mut t = Table::new();
        t.rescan(ms(0), &[f(1, "a")]);
        let k = Key { dev: 1, ino: 1 };
        let mut now = ms(0);
        let mut waits = Vec::new();
        for _ in 0..5 {
            t.start_failed(k, now, true);
            let due = t.deadline().unwrap();
            waits.push((due - now).as_secs());
            now = due;
            assert_eq!(t.tick(now), vec![DirAction::Start(k, "a".into())]);
        }
        assert_eq!(waits, [1, 2, 4, 8, 8]);
        // another kind of failure, or a start, and it is 1 s again
        t.start_failed(k, now, false);
        assert_eq!(t.deadline(), Some(now + ms(1000)));
    }

    #[test]
    fn limit_and_dot_dirs() {
        let mut t = Table::new();
        let many: Vec<Found> = (0..1005).map(|i| f(i, "s")).collect();
        let (a, skipped) = t.rescan(ms(0), &many);
        assert_eq!(a.len(), MAX_SERVICES);
        assert_eq!(skipped, 5);
        assert!(!is_service_name(b".hidden"));
        assert!(is_service_name(b"getty_ttyS0"));
    }
}
