//! sv's I/O: it reads `supervise/status`, probes `supervise/ok`, writes
//! `supervise/control`, and waits for a state with inotify on
//! `supervise/` (no fixed interval; `./check` scripts are asked again
//! every 20 ms while they fail).

use super::cli::{self, Options};
use super::core::timeline::{init_start, svg as render_svg, table, Row};
use super::core::{
    parse_command, reached, readiness_suffix, ready_age, service_path, status_line, wakes, Command,
    Plan, Seen, Wait, DEFAULT_SVDIR, SUPERVISE_EVENTS,
};
use crate::runsv::core::timeline::{parse, FILE_SIZE};
use crate::status::{Extension, Status};
use common::errtext::describe;
use common::out;
use common::tai::Tai64n;
use rustix::fs::inotify;
use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// How soon a waiting `sv` runs a failing `./check` again (runit: ~420 ms),
/// and looks again where no inotify watch could be set up.
const CHECK_STEP: Duration = Duration::from_millis(20);

/// What a look at a service directory found.
pub enum Probe {
    /// The directory cannot be entered.
    NoDir(io::Error),
    /// `supervise/ok` cannot be opened for another reason than "no reader".
    NoOk(io::Error),
    /// No runsv is reading `supervise/ok`.
    NotRunning,
    /// `supervise/status` missing or malformed.
    BadStatus(io::Error),
    /// The record and ferrite's extension (all zeros, readiness not
    /// used, when runit's runsv wrote it).
    Running(Status, Extension),
}

/// Open `DIR/supervise/NAME` for writing without blocking; ENXIO means no runsv.
pub fn open_fifo(dir: &Path, name: &str) -> io::Result<fs::File> {
    OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(dir.join("supervise").join(name))
}

pub fn probe(dir: &Path) -> Probe {
    match fs::metadata(dir) {
        Err(e) => return Probe::NoDir(e),
        Ok(m) if !m.is_dir() => return Probe::NoDir(io::Error::from_raw_os_error(libc::ENOTDIR)),
        Ok(_) => {}
    }
    match open_fifo(dir, "ok") {
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => return Probe::NotRunning,
        Err(e) => return Probe::NoOk(e),
        Ok(_) => {}
    }
    match fs::read(dir.join("supervise/status")) {
        Err(e) => Probe::BadStatus(e),
        Ok(b) => match Status::decode(&b) {
            Some(s) => Probe::Running(s, Extension::decode(&b).unwrap_or_default()),
            None => Probe::BadStatus(io::Error::new(io::ErrorKind::InvalidData, "bad format")),
        },
    }
}

/// Send control bytes to the runsv of `dir`.
pub fn send(dir: &Path, letters: &str) -> io::Result<()> {
    let mut f = open_fifo(dir, "control")?;
    f.write_all(letters.as_bytes())
}

fn now_unix() -> u64 {
    Tai64n::now().unix_secs()
}

fn normally_up(dir: &Path) -> bool {
    !dir.join("down").exists()
}

/// `./check` exits 0 (or does not exist).
fn check_passes(dir: &Path) -> bool {
    let check = dir.join("check");
    if !check.is_file() {
        return true;
    }
    std::process::Command::new("./check")
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// runit's part of the line for one service and ferrite's readiness words.
fn one_line(name: &str, (st, ext): &(Status, Extension), dir: &Path) -> String {
    let mut line = status_line(name, st, now_unix(), normally_up(dir));
    let age = ready_age(
        ext,
        common::procfs::boot_id(),
        crate::boottime(),
        Tai64n::now(),
    );
    line.push_str(&readiness_suffix(st, &ext.readiness, age));
    line
}

/// A status report, or the failure message to print instead.
fn report(name: &str, dir: &Path, with_log: bool) -> Result<String, String> {
    let rec = match probe(dir) {
        Probe::NoDir(e) => {
            return Err(format!(
                "fail: {name}: unable to change to service directory: {}",
                describe(&e)
            ))
        }
        Probe::NoOk(e) => {
            return Err(format!(
                "warning: {name}: unable to open supervise/ok: {}",
                describe(&e)
            ))
        }
        Probe::NotRunning => return Err(format!("fail: {name}: runsv not running")),
        Probe::BadStatus(e) => {
            return Err(format!(
                "warning: {name}: unable to read supervise/status: {}",
                describe(&e)
            ))
        }
        Probe::Running(st, ext) => (st, ext),
    };
    let mut line = one_line(name, &rec, dir);
    let log = dir.join("log");
    if with_log && log.is_dir() {
        match probe(&log) {
            Probe::Running(ls, lext) => {
                line.push_str("; ");
                line.push_str(&one_line("log", &(ls, lext), &log));
            }
            Probe::NotRunning => line.push_str("; fail: log: runsv not running"),
            Probe::NoOk(e) => line.push_str(&format!(
                "; warning: log: unable to open supervise/ok: {}",
                describe(&e)
            )),
            _ => {}
        }
    }
    Ok(line)
}

/// What `reached` sees of `dir` now.
fn look(dir: &Path) -> Seen {
    match probe(dir) {
        Probe::NotRunning => Seen::NotRunning,
        Probe::Running(st, ext) => Seen::Running(st, ext.readiness),
        _ => Seen::Unknown,
    }
}

fn svwait() -> Option<String> {
    std::env::var("SVWAIT").ok()
}

/// `sv` linked as an LSB init script (`/etc/init.d/NAME [-w SEC] COMMAND`):
/// the service is the link's base name, and the exit codes are LSB's
/// (status: 0 running, 3 down, 4 unknown; 1 trouble or timeout; 2 usage).
pub fn lsb_main(args: &[OsString]) -> i32 {
    let name = common::argv::prog_name(args);
    let words = common::argv::words(args);
    let mut opts = Options::new(true, svwait().as_deref());
    let usage = format!("usage: {name} [-w sec] command\n");
    let command = match cli::parse_options(&words, &mut opts) {
        Ok(None) => {
            return common::getopt::help(&format!("{usage}{}{}", cli::LSB_HELP, cli::COMMANDS));
        }
        Ok(Some(i)) => words.get(i).and_then(|w| parse_command(w, true)),
        Err(_) => None,
    };
    let Some(command) = command else {
        out::err(&usage);
        return 2;
    };
    let svdir = PathBuf::from(std::env::var("SVDIR").unwrap_or_else(|_| DEFAULT_SVDIR.to_string()));
    let services = vec![(name.clone(), service_path(&svdir, &name))];
    match command {
        Command::Status => {
            let code = match probe(&services[0].1) {
                Probe::Running(st, _) if st.pid != 0 => 0,
                Probe::Running(..) => 3,
                Probe::NoDir(_) => 151,
                _ => 4,
            };
            status_all(&services);
            code
        }
        Command::Control(plan) => {
            if control_all(&services, &plan, &opts) > 0 {
                1
            } else {
                0
            }
        }
    }
}

/// `sv ARGS`: the exit code.
pub fn run(args: &[OsString]) -> i32 {
    let args = common::argv::words(args);
    let mut opts = Options::new(false, svwait().as_deref());
    let usage = || {
        out::err(cli::USAGE);
        100
    };
    let i = match cli::parse_options(&args, &mut opts) {
        Ok(Some(i)) => i,
        Ok(None) => {
            return common::getopt::help(&format!(
                "{}\n{}{}",
                cli::USAGE.trim_end(),
                cli::HELP,
                cli::COMMANDS
            ))
        }
        Err(_) => return usage(),
    };
    if args.get(i).map(String::as_str) == Some("timeline") {
        return timeline(&args[i + 1..]);
    }
    if args.len() < i + 2 {
        return usage();
    }
    let Some(command) = parse_command(&args[i], opts.verbose) else {
        return usage();
    };
    let svdir = PathBuf::from(std::env::var("SVDIR").unwrap_or_else(|_| DEFAULT_SVDIR.to_string()));
    let services: Vec<(String, PathBuf)> = args[i + 1..]
        .iter()
        .map(|a| (a.clone(), service_path(&svdir, a)))
        .collect();
    let failures = match command {
        Command::Status => status_all(&services),
        Command::Control(plan) => control_all(&services, &plan, &opts),
    };
    failures.min(99) as i32
}

fn status_all(services: &[(String, PathBuf)]) -> usize {
    let mut failures = 0;
    // One write for the whole report: a status over hundreds of services
    // should not cost a system call per line.
    let mut text = String::new();
    for (name, dir) in services {
        let line = report(name, dir, true).unwrap_or_else(|msg| {
            failures += 1;
            msg
        });
        text.push_str(&line);
        text.push('\n');
    }
    out::out(&text);
    failures
}

fn control_all(services: &[(String, PathBuf)], plan: &Plan, opts: &Options) -> usize {
    let mut failures = 0;
    let sent = Tai64n::now();
    let mut waiting: Vec<&(String, PathBuf)> = Vec::new();
    for svc in services {
        let (name, dir) = svc;
        if let Probe::NoDir(e) = probe(dir) {
            out::out(&format!(
                "fail: {name}: unable to change to service directory: {}\n",
                describe(&e)
            ));
            failures += 1;
            continue;
        }
        if plan.only_if_running {
            match probe(dir) {
                Probe::Running(st, _) if st.pid != 0 => {}
                _ => {
                    waiting.push(svc);
                    continue;
                }
            }
        }
        if !plan.send.is_empty() {
            if let Err(e) = send(dir, plan.send) {
                let msg = if e.raw_os_error() == Some(libc::ENXIO) {
                    format!("fail: {name}: runsv not running\n")
                } else {
                    format!(
                        "fail: {name}: unable to open supervise/control: {}\n",
                        describe(&e)
                    )
                };
                out::out(&msg);
                failures += 1;
                continue;
            }
        }
        if plan.wait.is_some() {
            waiting.push(svc);
        }
    }
    let Some(wait) = plan.wait else {
        return failures;
    };
    let deadline = Instant::now() + opts.wait;
    let mut watch = Watcher::new();
    loop {
        // The watches first: a change after the look below still wakes us.
        let blind = !waiting.iter().all(|(_, dir)| watch.add(dir));
        let mut check_failed = false;
        waiting.retain(|(name, dir)| {
            let mut check = || {
                let ok = check_passes(dir);
                check_failed |= !ok;
                ok
            };
            if !reached(wait, &look(dir), sent, &mut check) {
                return true;
            }
            let line = match wait {
                Wait::Exit => format!("ok: {name}: runsv not running\n"),
                _ => match report(name, dir, false) {
                    Ok(l) => format!("ok: {l}\n"),
                    Err(m) => format!("{m}\n"),
                },
            };
            out::out(&line);
            false
        });
        let left = deadline.saturating_duration_since(Instant::now());
        if waiting.is_empty() || left.is_zero() {
            break;
        }
        // runsv's exit shows as its last close of `ok`, which the kernel
        // reports just before the FIFO loses its reader: look again soon.
        let step = check_failed || blind || wait == Wait::Exit;
        watch.wait(if step { left.min(CHECK_STEP) } else { left });
    }
    for (name, dir) in waiting {
        failures += 1;
        let line = report(name, dir, false).unwrap_or_else(|m| m);
        if plan.kill_on_timeout {
            let _ = send(dir, "k");
            out::out(&format!("kill: {line}\n"));
        } else {
            out::out(&format!("timeout: {line}\n"));
        }
    }
    drop(watch);
    failures
}

/// inotify on the `supervise/` directories of the services a `sv -w` waits
/// for (on the service directory itself until `supervise/` exists).
///
/// The last close of an inotify descriptor that had watches waits for an
/// SRCU grace period (`fsnotify_destroy_group`): 5 to 22 ms measured here,
/// longer than all the rest of a `sv -w` after the state was reached. So a
/// child made with the descriptor (`holder`) makes that last close: it puts
/// /dev/null on its stdin, stdout and stderr (nobody reading sv's output
/// waits for it) and exits once sv has closed its end of a pipe, which
/// `Drop` does after closing the descriptor, so sv's own close is never
/// the last and returns at once. The fork is made before the wait, not on
/// the way out after the state was reached.
struct Watcher {
    // Field order is drop order: the descriptor, then the holder's pipe.
    fd: Option<OwnedFd>,
    _holder: Option<OwnedFd>,
    /// Services whose `supervise/` is watched.
    watched: Vec<PathBuf>,
}

/// A child that holds `fd` until the write end returned is closed (see
/// `Watcher`); `None` when there is no pipe or no fork (then sv closes
/// the descriptor itself, only later).
fn holder(fd: &OwnedFd) -> Option<OwnedFd> {
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).ok()?;
    // SAFETY: fork(2) copies only the calling thread; sv has no other (it
    // starts only processes), so no lock (the allocator's, stdio's) can be
    // held by a thread missing in the child, which then makes only system
    // calls through rustix and `_exit`s. rustix has no fork.
    let pid = unsafe { libc::fork() };
    if pid != 0 {
        // the parent (or fork failed: no holder, `r` and `w` just close)
        return (pid > 0).then_some(w);
    }
    drop(w);
    if let Ok(null) = rustix::fs::open(
        c"/dev/null",
        rustix::fs::OFlags::RDWR | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    ) {
        let _ = rustix::stdio::dup2_stdin(&null);
        let _ = rustix::stdio::dup2_stdout(&null);
        let _ = rustix::stdio::dup2_stderr(&null);
    }
    let mut b = [0u8; 1];
    while rustix::io::read(&r, &mut b) == Err(rustix::io::Errno::INTR) {}
    let _ = fd;
    // SAFETY: ends the child at once, without the destructors and exit
    // handlers of the parent's image, which are not the child's to run;
    // the kernel closes its descriptors, the inotify one the last.
    unsafe { libc::_exit(0) }
}

impl Watcher {
    fn new() -> Watcher {
        let fd = inotify::init(inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC).ok();
        let holder = fd.as_ref().and_then(holder);
        Watcher {
            fd,
            _holder: holder,
            watched: Vec::new(),
        }
    }

    /// Watch `dir`'s `supervise/`; false when neither it nor `dir` could be.
    fn add(&mut self, dir: &Path) -> bool {
        let Some(fd) = &self.fd else { return false };
        if self.watched.iter().any(|w| w == dir) {
            return true;
        }
        let flags = inotify::WatchFlags::from_bits_retain(SUPERVISE_EVENTS);
        if inotify::add_watch(fd, dir.join("supervise"), flags).is_ok() {
            self.watched.push(dir.to_path_buf());
            return true;
        }
        let flags = inotify::WatchFlags::CREATE | inotify::WatchFlags::MOVED_TO;
        inotify::add_watch(fd, dir, flags).is_ok()
    }

    /// Sleep until an event that `wakes` says matters, or `timeout`.
    fn wait(&mut self, timeout: Duration) {
        let Some(fd) = &self.fd else {
            std::thread::sleep(timeout);
            return;
        };
        let end = Instant::now() + timeout;
        let mut poll = common::poll::PollSet::new();
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            poll.clear();
            let i = poll.add(fd.as_raw_fd());
            if poll.wait(Some(left)).is_err() {
                return;
            }
            if !poll.readable(i) {
                continue;
            }
            let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
            let mut reader = inotify::Reader::new(fd, &mut buf);
            let mut woken = false;
            while let Ok(ev) = reader.next() {
                let mask = ev.events().bits();
                if mask & libc::IN_IGNORED != 0 {
                    // a watched supervise/ went away: watch anew next round
                    self.watched.clear();
                }
                woken |= wakes(ev.file_name().map(|n| n.to_bytes()), mask);
            }
            if woken {
                return;
            }
        }
    }
}

/// `sv timeline [--svg] [SERVICE...]`: the services' `supervise/timeline`
/// (and their `log/`'s) as a table, or as an SVG picture; every service
/// under `$SVDIR` when none is named. Exit 0, or 100 on an unknown option.
fn timeline(args: &[String]) -> i32 {
    let (svg, names): (bool, &[String]) = match args.first().map(String::as_str) {
        Some("--svg") => (true, &args[1..]),
        Some(o) if o.starts_with('-') && o != "-" => {
            out::err("usage: sv timeline [--svg] [service ...]\n");
            return 100;
        }
        _ => (false, args),
    };
    let svdir = PathBuf::from(std::env::var("SVDIR").unwrap_or_else(|_| DEFAULT_SVDIR.to_string()));
    let services: Vec<(String, PathBuf)> = if names.is_empty() {
        let mut all: Vec<String> = fs::read_dir(&svdir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        all.sort();
        all.into_iter()
            .map(|n| {
                let dir = svdir.join(&n);
                (n, dir)
            })
            .filter(|(_, d)| d.is_dir())
            .collect()
    } else {
        names
            .iter()
            .map(|a| (a.clone(), service_path(&svdir, a)))
            .collect()
    };
    let mut rows = Vec::new();
    for (name, dir) in &services {
        for (shown, base) in [
            (name.clone(), dir.clone()),
            (format!("{name}/log"), dir.join("log")),
        ] {
            let file = base.join("supervise/timeline");
            // at most the ring's size: a bigger file is not runsv's
            let bytes = fs::File::open(&file).and_then(|f| {
                let mut b = Vec::new();
                io::Read::read_to_end(&mut io::Read::take(f, FILE_SIZE as u64), &mut b)?;
                Ok(b)
            });
            match bytes {
                Ok(b) => rows.push(Row {
                    name: shown,
                    events: parse(&b).into_iter().map(|(_, e)| e).collect(),
                }),
                Err(e) if base == *dir || base.is_dir() => {
                    out::warn(
                        "sv",
                        &format!(
                            "{shown}: unable to read {}: {}",
                            file.display(),
                            describe(&e)
                        ),
                    );
                }
                Err(_) => {}
            }
        }
    }
    let init = fs::read_to_string("/proc/1/stat")
        .ok()
        .and_then(|s| init_start(&s));
    let text = if svg {
        render_svg(&rows, init, crate::boottime())
    } else {
        table(&rows, init)
    };
    out::out(&text);
    0
}
