//! The system side of PID 1: the signalfd, the three stages, the children.

use super::cli::{Options, STOP_TIMEOUT};
use crate::boot::{self, log};
use crate::shutdown::Ending;
use common::errtext::describe;
use common::poll::PollSet;
use common::sig::{self, SignalFd};
use rustix::process::Pid;
use std::ffi::OsString;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Between TERM and KILL for the processes that remain.
const KILL_GRACE: Duration = Duration::from_secs(2);
/// Retry period when runsvdir cannot be started at all.
const RETRY_SLOW: Duration = Duration::from_secs(5);

/// Whether this process is the machine's (or the PID namespace's) PID 1.
pub fn is_pid1() -> bool {
    rustix::process::getpid() == Pid::INIT
}

/// The path to start ourselves again under another applet name.
fn self_exe(argv0: &Path) -> PathBuf {
    match std::env::current_exe() {
        Ok(p) if p.exists() => p,
        _ => argv0.to_path_buf(),
    }
}

/// Descriptors 0, 1 and 2 open: the kernel may start init without a
/// console. open(2) returns the lowest free number, so each /dev/null
/// opened while it is below 3 fills a gap and is kept; the first one at 3
/// or above means none is missing and is closed again.
pub(crate) fn ensure_std_fds() {
    while let Ok(fd) = rustix::fs::open(
        c"/dev/null",
        rustix::fs::OFlags::RDWR,
        rustix::fs::Mode::empty(),
    ) {
        if fd.as_raw_fd() > 2 {
            break;
        }
        // it is 0, 1 or 2 from now on, for the whole life of PID 1
        std::mem::forget(fd);
    }
}

pub fn run(cfg: &Options, args: &[OsString], is_pid1: bool) -> i32 {
    ensure_std_fds();
    if std::env::var_os("PATH").is_none() {
        std::env::set_var("PATH", "/bin:/sbin:/usr/bin:/usr/sbin");
    }
    let signals = [
        libc::SIGCHLD,
        libc::SIGTERM,
        libc::SIGINT,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGHUP,
    ];
    let sigfd = loop {
        match SignalFd::new(&signals) {
            Ok(s) => break s,
            Err(e) => {
                log(&format!(
                    "cannot create signalfd: {}; retrying",
                    describe(&e)
                ));
                std::thread::sleep(RETRY_SLOW);
            }
        }
    };
    if is_pid1 {
        // Ctrl-Alt-Del becomes SIGINT to us instead of an instant reboot;
        // in a PID namespace this fails harmlessly.
        let _ = rustix::system::reboot(rustix::system::RebootCommand::CadOff);
    } else {
        // Orphans of our tree come to us, so that we can reap them.
        let _ = rustix::process::set_child_subreaper(Some(rustix::process::getpid()));
    }
    let exe = self_exe(Path::new(
        args.first().map(|a| a.as_os_str()).unwrap_or_default(),
    ));
    let mounted = if cfg.boot { stage1() } else { Vec::new() };
    let (ending, runsvdir) = stage2(cfg, &sigfd, &exe);
    stage3(cfg, &sigfd, ending, runsvdir, &mounted, is_pid1)
}

fn stage1() -> Vec<String> {
    log("booting");
    let mounted = boot::mount_basics();
    boot::set_hostname();
    boot::set_modprobe_path();
    let modules = Path::new("/etc/modules");
    let mut loader = if Path::new("/newroot").is_dir() {
        // a disk image's initramfs: its modules find and mount the disk
        boot::load_modules(modules);
        None
    } else {
        // the final root: nothing before the login needs the NIC's drivers
        boot::load_modules_beside(modules)
    };
    disk_root();
    boot::loopback_up();
    let hook = Path::new("/etc/ferrite/boot");
    if hook.is_file() {
        // the board's hook may use any module
        if let Some(pid) = loader.take() {
            let _ = rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty());
        }
    }
    boot::run_hook(hook);
    boot::install_services(
        Path::new(boot::SERVICE_SOURCE),
        Path::new(boot::SERVICE_LIVE),
    );
    mounted
}

/// The small initramfs of a disk image (it has `/newroot`; the disk's root
/// has not) with `root=` on the command line: become the disk root's init
/// (`early`). Returns only when that failed, and says why; boot then goes
/// on from the initramfs.
fn disk_root() {
    if !Path::new("/newroot").is_dir() {
        return;
    }
    // the image's words first: the kernel command line's win
    let words = [crate::early::IMAGE_WORDS, "/proc/cmdline"]
        .map(|f| {
            common::fsutil::read_text_checked(Path::new(f), 4096)
                .ok()
                .flatten()
                .unwrap_or_default()
        })
        .join(" ");
    if let Some(plan) = crate::early::plan(&words) {
        let why = crate::early::switch_root(&plan);
        log(&format!("cannot boot from the disk: {why}"));
    }
}

fn spawn_runsvdir(exe: &Path, svdir: &Path) -> std::io::Result<u32> {
    let mut cmd = Command::new(exe);
    cmd.arg0("runsvdir").arg("-P").arg(svdir);
    sig::clean_child(&mut cmd).spawn().map(|c| c.id())
}

fn emergency_shell() -> Option<u32> {
    let sh = Path::new("/bin/sh");
    if !sh.exists() {
        return None;
    }
    log("starting an emergency shell on the console");
    let mut cmd = Command::new(sh);
    sig::clean_child(&mut cmd).spawn().ok().map(|c| c.id())
}

/// Stage 2: keep runsvdir running, reap everything, wait for a shutdown signal.
fn stage2(cfg: &Options, sigfd: &SignalFd, exe: &Path) -> (Ending, u32) {
    let mut runsvdir: u32 = 0;
    let mut shell: u32 = 0;
    let mut last_start: Option<Instant> = None;
    let mut next_start = Instant::now();
    let mut poll = PollSet::new();
    loop {
        if runsvdir == 0 && Instant::now() >= next_start {
            last_start = Some(Instant::now());
            match spawn_runsvdir(exe, &cfg.svdir) {
                Ok(pid) => runsvdir = pid,
                Err(e) => {
                    log(&format!(
                        "cannot start runsvdir ({}): {}; retrying in {}s",
                        exe.display(),
                        describe(&e),
                        RETRY_SLOW.as_secs()
                    ));
                    if shell == 0 {
                        shell = emergency_shell().unwrap_or(0);
                    }
                    next_start = Instant::now() + RETRY_SLOW;
                }
            }
        }
        let timeout = (runsvdir == 0).then(|| next_start.saturating_duration_since(Instant::now()));
        poll.clear();
        let i = poll.add(sigfd.as_raw_fd());
        if let Err(e) = poll.wait(timeout) {
            log(&format!("poll: {}", describe(&e)));
            std::thread::sleep(Duration::from_millis(100));
        }
        if !poll.readable(i) {
            continue;
        }
        for s in sigfd.read_all() {
            if let Some(ending) = Ending::from_signal(s) {
                return (ending, runsvdir);
            }
        }
        // SIGCHLD, and a sweep after any wake-up: reap every child there is.
        while let Some((pid, st)) = sig::reap_any() {
            if pid as u32 == runsvdir && runsvdir != 0 {
                runsvdir = 0;
                log(&format!(
                    "runsvdir exited (code {}, signal {}); restarting",
                    st.code, st.signal
                ));
                // at most once a second
                next_start = last_start.map_or(Instant::now(), |t| t + Duration::from_secs(1));
            } else if pid as u32 == shell && shell != 0 {
                shell = 0;
            }
        }
    }
}

/// Pids of our children (processes whose parent is us), from /proc.
fn children() -> Vec<i32> {
    let me = rustix::process::getpid().as_raw_nonzero().get();
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let ppid = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.split_whitespace().nth(1))
            .and_then(|s| s.parse::<i32>().ok());
        if ppid == Some(me) {
            out.push(pid);
        }
    }
    out
}

/// Reap until no child is left or `timeout` passes; true when none is left.
fn reap_until_none(sigfd: &SignalFd, timeout: Duration) -> bool {
    let start = Instant::now();
    let end = start.checked_add(timeout).unwrap_or(start + STOP_TIMEOUT);
    let mut poll = PollSet::new();
    loop {
        while sig::reap_any().is_some() {}
        if sig::no_children() {
            return true;
        }
        let now = Instant::now();
        if now >= end {
            return false;
        }
        poll.clear();
        poll.add(sigfd.as_raw_fd());
        let _ = poll.wait(Some((end - now).min(Duration::from_millis(100))));
        let _ = sigfd.read_all();
    }
}

/// Signal every process left: all of them when we are PID 1, else our children.
fn signal_rest(sig_no: i32, is_pid1: bool) {
    if is_pid1 {
        // every process we may signal except ourselves (we are PID 1)
        let _ = sig::kill_all(sig_no);
    } else {
        for pid in children() {
            sig::kill(pid, sig_no);
        }
    }
}

/// Stage 3: stop services, then every process, sync, unmount, reboot(2).
fn stage3(
    cfg: &Options,
    sigfd: &SignalFd,
    ending: Ending,
    runsvdir: u32,
    mounted: &[String],
    is_pid1: bool,
) -> i32 {
    log(&format!("{}: stopping services", ending.verb()));
    if runsvdir != 0 {
        // runsvdir exits at once on TERM and leaves the runsv processes to us.
        sig::kill(runsvdir as i32, libc::SIGTERM);
    }
    stop_services(&cfg.svdir);
    hang_up_terminals(is_pid1);
    if !reap_until_none(sigfd, cfg.stop_timeout) {
        log("services still running: sending TERM to all processes");
        signal_rest(libc::SIGTERM, is_pid1);
        signal_rest(libc::SIGCONT, is_pid1);
        if !reap_until_none(sigfd, KILL_GRACE) {
            log("sending KILL to all processes");
            signal_rest(libc::SIGKILL, is_pid1);
            reap_until_none(sigfd, KILL_GRACE);
        }
    }
    rustix::fs::sync();
    if cfg.boot {
        unmount_all(mounted);
    }
    if !is_pid1 {
        log(&format!("not PID 1: {} requested, exiting", ending.verb()));
        return 0;
    }
    log(ending.verb());
    // on success it does not return
    let e = rustix::system::reboot(ending.reboot_command())
        .err()
        .unwrap_or(rustix::io::Errno::INVAL);
    let e = std::io::Error::from(e);
    log(&format!("reboot(2) failed: {}; halting here", describe(&e)));
    loop {
        std::thread::sleep(Duration::from_secs(3600));
        while sig::reap_any().is_some() {}
    }
}

/// A login shell ignores TERM, so `x` to its getty service would leave it
/// running until the stop timeout. Do what a terminal hangup does: HUP (and
/// CONT) to every session leader that has a controlling terminal. Only as
/// PID 1 of a /proc that shows our own namespace.
fn hang_up_terminals(is_pid1: bool) {
    let ours = std::fs::read_to_string("/proc/self/stat")
        .is_ok_and(|s| s.split(' ').next() == Some(&std::process::id().to_string()));
    if !is_pid1 || !ours {
        return;
    }
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return;
    };
    let mut n = 0;
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if pid == 1 {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if session_leader_with_tty(&stat) {
            sig::kill(pid, libc::SIGHUP);
            sig::kill(pid, libc::SIGCONT);
            n += 1;
        }
    }
    if n > 0 {
        log(&format!("hung up {n} terminal session(s)"));
    }
}

/// From `/proc/PID/stat`: pid == session id and tty_nr != 0.
fn session_leader_with_tty(stat: &str) -> bool {
    let pid = stat.split(' ').next().unwrap_or("");
    // after the last ')' (comm may hold anything): state ppid pgrp session tty_nr
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return false;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    f.len() > 4 && f[3] == pid && f[4] != "0"
}

/// Send `x` to every service's runsv: it takes the service down, lets the
/// logger drain and exits.
fn stop_services(svdir: &Path) {
    let Ok(rd) = std::fs::read_dir(svdir) else {
        return;
    };
    for e in rd.flatten() {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let _ = supervisor::sv::send(&e.path(), "x");
    }
}

fn unmount_all(mounted: &[String]) {
    for target in mounted.iter().rev() {
        if let Err(e) = rustix::mount::unmount(target.as_str(), rustix::mount::UnmountFlags::DETACH)
        {
            let e = std::io::Error::from(e);
            log(&format!("cannot unmount {target}: {}", describe(&e)));
        }
    }
    // remounting / read-only so the disk is clean
    let _ = rustix::mount::mount_remount(c"/", rustix::mount::MountFlags::RDONLY, c"");
}

#[cfg(test)]
mod tests {
    use super::session_leader_with_tty;

    #[test]
    fn session_leaders_on_a_terminal() {
        // a login shell on ttyS0 (4:64 = 1088), its session its own pid
        assert!(session_leader_with_tty(
            "212 (sh) S 180 212 212 1088 212 4194560 0 0"
        ));
        // a daemon: no terminal
        assert!(!session_leader_with_tty("90 (runsv) S 80 90 90 0 -1 0"));
        // a child in the shell's session, not its leader; a comm with ") 1 1 1 5"
        assert!(!session_leader_with_tty(
            "213 (cat) S 212 213 212 1088 213 0"
        ));
        assert!(!session_leader_with_tty("214 (x) 1 1 1 5) S 1 214 214 0 0"));
        assert!(!session_leader_with_tty("garbage"));
    }
}
