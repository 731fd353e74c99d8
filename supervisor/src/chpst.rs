//! `chpst` and its daemontools personalities (`setuidgid`, `envuidgid`,
//! `envdir`, `pgrphack`, `softlimit`, `setlock`): change the process state,
//! then exec the program. Exit 100 on usage errors, 111 when a change fails.
//! The words become a `Plan` (pure, through `common::getopt`), and `apply`
//! makes the changes.

use common::errtext::describe;
use common::getopt::{parse_spec, Opt, Spec};
use common::out;
use rustix::process::{Resource, Rlimit};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;

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

/// The changes to make, in `apply`'s order.
#[derive(Debug, Default, PartialEq, Eq)]
struct Plan {
    setuid: Option<String>,
    envuid: Option<String>,
    argv0: Option<OsString>,
    envdir: Option<OsString>,
    root: Option<OsString>,
    nice: Option<i32>,
    /// the lock file, and whether to wait for it
    lock: Option<(OsString, bool)>,
    /// (resource, value); `None` value = as high as the hard limit allows
    limits: Vec<(Resource, Option<u64>)>,
    verbose: bool,
    /// -V: say the version on stderr
    version: bool,
    new_session: bool,
    close: [bool; 3],
    /// setlock -x: exit 0 quietly when the lock is busy
    lock_quiet: bool,
}

/// A personality: how it is used, its options and its help.
struct Personality {
    name: &'static str,
    usage: &'static str,
    spec: Spec<'static>,
    help: &'static str,
}

const fn spec(flags: &'static str, values: &'static str) -> Spec<'static> {
    Spec {
        flags,
        values,
        optional: "",
        long: &[],
        unchecked: false,
    }
}

const CHPST: Personality = Personality {
    name: "chpst",
    usage: "usage: chpst [-vVP012] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] [-/ root] [-n inc] [-l|-L lock] [-m bytes] [-d bytes] [-o n] [-p n] [-f bytes] [-c bytes] [-t sec] prog\n",
    spec: spec("vVP012", "ubUe/nlLmdopfct"),
    help: "  -u USER[:GROUP...]  run as USER, GROUPs (:UID:GID numeric)
  -U USER[:GROUP]     $UID and $GID of USER
  -b ARGV0            argv[0] of PROG
  -e DIR              environment from the files in DIR
  -/ ROOT             new root directory
  -n INC              nice level + INC
  -l LOCK             wait for a lock on LOCK
  -L LOCK             lock LOCK or fail
  -m BYTES            data, stack, locked memory, address space
  -d BYTES            data segment
  -o N                open files
  -p N                processes
  -f BYTES            file size
  -c BYTES            core file size
  -t SEC              CPU time
  -v                  verbose
  -V                  version
  -P                  new session
  -0                  close stdin
  -1                  close stdout
  -2                  close stderr
  --help              this help
",
};

const SOFTLIMIT: Personality = Personality {
    name: "softlimit",
    usage: "usage: softlimit [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child\n",
    spec: spec("", "acdflmoprst"),
    help: "  -a BYTES  address space (= is the hard limit, for each)
  -c BYTES  core file size
  -d BYTES  data segment
  -f BYTES  file size
  -l BYTES  locked memory
  -m BYTES  data, stack, locked memory, address space
  -o N      open files
  -p N      processes
  -r BYTES  resident set
  -s BYTES  stack
  -t SEC    CPU time
  --help    this help
",
};

const SETLOCK: Personality = Personality {
    name: "setlock",
    usage: "usage: setlock [-nNxX] file program [arg ...]\n",
    spec: spec("nNxX", ""),
    help: "  -n      fail if the lock is taken
  -N      wait for the lock
  -x      exit 0 if the lock is taken
  -X      fail with a message
  --help  this help
",
};

/// A personality with no options of its own (its help is `--help` alone).
const fn operands_only(name: &'static str, usage: &'static str) -> Personality {
    Personality {
        name,
        usage,
        spec: spec("", ""),
        help: "  --help  this help\n",
    }
}

const SETUIDGID: Personality = operands_only("setuidgid", "usage: setuidgid account child\n");
const ENVUIDGID: Personality = operands_only("envuidgid", "usage: envuidgid account child\n");
const ENVDIR: Personality = operands_only("envdir", "usage: envdir dir child\n");
const PGRPHACK: Personality = operands_only("pgrphack", "usage: pgrphack child\n");

/// The personality of the applet name; chpst for any other.
fn personality(prog: &str) -> &'static Personality {
    [
        &SETUIDGID, &ENVUIDGID, &ENVDIR, &PGRPHACK, &SETLOCK, &SOFTLIMIT,
    ]
    .into_iter()
    .find(|p| p.name == prog)
    .unwrap_or(&CHPST)
}

/// A word as text with one char per byte: the option letters (ASCII) read
/// as themselves, and a value that is not UTF-8 (a path) comes back intact
/// through `os`.
fn byte_text(w: &OsStr) -> String {
    w.as_bytes().iter().map(|&b| char::from(b)).collect()
}

fn os(s: &str) -> OsString {
    OsString::from_vec(s.chars().map(|c| c as u8).collect())
}

/// A user spec as the passwd file spells it.
fn text(s: &str) -> String {
    os(s).to_string_lossy().into_owned()
}

#[derive(Debug, PartialEq, Eq)]
enum Cli {
    Help,
    Run(Box<Plan>, Vec<OsString>),
}

/// The limits an option letter sets (chpst's and softlimit's letters
/// mean the same; `-m` is the memory as a whole).
fn resources(letter: char) -> &'static [Resource] {
    match letter {
        'a' => &[Resource::As],
        'c' => &[Resource::Core],
        'd' => &[Resource::Data],
        'f' => &[Resource::Fsize],
        'l' => &[Resource::Memlock],
        'm' => &[
            Resource::Data,
            Resource::Stack,
            Resource::Memlock,
            Resource::As,
        ],
        'o' => &[Resource::Nofile],
        'p' => &[Resource::Nproc],
        'r' => &[Resource::Rss],
        's' => &[Resource::Stack],
        _ => &[Resource::Cpu],
    }
}

/// `args` without argv[0], for personality `p`; `None` is a usage error.
fn parse(p: &Personality, args: &[OsString]) -> Option<Cli> {
    let words: Vec<String> = args.iter().map(|a| byte_text(a)).collect();
    let (opts, first) = parse_spec(&words, &p.spec).ok()?;
    let mut plan = Plan::default();
    let mut wait = true;
    for opt in opts {
        let (c, v) = match opt {
            Opt::Help => return Some(Cli::Help),
            Opt::Flag(c) => {
                match c {
                    'v' => plan.verbose = true,
                    'V' => plan.version = true,
                    'P' => plan.new_session = true,
                    '0' | '1' | '2' => plan.close[c as usize - '0' as usize] = true,
                    'n' | 'N' => wait = c == 'N',
                    'x' | 'X' => plan.lock_quiet = c == 'x',
                    _ => return None,
                }
                continue;
            }
            Opt::Value(c, v) => (c, v),
            _ => return None,
        };
        match (p.name, c) {
            (_, 'u') => plan.setuid = Some(text(&v)),
            (_, 'U') => plan.envuid = Some(text(&v)),
            (_, 'b') => plan.argv0 = Some(os(&v)),
            (_, 'e') => plan.envdir = Some(os(&v)),
            (_, '/') => plan.root = Some(os(&v)),
            (_, 'n') => plan.nice = Some(v.trim_start_matches('+').parse().ok()?),
            (_, 'l' | 'L') if p.name == "chpst" => plan.lock = Some((os(&v), c == 'l')),
            // softlimit's `=`: as high as the hard limit allows
            ("softlimit", _) if v == "=" => {
                let lim = resources(c).iter().map(|&r| (r, None));
                plan.limits.extend(lim);
            }
            _ => {
                let n: u64 = v.parse().ok()?;
                plan.limits
                    .extend(resources(c).iter().map(|&r| (r, Some(n))));
            }
        }
    }
    let mut rest = args[first..].iter().cloned();
    match p.name {
        "setuidgid" => plan.setuid = Some(rest.next()?.to_string_lossy().into()),
        "envuidgid" => plan.envuid = Some(rest.next()?.to_string_lossy().into()),
        "envdir" => plan.envdir = Some(rest.next()?),
        "pgrphack" => plan.new_session = true,
        "setlock" => plan.lock = Some((rest.next()?, wait)),
        _ => {}
    }
    let child: Vec<OsString> = rest.collect();
    if child.is_empty() {
        return None;
    }
    Some(Cli::Run(Box::new(plan), child))
}

/// The applet for every personality; `args[0]`'s base name picks which.
pub fn main(args: &[OsString]) -> i32 {
    let prog = common::argv::prog_name(args);
    let p = personality(&prog);
    let (plan, child) = match parse(p, &args[1.min(args.len())..]) {
        Some(Cli::Run(plan, child)) => (*plan, child),
        Some(Cli::Help) => return common::getopt::help(&format!("{}{}", p.usage, p.help)),
        None => {
            out::err(p.usage);
            return 100;
        }
    };
    if plan.version {
        out::err("chpst: ferrite\n");
    }
    match apply(&plan, &child) {
        Ok(code) => code,
        Err(msg) => {
            out::fatal(&prog, &msg);
            111
        }
    }
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
    if plan.new_session && rustix::process::setsid().is_err() {
        // A group leader cannot start a session; a group of its own then.
        let _ = rustix::process::setpgid(None, None);
    }
    if let Some((path, wait)) = &plan.lock {
        if !take_lock(path, *wait, plan.lock_quiet)? {
            return Ok(0);
        }
    }
    if let Some(inc) = plan.nice {
        nice(inc).map_err(|e| format!("unable to set nice level: {}", describe(&e.into())))?;
    }
    for &(res, val) in &plan.limits {
        set_soft_limit(res, val)?;
    }
    if let Some(root) = &plan.root {
        if let Err(e) = rustix::process::chroot(root.as_os_str()) {
            return Err(format!(
                "unable to change root directory: {}",
                describe(&e.into())
            ));
        }
        std::env::set_current_dir("/")
            .map_err(|e| format!("unable to change root directory: {}", describe(&e)))?;
    }
    if let Some(ids) = &ids {
        set_ids(ids).map_err(|e| format!("unable to set uid/gid: {}", describe(&e.into())))?;
    }
    for (fd, close) in plan.close.iter().enumerate() {
        if *close {
            // SAFETY: closes standard descriptor 0, 1 or 2 as asked; nothing
            // in this process holds it as an OwnedFd or uses it again (out::
            // writes to a closed 1 or 2 fail with EBADF, and are ignored).
            unsafe { rustix::io::close(fd as i32) };
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

/// Open and lock `path`, kept across exec; false when it is taken and
/// `quiet` says to give up without a word.
fn take_lock(path: &OsStr, wait: bool, quiet: bool) -> Result<bool, String> {
    use rustix::fs::{flock, FlockOperation};
    let shown = path.to_string_lossy();
    let f = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("unable to open lock {shown}: {}", describe(&e)))?;
    let op = if wait {
        FlockOperation::LockExclusive
    } else {
        FlockOperation::NonBlockingLockExclusive
    };
    if let Err(e) = flock(&f, op) {
        if quiet {
            return Ok(false);
        }
        return Err(format!("unable to lock {shown}: {}", describe(&e.into())));
    }
    // Kept open (and locked) across exec: no close-on-exec, never closed.
    let _ = rustix::io::fcntl_setfd(&f, rustix::io::FdFlags::empty());
    std::mem::forget(f);
    Ok(true)
}

/// nice(3): the level moves by `inc`, within -20..=19.
fn nice(inc: i32) -> rustix::io::Result<()> {
    let now = rustix::process::getpriority_process(None)?;
    let level = now.saturating_add(inc).clamp(-20, 19);
    rustix::process::setpriority_process(None, level).map_err(|e| {
        if e == rustix::io::Errno::ACCESS {
            rustix::io::Errno::PERM
        } else {
            e
        }
    })
}

/// Groups, group, then user. These are the kernel's calls, which change
/// the calling thread only; chpst has no other thread, so the process is
/// changed whole.
fn set_ids(ids: &Ids) -> rustix::io::Result<()> {
    use rustix::process::{Gid, Uid};
    let groups: Vec<Gid> = ids.groups.iter().map(|&g| Gid::from_raw(g)).collect();
    rustix::thread::set_thread_groups(&groups)?;
    rustix::thread::set_thread_gid(Gid::from_raw(ids.gid))?;
    rustix::thread::set_thread_uid(Uid::from_raw(ids.uid))
}

/// The soft limit of `res` to `val`, or to the hard limit when `val` is
/// none or above it.
fn set_soft_limit(res: Resource, val: Option<u64>) -> Result<(), String> {
    let old = rustix::process::getrlimit(res);
    let current = match (val, old.maximum) {
        (Some(v), Some(max)) if v < max => Some(v),
        (Some(v), None) => Some(v),
        _ => old.maximum,
    };
    let new = Rlimit {
        current,
        maximum: old.maximum,
    };
    rustix::process::setrlimit(res, new)
        .map_err(|e| format!("unable to set limit: {}", describe(&e.into())))
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

    use crate::argv as w;

    #[test]
    fn non_ascii_options_are_usage_errors() {
        // Regression: softlimit sliced `-é` inside its character and aborted.
        assert_eq!(parse(&SOFTLIMIT, &w("-é 5 true")), None);
        assert_eq!(parse(&SOFTLIMIT, &w("-mé true")), None);
        assert_eq!(parse(&CHPST, &w("-é true")), None);
        assert_eq!(parse(&SETLOCK, &w("-é f true")), None);
        assert!(parse(&SOFTLIMIT, &w("-m 100000 true")).is_some());
    }

    fn run(p: &Personality, s: &str) -> (Plan, Vec<OsString>) {
        match parse(p, &w(s)) {
            Some(Cli::Run(plan, child)) => (*plan, child),
            other => panic!("{s:?}: {other:?}"),
        }
    }

    #[test]
    fn chpst_options() {
        let (plan, child) = run(
            &CHPST,
            "-vP02 -u logger:adm -b sh -e/env -n +5 -L /l -o 64 -m 9 x -y",
        );
        assert_eq!(child, w("x -y"));
        assert!(plan.verbose && plan.new_session);
        assert_eq!(plan.close, [true, false, true]);
        assert_eq!(plan.setuid.as_deref(), Some("logger:adm"));
        assert_eq!(plan.argv0, Some("sh".into()));
        assert_eq!(plan.envdir, Some("/env".into()));
        assert_eq!(plan.nice, Some(5));
        assert_eq!(plan.lock, Some(("/l".into(), false)));
        assert_eq!(plan.limits[0], (Resource::Nofile, Some(64)));
        assert_eq!(plan.limits.len(), 5, "-m is four limits");
        for bad in ["", "-u", "-n x prog", "-o = prog", "-Q prog", "-v"] {
            assert_eq!(parse(&CHPST, &w(bad)), None, "{bad:?}");
        }
        assert_eq!(parse(&CHPST, &w("--help")), Some(Cli::Help));
        // a path that is not UTF-8 comes through whole
        let odd = OsString::from_vec(b"/tmp/\xff".to_vec());
        let args = [OsString::from("-e"), odd.clone(), "true".into()];
        let Some(Cli::Run(plan, _)) = parse(&CHPST, &args) else {
            panic!()
        };
        assert_eq!(plan.envdir, Some(odd));
    }

    #[test]
    fn personalities() {
        assert_eq!(personality("softlimit").name, "softlimit");
        assert_eq!(personality("ferrite").name, "chpst");
        let (plan, child) = run(&SOFTLIMIT, "-l = -t5 prog");
        assert_eq!(
            plan.limits,
            [(Resource::Memlock, None), (Resource::Cpu, Some(5))]
        );
        assert_eq!(child, w("prog"));
        let (plan, child) = run(&SETLOCK, "-nx /run/l prog a");
        assert_eq!(
            (plan.lock, plan.lock_quiet),
            (Some(("/run/l".into(), false)), true)
        );
        assert_eq!(child, w("prog a"));
        let (plan, _) = run(&SETUIDGID, "logger prog");
        assert_eq!(plan.setuid.as_deref(), Some("logger"));
        let (plan, _) = run(&ENVDIR, "-- /e prog");
        assert_eq!(plan.envdir, Some("/e".into()));
        assert!(run(&PGRPHACK, "prog").0.new_session);
        for (p, bad) in [
            (&SETUIDGID, "logger"),
            (&ENVUIDGID, ""),
            (&SETLOCK, "/l"),
            (&SETLOCK, "-q /l prog"),
            (&PGRPHACK, ""),
            (&SOFTLIMIT, "-z 1 prog"),
        ] {
            assert_eq!(parse(p, &w(bad)), None, "{} {bad:?}", p.name);
        }
        for p in [
            &SETUIDGID, &ENVUIDGID, &ENVDIR, &PGRPHACK, &SETLOCK, &SOFTLIMIT, &CHPST,
        ] {
            assert_eq!(parse(p, &w("--help")), Some(Cli::Help));
            assert!(p.usage.starts_with(&format!("usage: {} ", p.name)));
            assert!(p.help.ends_with(" this help\n"), "{}", p.name);
        }
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
