//! The fault campaign: faults tried against the real binaries, and what
//! was lost. Each phase prints one line
//! `fault campaign: PHASE: N faults, D daemons died, L lines lost, X leases lost`
//! (BENCHMARKS.md, *Reliability*, collects them) and fails on any loss.

mod common;
use common::lab::{self, spawn_logged, Daemon, Lab};
use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);
/// The tree must be whole again this soon after a kill.
const WHOLE_AGAIN: Duration = Duration::from_secs(2);

#[derive(Default)]
struct Tally {
    faults: u32,
    died: u32,
    lines_lost: u64,
    leases_lost: u32,
    notes: Vec<String>,
}

impl Tally {
    fn report(&self, phase: &str) {
        eprintln!(
            "fault campaign: {phase}: {} faults, {} daemons died, {} lines lost, {} leases lost",
            self.faults, self.died, self.lines_lost, self.leases_lost
        );
        for n in &self.notes {
            eprintln!("fault campaign: {phase}: {n}");
        }
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fault-campaign");
        let _ = fs::create_dir_all(&dir);
        let _ = fs::write(
            dir.join(format!("{phase}.txt")),
            format!(
                "{phase}: {} faults, {} daemons died, {} lines lost, {} leases lost\n",
                self.faults, self.died, self.lines_lost, self.leases_lost
            ),
        );
    }
}

fn cwd(pid: i32) -> Option<PathBuf> {
    fs::read_link(format!("/proc/{pid}/cwd")).ok()
}

fn prerequisites() -> bool {
    pidns_prerequisites()
}

/// A box in a PID namespace: ferrite's init (stop timeout 3 s, its console
/// in `console`) over a tree `service` in a new temporary directory, once
/// the tree is whole: (the directory, the tree, the namespace).
fn booted(tag: &str) -> (TempDir, PathBuf, NsInit) {
    let t = TempDir::new(tag);
    let svdir = two_service_tree(&t);
    let (unshare, init) = start_init(&svdir, &t.join("console"), 3);
    let ns = NsInit { unshare, init };
    assert!(
        wait_until(T, || whole(init, &svdir).is_ok()),
        "{:?}",
        whole(init, &svdir)
    );
    (t, svdir, ns)
}

/// A tree with two services, each with the standard logger (ferrite's
/// svlogd as `log/run`). `a` writes numbered lines; `b` is quiet.
fn two_service_tree(t: &TempDir) -> PathBuf {
    let svdir = t.join("service");
    script(
        &svdir.join("a/run"),
        "exec 2>&1\ni=0\nwhile :; do echo \"$$ $i\"; i=$((i+1)); sleep 0.01; done",
    );
    script(&svdir.join("b/run"), "exec sleep 1002");
    for s in ["a", "b"] {
        standard_logger(&svdir.join(s), &t.join("logs").join(s));
    }
    svdir
}

/// A service `svc` in a new temporary directory writing `n` numbered
/// lines `PID I`, in bursts of `burst` with a pause of `pause` seconds, then
/// sleeping; the standard logger (ferrite's svlogd as `log/run`) writes to
/// `logs`; runsv on it: (the directory, the service's `log`, runsv).
fn logged_writer(tag: &str, n: u32, burst: u32, pause: &str) -> (TempDir, PathBuf, Proc) {
    let t = TempDir::new(tag);
    let svc = t.join("svc");
    script(
        &svc.join("run"),
        &format!("exec 2>&1\ni=0\nwhile [ $i -lt {n} ]; do echo \"$$ $i\"; i=$((i+1)); [ $((i % {burst})) = 0 ] && sleep {pause}; done\nexec sleep 100"),
    );
    standard_logger(&svc, &t.join("logs"));
    let r = start_runsv(&svc);
    (t, svc.join("log"), r)
}

/// End what a test started with start_runsvdir: runsvdir, then (KILL)
/// every process that was below it, its runsv and their services.
fn end_runsvdir(rsd: Proc) {
    let tree = descendants(rsd.pid());
    drop(rsd);
    for p in tree {
        unsafe { libc::kill(p, libc::SIGKILL) };
    }
}

/// Processes under `root` whose working directory is `dir` (a service's
/// run has its directory's, a logger its `log/`'s; runsv also sits in the
/// service directory, so it is told apart by its command line).
fn in_dir(root: i32, dir: &Path, runsv: bool) -> Vec<i32> {
    let dir = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    descendants(root)
        .into_iter()
        .filter(|&p| cwd(p).as_deref() == Some(dir.as_path()))
        .filter(|&p| cmdline(p).starts_with("runsv ") == runsv)
        .filter(|&p| stat_field(p, 0).as_deref() != Some("Z"))
        .collect()
}

/// The tree is whole: one runsvdir under init, and for each service exactly
/// one run, one logger and a supervisor that answers.
fn whole(init: i32, svdir: &Path) -> Result<(), String> {
    let rsd: Vec<i32> = descendants(init)
        .into_iter()
        .filter(|&p| cmdline(p).starts_with("runsvdir"))
        .collect();
    if rsd.len() != 1 {
        return Err(format!("{} runsvdir", rsd.len()));
    }
    // only runsv's own children count: a's run script forks a short
    // `sleep` every 10 ms, which sits in the same directory
    let supervised = |ps: Vec<i32>| -> Vec<i32> {
        ps.into_iter()
            .filter(|&p| ppid_of(p).is_some_and(|pp| cmdline(pp).starts_with("runsv ")))
            .collect()
    };
    for s in ["a", "b"] {
        let d = svdir.join(s);
        let runs = supervised(in_dir(init, &d, false));
        let logs = supervised(in_dir(init, &d.join("log"), false));
        if runs.len() != 1 || logs.len() != 1 {
            return Err(format!(
                "{s}: {} instances, {} loggers",
                runs.len(),
                logs.len()
            ));
        }
        let ok = Command::new(applet("svok"))
            .arg(&d)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            return Err(format!("{s}: no supervisor answers"));
        }
    }
    Ok(())
}

/// Numbered lines `PID N` in the log directory: how many are missing inside
/// each writer's run (a writer killed mid-run may lose nothing but its end).
fn lines_lost(logdir: &Path) -> (u64, u64) {
    let mut text = String::new();
    let mut files: Vec<PathBuf> = fs::read_dir(logdir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name == "current" || name.starts_with('@') {
            text.push_str(&fs::read_to_string(&f).unwrap_or_default());
        }
    }
    let mut runs: std::collections::HashMap<u64, std::collections::BTreeSet<u64>> =
        Default::default();
    let mut seen = 0;
    for line in text.lines() {
        // "@TAI64N PID N" with -tt it is "DATE_TIME PID N": take the last two words
        let w: Vec<&str> = line.split_whitespace().collect();
        if w.len() < 2 {
            continue;
        }
        let (Ok(pid), Ok(n)) = (w[w.len() - 2].parse::<u64>(), w[w.len() - 1].parse::<u64>())
        else {
            continue;
        };
        runs.entry(pid).or_default().insert(n);
        seen += 1;
    }
    let lost = runs
        .values()
        .map(|ns| ns.iter().next_back().map_or(0, |max| max + 1) - ns.len() as u64)
        .sum();
    (lost, seen)
}

#[test]
fn signals_to_pid_1() {
    if !prerequisites() {
        return;
    }
    let mut tally = Tally::default();
    // Every catchable signal but the four init acts on: the box keeps running.
    let (t, svdir, mut ns) = booted("fc-signals");
    let init = ns.init;
    let before = in_dir(init, &svdir.join("b"), false);
    let acting = [libc::SIGTERM, libc::SIGINT, libc::SIGUSR1, libc::SIGUSR2];
    for sig in 1..=libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP || acting.contains(&sig) {
            continue;
        }
        unsafe { libc::kill(init, sig) };
        tally.faults += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(500));
    let state = stat_field(init, 0);
    if state.is_none() || state.as_deref() == Some("Z") {
        tally.died += 1;
    }
    assert_eq!(tally.died, 0, "init died: {}", text_of(&t.join("console")));
    assert!(whole(init, &svdir).is_ok(), "{:?}", whole(init, &svdir));
    assert_eq!(
        in_dir(init, &svdir.join("b"), false),
        before,
        "a service was restarted"
    );
    let console = text_of(&t.join("console"));
    assert!(
        !console.contains("stopping services"),
        "a stray signal started a shutdown: {console}"
    );
    // and poweroff still works
    unsafe { libc::kill(init, libc::SIGUSR2) };
    let st = ns
        .unshare
        .wait_exit(Duration::from_secs(20))
        .expect("poweroff after the signal storm");
    assert_eq!(ended_by(st), Some(libc::SIGINT));

    // The four that act do what the README says: TERM and INT reboot
    // (a PID namespace's init that reboots ends with SIGHUP), USR1 halts
    // and USR2 powers off (SIGINT).
    for (sig, name, ends_with, says) in [
        (libc::SIGTERM, "TERM", libc::SIGHUP, "reboot"),
        (libc::SIGINT, "INT", libc::SIGHUP, "reboot"),
        (libc::SIGUSR1, "USR1", libc::SIGINT, "halt"),
        (libc::SIGUSR2, "USR2", libc::SIGINT, "power off"),
    ] {
        let (t, _svdir, mut ns) = booted("fc-acting");
        let init = ns.init;
        unsafe { libc::kill(init, sig) };
        tally.faults += 1;
        let st = ns
            .unshare
            .wait_exit(Duration::from_secs(20))
            .unwrap_or_else(|| panic!("{name} did not end init"));
        assert_eq!(ended_by(st), Some(ends_with), "{name}: {st:?}");
        let console = text_of(&t.join("console"));
        assert!(
            console.contains(&format!("{says}: stopping services")),
            "{name}: {console}"
        );
    }
    tally.report("signals to PID 1 (PID namespace)");
}

#[test]
fn kill_9_of_every_process_of_the_tree() {
    if !prerequisites() {
        return;
    }
    let mut tally = Tally::default();
    let (t, svdir, ns) = booted("fc-kills");
    let init = ns.init;
    // each kind of process in turn, twice round
    let kinds = [
        "runsvdir",
        "runsv a",
        "runsv b",
        "logger a",
        "logger b",
        "service a",
        "service b",
    ];
    for round in 0..2 {
        for kind in kinds {
            let victim = match kind {
                "runsvdir" => descendants(init)
                    .into_iter()
                    .find(|&p| cmdline(p).starts_with("runsvdir")),
                k => {
                    let (what, s) = k.split_once(' ').unwrap();
                    let d = svdir.join(s);
                    match what {
                        "runsv" => in_dir(init, &d, true).first().copied(),
                        "logger" => in_dir(init, &d.join("log"), false).first().copied(),
                        _ => in_dir(init, &d, false).first().copied(),
                    }
                }
            };
            let victim = victim.unwrap_or_else(|| {
                panic!(
                    "round {round}: no {kind} to kill: {:?}",
                    whole(init, &svdir)
                )
            });
            unsafe { libc::kill(victim, libc::SIGKILL) };
            tally.faults += 1;
            let t0 = Instant::now();
            // runsvdir's own runsv children outlive it: "whole" then also means
            // they still supervise, and the new runsvdir's wait
            let ok = wait_until(WHOLE_AGAIN, || {
                whole(init, &svdir).is_ok() && !descendants(init).contains(&victim)
            });
            if !ok {
                tally.died += 1;
                tally.notes.push(format!(
                    "after kill -9 of {kind}: {:?} ({:?})",
                    whole(init, &svdir),
                    t0.elapsed()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    // a's lines across all this: none lost within any one run of the writer
    std::thread::sleep(Duration::from_millis(500));
    let (lost, seen) = lines_lost(&t.join("logs/a"));
    tally.lines_lost = lost;
    tally
        .notes
        .push(format!("{seen} lines of service a read back"));
    tally.report("kill -9 of each process (PID namespace)");
    assert_eq!(tally.died, 0, "{:?}", tally.notes);
    assert_eq!(lost, 0, "lines lost");
}

#[test]
fn lines_lost_while_the_logger_is_killed_again_and_again() {
    let mut tally = Tally::default();
    // numbered, in bursts of 200 lines with a short pause, for about 6 s
    let (t, log, _r) = logged_writer("fc-lines", 20000, 200, "0.06");
    assert!(wait_until(T, || is_running(&log)));
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        let cur = fs::read_to_string(t.join("logs/current")).unwrap_or_default();
        if cur.contains(" 19999\n") {
            break;
        }
        let p = pid_of(&log);
        if p > 0 {
            unsafe { libc::kill(p, libc::SIGKILL) };
            tally.faults += 1;
        }
        // the next logger comes at once, or a second after the last start
        // (runsv's restart throttle); let it read a little before the next kill
        let _ = wait_until(Duration::from_secs(3), || {
            pid_of(&log) != p && is_running(&log)
        });
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        wait_until(T, || fs::read_to_string(t.join("logs/current"))
            .unwrap_or_default()
            .contains(" 19999\n")),
        "the last line never arrived"
    );
    let (lost, seen) = lines_lost(&t.join("logs"));
    tally.lines_lost = lost;
    tally.notes.push(format!("{seen} of 20000 lines read back"));
    tally.report("svlogd killed -9 repeatedly");
    assert!(tally.faults >= 3, "the writer was too quick for the faults");
    assert_eq!(lost, 0);
    assert_eq!(seen, 20000);
}

/// A pids cgroup to put processes in (v2 if it has the controller, else
/// v1's): removed when dropped, after its processes went back to the root.
struct PidsCgroup {
    dir: PathBuf,
    root: PathBuf,
}

impl PidsCgroup {
    fn new(tag: &str) -> Option<PidsCgroup> {
        let v2 = Path::new("/sys/fs/cgroup");
        let unified = Path::new("/sys/fs/cgroup/unified");
        let v1 = Path::new("/sys/fs/cgroup/pids");
        let has_pids = |d: &Path| {
            fs::read_to_string(d.join("cgroup.controllers"))
                .is_ok_and(|c| c.split_whitespace().any(|x| x == "pids"))
        };
        let root = if has_pids(v2) {
            let _ = fs::write(v2.join("cgroup.subtree_control"), "+pids");
            v2
        } else if has_pids(unified) {
            let _ = fs::write(unified.join("cgroup.subtree_control"), "+pids");
            unified
        } else if v1.join("cgroup.procs").exists() {
            v1
        } else {
            return None;
        };
        let dir = root.join(format!("ferrite-{tag}-{}", std::process::id()));
        fs::create_dir_all(&dir).ok()?;
        dir.join("pids.max").exists().then(|| PidsCgroup {
            dir,
            root: root.to_path_buf(),
        })
    }
    fn add(&self, pid: i32) {
        fs::write(self.dir.join("cgroup.procs"), pid.to_string()).unwrap();
    }
    fn limit(&self, max: &str) {
        fs::write(self.dir.join("pids.max"), max).unwrap();
    }
    fn count(&self) -> usize {
        fs::read_to_string(self.dir.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .count()
    }
}

impl Drop for PidsCgroup {
    fn drop(&mut self) {
        let _ = fs::write(self.dir.join("pids.max"), "max");
        for p in fs::read_to_string(self.dir.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
        {
            let _ = fs::write(self.root.join("cgroup.procs"), p);
        }
        let _ = fs::remove_dir(&self.dir);
    }
}

#[test]
fn fork_failing_under_runsvdir_and_runsv() {
    if !require("root", is_root()) {
        return;
    }
    let Some(cg) = PidsCgroup::new("fork") else {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "no pids cgroup on this machine"
        );
        eprintln!("SKIP: no pids cgroup (v1 or v2) here");
        return;
    };
    let mut tally = Tally::default();
    let t = TempDir::new("fc-fork");
    let svdir = t.join("service");
    script(&svdir.join("a/run"), "exec sleep 1001");
    let rsd = start_runsvdir(&svdir, &[], vec![svdir.join("a/supervise")]);
    let a = svdir.join("a");
    assert!(wait_until(T, || is_running(&a)));
    // runsvdir, its runsv and the service: all in the cgroup
    cg.add(rsd.pid());
    for p in descendants(rsd.pid()) {
        cg.add(p);
    }
    // no fork is possible any more
    // one less than there are: with the service gone, still no fork
    cg.limit(&(cg.count() - 1).to_string());
    let old = pid_of(&a);
    unsafe { libc::kill(old, libc::SIGKILL) };
    tally.faults += 1;
    // a new service directory needs a fork by runsvdir
    script(&svdir.join("b/run"), "exec sleep 1002");
    tally.faults += 1;
    std::thread::sleep(Duration::from_millis(2500));
    let runsv = descendants(rsd.pid())
        .into_iter()
        .find(|&p| cmdline(p).starts_with("runsv a"));
    assert!(runsv.is_some(), "runsv died when fork failed");
    assert!(
        stat_field(rsd.pid(), 0).is_some_and(|s| s != "Z"),
        "runsvdir died when fork failed"
    );
    // no busy loop: a retry a second or so, not thousands
    let runsv = runsv.unwrap();
    let (w0, r0) = (voluntary_switches(runsv), voluntary_switches(rsd.pid()));
    std::thread::sleep(Duration::from_secs(2));
    let (w, r) = (
        voluntary_switches(runsv) - w0,
        voluntary_switches(rsd.pid()) - r0,
    );
    tally.notes.push(format!(
        "while fork fails: runsv woke {w} times, runsvdir {r} times in 2 s"
    ));
    assert!(
        w <= 20 && r <= 20,
        "busy loop: runsv {w}, runsvdir {r} wake-ups in 2 s"
    );
    // lift the limit: both recover by themselves
    cg.limit("max");
    assert!(
        wait_until(Duration::from_secs(8), || is_running(&a)
            && pid_of(&a) != old),
        "runsv did not recover"
    );
    assert!(
        wait_until(Duration::from_secs(8), || is_running(&svdir.join("b"))),
        "runsvdir did not recover"
    );
    tally.report("fork failing (pids cgroup)");
    end_runsvdir(rsd);
}

/// The bad contents every file a daemon reads is tried with.
fn bad_contents() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty", Vec::new()),
        ("huge", vec![b'x'; 4 << 20]),
        ("NUL bytes", b"s100\0\0n2\0\n\0".to_vec()),
        ("not UTF-8", b"\xff\xfe\xc3\x28n\xa0\xa1\n".to_vec()),
        ("byte-order mark", b"\xef\xbb\xbfs4096\n".to_vec()),
    ]
}

/// Put a bad thing at `path`: content, a symlink loop, or a directory.
fn plant(path: &Path, case: &str, content: &[u8]) {
    let _ = fs::remove_file(path);
    let _ = fs::remove_dir_all(path);
    match case {
        "symlink loop" => std::os::unix::fs::symlink(path.file_name().unwrap(), path).unwrap(),
        "directory" => fs::create_dir_all(path.join("sub")).unwrap(),
        _ => fs::write(path, content).unwrap(),
    }
}

fn all_cases() -> Vec<(&'static str, Vec<u8>)> {
    let mut c = bad_contents();
    c.push(("symlink loop", Vec::new()));
    c.push(("directory", Vec::new()));
    c
}

#[test]
fn bad_files_where_daemons_read_files() {
    let mut tally = Tally::default();
    // svlogd: config in the log directory; the standard logger's log/args
    // and log/config in the service directory.
    for target in ["logdir/config", "svc/log/config", "svc/log/args"] {
        for (case, content) in all_cases() {
            let t = TempDir::new("fc-badfile");
            // a name of its own: with a bad args file the standard logger
            // writes to /var/log/service/NAME, which no other test may share
            let name = format!("fc-badfile-{}-{}", std::process::id(), tally.faults);
            let svc = t.join(&name);
            let default_logdir = PathBuf::from("/var/log/service").join(&name);
            script(&svc.join("run"), "exec 2>&1\ni=0\nwhile [ $i -lt 50 ]; do echo \"$$ $i\"; i=$((i+1)); done\nexec sleep 100");
            let logdir = t.join("logdir");
            fs::create_dir_all(&logdir).unwrap();
            // (a bad args file replaces this one)
            standard_logger(&svc, &logdir);
            plant(&t.join(&target.replacen("svc", &name, 1)), case, &content);
            tally.faults += 1;
            let _r = start_runsv(&svc);
            let log = svc.join("log");
            // where the lines go: the log directory, or for a bad args file
            // (ignored) the default one
            // (a BOM-prefixed args file is a good one: it names the directory s4096)
            let bom_dir = svc.join("log/s4096");
            let dir = match (target, case) {
                ("svc/log/args", "byte-order mark") => &bom_dir,
                ("svc/log/args", _) => &default_logdir,
                _ => &logdir,
            };
            let ok =
                wait_until(T, || dir.is_dir() && lines_lost(dir).1 == 50) && lines_lost(dir).0 == 0;
            // runsv may publish the logger's pid after the logger has
            // written its lines (under load it did): wait for it first
            let _ = wait_until(T, || is_running(&log) && pid_of(&log) > 0);
            let p = pid_of(&log);
            std::thread::sleep(Duration::from_millis(200));
            if !ok || pid_of(&log) != p {
                tally.died += 1;
                tally.notes.push(format!(
                    "{target} {case}: logger {}",
                    if ok {
                        "restarted".to_string()
                    } else {
                        format!(
                            "lost lines or died: {:?} in {}: {}",
                            lines_lost(dir),
                            dir.display(),
                            stderr_of(&svc)
                        )
                    }
                ));
            }
            drop(_r);
            let _ = fs::remove_dir_all(&default_logdir);
        }
    }
    // runsv: supervise/status and supervise/lock, and the service
    // directory's own files (down, run)
    for target in [
        "supervise/status",
        "supervise/lock",
        "supervise/pid",
        "down",
        "log",
    ] {
        for (case, content) in all_cases() {
            let (_t, svc) = service_dir("fc-badsup", "exec sleep 100");
            fs::create_dir_all(svc.join("supervise")).unwrap();
            plant(&svc.join(target), case, &content);
            tally.faults += 1;
            let mut r = start_runsv(&svc);
            let started = wait_until(Duration::from_secs(3), || is_running(&svc));
            let exited = r.child.try_wait().ok().flatten();
            // either it runs the service, or it refuses with a message: never a crash or a hang
            let clear_refusal = exited.is_some_and(|st| st.code() == Some(111))
                && stderr_of(&svc).contains("runsv");
            let wants_down = target == "down";
            if !(started || clear_refusal || wants_down) || stderr_of(&svc).contains("panicked") {
                tally.died += 1;
                tally.notes.push(format!(
                    "runsv with a bad {target} ({case}): {exited:?} {}",
                    stderr_of(&svc)
                ));
            }
            if wants_down && exited.is_some() {
                tally.died += 1;
                tally.notes.push(format!(
                    "runsv exited on a bad down ({case}): {}",
                    stderr_of(&svc)
                ));
            }
        }
    }
    tally.report("bad files (svlogd, runsv)");
    assert_eq!(tally.died, 0, "{:#?}", tally.notes);
}

/// The cases of `all_cases` for a file whose good text is `good`: the
/// byte-order mark goes in front of good text (that file must be accepted).
fn cases_around(good: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    all_cases()
        .into_iter()
        .map(|(case, content)| match case {
            "byte-order mark" => (case, [b"\xef\xbb\xbf".as_slice(), good].concat()),
            _ => (case, content),
        })
        .collect()
}

/// Cases after which the file is still good (no message owed).
fn harmless(case: &str) -> bool {
    matches!(case, "empty" | "byte-order mark")
}

/// What a daemon did with a bad file, as a note when it was wrong: a panic
/// or an abort, no message naming `what` when one is owed, or an exit that
/// is neither "keeps running" nor exit 111 with the message.
fn judge(
    name: &str,
    w: &mut Daemon,
    case: &str,
    what: &str,
    running_for: Duration,
) -> Option<String> {
    let owed = !harmless(case);
    // the message comes first (or, for a good file, a moment passes)
    if owed {
        wait_until(Duration::from_secs(3), || w.log().contains(what));
    }
    let st = w.exited(running_for);
    let err = w.log();
    use std::os::unix::process::ExitStatusExt;
    let wrong = if err.contains("panicked") || st.and_then(|s| s.signal()) == Some(libc::SIGABRT) {
        Some("panicked")
    } else if owed && !err.contains(what) {
        Some("no message naming the file")
    } else if !owed && err.contains(what) {
        Some("a message about a good file")
    } else if st.is_some_and(|s| !(owed && s.code() == Some(111))) {
        Some("exited")
    } else {
        None
    };
    wrong.map(|why| format!("{name}, {case}: {why}: {st:?}: {err}"))
}

/// A pty pair: the master (non-blocking) and the slave's path.
fn pty() -> (std::os::fd::OwnedFd, String) {
    use std::os::fd::FromRawFd;
    // SAFETY: plain calls on a descriptor we own; ptsname_r into our buffer.
    unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK);
        assert!(m >= 0, "posix_openpt");
        assert_eq!(libc::grantpt(m), 0);
        assert_eq!(libc::unlockpt(m), 0);
        let mut buf = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(m, buf.as_mut_ptr(), buf.len()), 0);
        let name = std::ffi::CStr::from_ptr(buf.as_ptr())
            .to_string_lossy()
            .into_owned();
        (std::os::fd::OwnedFd::from_raw_fd(m), name)
    }
}

/// Everything the pty's master has to read now.
fn drain(m: &std::os::fd::OwnedFd) -> String {
    use std::os::fd::AsRawFd;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: a valid buffer on a descriptor we own.
        let n = unsafe { libc::read(m.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
        out.extend_from_slice(&buf[..n as usize]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `./args` of the native services run as `SERVICE/run` (a link to
/// ferrite): a bad one is one line `APPLET: ./args: ...` and the service
/// runs with the defaults of its directory name. ifplugd and dhcp run in a
/// network namespace of their own (a veth link `fc0`) with a tmpfs on
/// /var, so that their default paths (/var/service, /var/run, /var/lib)
/// are not the machine's; getty in a mount namespace whose /dev is a tmpfs
/// holding only `ttyFC`, a pty of the test's: it never sees a real console.
#[test]
fn bad_args_files_of_the_native_services() {
    if !prerequisites() || !require("ip (iproute2)", have_ip()) {
        return;
    }
    let mut tally = Tally::default();
    let ns = Netns::new("fcargs");
    ns.veth("fc0", "fcp0");
    ns.ip(&["link", "set", "fc0", "up"]);
    let private_var = "mount -t tmpfs fc-var /var && mkdir -p /var/run /var/service /var/lib \
                       && cd \"$1\" && exec ./run";
    for (applet, dir, good) in [
        ("ifplugd", "ifplugd_fc0", "-u 1 -d 1\n"),
        ("dhcp", "dhcp_fc0", "-T 1\n"),
        ("getty", "getty_ttyFC", "-L\n"),
    ] {
        for (case, content) in cases_around(good.as_bytes()) {
            let t = TempDir::new("fc-args");
            let svc = t.join(dir);
            fs::create_dir_all(&svc).unwrap();
            std::os::unix::fs::symlink(ferrite(), svc.join("run")).unwrap();
            plant(&svc.join("args"), case, &content);
            tally.faults += 1;
            let log = t.join("stderr");
            let mut master = None;
            let mut w = if applet == "getty" {
                let (m, slave) = pty();
                master = Some(m);
                fs::write(t.join("slave"), "").unwrap();
                spawn_logged(
                    Command::new("/usr/bin/unshare").args([
                        "-m",
                        "sh",
                        "-c",
                        "mount --bind \"$1\" \"$2\" && mount -t tmpfs fc-dev /dev \
                         && : > /dev/ttyFC && mount --bind \"$2\" /dev/ttyFC \
                         && cd \"$3\" && exec ./run",
                        "sh",
                        &slave,
                        t.join("slave").to_str().unwrap(),
                        svc.to_str().unwrap(),
                    ]),
                    log,
                )
            } else {
                spawn_logged(
                    ns.exec().args([
                        "/usr/bin/unshare",
                        "-m",
                        "sh",
                        "-c",
                        private_var,
                        "sh",
                        svc.to_str().unwrap(),
                    ]),
                    log,
                )
            };
            let what = format!("{applet}: ./args: ");
            if let Some(n) = judge(applet, &mut w, case, &what, Duration::from_millis(700)) {
                tally.died += 1;
                tally.notes.push(n);
            }
            if let Some(m) = &master {
                // it ran on to its prompt, with the tty of its directory name
                let mut seen = String::new();
                if !wait_until(Duration::from_secs(3), || {
                    seen.push_str(&drain(m));
                    seen.contains("login: ")
                }) {
                    tally.died += 1;
                    tally
                        .notes
                        .push(format!("getty, {case}: no prompt: {seen:?} {}", w.log()));
                }
            }
            if case == "huge" {
                let said = w.log();
                let said = said.lines().find(|l| l.contains("./args")).unwrap_or("");
                tally.notes.push(format!("{applet}, {case}: {said}"));
            }
            let lines = w.log().lines().filter(|l| l.contains("./args")).count();
            if lines > 1 {
                tally.notes.push(format!(
                    "{applet}, {case}: {lines} lines about ./args: {}",
                    w.log()
                ));
                tally.died += 1;
            }
        }
    }
    tally.report("bad files (native services' args)");
    assert_eq!(tally.died, 0, "{:#?}", tally.notes);
}

/// The DHCP lease state file (`STATE_DIR/IF.lease`, read by udhcpc and
/// dhcp at start) and fw's ipconf files. A bad lease state is named and
/// the client starts afresh (DISCOVER, then a lease, remembered where it
/// can be); another interface's state file is untouched. A bad ipconf is
/// named and skipped, the other interfaces still configured, the good file
/// untouched, and the message short (a huge file is not echoed).
#[test]
fn bad_lease_state_and_ipconf_files() {
    if !prerequisites() || !lab::prerequisites() {
        return;
    }
    let mut tally = Tally::default();
    let lab = Lab::new("fc-lease");
    let srv = lab.dnsmasq(&[]);
    let (t, c) = (&lab.dir, &lab.c);
    let discovers = || srv.log().matches("DHCPDISCOVER(vs)").count();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let other = format!("10.77.0.140 10.77.0.1 600 {now}\n");
    for (i, (case, content)) in all_cases().into_iter().enumerate() {
        let dir = t.join(&format!("case{i}"));
        let state = dir.join("state");
        fs::create_dir_all(&state).unwrap();
        fs::write(state.join("other0.lease"), &other).unwrap();
        plant(&state.join("vc.lease"), case, &content);
        tally.faults += 1;
        let before = discovers();
        let handler = lab::handler(&dir, &["ip"]);
        let mut d = lab::udhcpc(c, &dir, &[], &handler, &["-i", "vc"]);
        let bound = lab::wait_for_event(&dir, T, |e| e.starts_with("bound"));
        // remembered after the handler ran: the file holds the new lease
        // (replacing the bad one), or for a directory there it says why not
        let kept = || fs::read_to_string(state.join("vc.lease")).unwrap_or_default();
        let remembered = wait_until(Duration::from_secs(3), || {
            if case == "directory" {
                d.log().contains("cannot remember the lease")
            } else {
                kept().starts_with("10.77.0.")
            }
        });
        let log = d.log();
        let kept: String = kept().chars().take(100).collect();
        let mut wrong = Vec::new();
        if log.contains("panicked") || d.child.try_wait().ok().flatten().is_some() {
            wrong.push("died");
        }
        if !log.contains("vc.lease: ") || !log.contains("asking for a new lease") {
            wrong.push("no message naming the state file");
        }
        if !bound || discovers() == before {
            wrong.push("no fresh lease (DISCOVER, bound)");
        }
        if fs::read_to_string(state.join("other0.lease"))
            .ok()
            .as_deref()
            != Some(other.as_str())
        {
            wrong.push("the other interface's state file changed");
        }
        if bound && !remembered {
            wrong.push("the new lease not remembered (or not said why)");
        }
        if !wrong.is_empty() {
            tally.died += 1;
            tally
                .notes
                .push(format!("lease state, {case}: {wrong:?}: {kept:?} {log}"));
        }
        d.stop();
        if case != "directory" {
            tally.leases_lost += u32::from(bound && !remembered);
        }
    }
    drop(srv);

    // fw: conf/lan.ipconf is good (eth0), dyn/dhcp_eth1.ipconf is bad
    let n = lab::two_links("fcfw");
    let good = "if=eth0\nipmask=10.91.0.1/24\n";
    for (case, content) in cases_around(b"if=eth1\nipmask=10.92.0.1/24\n") {
        let t = TempDir::new("fc-ipconf");
        lab::fw_dirs(t.path());
        fs::write(t.join("conf/lan.ipconf"), good).unwrap();
        plant(&t.join("dyn/dhcp_eth1.ipconf"), case, &content);
        tally.faults += 1;
        let mut w = spawn_logged(&mut lab::fw_command(&n, t.path()), t.join("fw.stderr"));
        let st = w.exited(T);
        let err = w.log();
        let addrs = lab::addresses(&n, "eth0");
        let mut wrong = Vec::new();
        match st.and_then(|s| s.code()) {
            Some(0 | 1) => {}
            _ => wrong.push("no clean exit"),
        }
        if err.contains("panicked") {
            wrong.push("panicked");
        }
        let named = err.contains("dhcp_eth1.ipconf");
        if case == "byte-order mark" {
            if named || !lab::addresses(&n, "eth1").contains("10.92.0.1/24") {
                wrong.push("a BOM before good text not accepted");
            }
        } else if !named {
            wrong.push("no message naming the file");
        }
        if err.len() > 2000 {
            wrong.push("a message longer than 2000 bytes");
        }
        if !addrs.contains("10.91.0.1/24") {
            wrong.push("the good file's address not applied");
        }
        if fs::read_to_string(t.join("conf/lan.ipconf"))
            .ok()
            .as_deref()
            != Some(good)
        {
            wrong.push("the good file changed");
        }
        if !wrong.is_empty() {
            tally.died += 1;
            tally.notes.push(format!(
                "fw, {case}: {wrong:?}: {st:?} {}",
                err.chars().take(2000).collect::<String>()
            ));
        }
    }
    tally.report("bad files (lease state, ipconf)");
    assert_eq!(tally.died, 0, "{:#?}", tally.notes);
    assert_eq!(tally.leases_lost, 0);
}

/// Board files of the image tool (`ferrite-rootfs image BOARD.toml`, whose
/// `main` exits 2 with any error `Board::load` returns; the binary itself
/// is tried in rootfs/tests/cli.rs): every case an error naming the file,
/// short, never a panic; a BOM before a good board is accepted.
#[test]
fn bad_board_files() {
    let mut tally = Tally::default();
    let good = include_bytes!("../board-configs/qemu-x86_64.toml");
    for (case, content) in cases_around(good) {
        let t = TempDir::new("fc-board");
        let path = t.join("board.toml");
        plant(&path, case, &content);
        tally.faults += 1;
        let r = std::panic::catch_unwind(|| rootfs::board::Board::load(&path));
        let wrong = match (&r, case) {
            (Err(_), _) => Some("panicked".to_string()),
            (Ok(Ok(_)), "byte-order mark") => None,
            (Ok(Err(e)), "byte-order mark") => Some(format!("a BOM refused: {e}")),
            (Ok(Ok(_)), _) => Some("accepted".into()),
            (Ok(Err(e)), _) if !e.contains(path.to_str().unwrap()) => {
                Some(format!("the file not named: {e}"))
            }
            (Ok(Err(e)), _) if e.len() > 1000 => Some(format!("{} bytes of message", e.len())),
            (Ok(Err(e)), _) => {
                tally.notes.push(format!("{case}: {e}"));
                None
            }
        };
        if let Some(w) = wrong {
            tally.died += 1;
            tally.notes.push(format!("board, {case}: {w}"));
        }
    }
    tally.report("bad files (board)");
    assert_eq!(tally.died, 0, "{:#?}", tally.notes);
}

/// Set the open-file limit of a running process (util-linux prlimit).
/// CPU time of `pid` so far, in clock ticks (user + system).
fn cpu_ticks(pid: i32) -> u64 {
    let f = |n| {
        stat_field(pid, n)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    f(11) + f(12)
}

fn set_nofile(pid: i32, n: usize) {
    let st = Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--nofile={n}:"))
        .status()
        .unwrap();
    assert!(st.success());
}

/// The lowest descriptor number `pid` does not use: with its limit set to
/// this, its next open fails with EMFILE.
fn lowest_free_fd(pid: i32) -> usize {
    let used: std::collections::BTreeSet<usize> = fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    (0..).find(|n| !used.contains(n)).unwrap_or(0)
}

#[test]
fn file_descriptors_exhausted() {
    if !require("root (prlimit on a running process)", is_root())
        || !require("prlimit (util-linux)", have_program("/usr/bin/prlimit"))
    {
        return;
    }
    let mut tally = Tally::default();
    // svlogd: no descriptor left when it rotates. It must say so, keep
    // every line, not spin, and go on once descriptors are there again.
    let (t, log, _r) = logged_writer("fc-fds", 3000, 100, "0.1");
    assert!(wait_until(T, || is_running(&log) && t.join("logs/current").exists()));
    let logger = pid_of(&log);
    set_nofile(logger, lowest_free_fd(logger));
    tally.faults += 1;
    // rotation needs a new descriptor for the new current
    assert_eq!(sv(t.path(), &["alarm", log.to_str().unwrap()]).0, 0);
    std::thread::sleep(Duration::from_millis(700));
    let c0 = cpu_ticks(logger);
    std::thread::sleep(Duration::from_millis(1000));
    let used = cpu_ticks(logger) - c0;
    tally.notes.push(format!(
        "svlogd without descriptors used {used} clock ticks of CPU in 1 s"
    ));
    assert!(used < 30, "busy loop: {used} ticks in 1 s");
    assert!(
        t.join("logs/current").exists(),
        "no current after a failed rotation"
    );
    set_nofile(logger, 1024);
    assert!(
        wait_until(Duration::from_secs(30), || lines_lost(&t.join("logs")).1
            == 3000),
        "lines did not all arrive after the limit was lifted: {:?}",
        lines_lost(&t.join("logs"))
    );
    if pid_of(&log) != logger {
        tally.died += 1;
        tally
            .notes
            .push("svlogd exited when it had no descriptor".into());
    }
    tally.lines_lost = lines_lost(&t.join("logs")).0;

    // runsvdir: a new service while it has no descriptor to spare
    let svdir = t.join("service");
    script(&svdir.join("a/run"), "exec sleep 1001");
    let owned = vec![svdir.join("a/supervise"), svdir.join("b/supervise")];
    let rsd = start_runsvdir(&svdir, &[], owned);
    assert!(wait_until(T, || is_running(&svdir.join("a"))));
    set_nofile(rsd.pid(), lowest_free_fd(rsd.pid()));
    tally.faults += 1;
    script(&svdir.join("b/run"), "exec sleep 1002");
    std::thread::sleep(Duration::from_millis(2000));
    let r0 = cpu_ticks(rsd.pid());
    std::thread::sleep(Duration::from_millis(1000));
    let used = cpu_ticks(rsd.pid()) - r0;
    tally.notes.push(format!(
        "runsvdir without descriptors used {used} clock ticks of CPU in 1 s"
    ));
    assert!(used < 30, "runsvdir busy loop: {used} ticks");
    assert!(
        stat_field(rsd.pid(), 0).is_some_and(|s| s != "Z"),
        "runsvdir died"
    );
    set_nofile(rsd.pid(), 1024);
    if !wait_until(Duration::from_secs(10), || is_running(&svdir.join("b"))) {
        tally.died += 1;
        tally.notes.push(format!(
            "runsvdir did not start b after the limit was lifted: {}",
            stderr_of(&svdir)
        ));
    }
    end_runsvdir(rsd);
    tally.report("file descriptors exhausted");
    assert_eq!(tally.died, 0, "{:#?}", tally.notes);
    assert_eq!(tally.lines_lost, 0);
}
