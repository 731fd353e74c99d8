//! sv, svc, svok and chpst as processes against our runsv.

mod common;
use common::*;
use std::fs;
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(5);

fn tree(tag: &str) -> (TempDir, Proc) {
    let t = TempDir::new(tag);
    let svc = t.join("svc");
    // HUP ignored: `reload` must find it still running
    script(&svc.join("run"), "trap '' HUP\nexec sleep 100");
    script(&svc.join("log/run"), "exec cat > /dev/null");
    let r = start_runsv(&svc);
    assert!(wait_until(T, || is_running(&svc) && is_running(&svc.join("log"))));
    (t, r)
}

fn strip_secs(s: &str) -> String {
    // "(pid 123) 45s" -> "(pid N) Ns": times and pids vary between runs
    let mut out = String::new();
    for w in s.split(' ') {
        if !out.is_empty() {
            out.push(' ');
        }
        let digits = w.trim_end_matches(|c: char| !c.is_ascii_digit());
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&w.replacen(digits, "N", 1));
        } else {
            out.push_str(w);
        }
    }
    out
}

/// `sv ARGS` in the tree `t` exits `code` and says `want` (times and
/// pids as `strip_secs` leaves them).
fn sv_says(t: &TempDir, args: &[&str], code: i32, want: &str) {
    let (got, out, _) = sv(t.path(), args);
    assert_eq!((got, strip_secs(&out).as_str()), (code, want));
}

#[test]
fn status_lines_and_exit_codes() {
    let (t, _r) = tree("sv-status");
    let (code, out, _) = sv(t.path(), &["status", "svc"]);
    assert_eq!(code, 0);
    assert_eq!(
        strip_secs(&out),
        "run: svc: (pid N) Ns; run: log: (pid N) Ns\n"
    );
    // a path argument is taken as it is; a name is looked up under $SVDIR
    let (code, out, _) = run(Command::new(applet("sv")).arg("status").arg(t.join("svc")));
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with(&format!("run: {}: (pid ", t.join("svc").display())));
    fs::create_dir_all(t.join("nosup")).unwrap();
    let (code, out, _) = sv(t.path(), &["status", "svc", "missing", "nosup"]);
    assert_eq!(code, 2, "one failure per bad service");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[1],
        "fail: missing: unable to change to service directory: file does not exist"
    );
    assert_eq!(
        lines[2],
        "warning: nosup: unable to open supervise/ok: file does not exist"
    );
    // usage errors exit 100
    for args in [
        &["status"][..],
        &["bogus", "svc"],
        &["-z", "status", "svc"],
        &["-w"],
    ] {
        let (code, _, err) = sv(t.path(), args);
        assert_eq!(code, 100, "{args:?}");
        assert_eq!(err, "usage: sv [-v] [-w sec] command service ...\n\n");
    }
}

#[test]
fn lsb_commands_wait_and_report() {
    let (t, _r) = tree("sv-lsb");
    sv_says(&t, &["stop", "svc"], 0, "ok: down: svc: Ns, normally up\n");
    sv_says(&t, &["start", "svc"], 0, "ok: run: svc: (pid N) Ns\n");
    let before = pid_of(&t.join("svc"));
    let (code, out, _) = sv(t.path(), &["restart", "svc"]);
    assert_eq!(code, 0, "{out}");
    assert_ne!(pid_of(&t.join("svc")), before);
    sv_says(&t, &["check", "svc"], 0, "ok: run: svc: (pid N) Ns\n");
    sv_says(&t, &["reload", "svc"], 0, "ok: run: svc: (pid N) Ns\n");
    // a check script that fails makes start time out
    script(&t.join("svc/check"), "exit 1");
    sv_says(
        &t,
        &["-w", "1", "start", "svc"],
        1,
        "timeout: run: svc: (pid N) Ns\n",
    );
    fs::remove_file(t.join("svc/check")).unwrap();
    // shutdown: runsv exits
    let (code, out, _) = sv(t.path(), &["shutdown", "svc"]);
    assert_eq!((code, out.as_str()), (0, "ok: svc: runsv not running\n"));
    let (code, out, _) = sv(t.path(), &["status", "svc"]);
    assert_eq!((code, out.as_str()), (1, "fail: svc: runsv not running\n"));
}

#[test]
fn force_stop_kills_a_service_that_ignores_term() {
    let (t, svc) = service_dir("sv-force", "trap '' TERM\nwhile :; do sleep 0.05; done");
    let _r = start_runsv(&svc);
    assert!(wait_until(T, || is_running(&svc)));
    std::thread::sleep(Duration::from_millis(100));
    let (code, out, _) = sv(t.path(), &["-w", "1", "force-stop", "svc"]);
    assert_eq!(code, 1);
    assert_eq!(
        strip_secs(&out),
        "kill: run: svc: (pid N) Ns, want down, got TERM\n"
    );
    assert!(wait_until(T, || state_of(&svc) == Some(0)));
}

#[test]
fn svc_and_svok() {
    let (t, r) = tree("svc");
    let svok = |arg: &str| run(Command::new(applet("svok")).env("SVDIR", t.path()).arg(arg)).0;
    assert_eq!(svok("svc"), 0);
    fs::create_dir_all(t.join("idle")).unwrap();
    assert_eq!(svok("idle"), 100);
    assert_eq!(svok("nonexistent"), 111);
    let svc = |args: &[&str]| {
        run(Command::new(applet("svc"))
            .env("SVDIR", t.path())
            .args(args))
    };
    assert_eq!(svc(&["-d", "svc"]).0, 0);
    assert!(wait_until(T, || state_of(&t.join("svc")) == Some(0)));
    // a path works as well as a name
    assert_eq!(svc(&["-u", &t.join("svc").to_string_lossy()]).0, 0);
    assert!(wait_until(T, || is_running(&t.join("svc"))));
    assert_eq!(svc(&["-z", "svc"]).0, 100);
    assert_eq!(svc(&["-u"]).0, 100);
    let (code, _, err) = svc(&["-u", "idle"]);
    assert_eq!(code, 111);
    assert!(err.contains("unable to control idle"), "{err}");
    assert_eq!(svc(&["-x", "svc"]).0, 0);
    drop(r);
    assert_eq!(svok("svc"), 100);
}

#[test]
fn chpst_changes_process_state() {
    let t = TempDir::new("chpst");
    let env = t.join("env");
    fs::create_dir_all(&env).unwrap();
    fs::write(env.join("GREETING"), "hello  \nignored").unwrap();
    fs::write(env.join("REMOVED"), "").unwrap();
    let out = |cmd: &mut Command| run(cmd).1;
    let o = out(Command::new(applet("chpst")).env("REMOVED", "x").args([
        "-e",
        &env.to_string_lossy(),
        "sh",
        "-c",
        "echo \"$GREETING|${REMOVED-unset}\"",
    ]));
    assert_eq!(o, "hello|unset\n");
    let o = out(Command::new(applet("envdir"))
        .arg(&env)
        .args(["sh", "-c", "echo $GREETING"]));
    assert_eq!(o, "hello\n");
    let o = out(Command::new(applet("chpst")).args([
        "-o",
        "17",
        "-n",
        "5",
        "sh",
        "-c",
        "ulimit -n; cut -d' ' -f19 /proc/self/stat",
    ]));
    assert_eq!(o, "17\n5\n");
    let o = out(Command::new(applet("softlimit")).args(["-o", "19", "sh", "-c", "ulimit -n"]));
    assert_eq!(o, "19\n");
    let o =
        out(Command::new(applet("chpst")).args(["-U", ":1234:5678", "sh", "-c", "echo $UID $GID"]));
    assert_eq!(o, "1234 5678\n");
    let o = out(Command::new(applet("chpst")).args(["-b", "renamed", "sh", "-c", "echo $0"]));
    assert_eq!(o, "renamed\n");
    if is_root() {
        let o = out(Command::new(applet("chpst")).args(["-u", ":65534:65534", "id", "-u"]));
        assert_eq!(o, "65534\n");
        let o = out(Command::new(applet("setuidgid")).args(["nobody", "id", "-un"]));
        assert_eq!(o, "nobody\n");
    }
    let o = out(Command::new(applet("pgrphack")).args([
        "sh",
        "-c",
        "ps -o sid= -p $$ | tr -d ' '; echo $$",
    ]));
    let v: Vec<&str> = o.lines().collect();
    assert_eq!(v.len(), 2);
    assert_eq!(v[0], v[1], "pgrphack: not a session leader");
    // a held lock: -L fails at once with 111, setlock -nx exits 0 quietly
    let lock = t.join("lock");
    let mut holder = Command::new(applet("chpst"))
        .args(["-l", &lock.to_string_lossy(), "sleep", "100"])
        .spawn()
        .unwrap();
    assert!(wait_until(T, || lock.exists()));
    std::thread::sleep(Duration::from_millis(100));
    let (code, _, err) =
        run(Command::new(applet("chpst")).args(["-L", &lock.to_string_lossy(), "true"]));
    assert_eq!(code, 111, "{err}");
    assert!(err.contains("unable to lock"), "{err}");
    assert_eq!(
        run(Command::new(applet("setlock")).args(["-nx", &lock.to_string_lossy(), "false"])).0,
        0
    );
    holder.kill().unwrap();
    holder.wait().unwrap();
    // errors: bad option 100, unknown user 111, missing program 111
    assert_eq!(
        run(Command::new(applet("chpst")).args(["-Z", "true"])).0,
        100
    );
    fails_with(
        Command::new(applet("chpst")).args(["-u", "no-such-user-x", "true"]),
        111,
        "unknown user",
    );
    fails_with(
        Command::new(applet("chpst")).args(["/nonexistent/prog"]),
        111,
        "unable to run /nonexistent/prog: file does not exist",
    );
    // exit code of the program passes through
    assert_eq!(
        run(Command::new(applet("chpst")).args(["sh", "-c", "exit 42"])).0,
        42
    );
}

#[test]
fn multicall_dispatch() {
    let (code, out, _) = run(Command::new(ferrite()).arg("--list"));
    assert_eq!(code, 0);
    for a in [
        "runsv",
        "runsvdir",
        "sv",
        "svc",
        "svok",
        "chpst",
        "softlimit",
        "setuidgid",
        "envdir",
    ] {
        assert!(out.lines().any(|l| l == a), "{a} missing from --list");
    }
    // `ferrite APPLET ARGS` is the same as the applet link
    let (code, _, err) = run(Command::new(ferrite()).args(["runsv"]));
    assert_eq!((code, err.as_str()), (1, "usage: runsv dir\n"));
    let (code, _, err) = run(Command::new(ferrite()).args(["no-such-applet"]));
    assert_eq!(code, 100);
    assert!(err.contains("unknown applet"));
}

#[test]
fn sv_as_an_lsb_init_script() {
    let (t, _r) = tree("sv-lsb-link");
    let initd = t.join("init.d");
    fs::create_dir_all(&initd).unwrap();
    std::os::unix::fs::symlink(ferrite(), initd.join("svc")).unwrap();
    let script = |args: &[&str]| {
        run(Command::new(initd.join("svc"))
            .env("SVDIR", t.path())
            .args(args))
    };
    let (code, out, _) = script(&["status"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("run: svc: (pid "), "{out}");
    let (code, out, _) = script(&["stop"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("ok: down: svc: "), "{out}");
    assert_eq!(script(&["status"]).0, 3, "LSB: 3 when down");
    assert_eq!(script(&["-w", "5", "start"]).0, 0);
    assert_eq!(script(&["bogus"]).0, 2, "LSB: 2 on usage errors");
    assert_eq!(script(&[]).0, 2);
    // a service without a runsv: status unknown
    std::os::unix::fs::symlink(ferrite(), initd.join("idle")).unwrap();
    fs::create_dir_all(t.join("idle")).unwrap();
    let (code, _, _) = run(Command::new(initd.join("idle"))
        .env("SVDIR", t.path())
        .arg("status"));
    assert_eq!(code, 4);
}
