//! `svlogd [-tttv] [-r c] [-R abc] [-l len] [-b buflen] DIR...`: reads lines
//! on stdin and appends them to `DIR/current`, rotating by size and age,
//! with runit's `config` directives. It never drops a line it has read: on
//! a write error (full disk, unwritable directory) it stops reading, says so
//! once, retries every second and resumes by itself. Everything read is
//! written before it waits for more input.
//!
//! As `log/run` linked to ferrite (`svlogd --service`), it is the standard
//! per-service logger: `/var/log/service/NAME` for the service `NAME/log`.

pub mod config;
pub mod lines;
pub mod pattern;
pub mod rotate;
pub mod stamp;

use common::errtext::describe;
use common::getopt::Opt;
use common::out;
use common::poll::PollSet;
use common::sig::{self, SignalFd};
use common::tai::Tai64n;
use config::Config;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::net::UdpSocket;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const PROG: &str = "svlogd";
const RETRY: Duration = Duration::from_secs(1);
/// Bytes gathered for one directory before a write.
const WRITE_CHUNK: usize = 64 * 1024;

#[derive(Clone, Debug)]
pub struct Options {
    pub stamp: u8,
    pub verbose: bool,
    pub replace: Option<u8>,
    pub replace_set: Vec<u8>,
    pub len: usize,
    pub buflen: usize,
    pub dirs: Vec<PathBuf>,
    /// The standard logger still runs as root (no user `logger`): a config's
    /// `!processor` is not run, since it would run as root on files that
    /// whoever writes the log directory controls.
    pub refuse_processor: bool,
}

pub fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        stamp: 0,
        verbose: false,
        replace: None,
        replace_set: Vec::new(),
        len: 1000,
        buflen: 64 * 1024,
        dirs: Vec::new(),
        refuse_processor: false,
    };
    let (opts, i) = common::getopt::parse(args, "rRlb")?;
    for opt in opts {
        match opt {
            Opt::Flag('t') => o.stamp = (o.stamp + 1).min(3),
            Opt::Flag('v') => o.verbose = true,
            Opt::Value('r', v) => {
                if v.len() != 1 {
                    return Err("-r takes one character".into());
                }
                o.replace = Some(v.as_bytes()[0]);
            }
            Opt::Value('R', v) => o.replace_set = v.into_bytes(),
            // ranged: `o.len + 1` must not overflow, and -b is an allocation
            Opt::Value('l', v) => o.len = common::num::ranged("-l", &v, 1, 1 << 20)? as usize,
            Opt::Value(_, v) => o.buflen = common::num::ranged("-b", &v, 1, 16 << 20)? as usize,
            Opt::Flag(c) => return Err(format!("unknown option -{c}")),
            _ => return Err("unknown option".into()),
        }
    }
    o.dirs = args[i..].iter().map(PathBuf::from).collect();
    if o.dirs.is_empty() {
        return Err("no log directory".into());
    }
    o.buflen = o.buflen.max(o.len + 1).max(256);
    Ok(o)
}

/// Replace unprintable characters (and those of `-R`) with `-r`'s character.
pub fn scrub(line: &mut [u8], replace: Option<u8>, set: &[u8]) {
    let Some(r) = replace else { return };
    for b in line.iter_mut() {
        if !(0x20..0x7f).contains(b) || set.contains(b) {
            *b = r;
        }
    }
}

/// One open log directory.
struct LogDir {
    path: PathBuf,
    cfg: Config,
    _lock: File,
    current: File,
    size: u64,
    started: Instant,
    pending: Vec<u8>,
    udp: Option<UdpSocket>,
    processor: Option<(Child, String)>,
    /// The config's processor was refused (root without a `logger` user):
    /// rotated files are left unprocessed, `.u`.
    processor_refused: bool,
    /// The error reported for the current write failure, so it is said once.
    failing: Option<String>,
}

/// A directory to log into, open or waiting to be opened again.
enum Slot {
    Open(Box<LogDir>),
    Closed {
        path: PathBuf,
        error: String,
        retry: Instant,
    },
}

fn open_dir(path: &Path, refuse_processor: bool) -> Result<LogDir, String> {
    let shown = path.display();
    fs::create_dir_all(path)
        .map_err(|e| format!("unable to create directory {shown}: {}", describe(&e)))?;
    let lock = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path.join("lock"))
        .map_err(|e| format!("unable to open {shown}/lock: {}", describe(&e)))?;
    // SAFETY: valid descriptor.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let e = io::Error::from_raw_os_error(libc::EAGAIN);
        return Err(format!(
            "unable to lock directory {shown}: {}",
            describe(&e)
        ));
    }
    let (mut cfg, warnings) = match fs::read_to_string(path.join("config")) {
        Ok(t) => config::parse(&t),
        Err(_) => (Config::default(), Vec::new()),
    };
    for w in warnings {
        out::warn(PROG, &format!("{shown}/{w}"));
    }
    let processor_refused = refuse_processor && cfg.processor.take().is_some();
    if processor_refused {
        out::warn(
            PROG,
            &format!("{shown}/config: not running the processor as root (there is no user logger): rotated files stay .u"),
        );
    }
    let current = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .open(path.join("current"))
        .map_err(|e| format!("unable to open {shown}/current: {}", describe(&e)))?;
    let meta = current.metadata().map_err(|e| e.to_string())?;
    let age = meta
        .modified()
        .ok()
        .and_then(|m| m.elapsed().ok())
        .unwrap_or_default();
    let udp = match cfg.udp {
        Some((addr, _)) => {
            let bind = if addr.is_ipv4() {
                "0.0.0.0:0"
            } else {
                "[::]:0"
            };
            match UdpSocket::bind(bind) {
                Ok(s) => Some(s),
                Err(e) => {
                    out::warn(PROG, &format!("{shown}: no UDP socket: {}", describe(&e)));
                    None
                }
            }
        }
        None => None,
    };
    Ok(LogDir {
        path: path.to_path_buf(),
        cfg,
        _lock: lock,
        size: meta.len(),
        started: Instant::now().checked_sub(age).unwrap_or_else(Instant::now),
        current,
        pending: Vec::new(),
        udp,
        processor: None,
        processor_refused,
        failing: None,
    })
}

impl LogDir {
    /// Write everything pending; false (with the data kept) when it cannot.
    fn flush(&mut self) -> bool {
        while !self.pending.is_empty() {
            match self.current.write(&self.pending) {
                Ok(0) => return self.failed(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.pending.drain(..n);
                    self.size += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.failed(e),
            }
        }
        if let Some(msg) = self.failing.take() {
            out::warn(
                PROG,
                &format!(
                    "{}/current: writing again after: {msg}",
                    self.path.display()
                ),
            );
        }
        true
    }

    fn failed(&mut self, e: io::Error) -> bool {
        let msg = describe(&e);
        if self.failing.as_deref() != Some(msg.as_str()) {
            out::warn(
                PROG,
                &format!(
                    "{}/current: {msg}; pausing, lines are kept and retried",
                    self.path.display()
                ),
            );
            self.failing = Some(msg);
        }
        // A full disk with `N` set: make room by deleting the oldest files beyond the minimum.
        if e.raw_os_error() == Some(libc::ENOSPC) {
            if let Some(min) = self.cfg.min {
                for name in rotate::excess(self.old_logs(), min.max(1))
                    .into_iter()
                    .take(1)
                {
                    let _ = fs::remove_file(self.path.join(&name));
                }
            }
        }
        false
    }

    fn old_logs(&self) -> Vec<String> {
        fs::read_dir(&self.path)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| rotate::is_old_log(n))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Rotate `current` (after writing what is pending): fsync, mark it
    /// complete, rename it to `@TAI64N.s` (or `.u` for a processor), start a
    /// new one. Returns false when it could not (it is retried later).
    fn rotate(&mut self) -> bool {
        if !self.flush() {
            return false;
        }
        if self.size == 0 {
            return true;
        }
        self.wait_processor();
        let _ = self.current.sync_all();
        let _ = self
            .current
            .set_permissions(fs::Permissions::from_mode(0o744));
        let processed = self.cfg.processor.is_none() && !self.processor_refused;
        let mut t = Tai64n::now();
        let mut name = rotate::rotated_name(t, processed);
        while self.path.join(&name).exists() {
            t.nanos = t.nanos.wrapping_add(1);
            name = rotate::rotated_name(t, processed);
        }
        if let Err(e) = fs::rename(self.path.join("current"), self.path.join(&name)) {
            let _ = self
                .current
                .set_permissions(fs::Permissions::from_mode(0o644));
            return self.failed(e);
        }
        match OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o644)
            .open(self.path.join("current"))
        {
            Ok(f) => self.current = f,
            Err(e) => {
                // No new `current` (no descriptor left, say): the old one
                // takes its name back, so lines keep going to `current`
                // and the rotation is tried again later.
                let _ = fs::rename(self.path.join(&name), self.path.join("current"));
                let _ = self
                    .current
                    .set_permissions(fs::Permissions::from_mode(0o644));
                return self.failed(e);
            }
        }
        if let Ok(d) = File::open(&self.path) {
            let _ = d.sync_all();
        }
        self.size = 0;
        self.started = Instant::now();
        if let Some(p) = self.cfg.processor.clone() {
            self.start_processor(&p, &name);
        }
        for old in rotate::excess(self.old_logs(), self.cfg.num) {
            let _ = fs::remove_file(self.path.join(old));
        }
        true
    }

    /// `sh -c PROCESSOR` < @x.u > @x.t, with `state` on fd 4 and `newstate` on fd 5.
    fn start_processor(&mut self, processor: &str, unprocessed: &str) {
        let base = unprocessed.trim_end_matches(".u").to_string();
        let dir = &self.path;
        let input = File::open(dir.join(unprocessed));
        let output = File::create(dir.join(format!("{base}.t")));
        let state = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("state"));
        let newstate = File::create(dir.join("newstate"));
        let (Ok(input), Ok(output), Ok(state), Ok(newstate)) = (input, output, state, newstate)
        else {
            out::warn(
                PROG,
                &format!(
                    "{}: cannot set up the processor for {unprocessed}",
                    dir.display()
                ),
            );
            return;
        };
        let (fd4, fd5) = (state.as_raw_fd(), newstate.as_raw_fd());
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(processor)
            .current_dir(dir)
            .stdin(input)
            .stdout(output);
        sig::clean_child(&mut cmd);
        use std::os::unix::process::CommandExt;
        // SAFETY: only dup2 between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(fd4, 4) < 0 || libc::dup2(fd5, 5) < 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        match cmd.spawn() {
            Ok(child) => self.processor = Some((child, base)),
            Err(e) => {
                out::warn(
                    PROG,
                    &format!("{}: cannot run processor: {}", dir.display(), describe(&e)),
                );
                let _ = fs::remove_file(dir.join(format!("{base}.t")));
            }
        }
    }

    /// Finish a processor that has exited (`block`: wait for it).
    fn reap_processor(&mut self, block: bool) {
        let Some((child, base)) = self.processor.as_mut() else {
            return;
        };
        let status = if block {
            child.wait().ok()
        } else {
            child.try_wait().ok().flatten()
        };
        let Some(status) = status else { return };
        let base = base.clone();
        self.processor = None;
        let p = |ext: &str| self.path.join(format!("{base}.{ext}"));
        if status.success() {
            let _ = fs::set_permissions(p("t"), fs::Permissions::from_mode(0o744));
            if fs::rename(p("t"), p("s")).is_ok() {
                let _ = fs::remove_file(p("u"));
            }
            let _ = fs::rename(self.path.join("newstate"), self.path.join("state"));
        } else {
            // The unprocessed file stays as `.u`: nothing is lost.
            let _ = fs::remove_file(p("t"));
            out::warn(
                PROG,
                &format!(
                    "{}: processor failed ({status}); {base}.u kept",
                    self.path.display()
                ),
            );
        }
    }

    fn wait_processor(&mut self) {
        self.reap_processor(true);
    }
}

struct Logger {
    opts: Options,
    slots: Vec<Slot>,
    /// Bytes read but not yet split into lines.
    input: Vec<u8>,
    errbuf: Vec<u8>,
}

impl Logger {
    fn open_all(&mut self) {
        for slot in &mut self.slots {
            if let Slot::Closed { path, error, retry } = slot {
                if Instant::now() < *retry {
                    continue;
                }
                match open_dir(path, self.opts.refuse_processor) {
                    Ok(d) => {
                        if !error.is_empty() {
                            out::warn(PROG, &format!("{}: opened", path.display()));
                        }
                        *slot = Slot::Open(Box::new(d));
                    }
                    Err(e) => {
                        if *error != e {
                            out::warn(PROG, &format!("{e}; retrying every second"));
                            *error = e;
                        }
                        *retry = Instant::now() + RETRY;
                    }
                }
            }
        }
    }

    fn dirs(&mut self) -> impl Iterator<Item = &mut LogDir> {
        self.slots.iter_mut().filter_map(|s| match s {
            Slot::Open(d) => Some(d.as_mut()),
            _ => None,
        })
    }

    /// Everything open and nothing waiting to be written: input may be read.
    fn ready(&self) -> bool {
        self.slots
            .iter()
            .all(|s| matches!(s, Slot::Open(d) if d.pending.is_empty()))
    }

    /// Route one line (without its newline) to every directory.
    fn line(&mut self, line: &mut [u8], stamp: &str) {
        scrub(line, self.opts.replace, &self.opts.replace_set);
        let len = self.opts.len;
        let errbuf = &mut self.errbuf;
        for d in self.slots.iter_mut().filter_map(|s| match s {
            Slot::Open(d) => Some(d.as_mut()),
            _ => None,
        }) {
            let (mut to_log, to_err) = config::route(&d.cfg.patterns, line, len);
            if to_err {
                errbuf.extend_from_slice(stamp.as_bytes());
                errbuf.extend_from_slice(&d.cfg.prefix);
                errbuf.extend_from_slice(line);
                errbuf.push(b'\n');
            }
            if let (Some(sock), Some((addr, keep))) = (&d.udp, d.cfg.udp) {
                if to_log {
                    let mut pkt = d.cfg.prefix.clone();
                    pkt.extend_from_slice(&line[..line.len().min(len)]);
                    pkt.push(b'\n');
                    let _ = sock.send_to(&pkt, addr);
                }
                to_log &= keep;
            }
            if !to_log {
                continue;
            }
            let add = (stamp.len() + d.cfg.prefix.len() + line.len() + 1) as u64;
            if rotate::by_size(&d.cfg, d.size + d.pending.len() as u64, add) {
                d.rotate();
            }
            d.pending.extend_from_slice(stamp.as_bytes());
            d.pending.extend_from_slice(&d.cfg.prefix);
            d.pending.extend_from_slice(line);
            d.pending.push(b'\n');
            if d.pending.len() >= WRITE_CHUNK {
                d.flush();
            }
        }
    }

    /// Split what was read into lines; a line longer than the buffer is cut.
    /// With `eof`, a last line without newline is taken too.
    fn process(&mut self, eof: bool) {
        let now = Tai64n::now();
        let stamp = stamp::format(self.opts.stamp, now.unix_secs(), now.nanos);
        let input = std::mem::take(&mut self.input);
        let start = lines::split(&input, self.opts.buflen, eof, |l| {
            self.line(&mut l.to_vec(), &stamp)
        });
        self.input = input[start..].to_vec();
        for d in self.dirs() {
            d.flush();
        }
        if !self.errbuf.is_empty() {
            let _ = out::write_all(2, &self.errbuf);
            self.errbuf.clear();
        }
    }

    fn deadline(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
        for s in &self.slots {
            match s {
                Slot::Closed { retry, .. } => consider(*retry),
                Slot::Open(d) => {
                    if d.failing.is_some() || !d.pending.is_empty() {
                        consider(Instant::now() + RETRY);
                    }
                    if d.cfg.timeout > 0 && d.size > 0 {
                        // A `t` too far away to be an Instant is "never".
                        if let Some(t) = d.started.checked_add(Duration::from_secs(d.cfg.timeout)) {
                            consider(t);
                        }
                    }
                }
            }
        }
        next
    }

    fn rotate_all(&mut self) {
        for d in self.dirs() {
            d.rotate();
        }
    }

    fn age_rotations(&mut self) {
        for d in self.dirs() {
            if rotate::by_age(
                &d.cfg,
                d.size + d.pending.len() as u64,
                d.started.elapsed().as_secs(),
            ) {
                d.rotate();
            }
        }
    }

    fn reload(&mut self) {
        for d in self.dirs() {
            d.flush();
            d.wait_processor();
        }
        let paths: Vec<PathBuf> = self
            .slots
            .iter()
            .map(|s| match s {
                Slot::Open(d) => d.path.clone(),
                Slot::Closed { path, .. } => path.clone(),
            })
            .collect();
        // Pending data (a directory that cannot be written) survives the reload.
        let mut carried: Vec<Vec<u8>> = Vec::new();
        for s in &mut self.slots {
            carried.push(match s {
                Slot::Open(d) => std::mem::take(&mut d.pending),
                _ => Vec::new(),
            });
        }
        self.slots = paths
            .into_iter()
            .map(|path| Slot::Closed {
                path,
                error: String::new(),
                retry: Instant::now(),
            })
            .collect();
        self.open_all();
        for (s, data) in self.slots.iter_mut().zip(carried) {
            if let Slot::Open(d) = s {
                d.pending = data;
            }
        }
    }
}

fn usage() -> i32 {
    out::err("usage: svlogd [-tttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...\n");
    111
}

pub fn main(args: &[OsString]) -> i32 {
    let mut words: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let service =
        words.first().is_some_and(|w| w == "--service") || common::service::is_run_link(args);
    if service {
        match service_setup(&words[words.len().min(1)..]) {
            Ok(w) => words = w,
            Err(e) => {
                out::fatal(PROG, &e);
                return 111;
            }
        }
    }
    let mut opts = match parse_args(&words) {
        Ok(o) => o,
        Err(e) => {
            out::err(&format!("{PROG}: {e}\n"));
            return usage();
        }
    };
    // SAFETY: geteuid(2) cannot fail.
    opts.refuse_processor = service && unsafe { libc::geteuid() } == 0;
    run(opts)
}

/// The words of `./args`. A file that cannot be a list of options and a
/// directory (too big, NUL bytes, not UTF-8, a word longer than a path) is
/// ignored with a warning: the defaults still log, where refusing would
/// leave the service blocked on a full pipe.
fn read_args_file() -> Vec<String> {
    const MAX_ARGS: u64 = 64 * 1024;
    let Ok(meta) = fs::metadata("args") else {
        return Vec::new();
    };
    if !meta.is_file() {
        out::warn(PROG, "./args is not a file: ignored");
        return Vec::new();
    }
    if meta.len() > MAX_ARGS {
        out::warn(
            PROG,
            &format!("./args is larger than {MAX_ARGS} bytes: ignored"),
        );
        return Vec::new();
    }
    let text = match fs::read("args").map(String::from_utf8) {
        Ok(Ok(t)) if !t.contains('\0') => t,
        Ok(_) => {
            out::warn(PROG, "./args holds NUL bytes or is not UTF-8: ignored");
            return Vec::new();
        }
        Err(e) => {
            out::warn(
                PROG,
                &format!("unable to read ./args: {}: ignored", describe(&e)),
            );
            return Vec::new();
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let words: Vec<String> = text.split_whitespace().map(String::from).collect();
    if words.iter().any(|w| w.len() > libc::PATH_MAX as usize) {
        out::warn(PROG, "./args has a word longer than a path: ignored");
        return Vec::new();
    }
    words
}

/// The standard per-service logger (`log/run` linked to ferrite): the log
/// directory is `/var/log/service/NAME` where `NAME/log` is our directory;
/// `./args` may give other options or another directory. Drops to the user
/// `logger` when it exists and limits its memory, as the usual script does.
fn service_setup(extra: &[String]) -> Result<Vec<String>, String> {
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let name = cwd
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or("cannot tell the service name from the current directory")?;
    let mut words: Vec<String> = extra.to_vec();
    words.extend(read_args_file());
    let has_dir = words.iter().any(|w| !w.starts_with('-'));
    if !words.iter().any(|w| w.starts_with("-t")) {
        words.insert(0, "-tt".into());
    }
    if !has_dir {
        words.push(format!("/var/log/service/{name}"));
    }
    let dir = PathBuf::from(words.last().cloned().unwrap_or_default());
    fs::create_dir_all(&dir)
        .map_err(|e| format!("unable to create {}: {}", dir.display(), describe(&e)))?;
    // Read the service's policy now (the service directory is root's), write
    // it only after dropping to `logger`: the log directory is the logger's,
    // and root must not write where another user can plant a symlink.
    let policy = fs::read("config").ok();
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    // SAFETY: plain syscalls.
    let root = unsafe { libc::geteuid() } == 0;
    if let (true, Some((uid, gid))) = (root, crate::chpst::passwd_lookup(&passwd, "logger")) {
        let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap_or_default();
        // SAFETY: valid C string and ids.
        unsafe {
            libc::chown(c.as_ptr(), uid, gid);
            let groups = [gid];
            if libc::setgroups(1, groups.as_ptr()) != 0
                || libc::setgid(gid) != 0
                || libc::setuid(uid) != 0
            {
                return Err(format!(
                    "unable to become logger: {}",
                    describe(&io::Error::last_os_error())
                ));
            }
        }
    }
    if let Some(text) = policy {
        install_config(&dir, &text);
    }
    // A logger needs little memory; a runaway one must not take the box down.
    let lim = libc::rlimit {
        rlim_cur: 32 << 20,
        rlim_max: 32 << 20,
    };
    // SAFETY: valid rlimit.
    unsafe { libc::setrlimit(libc::RLIMIT_DATA, &lim) };
    Ok(words)
}

/// A service ships its log policy as `log/config` (e.g. the pinger's short
/// log): it becomes the log directory's `config`, replaced atomically and
/// only when its text differs, so an edit in the service directory takes
/// effect at the logger's next start. Without `./config` the log
/// directory's own config, if any, is left alone.
fn install_config(dir: &Path, text: &[u8]) {
    let target = dir.join("config");
    if fs::read(&target).ok().as_deref() == Some(text) {
        return;
    }
    if let Err(e) = common::fsutil::atomic_write(&target, text, 0o644, true) {
        out::warn(
            PROG,
            &format!("unable to write {}: {}", target.display(), describe(&e)),
        );
    }
}

fn run(opts: Options) -> i32 {
    let sigfd = match SignalFd::new(&[libc::SIGHUP, libc::SIGALRM, libc::SIGTERM, libc::SIGCHLD]) {
        Ok(s) => s,
        Err(e) => {
            out::fatal(
                PROG,
                &format!("unable to create signalfd: {}", describe(&e)),
            );
            return 111;
        }
    };
    let mut lg = Logger {
        slots: opts
            .dirs
            .iter()
            .map(|p| Slot::Closed {
                path: p.clone(),
                error: String::new(),
                retry: Instant::now(),
            })
            .collect(),
        opts,
        input: Vec::new(),
        errbuf: Vec::new(),
    };
    lg.open_all();
    // SAFETY: stdin is ours to read; wrapping it does not close it early
    // because we forget the OwnedFd at the end.
    let stdin = unsafe { OwnedFd::from_raw_fd(0) };
    let mut buf = vec![0u8; lg.opts.buflen.max(64 * 1024)];
    let mut eof = false;
    let mut poll = PollSet::new();
    let code = loop {
        let can_read = !eof && lg.ready();
        let timeout = lg
            .deadline()
            .map(|t| t.saturating_duration_since(Instant::now()));
        poll.clear();
        let sig_i = poll.add(sigfd.as_raw_fd());
        let in_i = if can_read {
            Some(poll.add(stdin.as_raw_fd()))
        } else {
            None
        };
        if let Err(e) = poll.wait(timeout) {
            out::warn(PROG, &format!("poll: {}", describe(&e)));
            std::thread::sleep(Duration::from_millis(100));
        }
        if poll.readable(sig_i) {
            for s in sigfd.read_all() {
                match s {
                    libc::SIGTERM => eof = true,
                    libc::SIGALRM => lg.rotate_all(),
                    libc::SIGHUP => lg.reload(),
                    _ => {
                        for d in lg.dirs() {
                            d.reap_processor(false);
                        }
                    }
                }
            }
        }
        if in_i.is_some_and(|i| poll.readable(i)) {
            // SAFETY: buf is valid for its length.
            let n = unsafe { libc::read(stdin.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n > 0 {
                lg.input.extend_from_slice(&buf[..n as usize]);
                lg.process(false);
            } else if n == 0 {
                eof = true;
            } else {
                let e = io::Error::last_os_error();
                if !matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
                ) {
                    out::warn(PROG, &format!("reading stdin: {}", describe(&e)));
                    eof = true;
                }
            }
        }
        lg.open_all();
        for d in lg.dirs() {
            if !d.pending.is_empty() {
                d.flush();
            }
        }
        lg.age_rotations();
        if eof && lg.ready() {
            lg.process(true);
            if lg.ready() {
                for d in lg.dirs() {
                    d.wait_processor();
                }
                break 0;
            }
        }
    };
    std::mem::forget(stdin);
    code
}
