//! zcip on a shared link (a bridge in a namespace of its own): the second
//! host that wants an address already in use moves to another one; a flood
//! of other hosts' ARP neither stops its claim nor takes the address.

mod common;
use common::*;
use std::fs;
use std::process::{Command, Stdio};
use std::time::Duration;

fn ns(tag: &str) -> Netns {
    Netns::new(&format!("z{tag}"))
}

#[test]
fn a_taken_address_is_defended_and_the_newcomer_moves() {
    if !require("root (network namespaces)", is_root())
        || !require(
            "ip (iproute2)",
            have_program("/usr/sbin/ip") || have_program("/bin/ip"),
        )
    {
        return;
    }
    let t = TempDir::new("zcip");
    let (sw, a, b) = (ns("w"), ns("a"), ns("b"));
    ip(&["-n", &sw.0, "link", "add", "br0", "type", "bridge"]);
    ip(&["-n", &sw.0, "link", "set", "br0", "up"]);
    for (h, p) in [(&a, "pa"), (&b, "pb")] {
        ip(&[
            "link", "add", "eth0", "netns", &h.0, "type", "veth", "peer", "name", p, "netns", &sw.0,
        ]);
        ip(&["-n", &sw.0, "link", "set", p, "master", "br0"]);
        ip(&["-n", &sw.0, "link", "set", p, "up"]);
    }
    // a handler as scripts use it: the address goes on the interface
    let handler = |name: &str| {
        let p = t.join(&format!("handler-{name}"));
        script(
            &p,
            &format!(
                "echo \"$1 $ip\" >> {log}\ncase $1 in config) ip addr add $ip/16 dev $interface ;; deconfig) ip addr flush dev $interface ;; esac",
                log = t.join(&format!("events-{name}")).display()
            ),
        );
        p
    };
    let start = |h: &Netns, name: &str| {
        Guard(
            Command::new("ip")
                .args(["netns", "exec", &h.0])
                .arg(applet("zcip"))
                .args(["-f", "-r", "169.254.7.7", "eth0"])
                .arg(handler(name))
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    };
    let events =
        |name: &str| fs::read_to_string(t.join(&format!("events-{name}"))).unwrap_or_default();
    let _za = start(&a, "a");
    assert!(
        wait_until(Duration::from_secs(20), || events("a")
            .contains("config 169.254.7.7")),
        "a: {:?}",
        events("a")
    );
    let _zb = start(&b, "b");
    assert!(
        wait_until(Duration::from_secs(30), || events("b")
            .lines()
            .any(|l| l.starts_with("config "))),
        "b: {:?}",
        events("b")
    );
    let b_ip = events("b")
        .lines()
        .find_map(|l| l.strip_prefix("config "))
        .unwrap()
        .to_string();
    assert_ne!(b_ip, "169.254.7.7", "b took the address a holds");
    assert!(b_ip.starts_with("169.254."), "{b_ip}");
    assert_eq!(
        events("a"),
        "init \nconfig 169.254.7.7\n",
        "a was disturbed"
    );
    let out = Command::new("ip")
        .args(["-n", &b.0, "-4", "-o", "addr", "show", "dev", "eth0"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{b_ip}/16")));
}

#[test]
fn usage_and_bad_requests() {
    fails_with(
        Command::new(applet("zcip")).args(["-r", "10.0.0.1", "eth0", "/bin/true"]),
        1,
        "not an address in 169.254.1.0-169.254.254.255",
    );
    fails_with(
        Command::new(applet("zcip")).args(["nosuch0", "/bin/true"]),
        1,
        "interface nosuch0 does not exist",
    );
}

#[test]
fn without_f_it_goes_to_the_background_as_busybox_does() {
    if !require("root (network namespaces)", is_root()) || !require("ip (iproute2)", have_ip()) {
        return;
    }
    let t = TempDir::new("zcip-bg");
    let h = ns("g");
    ip(&[
        "-n", &h.0, "link", "add", "bgz0", "type", "veth", "peer", "name", "bgz1",
    ]);
    ip(&["-n", &h.0, "link", "set", "bgz1", "up"]);
    // the handler's parent is the daemon: its pid ends the test cleanly
    let handler = t.join("handler");
    let log = t.join("events");
    script(
        &handler,
        &format!("echo \"$1 $ip $PPID\" >> {}", log.display()),
    );
    let (code, eof) = run_to_background(
        h.exec()
            .arg(applet("zcip"))
            .args(["-r", "169.254.9.9", "bgz0"])
            .arg(&handler)
            .stderr(Stdio::null()),
        Duration::from_secs(10),
    );
    let events = || fs::read_to_string(&log).unwrap_or_default();
    assert!(
        wait_until(Duration::from_secs(20), || events()
            .contains("config 169.254.9.9 ")),
        "{:?}",
        events()
    );
    let pid: i32 = events()
        .lines()
        .last()
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let daemon = PidGuard(pid);
    assert_eq!(code, Some(0), "the foreground zcip returns 0");
    assert!(eof, "the daemon let go of the caller's stdout");
    assert!(daemon.alive(), "the daemon that ran the handler is gone");
    unsafe { libc::kill(daemon.0, libc::SIGTERM) };
    assert!(
        wait_until(Duration::from_secs(10), || !daemon.alive()),
        "TERM did not end it"
    );
    assert!(events().contains("\ndeconfig "), "{:?}", events());
}

#[test]
fn an_arp_flood_of_other_addresses_neither_stops_the_claim_nor_takes_it() {
    use common::lab::{mac_of, spawn_logged, ArpFlood};
    use std::net::Ipv4Addr;
    use std::time::Instant;
    if !require("root (network namespaces)", is_root()) || !require("ip (iproute2)", have_ip()) {
        return;
    }
    const IP: Ipv4Addr = Ipv4Addr::new(169, 254, 7, 7);
    let t = TempDir::new("zcip-flood");
    let (h, f) = (ns("h"), ns("f"));
    ip(&[
        "link", "add", "eth0", "netns", &h.0, "type", "veth", "peer", "name", "pf", "netns", &f.0,
    ]);
    ip(&["-n", &f.0, "link", "set", "pf", "up"]);
    let log = t.join("events");
    let handler = t.join("handler");
    script(
        &handler,
        &format!(
            "echo \"$1 $ip\" >> {}\ncase $1 in config) ip addr add $ip/16 dev $interface ;; deconfig) ip addr flush dev $interface ;; esac",
            log.display()
        ),
    );
    let events = || fs::read_to_string(&log).unwrap_or_default();
    let has_address = || {
        let out = h
            .exec()
            .args(["ip", "-4", "-o", "addr", "show", "dev", "eth0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).contains(&format!("{IP}/16"))
    };
    // other hosts of 169.254/16 asking, probing, announcing and answering,
    // from before zcip starts: its probes and announcements hear them all
    let flood = ArpFlood::start(
        &f,
        "pf",
        mac_of(&h, "eth0"),
        Ipv4Addr::new(169, 254, 0, 0),
        16,
        &[IP],
    );
    let start = Instant::now();
    let mut z = spawn_logged(
        h.exec()
            .arg(applet("zcip"))
            .args(["-f", "-v", "-r", &IP.to_string(), "eth0"])
            .arg(&handler),
        t.join("zcip.log"),
    );
    // three probes 1-2 s apart after up to 1 s, then 2 s: about 5-8 s
    assert!(
        wait_until(Duration::from_secs(30), || events()
            .contains(&format!("config {IP}"))),
        "no claim under the flood ({} frames sent): {:?}\n{}",
        flood.sent(),
        events(),
        z.log()
    );
    let claimed = start.elapsed();
    // the handler logs `config` before it adds the address: wait for that
    assert!(
        wait_until(Duration::from_secs(10), has_address),
        "the handler never added the address\n{}",
        z.log()
    );
    // the two announcements (2 s apart), then bound: the address stays,
    // checked every 100 ms for 6 s
    let held = Instant::now();
    while held.elapsed() < Duration::from_secs(6) {
        assert_eq!(
            events(),
            format!("init \nconfig {IP}\n"),
            "disturbed by the flood\n{}",
            z.log()
        );
        assert!(has_address(), "address gone\n{}", z.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = z.child.id() as i32;
    // utime and stime (stat fields 14 and 15)
    let [user, system] = [11, 12].map(|n| {
        stat_field(pid, n)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    });
    let term = Instant::now();
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert!(
        wait_until(Duration::from_secs(5), || z
            .child
            .try_wait()
            .unwrap()
            .is_some()),
        "SIGTERM not handled under the flood\n{}",
        z.log()
    );
    let stopped = term.elapsed();
    let sent = flood.sent();
    let flood_time = start.elapsed();
    drop(flood);
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    eprintln!(
        "zcip under an ARP flood: {sent} frames in {flood_time:?}; claimed {IP} {claimed:?} after the start, kept it 6 s more; SIGTERM to exit {stopped:?}; zcip CPU {} ms user + {} ms system (not asserted)",
        user * 1000 / ticks,
        system * 1000 / ticks
    );
    assert_eq!(events(), format!("init \nconfig {IP}\ndeconfig \n"));
    assert!(sent > 10_000, "not much of a flood: {sent}");
    assert!(stopped < Duration::from_secs(1), "{stopped:?}");
}
