//! Helpers shared by the integration tests: the applet links, temporary
//! service trees, processes that are ended by pid when a test ends, bounded
//! waits, and prerequisites that fail in CI instead of skipping.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub mod kea;
pub mod lab;
pub mod radvd;

pub fn ferrite() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ferrite"))
}

/// A directory with one symlink per applet (`runsv`, `sv`, ...), made once.
pub fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("ferrite-bin-{}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        let st = Command::new(ferrite())
            .arg("--install")
            .arg(&d)
            .status()
            .unwrap();
        assert!(st.success(), "ferrite --install failed");
        d
    })
}

pub fn applet(name: &str) -> PathBuf {
    bin_dir().join(name)
}

/// A temporary directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("ferrite-t-{}-{tag}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A service directory `svc` in a new temporary directory (tagged `tag`)
/// whose run script is `run`: (the directory, the service).
pub fn service_dir(tag: &str, run: &str) -> (TempDir, PathBuf) {
    let t = TempDir::new(tag);
    let svc = t.join("svc");
    script(&svc.join("run"), run);
    (t, svc)
}

/// Write an executable script.
pub fn script(path: &Path, body: &str) {
    if let Some(d) = path.parent() {
        fs::create_dir_all(d).unwrap();
    }
    fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A process the test started; on drop it and the service processes it
/// recorded (from `supervise/pid` files) are ended by pid.
pub struct Proc {
    pub child: Child,
    /// supervise directories whose pids belong to this process tree
    pub owned: Vec<PathBuf>,
}

impl Proc {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }
    pub fn signal(&self, sig: i32) {
        unsafe { libc::kill(self.pid(), sig) };
    }
    /// Wait for exit up to `t`; the exit status when it ended.
    pub fn wait_exit(&mut self, t: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + t;
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let pids: Vec<i32> = self
            .owned
            .iter()
            .filter_map(|d| fs::read_to_string(d.join("pid")).ok())
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        if let Ok(None) = self.child.try_wait() {
            self.signal(libc::SIGTERM);
            if self.wait_exit(Duration::from_secs(3)).is_none() {
                self.signal(libc::SIGKILL);
                let _ = self.child.wait();
            }
        }
        for p in pids {
            if p > 0 {
                unsafe { libc::kill(p, libc::SIGKILL) };
            }
        }
    }
}

/// Start `EXE EXTRA... DIR` with stdin and stdout on /dev/null and stderr
/// in `DIR.stderr`; the `owned` supervise directories' pids go with it.
fn start_on_dir(exe: &Path, extra: &[&str], dir: &Path, owned: Vec<PathBuf>) -> Proc {
    let err = fs::File::create(dir.with_extension("stderr")).unwrap();
    let child = Command::new(exe)
        .args(extra)
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()
        .unwrap();
    Proc { child, owned }
}

/// Start `runsv DIR` (ours unless `exe` says otherwise), stderr to `DIR.stderr`.
pub fn start_runsv_with(exe: &Path, dir: &Path) -> Proc {
    let mut owned = vec![dir.join("supervise")];
    if dir.join("log").is_dir() {
        owned.push(dir.join("log/supervise"));
    }
    start_on_dir(exe, &[], dir, owned)
}

pub fn start_runsv(dir: &Path) -> Proc {
    start_runsv_with(&applet("runsv"), dir)
}

/// Start our `runsvdir EXTRA... DIR`, stderr to `DIR.stderr`; when the
/// Proc is dropped, the services of the `owned` supervise directories go
/// as well.
pub fn start_runsvdir(dir: &Path, extra: &[&str], owned: Vec<PathBuf>) -> Proc {
    start_on_dir(&applet("runsvdir"), extra, dir, owned)
}

/// The standard logger for service `svc`: `log/run` a link to ferrite
/// (svlogd), `log/args` naming the log directory `logdir`.
pub fn standard_logger(svc: &Path, logdir: &Path) {
    fs::create_dir_all(svc.join("log")).unwrap();
    std::os::unix::fs::symlink(ferrite(), svc.join("log/run")).unwrap();
    fs::write(svc.join("log/args"), format!("{}\n", logdir.display())).unwrap();
}

/// The text of a file, or "" when it cannot be read (not there yet).
pub fn text_of(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// The lines of a file (none when it cannot be read).
pub fn lines_of(path: &Path) -> Vec<String> {
    text_of(path).lines().map(String::from).collect()
}

/// The signal that ended a process: by the signal itself or, through a
/// shell or `unshare`, by an exit code of 128 + the signal.
pub fn ended_by(st: std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    st.signal().or(st.code().map(|c| c - 128))
}

/// A tmpfs of `size` (`1m`, `256k`) mounted at `dir` (made if missing),
/// unmounted when dropped.
pub struct Tmpfs(pub PathBuf);

impl Tmpfs {
    pub fn mount(dir: &Path, size: &str) -> Tmpfs {
        fs::create_dir_all(dir).unwrap();
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(st.success(), "cannot mount a tmpfs");
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

pub fn stderr_of(dir: &Path) -> String {
    fs::read_to_string(dir.with_extension("stderr")).unwrap_or_default()
}

/// Poll `cond` every 5 ms until it holds or `t` passes.
pub fn wait_until(t: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + t;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Run a command, returning (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `cmd` fails with exit code `code` and says `what` on stderr.
pub fn fails_with(cmd: &mut Command, code: i32, what: &str) {
    let (got, _, err) = run(cmd);
    assert_eq!(got, code, "{err}");
    assert!(err.contains(what), "{err}");
}

/// Our `sv` with `$SVDIR` set.
pub fn sv(svdir: &Path, args: &[&str]) -> (i32, String, String) {
    run(Command::new(applet("sv")).env("SVDIR", svdir).args(args))
}

/// The 20-byte status record of a service directory (runit's part; ferrite
/// appends its extension after it).
pub fn status(dir: &Path) -> Option<[u8; 20]> {
    let b = fs::read(dir.join("supervise/status")).ok()?;
    b.get(..20)?.try_into().ok()
}

/// The process exists and is not a zombie waiting for its parent.
pub fn alive(pid: i32) -> bool {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    match stat.rfind(')').and_then(|i| stat.get(i + 1..)) {
        Some(rest) => !rest.trim_start().starts_with('Z'),
        None => false,
    }
}

pub fn pid_of(dir: &Path) -> i32 {
    status(dir).map_or(0, |s| {
        u32::from_le_bytes([s[12], s[13], s[14], s[15]]) as i32
    })
}

pub fn state_of(dir: &Path) -> Option<u8> {
    status(dir).map(|s| s[19])
}

pub fn is_running(dir: &Path) -> bool {
    pid_of(dir) != 0 && state_of(dir) == Some(1)
}

/// A prerequisite (a program, root, ...). In CI (`CI=true`) a missing one
/// fails the test; elsewhere the test is skipped with a loud message.
pub fn require(what: &str, present: bool) -> bool {
    if present {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("prerequisite missing in CI: {what}");
    }
    eprintln!("SKIPPED (prerequisite missing: {what})");
    false
}

pub fn have_program(path: &str) -> bool {
    Path::new(path).exists()
}

pub fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

/// Voluntary context switches of a process: how often it went to sleep and woke up.
pub fn voluntary_switches(pid: i32) -> u64 {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// How often process `pid` woke up while the test slept for `d`.
pub fn wakeups(pid: i32, d: Duration) -> u64 {
    let before = voluntary_switches(pid);
    std::thread::sleep(d);
    voluntary_switches(pid) - before
}

/// What a test in a PID namespace needs: root, unshare and nsenter.
pub fn pidns_prerequisites() -> bool {
    require("root", is_root())
        && require(
            "unshare, nsenter (util-linux)",
            have_program("/usr/bin/unshare") && have_program("/usr/bin/nsenter"),
        )
}

/// A network namespace made by the test, deleted when dropped.
pub struct Netns(pub String);

impl Netns {
    pub fn new(tag: &str) -> Netns {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("fe{tag}{}x{n}", std::process::id() % 100000);
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
        ip(&["netns", "add", &name]);
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        Netns(name)
    }

    /// `ip netns exec NAME ...`
    pub fn exec(&self) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0]);
        c
    }

    /// The standard output of `ARGS` run in the namespace.
    pub fn output(&self, args: &[&str]) -> String {
        let out = self.exec().args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `ARGS` run in the namespace, which must succeed.
    pub fn run(&self, args: &[&str]) {
        let st = self.exec().args(args).status().unwrap();
        assert!(st.success(), "{args:?} in {} failed", self.0);
    }

    /// `ip -n NAME ARGS`, which must succeed.
    pub fn ip(&self, args: &[&str]) {
        ip(&[&["-n", self.0.as_str()], args].concat());
    }

    /// A veth link `link` in the namespace whose peer `peer`, also here, is
    /// up: a link with carrier once it is up itself.
    pub fn veth(&self, link: &str, peer: &str) {
        self.ip(&["link", "add", link, "type", "veth", "peer", "name", peer]);
        self.ip(&["link", "set", peer, "up"]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.0])
            .stderr(Stdio::null())
            .status();
    }
}

/// `ip ARGS`, which must succeed.
pub fn ip(args: &[&str]) {
    let st = Command::new("ip").args(args).status().unwrap();
    assert!(st.success(), "ip {args:?} failed");
}

pub fn have_ip() -> bool {
    have_program("/usr/sbin/ip") || have_program("/sbin/ip") || have_program("/bin/ip")
}

/// What a test in network namespaces needs: root and iproute2.
pub fn netns_prerequisites() -> bool {
    require("root (network namespaces)", is_root()) && require("ip (iproute2)", have_ip())
}

/// A child the test started, killed and reaped when dropped.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A runsvdir the test started over `tree`: on drop (also when the test
/// fails) it gets HUP, which TERMs every runsv, and the drop waits, bounded,
/// until runsvdir has exited and no runsv answers on the services' `ok`.
pub struct TreeGuard {
    pub child: Child,
    pub tree: PathBuf,
}

impl Drop for TreeGuard {
    fn drop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGHUP) };
        if !wait_until(Duration::from_secs(5), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        }) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let dirs: Vec<PathBuf> = fs::read_dir(&self.tree)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        for d in dirs {
            for ok in [d.join("supervise/ok"), d.join("log/supervise/ok")] {
                let _ = wait_until(Duration::from_secs(10), || {
                    use std::os::unix::fs::OpenOptionsExt;
                    fs::OpenOptions::new()
                        .write(true)
                        .custom_flags(libc::O_NONBLOCK)
                        .open(&ok)
                        .is_err()
                });
            }
        }
    }
}

/// A daemon the test started that went to the background (so it is not our
/// child): TERMed by pid when dropped, KILLed if it does not go in 3 s.
pub struct PidGuard(pub i32);

impl PidGuard {
    pub fn alive(&self) -> bool {
        self.0 > 0 && unsafe { libc::kill(self.0, 0) } == 0
    }
}

impl Drop for PidGuard {
    fn drop(&mut self) {
        if !self.alive() {
            return;
        }
        unsafe { libc::kill(self.0, libc::SIGTERM) };
        if !wait_until(Duration::from_secs(3), || !self.alive()) {
            unsafe { libc::kill(self.0, libc::SIGKILL) };
        }
    }
}

/// Run `cmd` (a daemon that backgrounds itself) with stdout on a pipe:
/// the exit code of the foreground process and whether its stdout reached
/// end of file (the daemon let go of it), both within `t`.
pub fn run_to_background(cmd: &mut Command, t: Duration) -> (Option<i32>, bool) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut sink);
        let _ = tx.send(());
    });
    let end = Instant::now() + t;
    let exited = wait_until(t, || matches!(child.try_wait(), Ok(Some(_))));
    if !exited {
        let _ = child.kill();
    }
    let code = child
        .wait()
        .ok()
        .and_then(|st| st.code())
        .filter(|_| exited);
    let eof = rx
        .recv_timeout(end.saturating_duration_since(Instant::now()))
        .is_ok();
    (code, eof)
}

/// Field `n` of `/proc/PID/stat` after the command name (0 is the state).
pub fn stat_field(pid: i32, n: usize) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    rest.split_whitespace().nth(n).map(String::from)
}

pub fn ppid_of(pid: i32) -> Option<i32> {
    stat_field(pid, 1)?.parse().ok()
}

/// The state letter of a process (`R`, `S`, `Z`, ...).
pub fn state_of_proc(pid: i32) -> Option<char> {
    stat_field(pid, 0)?.chars().next()
}

pub fn all_pids() -> Vec<i32> {
    fs::read_dir("/proc")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

pub fn children_of(pid: i32) -> Vec<i32> {
    all_pids()
        .into_iter()
        .filter(|&p| ppid_of(p) == Some(pid))
        .collect()
}

/// Every process below `pid`, from one look at `/proc`.
pub fn descendants(pid: i32) -> Vec<i32> {
    let pids = all_pids();
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for &c in &pids {
            if ppid_of(c) == Some(p) {
                out.push(c);
                todo.push(c);
            }
        }
    }
    out
}

pub fn cmdline(pid: i32) -> String {
    String::from_utf8_lossy(&fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default())
        .replace('\0', " ")
}

/// `unshare --pid --fork --mount-proc` running `ferrite init --no-boot
/// --stop-timeout STOP_TIMEOUT --svdir SVDIR`, its output in `console`;
/// (unshare, init's pid in our namespace).
pub fn start_init(svdir: &Path, console: &Path, stop_timeout: u32) -> (Proc, i32) {
    let out = fs::File::create(console).unwrap();
    let child = Command::new("/usr/bin/unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(ferrite())
        .args(["init", "--no-boot", "--stop-timeout"])
        .arg(stop_timeout.to_string())
        .arg("--svdir")
        .arg(svdir)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let p = Proc {
        child,
        owned: vec![],
    };
    let mut init = 0;
    assert!(wait_until(Duration::from_secs(10), || {
        init = children_of(p.pid()).first().copied().unwrap_or(0);
        init != 0 && cmdline(init).contains("init --no-boot")
    }));
    (p, init)
}

/// A PID namespace whose init this test started: powered off (USR2) when
/// dropped, and killed (which ends the whole namespace) if it does not go.
pub struct NsInit {
    pub unshare: Proc,
    pub init: i32,
}

impl Drop for NsInit {
    fn drop(&mut self) {
        if self.unshare.child.try_wait().ok().flatten().is_some() {
            return;
        }
        unsafe { libc::kill(self.init, libc::SIGUSR2) };
        if self.unshare.wait_exit(Duration::from_secs(10)).is_none() {
            unsafe { libc::kill(self.init, libc::SIGKILL) };
            let _ = self.unshare.wait_exit(Duration::from_secs(5));
        }
    }
}
