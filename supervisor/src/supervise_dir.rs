//! The `supervise/` directory runsv maintains for one service (runit layout):
//! `lock` held exclusively, `control` and `ok` FIFOs (0600), and the
//! `status`/`stat`/`pid` files, each replaced atomically when it changes.

use crate::service::Service;
use common::errtext::describe;
use common::fsutil::atomic_write;
use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub struct SuperviseDir {
    dir: PathBuf,
    _lock: File,
    control: File,
    /// Our own writer keeps `control` from reporting end-of-file when a client closes it.
    _control_keepalive: File,
    /// Held open for reading so that `sv`/`svok` can open `ok` for writing.
    _ok: File,
    written: Option<([u8; 20], String, String)>,
}

fn mkfifo(path: &Path) -> io::Result<()> {
    let c = CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| io::ErrorKind::InvalidInput)?;
    // SAFETY: valid C string.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EEXIST) {
            return Err(e);
        }
    }
    Ok(())
}

fn open_nonblock_read(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
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
        // SAFETY: valid descriptor.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let e = io::Error::last_os_error();
            let e = if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                io::Error::from_raw_os_error(libc::EAGAIN)
            } else {
                e
            };
            return Err(format!("unable to lock {shown}/lock: {}", describe(&e)));
        }
        let fifo = |name: &str| -> Result<File, String> {
            let p = dir.join(name);
            mkfifo(&p).map_err(|e| format!("unable to mkfifo {shown}/{name}: {}", describe(&e)))?;
            open_nonblock_read(&p)
                .map_err(|e| format!("unable to open {shown}/{name}: {}", describe(&e)))
        };
        let control = fifo("control")?;
        let ok = fifo("ok")?;
        let keepalive = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(dir.join("control"))
            .map_err(|e| format!("unable to open {shown}/control: {}", describe(&e)))?;
        Ok(SuperviseDir {
            dir,
            _lock: lock,
            control,
            _control_keepalive: keepalive,
            _ok: ok,
            written: None,
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

    /// Write `status`, `stat` and `pid` for `svc` if any of them changed.
    pub fn publish(&mut self, svc: &Service) -> io::Result<()> {
        let now = (svc.status().encode(), svc.stat_text(), svc.pid_text());
        if self.written.as_ref() == Some(&now) {
            return Ok(());
        }
        // `status` last: whoever sees the new state there finds `stat` and
        // `pid` already saying the same.
        atomic_write(&self.dir.join("stat"), now.1.as_bytes(), 0o644, false)?;
        atomic_write(&self.dir.join("pid"), now.2.as_bytes(), 0o644, false)?;
        atomic_write(&self.dir.join("status"), &now.0, 0o644, false)?;
        self.written = Some(now);
        Ok(())
    }
}
