//! What an applet run as `SERVICE/run` (a link to ferrite) learns from its
//! service directory: its options from `./args`, its name from the directory.

use std::ffi::OsString;
use std::path::Path;

/// The largest `./args` read: a few options, never data.
pub const MAX_ARGS: u64 = 64 * 1024;

/// The text of an args file at `path`, checked: `Ok("")` when there is no
/// such file; otherwise as `fsutil::read_text_checked` with `MAX_ARGS`.
pub fn check_args_file(path: &Path) -> Result<String, String> {
    Ok(crate::fsutil::read_text_checked(path, MAX_ARGS)?.unwrap_or_default())
}

/// The text of `./args` (see `check_args_file`). On any problem one line
/// `APPLET: ./args: REASON: ignored, the defaults apply` goes to stderr and
/// the reason is returned. What the applet does then is its choice; every
/// native service (ifplugd, dhcp, fw, pinger, zcip, getty) runs with the
/// defaults its directory name gives (`ifplugd_IF`, `dhcp_IF`,
/// `getty_TTY`, ...), as svlogd does with a bad `log/args`: refusing would
/// leave the service down over a stray file. An applet that cannot run
/// without its args would exit 111 after this line (runsv restarts it).
/// Never a panic.
pub fn read_args(applet: &str) -> Result<String, String> {
    check_args_file(Path::new("args")).inspect_err(|why| {
        crate::out::err(&format!(
            "{applet}: ./args: {why}: ignored, the defaults apply\n"
        ))
    })
}

/// The words of `./args` (none when there is no such file, or when it is
/// bad: then `read_args` has said why).
pub fn args_file(applet: &str) -> Vec<String> {
    read_args(applet)
        .map(|t| t.split_whitespace().map(String::from).collect())
        .unwrap_or_default()
}

/// The words after argv[0]; when there are none, those of `./args`.
pub fn words(applet: &str, args: &[OsString]) -> Vec<String> {
    let words = crate::argv::words(args);
    if words.is_empty() {
        args_file(applet)
    } else {
        words
    }
}

/// Called as `SERVICE/run` with no arguments: a supervised service, which
/// must stay in the foreground whatever its options say.
pub fn is_run_link(args: &[OsString]) -> bool {
    args.len() == 1
        && std::path::Path::new(&args[0])
            .file_name()
            .is_some_and(|n| n == "run")
}

/// The name of the current directory: the service's name.
pub fn dir_name() -> String {
    std::env::current_dir()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_args_files_are_refused_with_the_reason() {
        let d = crate::fsutil::scratch_dir("args").unwrap();
        let p = d.join("args");
        assert_eq!(check_args_file(&p).unwrap(), "");
        let cases: [(&[u8], Result<&str, &str>); 5] = [
            (b"", Ok("")),
            (b"\xef\xbb\xbf-q 1\n", Ok("-q 1\n")),
            (b"-q\0", Err("holds NUL bytes")),
            (b"\xff-q", Err("not UTF-8")),
            (
                &[b'x'; MAX_ARGS as usize + 1],
                Err("larger than 65536 bytes"),
            ),
        ];
        for (content, want) in cases {
            std::fs::write(&p, content).unwrap();
            let got = check_args_file(&p);
            assert_eq!(got.as_deref(), want.map_err(String::from).as_deref());
        }
        std::fs::write(&p, vec![b' '; MAX_ARGS as usize]).unwrap();
        assert!(check_args_file(&p).is_ok());
        std::fs::remove_file(&p).unwrap();
        std::fs::create_dir(&p).unwrap();
        assert_eq!(check_args_file(&p).unwrap_err(), "is a directory");
        std::fs::remove_dir(&p).unwrap();
        std::os::unix::fs::symlink("args", &p).unwrap();
        // glibc says "Too many levels of symbolic links", musl "Symbolic link loop"
        let loop_err = check_args_file(&p).unwrap_err().to_lowercase();
        assert!(loop_err.contains("symbolic link"), "{loop_err}");
        std::fs::remove_file(&p).unwrap();
        let fifo = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        assert_eq!(check_args_file(&p).unwrap_err(), "not a regular file");
        let _ = std::fs::remove_dir_all(&d);
    }
}
