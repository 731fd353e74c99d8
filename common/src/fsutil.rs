//! Files that other programs read are replaced atomically: write `NAME.new`,
//! optionally fsync it, rename over `NAME`. A reader sees the old or the new
//! content, never a mix.

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// `path` with `.new` appended to its file name.
pub fn new_path(path: &Path) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(".new");
    PathBuf::from(s)
}

/// Replace `path` with `data` atomically, creating it with `mode`.
/// `durable` adds an fsync of the file (and of its directory) so the
/// content survives a power cut, which status files do not need.
pub fn atomic_write(path: &Path, data: &[u8], mode: u32, durable: bool) -> io::Result<()> {
    let tmp = new_path(path);
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)?;
    f.write_all(data)?;
    if durable {
        f.sync_all()?;
    }
    drop(f);
    fs::rename(&tmp, path)?;
    if durable {
        if let Some(dir) = path.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("ferrite-fsutil-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("status");
        atomic_write(&p, b"one", 0o644, false).unwrap();
        atomic_write(&p, b"two", 0o644, true).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert!(!new_path(&p).exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
