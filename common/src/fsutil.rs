//! Files that other programs read are replaced atomically: a new file with a
//! unique name in the same directory, created with `O_EXCL|O_NOFOLLOW`
//! through the directory's descriptor, written, optionally fsynced, renamed
//! over the old one. A reader sees the old or the new content, never a mix;
//! a symlink planted where the temporary file goes is never followed; the
//! new file's owner is the writer and its mode exactly `mode`.

use rustix::fs::{AtFlags, Mode, OFlags, CWD};
use std::ffi::{CString, OsString};
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// `path` with `.new` appended to its file name (for callers that stage a
/// directory, such as runsv's `supervise/`; files use [`atomic_write`]).
pub fn new_path(path: &Path) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(".new");
    PathBuf::from(s)
}

/// A path for rustix as one C string, made once (rustix's conversion of
/// other string types is generic code at every call).
fn cstr(b: &[u8]) -> io::Result<CString> {
    CString::new(b).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a file name"))
}

/// A temporary name no other writer uses: `.NAME.PID.N.NANOS`.
fn temp_name(name: &[u8], attempt: u32) -> Vec<u8> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut t = Vec::with_capacity(name.len() + 40);
    t.push(b'.');
    t.extend_from_slice(name);
    t.extend_from_slice(format!(".{}.{n}.{nanos:x}{attempt}", std::process::id()).as_bytes());
    t
}

/// Replace `path` with `data` atomically, creating it with exactly `mode`.
/// `durable` adds an fsync of the file and of its directory so the content
/// survives a power cut, which status files do not need. On any failure the
/// temporary file is removed and `path` is untouched.
pub fn atomic_write(path: &Path, data: &[u8], mode: u32, durable: bool) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir_fd = rustix::fs::openat(
        CWD,
        cstr(dir.as_os_str().as_bytes())?.as_c_str(),
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mode = mode & 0o7777 & !(libc::S_ISUID | libc::S_ISGID);

    let mut attempt = 0;
    let (tmp, file) = loop {
        let tmp = cstr(&temp_name(name.as_bytes(), attempt))?;
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match rustix::fs::openat(&dir_fd, tmp.as_c_str(), flags, Mode::from_raw_mode(mode)) {
            Ok(fd) => break (tmp, File::from(fd)),
            Err(rustix::io::Errno::EXIST) if attempt < 16 => attempt += 1,
            Err(e) => return Err(e.into()),
        }
    };
    let tmp = tmp.as_c_str();
    let name = cstr(name.as_bytes())?;
    let result = (|| -> io::Result<()> {
        // The umask must not weaken what the caller asked for.
        rustix::fs::fchmod(&file, Mode::from_raw_mode(mode))?;
        (&file).write_all(data)?;
        if durable {
            file.sync_all()?;
        }
        rustix::fs::renameat(&dir_fd, tmp, &dir_fd, name.as_c_str())?;
        Ok(())
    })();
    drop(file);
    if let Err(e) = result {
        let _ = rustix::fs::unlinkat(&dir_fd, tmp, AtFlags::empty());
        return Err(e);
    }
    if durable {
        let _ = rustix::fs::fsync(&dir_fd);
    }
    Ok(())
}

/// A small text file others may have left in any state (an args file, an
/// ipconf): `Ok(None)` when there is none, its text with a UTF-8 byte-order
/// mark stripped, or why it cannot be one: larger than `max` bytes, NUL
/// bytes, not UTF-8, not a regular file (a directory, a FIFO), not readable
/// (a symlink loop, access denied). Opened non-blocking, so that a FIFO
/// cannot hang the caller; at most `max` + 1 bytes are read.
pub fn read_text_checked(path: &Path, max: u64) -> Result<Option<String>, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let describe = crate::errtext::describe;
    let f = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(describe(&e)),
    };
    let meta = f.metadata().map_err(|e| describe(&e))?;
    if meta.is_dir() {
        return Err("is a directory".into());
    }
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    f.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| describe(&e))?;
    if bytes.len() as u64 > max {
        return Err(format!("larger than {max} bytes"));
    }
    if bytes.contains(&0) {
        return Err("holds NUL bytes".into());
    }
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8".to_string())?;
    Ok(Some(
        text.strip_prefix('\u{feff}')
            .map(String::from)
            .unwrap_or(text),
    ))
}

/// A new, empty directory `ferrite-TAG-PID` under the system's temporary
/// directory (what was there before is removed): for unit tests.
pub fn scratch_dir(tag: &str) -> io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("ferrite-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Seconds since `f` was written (an ipconf's IPv6 lifetimes count from
/// then): 0 for a time in the future or one that cannot be read.
pub fn age_secs(f: &Path) -> u32 {
    std::fs::metadata(f)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn tempdir(tag: &str) -> PathBuf {
        scratch_dir(&format!("fsutil-{tag}")).unwrap()
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn replaces_content_and_leaves_no_temp_file() {
        let dir = tempdir("basic");
        let p = dir.join("status");
        atomic_write(&p, b"one", 0o644, false).unwrap();
        atomic_write(&p, b"two", 0o644, true).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(leftovers(&dir), ["status"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_planted_symlink_is_never_followed() {
        // Regression: the fixed `NAME.new` was opened with O_CREAT|O_TRUNC and
        // followed a symlink there, so whoever owned the directory could make
        // a root writer truncate any file.
        let dir = tempdir("symlink");
        let victim = dir.join("victim");
        fs::write(&victim, b"precious").unwrap();
        std::os::unix::fs::symlink(&victim, dir.join("config.new")).unwrap();
        let p = dir.join("config");
        atomic_write(&p, b"s100\n", 0o644, true).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        assert_eq!(fs::read(&p).unwrap(), b"s100\n");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mode_is_exact_and_never_setuid() {
        let dir = tempdir("mode");
        let p = dir.join("f");
        // a stale file with other bits is replaced, not reused
        fs::write(&p, b"old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o777)).unwrap();
        atomic_write(&p, b"new", 0o600, false).unwrap();
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o7777, 0o600);
        atomic_write(&p, b"new", 0o6755, false).unwrap();
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o7777, 0o755);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failure_leaves_the_old_file_and_no_temp_file() {
        let dir = tempdir("fail");
        let p = dir.join("d");
        fs::create_dir(&p).unwrap();
        fs::write(p.join("x"), b"").unwrap();
        // renaming a file over a non-empty directory fails
        assert!(atomic_write(&p, b"data", 0o644, false).is_err());
        assert_eq!(leftovers(&dir), ["d"]);
        assert!(atomic_write(&dir.join("missing/f"), b"", 0o644, false).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
