//! Interop with Debian's runit: runit's `sv` drives our `runsv`, our `sv`
//! drives runit's `runsv`, and both print the same lines for the same state.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(5);
const RUNIT_SV: &str = "/usr/bin/sv";
const RUNIT_RUNSV: &str = "/usr/bin/runsv";

fn runit_present() -> bool {
    require(
        "Debian package runit (/usr/bin/sv, /usr/bin/runsv)",
        have_program(RUNIT_SV) && have_program(RUNIT_RUNSV),
    )
}

fn runit_sv(svdir: &Path, args: &[&str]) -> (i32, String, String) {
    run(Command::new(RUNIT_SV).env("SVDIR", svdir).args(args))
}

/// Seconds and pids vary: "(pid 123) 4s" -> "(pid N) Ns".
fn norm(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            while chars.peek().is_some_and(|c| c.is_ascii_digit()) {
                chars.next();
            }
            out.push('N');
        } else {
            out.push(c);
        }
    }
    out
}

fn service(t: &TempDir, name: &str) -> std::path::PathBuf {
    let svc = t.join(name);
    script(&svc.join("run"), "exec sleep 100");
    script(&svc.join("log/run"), "exec cat > /dev/null");
    svc
}

/// Run the same sequence of commands with both `sv`s against one supervisor,
/// asserting the same exit codes and (normalised) output.
fn same_answers(t: &TempDir, svc: &Path) {
    let both = |args: &[&str]| {
        let a = runit_sv(t.path(), args);
        let b = sv(t.path(), args);
        assert_eq!(
            (a.0, norm(&a.1)),
            (b.0, norm(&b.1)),
            "sv {args:?}: runit vs ferrite"
        );
        a
    };
    both(&["status", "svc"]);
    let (code, out, _) = runit_sv(t.path(), &["-w", "5", "down", "svc"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("ok: down: svc: "), "{out}");
    both(&["status", "svc"]);
    let (code, out, _) = sv(t.path(), &["-w", "5", "up", "svc"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("ok: run: svc: (pid "), "{out}");
    assert!(wait_until(T, || is_running(svc)));
    both(&["status", "svc"]);
    let pid = pid_of(svc);
    // runit's sv compares start times in whole seconds: a service started in
    // the same second as the restart counts as restarted already.
    std::thread::sleep(Duration::from_millis(1100));
    let (code, out, _) = runit_sv(t.path(), &["-w", "5", "restart", "svc"]);
    assert_eq!(code, 0, "{out}");
    assert_ne!(pid_of(svc), pid, "restart did not restart");
    let pid = pid_of(svc);
    let (code, out, _) = sv(t.path(), &["-w", "5", "restart", "svc"]);
    assert_eq!(code, 0, "{out}");
    assert_ne!(pid_of(svc), pid, "restart did not restart");
    assert!(wait_until(T, || is_running(svc)));
    // once, pause: flags in the status line
    assert_eq!(runit_sv(t.path(), &["once", "svc"]).0, 0);
    assert_eq!(sv(t.path(), &["pause", "svc"]).0, 0);
    assert!(wait_until(T, || status(svc).is_some_and(|s| s[16] == 1)));
    let (_, out, _) = both(&["status", "svc"]);
    assert!(out.contains(", paused, want down"), "{out}");
    assert_eq!(runit_sv(t.path(), &["cont", "svc"]).0, 0);
    assert_eq!(sv(t.path(), &["up", "svc"]).0, 0);
    both(&["status", "nonexistent"]);
    std::fs::create_dir_all(t.join("nosup")).unwrap();
    both(&["status", "nosup"]);
    both(&["bogus", "svc"]);
}

/// One implementation's sv (`sv`) drives the other's runsv (`runsv`):
/// the same answers as from both, then `exit` ends that runsv.
fn drives(tag: &str, runsv: &Path, sv: fn(&Path, &[&str]) -> (i32, String, String)) {
    let t = TempDir::new(tag);
    let svc = service(&t, "svc");
    let mut r = start_runsv_with(runsv, &svc);
    assert!(wait_until(T, || is_running(&svc) && is_running(&svc.join("log"))));
    same_answers(&t, &svc);
    let (code, out, _) = sv(t.path(), &["-w", "5", "exit", "svc"]);
    assert_eq!((code, out.as_str()), (0, "ok: svc: runsv not running\n"));
    assert_eq!(r.wait_exit(T).and_then(|s| s.code()), Some(0));
}

#[test]
fn runit_sv_drives_ferrite_runsv() {
    if runit_present() {
        drives("interop-ours", &applet("runsv"), runit_sv);
    }
}

#[test]
fn ferrite_sv_drives_runit_runsv() {
    if runit_present() {
        drives("interop-theirs", Path::new(RUNIT_RUNSV), sv);
    }
}

#[test]
fn one_lock_between_both_implementations() {
    if !runit_present() {
        return;
    }
    let t = TempDir::new("interop-lock");
    let svc = service(&t, "svc");
    let _r = start_runsv_with(Path::new(RUNIT_RUNSV), &svc);
    assert!(wait_until(T, || is_running(&svc)));
    let (code, _, err) = run(Command::new(applet("runsv")).arg(&svc));
    assert_eq!(code, 111, "ours started beside runit's: {err}");
    let t2 = TempDir::new("interop-lock2");
    let svc2 = service(&t2, "svc");
    let _r2 = start_runsv(&svc2);
    assert!(wait_until(T, || is_running(&svc2)));
    let (code, _, err) = run(Command::new(RUNIT_RUNSV).arg(&svc2));
    assert_eq!(code, 111, "runit's started beside ours: {err}");
}

#[test]
fn runit_sv_is_unchanged_against_a_service_that_uses_notification() {
    if !runit_present() {
        return;
    }
    // Our runsv appends readiness after byte 20 of supervise/status; runit's
    // sv reads 20 bytes and must behave as with any other service: status,
    // -w up and check say run (readiness is ours only), with the same line
    // as our sv minus our "; ready Ns" / "; starting".
    let t = TempDir::new("interop-ready");
    let svc = t.join("svc");
    script(&svc.join("run"), "sleep 0.3\necho >&3\nexec sleep 100");
    script(&svc.join("log/run"), "exec cat > /dev/null");
    std::fs::write(svc.join("notification-fd"), "3\n").unwrap();
    let _r = start_runsv(&svc);
    assert!(wait_until(T, || is_running(&svc)));
    let (code, out, _) = runit_sv(t.path(), &["status", "svc"]);
    assert_eq!(
        (code, norm(&out).as_str()),
        (0, "run: svc: (pid N) Ns; run: log: (pid N) Ns\n")
    );
    let (code, out, _) = runit_sv(t.path(), &["-w", "5", "up", "svc"]);
    assert_eq!(
        (code, norm(&out).as_str()),
        (0, "ok: run: svc: (pid N) Ns\n")
    );
    let (code, out, _) = runit_sv(t.path(), &["-w", "5", "check", "svc"]);
    assert_eq!(
        (code, norm(&out).as_str()),
        (0, "ok: run: svc: (pid N) Ns\n")
    );
    assert!(wait_until(T, || std::fs::read(
        svc.join("supervise/status")
    )
    .is_ok_and(|r| r.len() == 68 && r[44] == 2)));
    let (_, ours, _) = sv(t.path(), &["status", "svc"]);
    let (_, theirs, _) = runit_sv(t.path(), &["status", "svc"]);
    assert_eq!(norm(&ours).replacen("; ready Ns", "", 1), norm(&theirs));
    // down and up again with runit's sv (which returns once it runs, the
    // service not ready yet): ours then waits for the new run's readiness
    let (code, out, _) = runit_sv(t.path(), &["-w", "5", "down", "svc"]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = runit_sv(t.path(), &["-w", "5", "up", "svc"]);
    assert_eq!(
        (code, norm(&out).as_str()),
        (
            0,
            "ok: run: svc: (pid N) Ns
"
        )
    );
    let (code, out, _) = sv(t.path(), &["-w", "5", "check", "svc"]);
    assert_eq!(
        (code, norm(&out).as_str()),
        (0, "ok: run: svc: (pid N) Ns; ready Ns\n")
    );
}
