//! runsvdir's shell: the poll loop over a signalfd and an inotify watch
//! of the directory, the scans that feed the `Table`, and the runsv
//! processes it asks for. New and removed directories are seen through
//! inotify at once; a slow periodic rescan remains as a fallback for what
//! inotify cannot see (a symlinked service whose target appears later).
//! Idle, it sleeps in poll.

use super::cli::Options;
use super::core::{
    is_first, is_service_name, lets_others_start, DirAction, Found, Key, Table, HOLD_MAX,
};
use common::errtext::{describe, is_lack_of_resources};
use common::inotify::Watch;
use common::out;
use common::poll::PollSet;
use common::sig::{self, SignalFd};
use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const PROG: &str = "runsvdir";

/// The fallback rescan period (runit rescans every 5 s; inotify does the real work here).
pub const FALLBACK_SCAN: Duration = Duration::from_secs(60);
/// How soon a scan that failed is tried again.
pub const SCAN_RETRY: Duration = Duration::from_secs(1);

/// What the watch of the directory reports.
const WATCH_MASK: u32 = libc::IN_CREATE
    | libc::IN_DELETE
    | libc::IN_MOVED_FROM
    | libc::IN_MOVED_TO
    | libc::IN_ATTRIB
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF
    | libc::IN_ONLYDIR;

struct Runsvdir {
    dir: PathBuf,
    dir_key: Option<Key>,
    new_session: bool,
    runsv: PathBuf,
    /// The last scan could not read the directory (no descriptor left, say):
    /// look again in SCAN_RETRY, not at the next fallback scan.
    scan_failed: bool,
    table: Table,
    inotify: Option<Watch>,
    epoch: Instant,
    /// At boot: until when the console logins (`core::is_first`) start
    /// alone, and their names; `None` once the others may start.
    hold: Option<(Duration, Vec<std::ffi::OsString>)>,
}

/// How often a held start looks at the console logins' `status`.
const HOLD_LOOK: Duration = Duration::from_millis(20);

/// Supervise the service directories of `opts.dir` until a signal ends it.
pub fn run(opts: Options) -> i32 {
    match setup(opts) {
        Ok((mut r, sigfd)) => {
            r.watch();
            r.run(&sigfd)
        }
        Err(msg) => {
            out::fatal(PROG, &msg);
            111
        }
    }
}

fn setup(opts: Options) -> Result<(Runsvdir, SignalFd), String> {
    // Absolute, so that the fallback scan can tell a replaced directory
    // after we have changed into it.
    let dir = std::path::absolute(&opts.dir).unwrap_or_else(|_| PathBuf::from(&opts.dir));
    let sigfd = SignalFd::new(&[libc::SIGCHLD, libc::SIGTERM, libc::SIGHUP])
        .map_err(|e| format!("unable to create signalfd: {}", describe(&e)))?;
    std::env::set_current_dir(&dir).map_err(|e| {
        format!(
            "unable to change directory to {}: {}",
            dir.display(),
            describe(&e)
        )
    })?;
    // Our own binary as runsv (argv[0] "runsv"); runsv from PATH when it is gone.
    let runsv = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("runsv"));
    let r = Runsvdir {
        dir,
        dir_key: None,
        new_session: opts.new_session,
        runsv,
        scan_failed: false,
        table: Table::new(),
        inotify: None,
        epoch: Instant::now(),
        hold: Some((HOLD_MAX, Vec::new())),
    };
    Ok((r, sigfd))
}

/// Whether a console login is worth holding the others for: not marked
/// `down`, and its terminal (`getty_TTY` names `/dev/TTY`) is there. A
/// login that cannot come up would cost the whole `HOLD_MAX`.
fn may_come_up(name: &std::ffi::OsStr) -> bool {
    let dir = Path::new(name);
    let tty = name
        .as_encoded_bytes()
        .strip_prefix(b"getty_")
        .unwrap_or_default();
    !dir.join("down").exists()
        && !tty.is_empty()
        && Path::new("/dev")
            .join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(tty))
            .exists()
}

fn key_of(m: &fs::Metadata) -> Key {
    Key {
        dev: m.dev(),
        ino: m.ino(),
    }
}

impl Runsvdir {
    /// (Re)create the inotify watch on the current directory.
    fn watch(&mut self) {
        self.inotify = match Watch::new(Path::new("."), WATCH_MASK) {
            Ok(w) => Some(w),
            Err(e) => {
                out::warn(
                    PROG,
                    &format!(
                        "unable to watch {}, rescanning every {}s: {}",
                        self.dir.display(),
                        FALLBACK_SCAN.as_secs(),
                        describe(&e)
                    ),
                );
                None
            }
        };
        self.dir_key = fs::metadata(".").ok().map(|m| key_of(&m));
    }

    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    fn run(&mut self, sigfd: &SignalFd) -> i32 {
        let mut poll = PollSet::new();
        let mut next_scan = Duration::ZERO;
        loop {
            let now = self.now();
            if now >= next_scan {
                self.check_dir();
                self.scan();
                next_scan = self.now() + FALLBACK_SCAN;
            }
            if self.scan_failed {
                next_scan = next_scan.min(self.now() + SCAN_RETRY);
            }
            let now = self.now();
            if self.release_due(now) {
                self.hold = None;
                self.scan();
            }
            let mut deadline = self
                .table
                .deadline()
                .map_or(next_scan, |d| d.min(next_scan));
            if self.hold.is_some() {
                deadline = deadline.min(now + HOLD_LOOK);
            }
            poll.clear();
            let sig_i = poll.add(sigfd.as_raw_fd());
            let ino_i = self.inotify.as_ref().map(|fd| poll.add(fd.as_raw_fd()));
            if let Err(e) = poll.wait(Some(deadline.saturating_sub(now))) {
                out::warn(PROG, &format!("poll failed: {}", describe(&e)));
                std::thread::sleep(Duration::from_millis(100));
            }
            if poll.readable(sig_i) {
                for s in sigfd.read_all() {
                    match s {
                        libc::SIGTERM => return 0,
                        libc::SIGHUP => {
                            for pid in self.table.pids() {
                                sig::kill(pid as i32, libc::SIGTERM);
                            }
                            return 111;
                        }
                        _ => {
                            while let Some((pid, _)) = sig::reap_any() {
                                self.table.exited(pid as u32, self.now());
                            }
                        }
                    }
                }
            }
            if let Some(i) = ino_i {
                if poll.readable(i) {
                    if let Some(w) = &self.inotify {
                        w.drain();
                    }
                    self.check_dir();
                    self.scan();
                }
            }
            let actions = self.table.tick(self.now());
            self.execute(actions);
        }
    }

    /// The service directory itself replaced (e.g. a switched symlink): follow it.
    fn check_dir(&mut self) {
        let current = fs::metadata(&self.dir).ok().map(|m| key_of(&m));
        if current.is_some() && current != self.dir_key {
            if let Err(e) = std::env::set_current_dir(&self.dir) {
                out::warn(
                    PROG,
                    &format!(
                        "unable to change directory to {}: {}",
                        self.dir.display(),
                        describe(&e)
                    ),
                );
                return;
            }
            self.watch();
        }
    }

    fn scan(&mut self) {
        let rd = match fs::read_dir(".") {
            Ok(rd) => rd,
            Err(e) => {
                if !self.scan_failed {
                    out::warn(
                        PROG,
                        &format!(
                            "unable to read {}: {}; retrying",
                            self.dir.display(),
                            describe(&e)
                        ),
                    );
                }
                self.scan_failed = true;
                return;
            }
        };
        self.scan_failed = false;
        let mut found = Vec::new();
        for ent in rd.flatten() {
            let name = ent.file_name();
            if !is_service_name(name.as_bytes()) {
                continue;
            }
            // Follows symlinks: a link to a directory is a service too.
            match fs::metadata(ent.path()) {
                Ok(m) if m.is_dir() => found.push(Found {
                    key: key_of(&m),
                    name,
                }),
                _ => {}
            }
        }
        // Stable order: services start in name order.
        found.sort_by(|a, b| a.name.cmp(&b.name));
        if let Some((_, first)) = self.hold.as_mut() {
            let firsts: Vec<Found> = found
                .iter()
                .filter(|f| is_first(f.name.as_bytes()) && may_come_up(&f.name))
                .cloned()
                .collect();
            if firsts.is_empty() {
                self.hold = None;
            } else {
                *first = firsts.iter().map(|f| f.name.clone()).collect();
                found = firsts;
            }
        }
        let (actions, skipped) = self.table.rescan(self.now(), &found);
        if skipped > 0 {
            out::warn(
                PROG,
                &format!(
                    "{}: too many services, {skipped} not started",
                    self.dir.display()
                ),
            );
        }
        self.execute(actions);
    }

    /// Whether the held services may start now: every console login up
    /// (`lets_others_start`), or the hold's time is over.
    fn release_due(&self, now: Duration) -> bool {
        let Some((until, first)) = &self.hold else {
            return false;
        };
        now >= *until
            || first.iter().all(|n| {
                fs::read(Path::new(n).join("supervise/status"))
                    .is_ok_and(|st| lets_others_start(&st))
            })
    }

    fn execute(&mut self, actions: Vec<DirAction>) {
        for a in actions {
            match a {
                DirAction::Term(pid) => sig::kill(pid as i32, libc::SIGTERM),
                DirAction::Start(key, name) => {
                    let now = self.now();
                    match self.spawn(&name) {
                        Ok(pid) => self.table.started(key, pid, now),
                        Err(e) => {
                            out::warn(
                                PROG,
                                &format!(
                                    "unable to start runsv {}: {}",
                                    name.to_string_lossy(),
                                    describe(&e)
                                ),
                            );
                            self.table.start_failed(key, now, is_lack_of_resources(&e));
                        }
                    }
                }
            }
        }
    }

    fn spawn(&self, name: &std::ffi::OsStr) -> std::io::Result<u32> {
        let exe = if self.runsv.is_absolute() && self.runsv.exists() {
            self.runsv.as_path()
        } else {
            Path::new("runsv")
        };
        let mut cmd = Command::new(exe);
        cmd.arg0("runsv").arg(name);
        cmd.env(crate::runsv::WAIT_LOCK_ENV, "1");
        sig::clean_child(&mut cmd);
        if self.new_session {
            // SAFETY: the closure runs in the child between fork and exec,
            // where only async-signal-safe calls are allowed; it makes one,
            // setsid(2), and allocates nothing.
            unsafe {
                cmd.pre_exec(|| {
                    let _ = rustix::process::setsid();
                    Ok(())
                });
            }
        }
        cmd.spawn().map(|c| c.id())
    }
}
