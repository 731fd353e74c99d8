//! `APPLET --help` for every applet of `ferrite --list`: usage on stdout,
//! exit 0, at once, and nothing left running (a daemon that took `--help`
//! for an interface or a directory would go on, or go to the background).
//! `ferrite --help` and `ferrite --version` too.

mod common;
use common::*;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Applets whose `--help` is still being done: their results are printed,
/// not judged. Empty since every applet of issue 13 answers `--help`.
const KNOWN_PENDING: &[&str] = &[];

const BOUND: Duration = Duration::from_secs(5);

/// Processes whose environment holds `marker`: what a run left behind.
fn left_behind(marker: &str) -> Vec<i32> {
    let needle = marker.as_bytes();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.windows(needle.len()).any(|w| w == needle))
        })
        .collect()
}

/// Run `ferrite ARGS...` in a directory of its own with a bound; the exit
/// code (None: still running after BOUND, then killed), stdout, stderr,
/// and the pids of what it left running (killed too).
fn run_bounded(args: &[&str], tag: &str) -> (Option<i32>, String, String, Vec<i32>) {
    let dir = TempDir::new(&format!("help-{tag}"));
    let marker = format!("FERRITE_HELP_TEST={}-{tag}", std::process::id());
    let (key, value) = marker.split_once('=').unwrap();
    let mut child = Command::new(ferrite())
        .args(args)
        .current_dir(dir.path())
        .env(key, value)
        .env("SVDIR", dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ferrite runs");
    let start = Instant::now();
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if start.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (mut out, mut err) = (String::new(), String::new());
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let left = left_behind(&marker);
    for &pid in &left {
        // SAFETY: a signal to a process this run started (its marker)
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    (code, out, err, left)
}

/// What is wrong with `APPLET --help`, if anything.
fn judge(applet: &str) -> Result<(), String> {
    let (code, out, err, left) = run_bounded(&[applet, "--help"], applet);
    let first = err.lines().next().unwrap_or("");
    if code.is_none() {
        return Err(format!("still running after {BOUND:?}"));
    }
    if !left.is_empty() {
        return Err(format!("left processes running: {left:?}"));
    }
    if code != Some(0) {
        return Err(format!("exit {code:?}, stderr: {first}"));
    }
    if !out.to_lowercase().starts_with("usage:") {
        let line = out.lines().next().unwrap_or("");
        return Err(format!("stdout does not start with usage: {line:?}"));
    }
    Ok(())
}

#[test]
fn every_applet_prints_its_usage_on_help_and_exits_at_once() {
    let (code, list, _, _) = run_bounded(&["--list"], "list");
    assert_eq!(code, Some(0));
    let applets: Vec<&str> = list.lines().collect();
    assert!(applets.len() > 20, "{applets:?}");
    let mut failed = Vec::new();
    for applet in &applets {
        let pending = KNOWN_PENDING.contains(applet);
        match (judge(applet), pending) {
            (Ok(()), false) => {}
            (Ok(()), true) => println!("{applet}: passes; take it out of KNOWN_PENDING"),
            (Err(why), true) => println!("{applet}: pending: {why}"),
            (Err(why), false) => failed.push(format!("{applet}: {why}")),
        }
    }
    assert!(
        failed.is_empty(),
        "--help fails for:\n{}",
        failed.join("\n")
    );
    for p in KNOWN_PENDING {
        assert!(applets.contains(p), "{p} in KNOWN_PENDING is no applet");
    }
}

#[test]
fn ferrite_help_and_version() {
    let (code, out, _, _) = run_bounded(&["--help"], "ferrite-help");
    assert_eq!(code, Some(0));
    assert!(out.contains("usage: ferrite APPLET"), "{out}");
    assert!(out.contains("  init "), "the applet list: {out}");
    let (code, out, _, _) = run_bounded(&["--version"], "version");
    assert_eq!(code, Some(0));
    let line = out.lines().next().unwrap_or("");
    let version = concat!("ferrite ", env!("CARGO_PKG_VERSION"));
    assert!(
        line == version || line.starts_with(&format!("{version} (git ")),
        "{out}"
    );
    assert_eq!(out.lines().count(), 1, "{out}");
}

#[test]
fn init_help_starts_nothing_of_pid_1() {
    // the options are parsed first: --help wins wherever it stands, and
    // init neither blocks signals, mounts nor starts runsvdir
    let (code, out, err, left) =
        run_bounded(&["init", "--no-boot", "--svdir", "x", "--help"], "init");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("usage: init "), "{out}");
    assert!(out.contains("--stop-timeout"));
    assert!(err.is_empty(), "{err}");
    assert!(left.is_empty());
}

#[test]
fn modprobe_help_names_kmods_options() {
    for flag in ["--help", "-h"] {
        let (code, out, err, left) = run_bounded(&["modprobe", flag], "modprobe");
        assert_eq!(code, Some(0), "{err}");
        assert!(out.starts_with("usage: modprobe "), "{out}");
        for o in [
            "--dry-run",
            "--quiet",
            "--remove",
            "--all",
            "--dirname",
            "--set-version",
        ] {
            assert!(out.contains(o), "{o} missing: {out}");
        }
        assert!(err.is_empty(), "{err}");
        assert!(left.is_empty());
    }
    // without a module: kmod's message and exit code
    let (code, out, err, _) = run_bounded(&["modprobe"], "modprobe-none");
    assert_eq!((code, out.as_str()), (Some(1), ""));
    assert_eq!(err, "modprobe: ERROR: missing parameters. See -h.\n");
}

#[test]
fn dhcp6_and_odhcp6c_help_name_their_options() {
    for (applet, opts) in [
        (
            "odhcp6c",
            &[
                "-N try|force|none",
                "-P [PREFIX/]LEN",
                "-s SCRIPT",
                "-t SEC",
                "-k",
            ][..],
        ),
        (
            "dhcp6",
            &[
                "-N try|force|none",
                "--fw-dir",
                "--fw-service",
                "--state-dir",
            ][..],
        ),
    ] {
        let (code, out, err, left) = run_bounded(&[applet, "--help"], applet);
        assert_eq!(code, Some(0), "{err}");
        assert!(out.starts_with(&format!("usage: {applet} ")), "{out}");
        for o in opts {
            assert!(out.contains(o), "{o} missing: {out}");
        }
        assert!(left.is_empty());
    }
    // odhcp6c without an interface: the mistake and the usage, exit 1
    let (code, _, err, _) = run_bounded(&["odhcp6c"], "odhcp6c-none");
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with("odhcp6c: no interface given\nusage: odhcp6c "),
        "{err}"
    );
}

#[test]
fn ra_help_names_its_options() {
    let (code, out, err, left) = run_bounded(&["ra", "--help"], "ra");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("usage: ra "), "{out}");
    for o in [
        "-i IFACE",
        "--rdnss ADDR",
        "--dnssl DOMAIN",
        "--managed",
        "--other",
        "--lifetime SEC",
        "--interval [MIN,]MAX",
        "--mtu BYTES",
    ] {
        assert!(out.contains(o), "{o} missing: {out}");
    }
    assert!(left.is_empty());
    // without an interface (not in a ra_IF directory): the mistake, the usage, 1
    let (code, _, err, _) = run_bounded(&["ra"], "ra-none");
    assert_eq!(code, Some(1));
    assert!(err.starts_with("ra: no interface"), "{err}");
    assert!(err.contains("\nusage: ra "), "{err}");
    // out of range: named
    let (code, _, err, _) = run_bounded(&["ra", "-i", "lo", "--interval", "2000"], "ra-range");
    assert_eq!(code, Some(1));
    assert!(
        err.contains("--interval MAX") && err.contains("out of range"),
        "{err}"
    );
}
