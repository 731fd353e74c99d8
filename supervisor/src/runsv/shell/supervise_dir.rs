//! The `supervise/` directory runsv maintains for one service (runit layout):
//! `lock` held exclusively, `control` and `ok` FIFOs (0600), and the
//! `status`/`stat`/`pid` files, each replaced atomically when it changes,
//! and ferrite's `timeline` ring, one `pwrite` per event (see
//! `core::timeline` for why in place is safe there).

use crate::runsv::core::readiness::Readiness;
use crate::runsv::core::service::Service;
use crate::runsv::core::status::Extension;
use crate::runsv::core::timeline::{self, Event};
use common::errtext::describe;
use common::fsutil::atomic_write;
use rustix::fs::{flock, FlockOperation, Mode};
use rustix::io::Errno;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub struct SuperviseDir {
    dir: PathBuf,
    _lock: File,
    control: File,
    /// Our own writer keeps `control` from reporting end-of-file when a client closes it.
    _control_keepalive: File,
    /// Held open for reading so that `sv`/`svok` can open `ok` for writing.
    _ok: File,
    written: Option<([u8; 20], String, String, Readiness)>,
    /// The pid whose start time the extension holds, and that time.
    start_time: (u32, u64),
    /// This boot's id, for the extension (read once).
    boot_id: [u8; 16],
    /// `timeline` and the sequence number of its next record; `None`
    /// when it could not be opened (the service runs without it).
    timeline: Option<(File, u32)>,
}

/// Open `supervise/timeline` for writing in place: a file of another boot
/// (or none, or a damaged header) starts over with this boot's header.
fn open_timeline(dir: &Path, boot_id: &[u8; 16]) -> io::Result<(File, u32)> {
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(dir.join("timeline"))?;
    let mut old = Vec::new();
    (&mut f)
        .take(timeline::FILE_SIZE as u64)
        .read_to_end(&mut old)?;
    if timeline::header_boot_id(&old).as_ref() != Some(boot_id) {
        f.set_len(0)?;
        f.write_all_at(&timeline::header(boot_id), 0)?;
    }
    let next = timeline::next_seq(&old, boot_id);
    Ok((f, next))
}

/// `control` or `ok` is there but is not a FIFO (a regular file, a symlink,
/// a directory...): poll would call it readable forever and runsv would
/// spin. Remove it so that a FIFO can take its place; a non-empty directory
/// is refused with a clear message.
fn replace_non_fifo(path: &Path, shown: &str, name: &str) -> Result<(), String> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = fs::symlink_metadata(path) else {
        return Ok(());
    };
    if meta.file_type().is_fifo() {
        return Ok(());
    }
    let removed = if meta.is_dir() {
        fs::remove_dir(path)
    } else {
        fs::remove_file(path)
    };
    removed.map_err(|e| {
        format!(
            "{shown}/{name} is not a FIFO and cannot be removed: {}",
            describe(&e)
        )
    })?;
    common::out::err(&format!("runsv: {shown}/{name} was not a FIFO: replaced\n"));
    Ok(())
}

fn mkfifo(path: &Path) -> io::Result<()> {
    match rustix::fs::mkfifoat(rustix::fs::CWD, path, Mode::from_raw_mode(0o600)) {
        Ok(()) | Err(Errno::EXIST) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn open_nonblock_read(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)
}

/// True when `f` is a FIFO (checked on the open file, so a swap between the
/// check and the open cannot fool it).
fn is_fifo(f: &File) -> bool {
    use std::os::unix::fs::FileTypeExt;
    f.metadata().is_ok_and(|m| m.file_type().is_fifo())
}

/// Another supervisor holds `BASE/supervise/lock`: wait for it to go, with
/// no wake-ups (a blocking flock), saying so once. runsvdir asks for this
/// (a runsvdir started again after its predecessor was killed finds the old
/// runsv processes still supervising), so its runsv neither fails nor is
/// restarted once a second while the old one lives. Run by hand, runsv
/// refuses a locked directory at once, as runit's does.
pub fn wait_for_lock(base: &Path, prog: &str) {
    let path = base.join("supervise/lock");
    let Ok(lock) = OpenOptions::new()
        .append(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
    else {
        return;
    };
    if flock(&lock, FlockOperation::NonBlockingLockExclusive).is_ok() {
        return;
    }
    common::out::err(&format!(
        "{prog}: {} is held by another runsv: waiting for it to go\n",
        path.display()
    ));
    // Blocks until the holder goes; a signal interrupts it, and it blocks again.
    while flock(&lock, FlockOperation::LockExclusive) == Err(Errno::INTR) {}
    // Dropping `lock` releases it; SuperviseDir::open takes it for real.
}

impl SuperviseDir {
    /// Create (if needed) and take over `BASE/supervise`. Fails, with a
    /// message in runit's words, when another runsv holds the lock.
    pub fn open(base: &Path) -> Result<SuperviseDir, String> {
        let dir = base.join("supervise");
        let shown = dir.display().to_string();
        let shown = shown.trim_start_matches("./");
        if let Err(e) = fs::DirBuilder::new().mode(0o700).create(&dir) {
            if e.kind() != io::ErrorKind::AlreadyExists {
                return Err(format!("unable to mkdir {shown}: {}", describe(&e)));
            }
        }
        let lock = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NONBLOCK)
            .open(dir.join("lock"))
            .map_err(|e| format!("unable to open {shown}/lock: {}", describe(&e)))?;
        if let Err(e) = flock(&lock, FlockOperation::NonBlockingLockExclusive) {
            // runit says EAGAIN's words; EWOULDBLOCK is the same number on Linux.
            let e = io::Error::from(e);
            return Err(format!("unable to lock {shown}/lock: {}", describe(&e)));
        }
        let fifo = |name: &str| -> Result<File, String> {
            let p = dir.join(name);
            replace_non_fifo(&p, shown, name)?;
            mkfifo(&p).map_err(|e| format!("unable to mkfifo {shown}/{name}: {}", describe(&e)))?;
            let f = open_nonblock_read(&p)
                .map_err(|e| format!("unable to open {shown}/{name}: {}", describe(&e)))?;
            if !is_fifo(&f) {
                return Err(format!("{shown}/{name} is not a FIFO"));
            }
            Ok(f)
        };
        // `status`, `stat` and `pid` are replaced by rename, which cannot
        // replace a directory: one planted there would leave them stale forever.
        for name in ["status", "stat", "pid"] {
            let p = dir.join(name);
            if fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
                fs::remove_dir_all(&p).map_err(|e| {
                    format!(
                        "{shown}/{name} is a directory and cannot be removed: {}",
                        describe(&e)
                    )
                })?;
                common::out::err(&format!("runsv: {shown}/{name} was a directory: removed\n"));
            }
        }
        let control = fifo("control")?;
        let ok = fifo("ok")?;
        let keepalive = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
            .open(dir.join("control"))
            .map_err(|e| format!("unable to open {shown}/control: {}", describe(&e)))?;
        let boot_id = common::procfs::boot_id().unwrap_or_default();
        let timeline = match open_timeline(&dir, &boot_id) {
            Ok(t) => Some(t),
            Err(e) => {
                common::out::err(&format!(
                    "runsv: unable to open {shown}/timeline: {}\n",
                    describe(&e)
                ));
                None
            }
        };
        Ok(SuperviseDir {
            dir,
            _lock: lock,
            control,
            _control_keepalive: keepalive,
            _ok: ok,
            written: None,
            start_time: (0, 0),
            boot_id,
            timeline,
        })
    }

    pub fn control_fd(&self) -> RawFd {
        self.control.as_raw_fd()
    }

    /// All control bytes waiting in the FIFO (never blocks).
    pub fn read_control(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            match self.control.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        out
    }

    /// The `status` record the previous runsv of this directory left (read
    /// before ours replaces it).
    pub fn previous_status(base: &Path) -> Option<Vec<u8>> {
        fs::read(base.join("supervise/status")).ok()
    }

    /// Write each event into its slot of `timeline`, one `pwrite` each.
    pub fn record(&mut self, events: &[Event]) -> io::Result<()> {
        let Some((f, next)) = self.timeline.as_mut() else {
            return Ok(());
        };
        for e in events {
            let seq = *next;
            *next = next.checked_add(1).unwrap_or(1);
            f.write_all_at(&timeline::encode(seq, e), timeline::offset(seq))?;
        }
        Ok(())
    }

    /// Write `status`, `stat` and `pid` for `svc`, each only when it
    /// changed (readiness changes `status` alone).
    pub fn publish(&mut self, svc: &Service) -> io::Result<()> {
        let now = (
            svc.status().encode(),
            svc.stat_text(),
            svc.pid_text(),
            svc.readiness(),
        );
        if self.written.as_ref() == Some(&now) {
            return Ok(());
        }
        let before = self.written.as_ref();
        // `status` last: whoever sees the new state there finds `stat` and
        // `pid` already saying the same.
        if before.is_none_or(|b| b.1 != now.1) {
            atomic_write(&self.dir.join("stat"), now.1.as_bytes(), 0o644, false)?;
        }
        if before.is_none_or(|b| b.2 != now.2) {
            atomic_write(&self.dir.join("pid"), now.2.as_bytes(), 0o644, false)?;
        }
        let pid = svc.status().pid;
        if self.start_time.0 != pid {
            self.start_time = (pid, common::procfs::start_time(pid).unwrap_or(0));
        }
        let full = Extension {
            start_time: self.start_time.1,
            boot_id: self.boot_id,
            readiness: now.3,
        }
        .encode(&now.0);
        atomic_write(&self.dir.join("status"), &full, 0o644, false)?;
        self.written = Some(now);
        Ok(())
    }
}
