//! `chpst` and its daemontools personalities (`setuidgid`, `envuidgid`,
//! `envdir`, `pgrphack`, `softlimit`, `setlock`): change the process state,
//! then exec the program. Exit 100 on usage errors, 111 when a change fails.

use common::errtext::describe;
use common::out;
use std::ffi::{CString, OsStr, OsString};
use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;

/// The type setrlimit takes its resource in differs between glibc and musl.
#[cfg(target_env = "gnu")]
type Resource = libc::__rlimit_resource_t;
#[cfg(not(target_env = "gnu"))]
type Resource = libc::c_int;

/// A user and group change, resolved before any chroot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

/// Look `name` up in a passwd-format text: (uid, gid).
pub fn passwd_lookup(passwd: &str, name: &str) -> Option<(u32, u32)> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() >= 4 && f[0] == name {
            Some((f[2].parse().ok()?, f[3].parse().ok()?))
        } else {
            None
        }
    })
}

/// Look `name` up in a group-format text: gid.
pub fn group_lookup(group: &str, name: &str) -> Option<u32> {
    group.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() >= 3 && f[0] == name {
            f[2].parse().ok()
        } else {
            None
        }
    })
}

/// Resolve chpst's `[:]user[:group[:group...]]` against passwd and group texts.
/// A leading colon means numeric ids, not looked up.
pub fn resolve_ids(spec: &str, passwd: &str, group: &str) -> Result<Ids, String> {
    let (numeric, spec) = match spec.strip_prefix(':') {
        Some(s) => (true, s),
        None => (false, spec),
    };
    let mut parts = spec.split(':');
    let user = parts.next().unwrap_or("");
    let groups: Vec<&str> = parts.filter(|g| !g.is_empty()).collect();
    let (uid, user_gid) = if numeric {
        let uid: u32 = user.parse().map_err(|_| format!("invalid uid: {user}"))?;
        (uid, None)
    } else {
        let (u, g) = passwd_lookup(passwd, user).ok_or_else(|| format!("unknown user: {user}"))?;
        (u, Some(g))
    };
    let mut gids = Vec::new();
    for g in &groups {
        let gid = if numeric {
            g.parse().map_err(|_| format!("invalid gid: {g}"))?
        } else {
            group_lookup(group, g).ok_or_else(|| format!("unknown group: {g}"))?
        };
        gids.push(gid);
    }
    let gid = match (gids.first(), user_gid) {
        (Some(&g), _) => g,
        (None, Some(g)) => g,
        (None, None) => return Err(format!("no gid given for uid {uid}")),
    };
    if gids.is_empty() {
        gids.push(gid);
    }
    Ok(Ids {
        uid,
        gid,
        groups: gids,
    })
}

/// Parse an envdir entry's content: first line, trailing blanks removed,
/// NULs turned into newlines. `None` for an empty file (remove the variable).
pub fn envdir_value(content: &[u8]) -> Option<Vec<u8>> {
    if content.is_empty() {
        return None;
    }
    let line = content.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let mut v: Vec<u8> = line
        .iter()
        .map(|&b| if b == 0 { b'\n' } else { b })
        .collect();
    while v.last().is_some_and(|&b| b == b' ' || b == b'\t') {
        v.pop();
    }
    Some(v)
}

#[derive(Default)]
struct Plan {
    setuid: Option<String>,
    envuid: Option<String>,
    argv0: Option<OsString>,
    envdir: Option<OsString>,
    root: Option<OsString>,
    nice: Option<i32>,
    lock: Option<(OsString, bool)>,
    /// (resource, value); `None` value = as high as the hard limit allows
    limits: Vec<(Resource, Option<u64>)>,
    verbose: bool,
    new_session: bool,
    close: [bool; 3],
    /// setlock -x: exit 0 quietly when the lock is busy
    lock_quiet: bool,
}

fn usage(prog: &str) -> i32 {
    let text = match prog {
        "setuidgid" => "usage: setuidgid account child\n",
        "envuidgid" => "usage: envuidgid account child\n",
        "envdir" => "usage: envdir dir child\n",
        "pgrphack" => "usage: pgrphack child\n",
        "setlock" => "usage: setlock [-nNxX] file program [arg ...]\n",
        "softlimit" => "usage: softlimit [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child\n",
        _ => "usage: chpst [-vVP012] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] [-/ root] [-n inc] [-l|-L lock] [-m bytes] [-d bytes] [-o n] [-p n] [-f bytes] [-c bytes] [-t sec] prog\n",
    };
    out::err(text);
    100
}

fn limit_value(s: &str) -> Option<Option<u64>> {
    if s == "=" {
        return Some(None);
    }
    s.parse().ok().map(Some)
}

/// The applet for every personality; `args[0]`'s base name picks which.
pub fn main(args: &[OsString]) -> i32 {
    let prog = args
        .first()
        .map(|a| {
            Path::new(a)
                .file_name()
                .unwrap_or(a)
                .to_string_lossy()
                .into_owned()
        })
        .unwrap_or_else(|| "chpst".into());
    let mut plan = Plan::default();
    let rest: &[OsString] = &args[1.min(args.len())..];
    let child = match prog.as_str() {
        "setuidgid" | "envuidgid" | "envdir" => {
            if rest.len() < 2 {
                return usage(&prog);
            }
            let v = rest[0].clone();
            match prog.as_str() {
                "setuidgid" => plan.setuid = Some(v.to_string_lossy().into()),
                "envuidgid" => plan.envuid = Some(v.to_string_lossy().into()),
                _ => plan.envdir = Some(v),
            }
            &rest[1..]
        }
        "pgrphack" => {
            plan.new_session = true;
            rest
        }
        "setlock" => match parse_setlock(rest, &mut plan) {
            Some(c) => c,
            None => return usage(&prog),
        },
        "softlimit" => match parse_softlimit(rest, &mut plan) {
            Some(c) => c,
            None => return usage(&prog),
        },
        _ => match parse_chpst(rest, &mut plan) {
            Some(c) => c,
            None => return usage("chpst"),
        },
    };
    if child.is_empty() {
        return usage(&prog);
    }
    match apply(&plan, child) {
        Ok(code) => code,
        Err(msg) => {
            out::fatal(&prog, &msg);
            111
        }
    }
}

fn parse_chpst<'a>(rest: &'a [OsString], plan: &mut Plan) -> Option<&'a [OsString]> {
    let mut i = 0;
    while i < rest.len() {
        let a = rest[i].as_bytes();
        if a == b"--" {
            return Some(&rest[i + 1..]);
        }
        if a.len() < 2 || a[0] != b'-' {
            break;
        }
        let mut j = 1;
        while j < a.len() {
            let c = a[j];
            let takes = b"ubUe/nlLmdopfct".contains(&c);
            if takes {
                let val: OsString = if j + 1 < a.len() {
                    OsStr::from_bytes(&a[j + 1..]).to_owned()
                } else {
                    i += 1;
                    rest.get(i)?.clone()
                };
                let s = val.to_string_lossy().into_owned();
                match c {
                    b'u' => plan.setuid = Some(s),
                    b'U' => plan.envuid = Some(s),
                    b'b' => plan.argv0 = Some(val),
                    b'e' => plan.envdir = Some(val),
                    b'/' => plan.root = Some(val),
                    b'n' => plan.nice = Some(s.trim_start_matches('+').parse().ok()?),
                    b'l' => plan.lock = Some((val, true)),
                    b'L' => plan.lock = Some((val, false)),
                    b'm' => {
                        let v = Some(s.parse().ok()?);
                        for r in [
                            libc::RLIMIT_DATA,
                            libc::RLIMIT_STACK,
                            libc::RLIMIT_MEMLOCK,
                            libc::RLIMIT_AS,
                        ] {
                            plan.limits.push((r, v));
                        }
                    }
                    _ => {
                        let r = match c {
                            b'd' => libc::RLIMIT_DATA,
                            b'o' => libc::RLIMIT_NOFILE,
                            b'p' => libc::RLIMIT_NPROC,
                            b'f' => libc::RLIMIT_FSIZE,
                            b'c' => libc::RLIMIT_CORE,
                            _ => libc::RLIMIT_CPU,
                        };
                        plan.limits.push((r, Some(s.parse().ok()?)));
                    }
                }
                break;
            }
            match c {
                b'v' => plan.verbose = true,
                b'V' => out::err("chpst: ferrite\n"),
                b'P' => plan.new_session = true,
                b'0' => plan.close[0] = true,
                b'1' => plan.close[1] = true,
                b'2' => plan.close[2] = true,
                _ => return None,
            }
            j += 1;
        }
        i += 1;
    }
    Some(&rest[i.min(rest.len())..])
}

fn parse_softlimit<'a>(rest: &'a [OsString], plan: &mut Plan) -> Option<&'a [OsString]> {
    let mut i = 0;
    while i < rest.len() {
        // Bytes, not str slices: `-é` must be a usage error, not an abort.
        let a = rest[i].as_bytes();
        if a == b"--" {
            return Some(&rest[i + 1..]);
        }
        if a.first() != Some(&b'-') || a.len() < 2 {
            break;
        }
        let c = a[1];
        let val = if a.len() > 2 {
            String::from_utf8_lossy(&a[2..]).into_owned()
        } else {
            i += 1;
            rest.get(i)?.to_string_lossy().into_owned()
        };
        let v = limit_value(&val)?;
        let resources: &[Resource] = match c {
            b'a' => &[libc::RLIMIT_AS],
            b'c' => &[libc::RLIMIT_CORE],
            b'd' => &[libc::RLIMIT_DATA],
            b'f' => &[libc::RLIMIT_FSIZE],
            b'l' => &[libc::RLIMIT_MEMLOCK],
            b'm' => &[
                libc::RLIMIT_DATA,
                libc::RLIMIT_STACK,
                libc::RLIMIT_MEMLOCK,
                libc::RLIMIT_AS,
            ],
            b'o' => &[libc::RLIMIT_NOFILE],
            b'p' => &[libc::RLIMIT_NPROC],
            b'r' => &[libc::RLIMIT_RSS],
            b's' => &[libc::RLIMIT_STACK],
            b't' => &[libc::RLIMIT_CPU],
            _ => return None,
        };
        for &r in resources {
            plan.limits.push((r, v));
        }
        i += 1;
    }
    Some(&rest[i.min(rest.len())..])
}

fn parse_setlock<'a>(rest: &'a [OsString], plan: &mut Plan) -> Option<&'a [OsString]> {
    let mut i = 0;
    let mut wait = true;
    while i < rest.len() && rest[i].as_bytes().starts_with(b"-") && rest[i].len() > 1 {
        for &c in &rest[i].as_bytes()[1..] {
            match c {
                b'n' => wait = false,
                b'N' => wait = true,
                b'x' => plan.lock_quiet = true,
                b'X' => plan.lock_quiet = false,
                _ => return None,
            }
        }
        i += 1;
    }
    let file = rest.get(i)?.clone();
    plan.lock = Some((file, wait));
    Some(&rest[i + 1..])
}

fn read_text(path: &str) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

fn apply(plan: &Plan, child: &[OsString]) -> Result<i32, String> {
    // Look-ups happen before a chroot, in the system's own files.
    let passwd = read_text("/etc/passwd");
    let group = read_text("/etc/group");
    let ids = match &plan.setuid {
        Some(spec) => Some(resolve_ids(spec, &passwd, &group)?),
        None => None,
    };
    if let Some(spec) = &plan.envuid {
        let e = resolve_ids(spec, &passwd, &group)?;
        std::env::set_var("UID", e.uid.to_string());
        std::env::set_var("GID", e.gid.to_string());
    }
    if let Some(dir) = &plan.envdir {
        load_envdir(Path::new(dir))?;
    }
    if plan.new_session {
        // SAFETY: plain syscalls.
        unsafe {
            if libc::setsid() < 0 {
                libc::setpgid(0, 0);
            }
        }
    }
    if let Some((path, wait)) = &plan.lock {
        let f = fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| {
                format!(
                    "unable to open lock {}: {}",
                    path.to_string_lossy(),
                    describe(&e)
                )
            })?;
        let op = if *wait {
            libc::LOCK_EX
        } else {
            libc::LOCK_EX | libc::LOCK_NB
        };
        // SAFETY: valid descriptor.
        if unsafe { libc::flock(f.as_raw_fd(), op) } != 0 {
            if plan.lock_quiet {
                return Ok(0);
            }
            let e = std::io::Error::last_os_error();
            return Err(format!(
                "unable to lock {}: {}",
                path.to_string_lossy(),
                describe(&e)
            ));
        }
        // Kept open (and locked) across exec: clear close-on-exec.
        // SAFETY: valid descriptor.
        unsafe { libc::fcntl(f.as_raw_fd(), libc::F_SETFD, 0) };
        std::mem::forget(f);
    }
    if let Some(inc) = plan.nice {
        // SAFETY: plain syscall; -1 is a legal result, so errno decides.
        unsafe {
            *libc::__errno_location() = 0;
            if libc::nice(inc) == -1 && *libc::__errno_location() != 0 {
                let e = std::io::Error::last_os_error();
                return Err(format!("unable to set nice level: {}", describe(&e)));
            }
        }
    }
    for &(res, val) in &plan.limits {
        set_soft_limit(res, val, plan.verbose)?;
    }
    if let Some(root) = &plan.root {
        let c = CString::new(root.as_bytes()).map_err(|_| "invalid root".to_string())?;
        // SAFETY: valid C strings.
        if unsafe { libc::chroot(c.as_ptr()) } != 0 || std::env::set_current_dir("/").is_err() {
            let e = std::io::Error::last_os_error();
            return Err(format!("unable to change root directory: {}", describe(&e)));
        }
    }
    if let Some(ids) = &ids {
        // SAFETY: plain syscalls with valid pointers.
        unsafe {
            if libc::setgroups(ids.groups.len() as _, ids.groups.as_ptr()) != 0
                || libc::setgid(ids.gid) != 0
                || libc::setuid(ids.uid) != 0
            {
                let e = std::io::Error::last_os_error();
                return Err(format!("unable to set uid/gid: {}", describe(&e)));
            }
        }
    }
    for (fd, close) in plan.close.iter().enumerate() {
        if *close {
            // SAFETY: closing a standard descriptor on request.
            unsafe { libc::close(fd as i32) };
        }
    }
    let mut cmd = std::process::Command::new(&child[0]);
    cmd.args(&child[1..]);
    if let Some(a0) = &plan.argv0 {
        cmd.arg0(a0);
    }
    if plan.verbose {
        out::err(&format!(
            "chpst: executing: {}\n",
            child[0].to_string_lossy()
        ));
    }
    let e = cmd.exec();
    Err(format!(
        "unable to run {}: {}",
        child[0].to_string_lossy(),
        describe(&e)
    ))
}

fn set_soft_limit(res: Resource, val: Option<u64>, verbose: bool) -> Result<(), String> {
    // SAFETY: rlimit is plain data, filled by getrlimit.
    let mut r: libc::rlimit = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrlimit(res, &mut r) } != 0 {
        if verbose {
            out::warn("chpst", &format!("limit {res} not supported"));
        }
        return Ok(());
    }
    r.rlim_cur = match val {
        Some(v) if (v as libc::rlim_t) < r.rlim_max => v as libc::rlim_t,
        _ => r.rlim_max,
    };
    // SAFETY: valid rlimit pointer.
    if unsafe { libc::setrlimit(res, &r) } != 0 {
        let e = std::io::Error::last_os_error();
        return Err(format!("unable to set limit: {}", describe(&e)));
    }
    Ok(())
}

fn load_envdir(dir: &Path) -> Result<(), String> {
    let rd = fs::read_dir(dir)
        .map_err(|e| format!("unable to open envdir {}: {}", dir.display(), describe(&e)))?;
    let mut names: Vec<_> = rd.flatten().map(|e| e.file_name()).collect();
    names.sort();
    for name in names {
        let b = name.as_bytes();
        if b.starts_with(b".") || b.contains(&b'=') {
            continue;
        }
        let path = dir.join(&name);
        if path.is_dir() {
            continue;
        }
        let content = fs::read(&path)
            .map_err(|e| format!("unable to read {}: {}", path.display(), describe(&e)))?;
        match envdir_value(&content) {
            None => std::env::remove_var(&name),
            Some(v) => std::env::set_var(&name, OsStr::from_bytes(&v)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str =
        "root:x:0:0:root:/root:/bin/sh\nlogger:x:105:110::/nonexistent:/bin/false\n";
    const GROUP: &str = "root:x:0:\nadm:x:4:logger\nlogger:x:110:\n";

    #[test]
    fn non_ascii_options_are_usage_errors() {
        // Regression: softlimit sliced `-é` inside its character and aborted.
        let a = |s: &str| s.split_whitespace().map(OsString::from).collect::<Vec<_>>();
        let mut plan = Plan::default();
        assert!(parse_softlimit(&a("-é 5 true"), &mut plan).is_none());
        assert!(parse_softlimit(&a("-mé true"), &mut plan).is_none());
        assert!(parse_chpst(&a("-é true"), &mut plan).is_none());
        assert!(parse_setlock(&a("-é f true"), &mut plan).is_none());
        assert!(parse_softlimit(&a("-m 100000 true"), &mut plan).is_some());
    }

    #[test]
    fn user_and_group_specs() {
        assert_eq!(
            resolve_ids("logger", PASSWD, GROUP).unwrap(),
            Ids {
                uid: 105,
                gid: 110,
                groups: vec![110]
            }
        );
        assert_eq!(
            resolve_ids("logger:adm:root", PASSWD, GROUP).unwrap(),
            Ids {
                uid: 105,
                gid: 4,
                groups: vec![4, 0]
            }
        );
        assert_eq!(
            resolve_ids(":1000:1001", PASSWD, GROUP).unwrap(),
            Ids {
                uid: 1000,
                gid: 1001,
                groups: vec![1001]
            }
        );
        assert!(resolve_ids("nobody", PASSWD, GROUP)
            .unwrap_err()
            .contains("unknown user"));
        assert!(resolve_ids("logger:wheel", PASSWD, GROUP)
            .unwrap_err()
            .contains("unknown group"));
        assert!(resolve_ids(":1000", PASSWD, GROUP).is_err());
    }

    #[test]
    fn envdir_values() {
        assert_eq!(envdir_value(b""), None);
        assert_eq!(envdir_value(b"\n"), Some(b"".to_vec()));
        assert_eq!(
            envdir_value(b"value \t\nsecond line"),
            Some(b"value".to_vec())
        );
        assert_eq!(envdir_value(b"a\0b"), Some(b"a\nb".to_vec()));
    }
}
