//! The lease state file (`STATE_DIR/IF.lease`): the lease remembered for
//! INIT-REBOOT after a restart. Its text is `core::lease`'s; here it is
//! read (at most 4 KiB, every reason it cannot be used named) and written.

use super::Shell;
use crate::dhcp::core::lease::{self, Lease};
use common::errtext::describe;
use common::fsutil::atomic_write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

impl Shell {
    pub(super) fn lease_file(&self) -> PathBuf {
        self.o.state_dir.join(format!("{}.lease", self.o.interface))
    }

    /// A remembered lease and how much of it is left (wall clock). A state
    /// file that is there but cannot be used (too big, empty, not UTF-8, a
    /// directory, a symlink loop, malformed) is named with the reason, and
    /// the client starts afresh (DISCOVER); an expired lease is no fault.
    pub(super) fn remembered(&self) -> Option<(Lease, Duration)> {
        let path = self.lease_file();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
        let bad = |why: &str| {
            self.log(&format!(
                "{}: {why}: ignored, asking for a new lease",
                path.display()
            ))
        };
        let text = match read_state_file(&path) {
            Ok(Some(t)) => t,
            Ok(None) => return None,
            Err(why) => {
                bad(&why);
                return None;
            }
        };
        // one reader of the state file, with checked arithmetic (fuzzed)
        let l = lease::from_state(&text, self.mac, now);
        match &l {
            // said always: a box that boots with its old address should say why
            Some((lease, left)) => self.log(&format!(
                "lease of {} remembered ({} s left): asking to keep it (INIT-REBOOT)",
                lease.ip,
                left.as_secs()
            )),
            None if !lease::expired_state(&text, now) => {
                bad("not a lease state (IP SERVER SECS WRITTEN_AT)")
            }
            None => {}
        }
        l
    }

    pub(super) fn remember(&self, l: &Lease) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let text = lease::state_text(l, now);
        let _ = std::fs::create_dir_all(&self.o.state_dir);
        if let Err(e) = atomic_write(&self.lease_file(), text.as_bytes(), 0o600, true) {
            // a directory or a read-only file system there: the lease still
            // holds, but a restart will ask for a new one, so it is said always
            self.log(&format!(
                "cannot remember the lease in {}: {}",
                self.lease_file().display(),
                describe(&e)
            ));
        }
    }
}

/// The lease state file's text: `None` when there is none; the reason when
/// it cannot be one (a line of about 60 bytes: 4 KiB at most is read).
pub(super) fn read_state_file(path: &Path) -> Result<Option<String>, String> {
    use std::io::Read;
    const MAX_STATE: u64 = 4096;
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(describe(&e)),
    };
    match f.metadata() {
        Ok(m) if m.is_dir() => return Err("is a directory".into()),
        Ok(m) if !m.is_file() => return Err("not a regular file".into()),
        _ => {}
    }
    let mut bytes = Vec::new();
    f.take(MAX_STATE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| describe(&e))?;
    if bytes.len() as u64 > MAX_STATE {
        return Err(format!("larger than {MAX_STATE} bytes"));
    }
    if bytes.is_empty() {
        return Err("empty".into());
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| "not UTF-8".into())
}
