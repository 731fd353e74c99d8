//! Readiness as processes: services that say when they are ready through
//! `notification-fd` (s6's protocol) or `$NOTIFY_SOCKET` (`READY=1`), our
//! runsv recording it in `supervise/status`, and our `sv -w` waiting for it.

mod common;
use common::*;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const T: Duration = Duration::from_secs(5);
const PYTHON: &str = "/usr/bin/python3";

/// Byte 44 of `supervise/status`: 0 not used, 1 not ready, 2 ready.
fn ready_flag(dir: &Path) -> Option<u8> {
    fs::read(dir.join("supervise/status"))
        .ok()?
        .get(44)
        .copied()
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// The wall clock in nanoseconds, as the service wrote it to `path`.
fn stamp(path: &Path) -> u128 {
    text_of(path)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no stamp in {path:?}"))
}

/// "(pid 123) 4s; ready 0s" -> "(pid N) Ns; ready Ns"
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

/// A service `svc` (marked `down`, so that `sv up` starts it) with
/// `notification-fd` 3 and the run script `run`; its runsv.
fn notifying(tag: &str, run: &str) -> (TempDir, std::path::PathBuf, Proc) {
    let (t, svc) = service_dir(tag, run);
    fs::write(svc.join("notification-fd"), "3\n").unwrap();
    fs::write(svc.join("down"), "").unwrap();
    let r = start_runsv(&svc);
    assert!(wait_until(T, || state_of(&svc) == Some(0)));
    // read at runsv's start only; gone, the status line is runit's plain one
    fs::remove_file(svc.join("down")).unwrap();
    (t, svc, r)
}

#[test]
fn sv_w_up_returns_once_the_service_is_ready_and_not_before() {
    // ready 300 ms after its start; it writes the time it said so
    let (t, svc, _r) = notifying(
        "ready-300",
        "sleep 0.3\ndate +%s%N > ready-at\necho >&3\nexec sleep 100",
    );
    let (code, out, _) = sv(t.path(), &["-w", "5", "up", "svc"]);
    let returned = now_ns();
    assert_eq!(
        (code, norm(&out).as_str()),
        (0, "ok: run: svc: (pid N) Ns; ready Ns\n")
    );
    let ready = stamp(&svc.join("ready-at"));
    assert!(
        ready <= returned,
        "sv returned before the service was ready"
    );
    assert_eq!(ready_flag(&svc), Some(2));
    let (code, out, _) = sv(t.path(), &["status", "svc"]);
    assert_eq!(
        (code, norm(&out).as_str()),
        (0, "run: svc: (pid N) Ns; ready Ns\n")
    );
    // check: ready already, at once
    let (code, out, _) = sv(t.path(), &["-w", "5", "check", "svc"]);
    assert_eq!(
        (code, norm(&out).as_str()),
        (0, "ok: run: svc: (pid N) Ns; ready Ns\n")
    );
    // the ready time recorded is the service's moment (wall clock)
    let rec = fs::read(svc.join("supervise/status")).unwrap();
    let tai = u64::from_be_bytes(rec[48..56].try_into().unwrap());
    let nanos = u32::from_be_bytes(rec[56..60].try_into().unwrap());
    let unix_ns = (tai - (1 << 62) - 10) as u128 * 1_000_000_000 + nanos as u128;
    assert!(
        unix_ns >= ready && unix_ns <= returned,
        "ready time recorded"
    );
    let boot = u64::from_be_bytes(rec[60..68].try_into().unwrap());
    assert!(boot > 0, "boot-relative ready time");
}

#[test]
fn a_service_that_never_becomes_ready_times_out() {
    let (t, svc, _r) = notifying("never-ready", "exec sleep 100");
    let (code, out, _) = sv(t.path(), &["-w", "1", "up", "svc"]);
    assert_eq!(
        (code, norm(&out).as_str()),
        (1, "timeout: run: svc: (pid N) Ns; starting\n")
    );
    assert!(is_running(&svc));
    assert_eq!(ready_flag(&svc), Some(1));
    let (code, out, _) = sv(t.path(), &["status", "svc"]);
    assert_eq!(
        (code, norm(&out).as_str()),
        (0, "run: svc: (pid N) Ns; starting\n")
    );
    // two services, both waited for: the exit code counts the timeouts
    let (code, out, _) = sv(t.path(), &["-w", "1", "check", "svc", "svc"]);
    assert_eq!(code, 2, "{out}");
}

#[test]
fn end_of_file_on_the_pipe_means_never_ready() {
    // bytes without a newline, then the descriptor closed
    let (t, svc, r) = notifying(
        "eof",
        "printf 'almost' >&3\nexec 3>&-\ndate +%s%N > closed-at\nexec sleep 100",
    );
    assert_eq!(sv(t.path(), &["up", "svc"]).0, 0);
    assert!(wait_until(T, || svc.join("closed-at").exists()));
    let (code, out, _) = sv(t.path(), &["-w", "1", "up", "svc"]);
    assert_eq!(
        (code, norm(&out).as_str()),
        (1, "timeout: run: svc: (pid N) Ns; starting\n")
    );
    // the closed pipe is not polled again: runsv sleeps
    let woke = wakeups(r.pid(), Duration::from_millis(500));
    assert!(woke <= 2, "runsv woke {woke} times in 0.5 s after the EOF");
}

#[test]
fn a_restart_resets_readiness() {
    // ready only while the file `go` exists; counts its starts
    let (t, svc, _r) = notifying(
        "restart",
        "echo x >> starts\nif [ -e go ]; then date +%s%N > ready-at; echo >&3; fi\nexec sleep 100",
    );
    fs::write(svc.join("go"), "").unwrap();
    assert_eq!(sv(t.path(), &["-w", "5", "up", "svc"]).0, 0);
    assert_eq!(ready_flag(&svc), Some(2));
    let first = pid_of(&svc);
    fs::remove_file(svc.join("go")).unwrap();
    let (code, out, _) = sv(t.path(), &["-w", "1", "restart", "svc"]);
    assert_eq!(
        (code, norm(&out).as_str()),
        (1, "timeout: run: svc: (pid N) Ns; starting\n"),
        "the new run is not ready because the old one was"
    );
    assert_ne!(pid_of(&svc), first);
    assert_eq!(ready_flag(&svc), Some(1));
    fs::write(svc.join("go"), "").unwrap();
    let sent = now_ns();
    let (code, out, _) = sv(t.path(), &["-w", "5", "restart", "svc"]);
    let returned = now_ns();
    assert_eq!(
        (code, norm(&out).as_str()),
        (0, "ok: run: svc: (pid N) Ns; ready Ns\n")
    );
    let ready = stamp(&svc.join("ready-at"));
    assert!(sent <= ready && ready <= returned);
    assert_eq!(lines_of(&svc.join("starts")).len(), 3);
}

#[test]
fn a_bad_notification_fd_is_refused_and_the_service_runs_without_it() {
    // 1 would replace stdout, the log pipe
    let (t, svc) = service_dir("fd1", "exec sleep 100");
    script(&svc.join("log/run"), "exec cat > /dev/null");
    fs::write(svc.join("notification-fd"), "1\n").unwrap();
    let _r = start_runsv(&svc);
    assert!(wait_until(T, || is_running(&svc)));
    assert!(
        wait_until(T, || stderr_of(&svc).contains(
            "notification-fd 1 would replace stdout (the log pipe): use 3 or more"
        )),
        "{}",
        stderr_of(&svc)
    );
    assert!(stderr_of(&svc).contains("readiness not used"));
    assert_eq!(ready_flag(&svc), Some(0));
    let (code, out, _) = sv(t.path(), &["-w", "5", "up", "svc"]);
    assert_eq!(
        (code, norm(&out).as_str()),
        (0, "ok: run: svc: (pid N) Ns\n")
    );
}

#[test]
fn the_log_service_can_say_it_is_ready_too() {
    let (t, svc) = service_dir("log-ready", "exec sleep 100");
    script(
        &svc.join("log/run"),
        "echo \"fd $FERRITE_READY_FD\" > fd\necho >&3\nexec cat > /dev/null",
    );
    fs::write(svc.join("log/notification-fd"), "3").unwrap();
    let _r = start_runsv(&svc);
    assert!(wait_until(T, || ready_flag(&svc.join("log")) == Some(2)));
    assert_eq!(text_of(&svc.join("log/fd")), "fd 3\n");
    assert_eq!(ready_flag(&svc), Some(0));
    let (code, out, _) = sv(t.path(), &["status", "svc"]);
    assert_eq!(
        (code, norm(&out).as_str()),
        (0, "run: svc: (pid N) Ns; run: log: (pid N) Ns; ready Ns\n")
    );
}

/// Python that sends `msg` to `$NOTIFY_SOCKET` (`@` = abstract) after `delay` s.
fn sender(msg: &str, delay: &str) -> String {
    format!(
        "{PYTHON} -c 'import os, socket, time
time.sleep({delay})
a = os.environ[\"NOTIFY_SOCKET\"]
a = \"\\0\" + a[1:] if a.startswith(\"@\") else a
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b\"{msg}\", a)'"
    )
}

#[test]
fn ready_1_on_the_notify_socket() {
    if !require(
        "Debian package python3 (/usr/bin/python3)",
        have_program(PYTHON),
    ) {
        return;
    }
    // a grandchild of run says it, 300 ms after the start, among other lines
    let run = format!(
        "(sleep 0.3; date +%s%N > ready-at; {}) &\nexec sleep 100",
        sender("STATUS=warming up\\nREADY=1\\n", "0")
    );
    let (t, svc) = service_dir("notify-socket", &run);
    fs::write(svc.join("notify-socket"), "").unwrap();
    fs::write(svc.join("down"), "").unwrap();
    let _r = start_runsv(&svc);
    assert!(wait_until(T, || state_of(&svc) == Some(0)));
    fs::remove_file(svc.join("down")).unwrap();
    let sent = now_ns();
    let (code, out, _) = sv(t.path(), &["-w", "5", "up", "svc"]);
    let returned = now_ns();
    assert_eq!(
        (code, norm(&out).as_str()),
        (0, "ok: run: svc: (pid N) Ns; ready Ns\n")
    );
    let ready = stamp(&svc.join("ready-at"));
    assert!(
        sent < ready && ready <= returned,
        "sv returned before READY=1"
    );
    let env = fs::read(format!("/proc/{}/environ", pid_of(&svc))).unwrap();
    let env = String::from_utf8_lossy(&env);
    assert!(
        env.split('\0').any(|v| v.starts_with("NOTIFY_SOCKET=@")),
        "{env}"
    );
}

#[test]
fn ready_1_from_an_unrelated_process_is_ignored() {
    if !require(
        "Debian package python3 (/usr/bin/python3)",
        have_program(PYTHON),
    ) {
        return;
    }
    let (t, svc) = service_dir("notify-stranger", "exec sleep 100");
    fs::write(svc.join("notify-socket"), "").unwrap();
    let _r = start_runsv(&svc);
    assert!(wait_until(T, || is_running(&svc) && ready_flag(&svc) == Some(1)));
    let env = fs::read(format!("/proc/{}/environ", pid_of(&svc))).unwrap();
    let env = String::from_utf8_lossy(&env).into_owned();
    let addr = env
        .split('\0')
        .find_map(|v| v.strip_prefix("NOTIFY_SOCKET="))
        .expect("NOTIFY_SOCKET in the service's environment")
        .to_string();
    // this test's own child: not in the service's tree
    let (code, _, err) = run(Command::new("sh")
        .env("NOTIFY_SOCKET", &addr)
        .args(["-c", &sender("READY=1", "0")]));
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = sv(t.path(), &["-w", "1", "up", "svc"]);
    assert_eq!(
        (code, norm(&out).as_str()),
        (1, "timeout: run: svc: (pid N) Ns; starting\n")
    );
    assert_eq!(ready_flag(&svc), Some(1));
}

#[test]
fn odd_notification_files_neither_stop_nor_crash_runsv() {
    // as notification-fd a FIFO (whose open would block), a directory,
    // endless bytes, garbage: the service runs without readiness (the file
    // refused in one line, or unreadable as if absent), and sv -w says up.
    // (notify-socket is read for its presence only.)
    type Plant = fn(&Path);
    let odd: [(&str, Plant); 4] = [
        ("fifo", |p| {
            assert!(Command::new("mkfifo").arg(p).status().unwrap().success())
        }),
        ("directory", |p| fs::create_dir_all(p.join("x")).unwrap()),
        ("endless", |p| {
            std::os::unix::fs::symlink("/dev/zero", p).unwrap()
        }),
        ("garbage", |p| fs::write(p, [0xffu8; 100_000]).unwrap()),
    ];
    for (case, plant) in odd {
        let (t, svc) = service_dir(&format!("odd-{case}"), "exec sleep 100");
        plant(&svc.join("notification-fd"));
        let _r = start_runsv(&svc);
        assert!(
            wait_until(T, || is_running(&svc)),
            "{case}: {}",
            stderr_of(&svc)
        );
        let (code, out, _) = sv(t.path(), &["-w", "5", "check", "svc"]);
        assert_eq!(code, 0, "{case}: {out} {}", stderr_of(&svc));
        assert!(!stderr_of(&svc).contains("panicked"), "{case}");
    }
}

/// The events `sv timeline` prints for `name`: (event, detail) in order.
fn timeline_of(svdir: &Path, name: &str) -> Vec<(String, String)> {
    let (code, out, err) = sv(svdir, &["timeline"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("SERVICE "), "{out}");
    out.lines()
        .skip(1)
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (svc, ev, _ms) = (it.next()?, it.next()?, it.next()?);
            let detail: Vec<&str> = it.collect();
            (svc == name).then(|| (ev.to_string(), detail.join(" ")))
        })
        .collect()
}

#[test]
fn the_timeline_shows_spawn_ready_exit_and_restart_and_the_svg_has_every_row() {
    let (t, _svc, _r) = notifying("timeline", "sleep 0.2\necho >&3\nsleep 0.3\nexit 3");
    // a second service, with a logger
    let b = t.join("b");
    fs::create_dir_all(b.join("log")).unwrap();
    script(&b.join("run"), "exec sleep 100");
    script(&b.join("log/run"), "exec cat > /dev/null");
    let _rb = start_runsv(&b);
    assert_eq!(sv(t.path(), &["up", "svc"]).0, 0);
    // started, ready after 0.2 s, exits 3 after 0.5 s, restarted 1 s after its start
    assert!(wait_until(T, || timeline_of(t.path(), "svc")
        .iter()
        .any(|(e, _)| e == "restarted")));
    let events = timeline_of(t.path(), "svc");
    let words: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(
        words[..4],
        ["spawned", "ready", "exited", "restarted"],
        "{events:?}"
    );
    assert!(events[0].1.contains("notifies readiness"), "{events:?}");
    assert!(events[2].1.ends_with("exit 3"), "{events:?}");
    let ready_after: u64 = events[1]
        .1
        .split(", ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{events:?}"));
    // the spawn is stamped once exec has succeeded, a little after the script began
    assert!((150..2000).contains(&ready_after), "{events:?}");
    assert_eq!(timeline_of(t.path(), "b")[0].0, "spawned");
    assert_eq!(timeline_of(t.path(), "b/log")[0].0, "spawned");
    // one service by name
    let (code, out, _) = sv(t.path(), &["timeline", "b"]);
    assert_eq!(code, 0);
    assert!(out.contains("\nb ") && !out.contains("\nsvc "), "{out}");
    // the picture: well-formed XML (python3's parser), a row per service and log
    let (code, svg, err) = sv(t.path(), &["timeline", "--svg"]);
    assert_eq!(code, 0, "{err}");
    if require("python3", have_program("/usr/bin/python3")) {
        let mut p = std::process::Command::new("python3")
            .args([
                "-c",
                "import sys, xml.etree.ElementTree as E\n\
                 r = E.fromstring(sys.stdin.read())\n\
                 print('\\n'.join(t.text or '' for t in r.iter('{http://www.w3.org/2000/svg}text')))",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        p.stdin.take().unwrap().write_all(svg.as_bytes()).unwrap();
        let o = p.wait_with_output().unwrap();
        assert!(o.status.success(), "not well-formed:\n{svg}");
        let texts = String::from_utf8_lossy(&o.stdout).to_string();
        for row in ["kernel", "svc", "b", "b/log"] {
            assert!(texts.lines().any(|l| l == row), "no row {row}: {texts}");
        }
    }
    assert_eq!(sv(t.path(), &["timeline", "-x"]).0, 100);
}
