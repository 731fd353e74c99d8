//! The standard per-service logger (`log/run` linked to ferrite, or
//! `svlogd --service`): the log directory is `/var/log/service/NAME` where
//! `NAME/log` is the current directory; `./args` may give other options or
//! another directory. It drops to the user `logger` when there is one,
//! before it writes anything into the log directory, and limits its memory,
//! as the usual script does.

use super::PROG;
use crate::svlogd::cli;
use common::errtext::describe;
use common::out;
use rustix::fs::{Gid, Uid};
use rustix::process::{Resource, Rlimit};
use std::fs;
use std::io;
use std::path::Path;

/// The words of `./args` (see `cli::args_words`); a file that cannot be
/// used is ignored with a warning: the defaults still log, where refusing
/// would leave the service blocked on a full pipe.
fn read_args_file() -> Vec<String> {
    let Ok(meta) = fs::metadata("args") else {
        return Vec::new();
    };
    if !meta.is_file() {
        out::warn(PROG, "./args is not a file: ignored");
        return Vec::new();
    }
    if meta.len() > cli::MAX_ARGS {
        out::warn(PROG, &cli::args_too_big());
        return Vec::new();
    }
    let words = fs::read("args")
        .map_err(|e| format!("unable to read ./args: {}: ignored", describe(&e)))
        .and_then(cli::args_words);
    words.unwrap_or_else(|why| {
        out::warn(PROG, &why);
        Vec::new()
    })
}

/// Whether svlogd runs as root.
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Set up the standard logger; `extra` are the words after `--service`.
/// Returns the words of its command line.
pub fn service(extra: &[String]) -> Result<Vec<String>, String> {
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let name = cwd
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or("cannot tell the service name from the current directory")?;
    let words = cli::service_words(extra, read_args_file(), &name);
    let dir = Path::new(words.last().map_or("", String::as_str));
    fs::create_dir_all(dir)
        .map_err(|e| format!("unable to create {}: {}", dir.display(), describe(&e)))?;
    // Read the service's policy now (the service directory is root's), write
    // it only after dropping to `logger`: the log directory is the logger's,
    // and root must not write where another user can plant a symlink.
    let policy = fs::read("config").ok();
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    if let (true, Some((uid, gid))) = (is_root(), crate::chpst::passwd_lookup(&passwd, "logger")) {
        let (u, g) = (Uid::from_raw(uid), Gid::from_raw(gid));
        let _ = rustix::fs::chown(dir, Some(u), Some(g));
        become_user(uid, gid).map_err(|e| format!("unable to become logger: {}", describe(&e)))?;
    }
    if let Some(text) = policy {
        install_config(dir, &text);
    }
    // A logger needs little memory; a runaway one must not take the box down.
    let lim = Some(32 << 20);
    let _ = rustix::process::setrlimit(
        Resource::Data,
        Rlimit {
            current: lim,
            maximum: lim,
        },
    );
    Ok(words)
}

/// Drop root for good: the groups, then the group, then the user, for the
/// whole process. rustix has these only per thread (the kernel's calls);
/// the C library's apply them to every thread, as a process-wide drop must.
fn become_user(uid: u32, gid: u32) -> io::Result<()> {
    let groups = [gid];
    // SAFETY: `groups` is a live array of one gid_t, its length passed with
    // it; setgroups/setgid/setuid take plain numbers and touch no memory of
    // ours otherwise. Each is checked: a failure stops the chain, and the
    // caller refuses to go on.
    let failed = unsafe {
        libc::setgroups(1, groups.as_ptr()) != 0 || libc::setgid(gid) != 0 || libc::setuid(uid) != 0
    };
    if failed {
        return Err(io::Error::last_os_error());
    }
    Ok(())
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
