//! One log directory on disk: its lock, `current`, the rotation renames and
//! fsyncs, the removal of old files, the processor runs and the UDP socket.
//! What to write and when to rotate is the router's; this only performs it.

use super::PROG;
use crate::svlogd::core::config::{self, Config};
use crate::svlogd::core::{rotate, Now};
use common::errtext::describe;
use common::out;
use common::sig;
use common::tai::Tai64n;
use rustix::fs::FlockOperation;
use rustix::io::Errno;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, UNIX_EPOCH};

/// What a rotation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// `current` is a rotated file now, and a new `current` is open.
    Done,
    /// `current` was empty: nothing to rotate.
    Empty,
    /// It could not (said once); `current` is still the file lines go to.
    Failed,
}

/// One open log directory.
pub struct LogDir {
    pub path: PathBuf,
    pub cfg: Config,
    _lock: File,
    current: File,
    /// Bytes written to `current`.
    size: u64,
    /// Bytes for `current` not written yet.
    pub pending: Vec<u8>,
    pub udp: Option<UdpSocket>,
    processor: Option<(Child, String)>,
    /// The config's processor was refused (root without a `logger` user):
    /// rotated files are left unprocessed, `.u`.
    processor_refused: bool,
    /// The error reported for the current write failure, so it is said once.
    pub failing: Option<String>,
    /// The time in the name of the last file rotated here.
    last_rotated: Option<Tai64n>,
}

fn open_append(path: &Path, mode: u32) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(mode)
        .open(path)
}

/// svlogd ends every line it writes, a last partial one too, so a
/// `current` that does not end with a newline was cut while it was
/// written: a crash, or a power cut that kept only part of what was not
/// yet on disk. The bytes after its last complete line are not a line:
/// they go (with one warning), so that no torn line stays in the log and
/// the next lines do not glue onto it.
fn drop_torn_tail(dir: &Path, current: &File) {
    use std::os::unix::fs::FileExt;
    let Ok(reader) = File::open(dir.join("current")) else {
        return;
    };
    let len = reader.metadata().map(|m| m.len()).unwrap_or(0);
    let mut byte = [0u8; 1];
    if len == 0 || reader.read_at(&mut byte, len - 1).is_err() || byte[0] == b'\n' {
        return;
    }
    // the last newline, looking back a block at a time
    let mut end = len;
    let mut keep = 0;
    let mut block = vec![0u8; 4096];
    while end > 0 {
        let start = end.saturating_sub(block.len() as u64);
        let chunk = &mut block[..(end - start) as usize];
        if reader.read_exact_at(chunk, start).is_err() {
            return;
        }
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            keep = start + i as u64 + 1;
            break;
        }
        end = start;
    }
    match current.set_len(keep) {
        Ok(()) => out::warn(
            PROG,
            &format!(
                "{}/current ended inside a line (cut while written: a crash or a power cut): its last {} bytes dropped",
                dir.display(),
                len - keep
            ),
        ),
        Err(e) => out::warn(
            PROG,
            &format!("{}/current ends inside a line: {}", dir.display(), describe(&e)),
        ),
    }
}

impl LogDir {
    /// Create, lock and open `path` at `now`; returns it with the time its
    /// `current` was started (monotonic, from its modification time).
    pub fn open(
        path: &Path,
        refuse_processor: bool,
        now: Now,
    ) -> Result<(LogDir, Duration), String> {
        let shown = path.display();
        fs::create_dir_all(path)
            .map_err(|e| format!("unable to create directory {shown}: {}", describe(&e)))?;
        let lock = open_append(&path.join("lock"), 0o600)
            .map_err(|e| format!("unable to open {shown}/lock: {}", describe(&e)))?;
        if rustix::fs::flock(&lock, FlockOperation::NonBlockingLockExclusive).is_err() {
            let e = io::Error::from(Errno::AGAIN);
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
        let current = open_append(&path.join("current"), 0o644)
            .map_err(|e| format!("unable to open {shown}/current: {}", describe(&e)))?;
        drop_torn_tail(path, &current);
        let meta = current.metadata().map_err(|e| e.to_string())?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|m| m.duration_since(UNIX_EPOCH).ok());
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
        let dir = LogDir {
            path: path.to_path_buf(),
            cfg,
            _lock: lock,
            size: meta.len(),
            current,
            pending: Vec::new(),
            udp,
            processor: None,
            processor_refused,
            failing: None,
            last_rotated: None,
        };
        Ok((dir, rotate::started(now, mtime)))
    }

    /// Bytes in `current`, with those not written yet.
    pub fn current_len(&self) -> u64 {
        self.size + self.pending.len() as u64
    }

    /// Send a datagram to the config's `u`/`U` address (lost if it is not
    /// there: the config says whether the line is kept locally too).
    pub fn send(&self, packet: &[u8]) {
        if let (Some(sock), Some((addr, _))) = (&self.udp, self.cfg.udp) {
            let _ = sock.send_to(packet, addr);
        }
    }

    /// Write everything pending; false (with the data kept) when it cannot.
    pub fn flush(&mut self) -> bool {
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
        if e.raw_os_error() == Some(Errno::NOSPC.raw_os_error()) {
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

    fn set_mode(&self, mode: u32) {
        let _ = self
            .current
            .set_permissions(fs::Permissions::from_mode(mode));
    }

    /// Rotate `current` at `now` (after writing what is pending): fsync,
    /// mark it complete, rename it to `@TAI64N.s` (or `.u` for a
    /// processor), start a new one, fsync the directory, start the
    /// processor and remove the old files beyond `n`.
    pub fn rotate(&mut self, now: Now) -> Rotation {
        if !self.flush() {
            return Rotation::Failed;
        }
        if self.size == 0 {
            return Rotation::Empty;
        }
        self.wait_processor();
        let _ = self.current.sync_all();
        self.set_mode(0o744);
        let processed = self.cfg.processor.is_none() && !self.processor_refused;
        let mut t = rotate::name_time(now, self.last_rotated);
        let mut name = rotate::rotated_name(t, processed);
        while self.path.join(&name).exists() {
            t = rotate::name_time(now, Some(t));
            name = rotate::rotated_name(t, processed);
        }
        if let Err(e) = fs::rename(self.path.join("current"), self.path.join(&name)) {
            self.set_mode(0o644);
            self.failed(e);
            return Rotation::Failed;
        }
        match open_append(&self.path.join("current"), 0o644) {
            Ok(f) => self.current = f,
            Err(e) => {
                // No new `current` (no descriptor left, say): the old one
                // takes its name back, so lines keep going to `current`
                // and the rotation is tried again later.
                let _ = fs::rename(self.path.join(&name), self.path.join("current"));
                self.set_mode(0o644);
                self.failed(e);
                return Rotation::Failed;
            }
        }
        if let Ok(d) = File::open(&self.path) {
            let _ = d.sync_all();
        }
        self.size = 0;
        self.last_rotated = Some(t);
        if let Some(p) = self.cfg.processor.clone() {
            self.start_processor(&p, &name);
        }
        for old in rotate::excess(self.old_logs(), self.cfg.num) {
            let _ = fs::remove_file(self.path.join(old));
        }
        Rotation::Done
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
        // SAFETY: the hook runs in the forked child before exec and only
        // calls dup2(2), which is async-signal-safe and allocates nothing;
        // fd4 and fd5 are open in the child (`state` and `newstate` live
        // until after spawn). std has no safe way to give a child
        // descriptors other than 0-2.
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
    pub fn reap_processor(&mut self, block: bool) {
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

    pub fn wait_processor(&mut self) {
        self.reap_processor(true);
    }
}
