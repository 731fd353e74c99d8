//! fw's state file, `applied` (its text is `core::state::Applied`). It is
//! written before the kernel is changed (what fw had and what it is about
//! to add) and again after (what it has), and a full disk cannot stop the
//! writes: `applied.reserve`, made while there is room, is given up for
//! them.

use super::super::core::state::Applied;
use super::PROG;
use common::errtext::describe;
use common::fsutil::atomic_write;
use common::out;
use std::io;
use std::path::{Path, PathBuf};

/// Bytes set aside for the state file; its lines are ~25 bytes, so this
/// holds hundreds of addresses.
const RESERVE_BYTES: usize = 16 * 1024;

pub struct StateFile {
    path: PathBuf,
    reserve: PathBuf,
}

/// What a write did, for fw's log.
#[derive(Debug, PartialEq)]
pub enum Saved {
    Written,
    /// the disk was full; the reserve made room
    UsedReserve,
}

impl StateFile {
    pub fn in_dir(dir: &Path) -> StateFile {
        StateFile {
            path: dir.join("applied"),
            reserve: dir.join("applied.reserve"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn read(&self) -> Applied {
        Applied::parse(&std::fs::read_to_string(&self.path).unwrap_or_default())
    }

    /// Replace the file (atomically, durably); on a full disk give up the
    /// reserve and try once more.
    pub fn save(&self, s: &Applied) -> io::Result<Saved> {
        let text = s.render();
        match atomic_write(&self.path, text.as_bytes(), 0o644, true) {
            Ok(()) => Ok(Saved::Written),
            Err(e) if is_full(&e) && std::fs::remove_file(&self.reserve).is_ok() => {
                atomic_write(&self.path, text.as_bytes(), 0o644, true).map(|()| Saved::UsedReserve)
            }
            Err(e) => Err(e),
        }
    }

    /// Set the reserve aside again when it is missing and there is room.
    /// Its bytes do not compress (UBIFS and JFFS2 compress, and would keep
    /// zeros in almost no space).
    pub fn keep_reserve(&self) -> io::Result<()> {
        if self.reserve.exists() {
            return Ok(());
        }
        let mut x: u32 = 0x9e37_79b9;
        let bytes: Vec<u8> = (0..RESERVE_BYTES)
            .map(|_| {
                // xorshift32: any non-repeating bytes will do
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        atomic_write(&self.reserve, &bytes, 0o600, true)
    }
}

fn is_full(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT))
}

/// Write the state file; false (and a message) when it cannot be.
pub fn save(state: &StateFile, s: &Applied) -> bool {
    match state.save(s) {
        Ok(Saved::Written) => true,
        Ok(Saved::UsedReserve) => {
            out::err(&format!(
                "{PROG}: {}: disk full, written into the space set aside for it (free some space)\n",
                state.path().display()
            ));
            false
        }
        Err(e) => {
            out::err(&format!(
                "{PROG}: {}: {} (addresses added now may be left behind when their lease goes)\n",
                state.path().display(),
                describe(&e)
            ));
            false
        }
    }
}
