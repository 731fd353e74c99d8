//! init as PID 1 of a fresh PID+mount namespace (`unshare --pid --fork
//! --mount-proc`): stage 2 (runsvdir, restarts, reaping) and stage 3
//! (services stopped, everything gone, poweroff ends the namespace).

mod common;
use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn prerequisites() -> bool {
    pidns_prerequisites()
}

/// init ends within `t` (`what` if it does not), and with it the
/// namespace: `unshare` ends by the signal `sig` (or 128 + it).
fn ends_by(unshare: &mut Proc, t: Duration, what: &str, sig: i32) {
    let st = unshare.wait_exit(t).expect(what);
    assert!(ended_by(st) == Some(sig), "unshare ended with {st:?}");
}

/// The console (the file `console` of `t`) says `what`.
fn console_says(t: &TempDir, what: &str) {
    let console = fs::read_to_string(t.join("console")).unwrap();
    assert!(console.contains(what), "{console}");
}

/// A tree `service` in a new temporary directory with the `scripts` (a
/// path below the tree, the script), and init (stop timeout 5 s, its
/// console in `console`) over it in a PID namespace: (the directory, the
/// tree, unshare, init's pid); None when the prerequisites are missing.
fn boot(tag: &str, scripts: &[(&str, &str)]) -> Option<(TempDir, PathBuf, Proc, i32)> {
    if !prerequisites() {
        return None;
    }
    let t = TempDir::new(tag);
    let svdir = t.join("service");
    for (path, body) in scripts {
        script(&svdir.join(path), body);
    }
    let (unshare, init) = start_init(&svdir, &t.join("console"), 5);
    Some((t, svdir, unshare, init))
}

#[test]
fn init_reaps_orphans_restarts_runsvdir_and_powers_off() {
    let Some((t, svdir, mut unshare, init)) = boot(
        "init-ns",
        &[
            // Orphans: each burst leaves 5 background children whose parent exits.
            (
                "orphans/run",
                "for i in 1 2 3 4 5; do (sleep 0.2 &); done\necho burst >> ../../bursts\nexec sleep 1",
            ),
            ("calm/run", "exec sleep 100"),
            // (finish runs in the service's directory, log/run in log/)
            ("calm/finish", "echo \"$1 $2\" > ../../calm-finished"),
            ("calm/log/run", "exec cat > ../../../calm-log"),
        ],
    ) else {
        return;
    };
    assert!(
        wait_until(T, || is_running(&svdir.join("calm"))),
        "services did not start"
    );
    assert!(wait_until(T, || fs::read_to_string(t.join("bursts"))
        .unwrap_or_default()
        .lines()
        .count()
        >= 3));
    // orphans re-parented to init are reaped: no zombie children of init
    std::thread::sleep(Duration::from_millis(500));
    let zombies: Vec<i32> = children_of(init)
        .into_iter()
        .filter(|&p| state_of_proc(p) == Some('Z'))
        .collect();
    assert!(zombies.is_empty(), "zombies left under init: {zombies:?}");

    // runsvdir killed: init starts a new one
    let rsd = children_of(init)
        .into_iter()
        .find(|&p| cmdline(p).starts_with("runsvdir"))
        .expect("runsvdir");
    unsafe { libc::kill(rsd, libc::SIGKILL) };
    assert!(
        wait_until(T, || children_of(init)
            .into_iter()
            .any(|p| p != rsd && cmdline(p).starts_with("runsvdir"))),
        "runsvdir not restarted"
    );

    // SIGUSR2: stage 3 runs finish scripts, ends every process, powers off
    let tree = descendants(init);
    assert!(!tree.is_empty());
    unsafe { libc::kill(init, libc::SIGUSR2) };
    // reboot(RB_POWER_OFF) in a PID namespace ends its init with SIGINT
    ends_by(
        &mut unshare,
        Duration::from_secs(20),
        "init did not end the namespace",
        libc::SIGINT,
    );
    assert_eq!(
        fs::read_to_string(t.join("calm-finished")).unwrap(),
        "-1 15\n"
    );
    for p in tree {
        assert!(
            !Path::new(&format!("/proc/{p}")).exists(),
            "process {p} survived shutdown"
        );
    }
    console_says(&t, "ferrite init: power off: stopping services");
}

#[test]
fn reboot_applet_and_stubborn_services() {
    // ignores TERM: stage 3 must escalate to KILL after the stop timeout
    let stubborn = ("stubborn/run", "trap '' TERM\nwhile :; do sleep 0.1; done");
    let Some((t, svdir, mut unshare, init)) = boot("init-reboot", &[stubborn]) else {
        return;
    };
    assert!(wait_until(T, || is_running(&svdir.join("stubborn"))));
    // `reboot` inside the namespace signals its PID 1
    let st = Command::new("/usr/bin/nsenter")
        .args(["-t", &init.to_string(), "-p", "-m"])
        .arg(ferrite())
        .arg("reboot")
        .status()
        .unwrap();
    assert!(st.success());
    // RB_AUTOBOOT in a PID namespace ends its init with SIGHUP
    let t30 = Duration::from_secs(30);
    ends_by(&mut unshare, t30, "init did not end", libc::SIGHUP);
    console_says(&t, "sending TERM to all processes");
}

#[test]
fn init_outside_pid1_never_reboots_the_host() {
    // Not PID 1 and not in a namespace: stage 3 only ends its own children and exits.
    let t = TempDir::new("init-plain");
    let svdir = t.join("service");
    script(&svdir.join("a/run"), "exec sleep 100");
    let out = fs::File::create(t.join("console")).unwrap();
    let child = Command::new(ferrite())
        .args(["init", "--no-boot", "--svdir"])
        .arg(&svdir)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let mut p = Proc {
        child,
        owned: vec![svdir.join("a/supervise")],
    };
    assert!(wait_until(T, || is_running(&svdir.join("a"))));
    let svc = pid_of(&svdir.join("a"));
    p.signal(libc::SIGTERM);
    let st = p
        .wait_exit(Duration::from_secs(15))
        .expect("init did not exit");
    assert_eq!(st.code(), Some(0));
    assert!(!Path::new(&format!("/proc/{svc}")).exists() || state_of_proc(svc) == Some('Z'));
    console_says(&t, "not PID 1: reboot requested, exiting");
}
