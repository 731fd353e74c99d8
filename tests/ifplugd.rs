//! ifplugd in a network namespace: carrier changes from netlink reach the
//! handler (or the dhcp_IF service) within milliseconds, with debounce.

mod common;
use common::*;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

/// A namespace whose `eth0` has its cable (the veth peer `cable`) in, and
/// a temporary directory, both tagged `tag`; None when the prerequisites
/// are missing.
fn lab(tag: &str) -> Option<(Netns, TempDir)> {
    if !netns_prerequisites() {
        return None;
    }
    let n = Netns::new(&format!("ip{tag}"));
    n.veth("eth0", "cable");
    Some((n, TempDir::new(&format!("ifplugd-{tag}"))))
}

/// A handler script that appends FIELDS (`$1 $2`: interface and event) to
/// a file: its path, and a reader of what it recorded so far.
fn recorder(t: &TempDir, fields: &str) -> (PathBuf, impl Fn() -> String) {
    let log = t.join("events");
    let handler = t.join("handler");
    script(&handler, &format!("echo \"{fields}\" >> {}", log.display()));
    (handler, move || text_of(&log))
}

/// Our ifplugd in `n` with `args`, which end in `-r`, and a `recorder`
/// handler of `fields`: the daemon, and the reader of what it recorded.
fn ifplugd(n: &Netns, t: &TempDir, args: &[&str], fields: &str) -> (Guard, impl Fn() -> String) {
    let (handler, events) = recorder(t, fields);
    let mut cmd = n.exec();
    cmd.arg(applet("ifplugd")).args(args).arg(&handler);
    (Guard(cmd.stderr(Stdio::null()).spawn().unwrap()), events)
}

fn cable(n: &Netns, up: bool) {
    n.ip(&["link", "set", "cable", if up { "up" } else { "down" }]);
}

#[test]
fn handler_sees_pull_and_replug_in_milliseconds() {
    let Some((n, t)) = lab("h") else { return };
    let args = ["-n", "-i", "eth0", "-u0", "-d0", "-x", "extra", "-r"];
    let (_d, events) = ifplugd(&n, &t, &args, "$1 $2 $3");
    // ifplugd brought eth0 up (no -a); with the cable in, "up" at start
    assert!(
        wait_until(T, || events() == "eth0 up extra\n"),
        "{:?}",
        events()
    );
    let t0 = Instant::now();
    cable(&n, false);
    assert!(
        wait_until(T, || events().ends_with("eth0 down extra\n")),
        "{:?}",
        events()
    );
    let down = t0.elapsed();
    std::thread::sleep(Duration::from_millis(1100));
    let t1 = Instant::now();
    cable(&n, true);
    assert!(
        wait_until(T, || events().ends_with("eth0 up extra\n")
            && events().lines().count() == 3),
        "{:?}",
        events()
    );
    let up = t1.elapsed();
    eprintln!("pull seen after {down:?}, replug after {up:?}");
    assert!(
        down < Duration::from_millis(1500) && up < Duration::from_millis(1500),
        "{down:?} {up:?}"
    );
}

#[test]
fn debounce_hides_a_short_flap() {
    let Some((n, t)) = lab("d") else { return };
    let (_d, events) = ifplugd(&n, &t, &["-n", "-i", "eth0", "-u1", "-d3", "-r"], "$2");
    assert!(wait_until(T, || events() == "up\n"));
    cable(&n, false);
    std::thread::sleep(Duration::from_millis(1200));
    cable(&n, true);
    std::thread::sleep(Duration::from_millis(4000));
    assert_eq!(events(), "up\n", "a flap shorter than -d was reported");
    cable(&n, false);
    assert!(wait_until(T, || events() == "up\ndown\n"), "{:?}", events());
}

#[test]
fn native_mode_ups_and_downs_dhcp_service() {
    let Some((n, t)) = lab("n") else { return };
    let svc = t.join("dhcp_eth0");
    script(&svc.join("run"), "exec sleep 100");
    fs::write(svc.join("down"), "").unwrap();
    let _r = start_runsv(&svc);
    assert!(wait_until(T, || state_of(&svc) == Some(0)));
    let _d = Guard(
        n.exec()
            .arg(applet("ifplugd"))
            .args(["-n", "-i", "eth0", "-u0", "-d0"])
            .env("SVDIR", t.path())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(wait_until(T, || is_running(&svc)), "dhcp_eth0 not upped");
    cable(&n, false);
    assert!(
        wait_until(T, || state_of(&svc) == Some(0)),
        "dhcp_eth0 not downed"
    );
    std::thread::sleep(Duration::from_millis(1100));
    cable(&n, true);
    assert!(
        wait_until(T, || is_running(&svc)),
        "dhcp_eth0 not upped again"
    );
}

#[test]
fn missing_interface() {
    fails_with(
        Command::new(applet("ifplugd")).args(["-n", "-i", "nosuch0", "-r", "/bin/true"]),
        1,
        "interface nosuch0 does not exist (use -M to wait for it)",
    );
}

#[test]
fn may_disappear_waits_for_the_interface_and_follows_it() {
    // -M: started before its interface exists; the link appearing with the
    // cable in is "up", the link deleted is "down", and ifplugd goes on.
    let Some((n, t)) = lab("m") else { return };
    let args = ["-n", "-M", "-i", "late0", "-u0", "-d0", "-r"];
    let (mut d, events) = ifplugd(&n, &t, &args, "$1 $2");
    std::thread::sleep(Duration::from_millis(300));
    assert!(d.0.try_wait().unwrap().is_none(), "ifplugd -M exited");
    assert_eq!(events(), "", "no event before the interface exists");
    n.veth("late0", "late1");
    // ifplugd ups late0 itself (no -a), the carrier follows
    assert!(wait_until(T, || events() == "late0 up\n"), "{:?}", events());
    n.ip(&["link", "del", "late0"]);
    assert!(
        wait_until(T, || events() == "late0 up\nlate0 down\n"),
        "{:?}",
        events()
    );
    assert!(
        d.0.try_wait().unwrap().is_none(),
        "ifplugd -M exited when the link went"
    );
}

#[test]
fn without_n_it_goes_to_the_background_as_busybox_does() {
    // `ifplugd -i IF -r PROG` from an rc script: the command returns 0 at
    // once (stdout let go), the daemon writes its pid file and keeps acting
    // on the cable until it is TERMed
    if !netns_prerequisites() {
        return;
    }
    let n = Netns::new("ipb");
    n.veth("bgplug0", "bgcable");
    let t = TempDir::new("ifplugd-bg");
    let (handler, events) = recorder(&t, "$1 $2");
    let pidfile = std::path::Path::new("/var/run/ifplugd.bgplug0.pid");
    let _ = fs::remove_file(pidfile);
    let (code, eof) = run_to_background(
        n.exec()
            .arg(applet("ifplugd"))
            .args(["-i", "bgplug0", "-u0", "-d0", "-r"])
            .arg(&handler)
            .stderr(Stdio::null()),
        T,
    );
    let pid = || -> i32 {
        fs::read_to_string(pidfile)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    };
    wait_until(T, || pid() > 0);
    let daemon = PidGuard(pid());
    assert_eq!(code, Some(0), "the foreground ifplugd returns 0");
    assert!(eof, "the daemon let go of the caller's stdout");
    assert!(daemon.alive(), "no daemon behind {}", pidfile.display());
    assert!(
        wait_until(T, || events() == "bgplug0 up\n"),
        "{:?}",
        events()
    );
    n.ip(&["link", "set", "bgcable", "down"]);
    assert!(
        wait_until(T, || events() == "bgplug0 up\nbgplug0 down\n"),
        "{:?}",
        events()
    );
    // BusyBox's way to end it: -k, through the pid file
    let (code, _, err) = run(Command::new(applet("ifplugd")).args(["-k", "-i", "bgplug0"]));
    assert_eq!(code, 0, "{err}");
    assert!(wait_until(T, || !daemon.alive()), "-k did not end it");
    assert!(!pidfile.exists(), "pid file left behind");
    // the link was already down: nothing more reported on the way out;
    // and -k finds nothing now
    assert_eq!(events(), "bgplug0 up\nbgplug0 down\n");
    fails_with(
        Command::new(applet("ifplugd")).args(["-k", "-i", "bgplug0"]),
        1,
        "no ifplugd running on bgplug0",
    );
}

#[test]
fn k_never_ends_a_stranger_named_by_a_stale_pid_file() {
    // Regression: -k sent TERM to whatever pid the file held.
    if !require("root (writes /var/run)", is_root()) {
        return;
    }
    let ifname = format!("stale{}", std::process::id() % 100_000);
    let pidfile = std::path::PathBuf::from(format!("/var/run/ifplugd.{ifname}.pid"));
    let mut stranger = Command::new("sleep").arg("100").spawn().unwrap();
    let _guard = PidGuard(stranger.id() as i32);
    std::fs::write(&pidfile, format!("{}\n", stranger.id())).unwrap();
    let (code, _, err) = run(Command::new(applet("ifplugd")).args(["-k", "-i", &ifname]));
    let _ = std::fs::remove_file(&pidfile);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no ifplugd running"), "{err}");
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        stranger.try_wait().unwrap().is_none(),
        "a stranger was ended"
    );
}
