//! Error texts in the words runit's tools use, so that messages printed by our
//! `sv` read the same as those of runit's (`file does not exist`, ...).

use std::io;

/// The system ran out of something a start needs (processes, memory,
/// descriptors): a condition that passes, worth waiting for with back-off,
/// unlike a missing or non-executable program.
pub fn is_lack_of_resources(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EAGAIN) | Some(libc::ENOMEM) | Some(libc::EMFILE) | Some(libc::ENFILE)
    )
}

/// The runit-style description of an I/O error.
pub fn describe(e: &io::Error) -> String {
    let text = match e.raw_os_error() {
        Some(libc::ENOENT) => "file does not exist",
        Some(libc::EACCES) | Some(libc::EPERM) => "access denied",
        Some(libc::EAGAIN) => "temporary failure",
        Some(libc::ENOTDIR) => "not a directory",
        Some(libc::EISDIR) => "is a directory",
        Some(libc::ENXIO) => "device not configured",
        Some(libc::ENOSPC) => "out of disk space",
        Some(libc::EROFS) => "read-only file system",
        Some(libc::ENOMEM) => "out of memory",
        Some(libc::EEXIST) => "file already exists",
        Some(libc::ENOEXEC) => "exec format error",
        Some(libc::ETXTBSY) => "text busy",
        Some(libc::EINVAL) => "invalid argument",
        Some(libc::EIO) => "input/output error",
        Some(libc::EPIPE) => "broken pipe",
        Some(libc::ESRCH) => "no such process",
        _ => return plain(e),
    };
    text.to_string()
}

/// The OS message without the "(os error N)" suffix std appends.
fn plain(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_lowercase(),
        None => s.to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runit_words_for_common_errors() {
        let e = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(describe(&e), "file does not exist");
        let e = io::Error::from_raw_os_error(libc::EAGAIN);
        assert_eq!(describe(&e), "temporary failure");
        let e = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert!(!describe(&e).contains("os error"));
    }
}
