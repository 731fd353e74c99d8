//! `ra` on a LAN, in two network namespaces joined by a veth pair (root
//! only): a router namespace with forwarding on, its LAN address put there
//! by hand as fw would (`ip addr add ... preferred_lft valid_lft`), and a
//! host namespace that runs the kernel only. What the host's kernel does
//! with the RAs is the assertion: a SLAAC address, a default route, a
//! deprecated address; `tests/data/ra-probe.py` (python3) reads the RDNSS
//! and counts answers. Every namespace and process is the test's own and
//! goes when it ends.

mod common;
use common::*;
use std::fs;
use std::process::Stdio;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

fn probe_script() -> String {
    format!("{}/tests/data/ra-probe.py", env!("CARGO_MANIFEST_DIR"))
}

struct Lan {
    dir: TempDir,
    rt: Netns,
    host: Netns,
}

impl Lan {
    fn new(tag: &str) -> Option<Lan> {
        if !netns_prerequisites() || !require("python3", have_program("/usr/bin/python3")) {
            return None;
        }
        let dir = TempDir::new(&format!("ra-{tag}"));
        let rt = Netns::new(&format!("ar{tag}"));
        let host = Netns::new(&format!("ah{tag}"));
        for ns in [&rt, &host] {
            // no DAD: link-local addresses usable at once
            for kv in [
                "net.ipv6.conf.default.accept_dad=0",
                "net.ipv6.conf.all.accept_dad=0",
            ] {
                ns.run(&["sysctl", "-q", "-w", kv]);
            }
        }
        rt.run(&["sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1"]);
        rt.ip(&[
            "link", "add", "lr", "type", "veth", "peer", "name", "lh", "netns", &host.0,
        ]);
        rt.ip(&["link", "set", "lr", "up"]);
        Some(Lan { dir, rt, host })
    }

    /// The router's LAN address, as fw would put it there.
    fn lan_address(&self, verb: &str, preferred: u32, valid: u32) {
        let (p, v) = (preferred.to_string(), valid.to_string());
        self.rt.ip(&[
            "addr",
            verb,
            "2001:db8:1:1::1/64",
            "dev",
            "lr",
            "preferred_lft",
            &p,
            "valid_lft",
            &v,
        ]);
    }

    /// An uplink with a default route: the router is a default router.
    fn default_route(&self) {
        self.rt.veth("u0", "u1");
        self.rt
            .ip(&["addr", "add", "2001:db8:ff::1/64", "dev", "u0", "nodad"]);
        self.rt.ip(&["link", "set", "u0", "up"]);
        self.rt.ip(&[
            "-6",
            "route",
            "add",
            "default",
            "via",
            "2001:db8:ff::2",
            "dev",
            "u0",
        ]);
    }

    fn ra(&self, args: &[&str]) -> Proc {
        let log = fs::File::create(self.dir.join("ra.log")).unwrap();
        let child = self
            .rt
            .exec()
            .arg(ferrite())
            .args(["ra", "-v", "-i", "lr"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Proc {
            child,
            owned: Vec::new(),
        }
    }

    fn log(&self) -> String {
        text_of(&self.dir.join("ra.log"))
    }

    /// The host's link up, with its link-local address (it can solicit).
    fn host_up(&self) {
        self.host.ip(&["link", "set", "lh", "up"]);
        let ll = || {
            self.host
                .output(&["ip", "-6", "addr", "show", "dev", "lh", "scope", "link"])
                .contains("fe80::")
        };
        assert!(wait_until(T, ll), "the host has no link-local address");
    }

    fn host_addresses(&self) -> String {
        self.host
            .output(&["ip", "-6", "addr", "show", "dev", "lh", "scope", "global"])
    }

    fn host_default_route(&self) -> String {
        self.host.output(&["ip", "-6", "route", "show", "default"])
    }

    /// `ra-probe.py lh ARGS` in the host namespace: its stdout.
    fn probe(&self, args: &[&str]) -> String {
        let s = probe_script();
        let out = self
            .host
            .exec()
            .args(["python3", s.as_str(), "lh"])
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        String::from_utf8_lossy(&out.stdout).into_owned() + &err
    }
}

/// How long `cond` took to hold, at most `t`.
fn time_until(t: Duration, cond: impl FnMut() -> bool) -> Option<Duration> {
    let t0 = Instant::now();
    wait_until(t, cond).then(|| t0.elapsed())
}

#[test]
fn a_lan_host_gets_slaac_dns_deprecation_and_the_goodbye() {
    let Some(lan) = Lan::new("s") else { return };
    lan.lan_address("add", 3600, 7200);
    lan.default_route();
    let mut ra = lan.ra(&[]);
    assert!(
        wait_until(T, || lan.log().contains("RA to ff02::1")),
        "no RA at start: {}",
        lan.log()
    );
    // the host's kernel solicits at link up and is answered
    lan.host_up();
    let took = time_until(T, || lan.host_addresses().contains("2001:db8:1:1:"));
    assert!(
        took.is_some(),
        "no SLAAC address: {}\n{}",
        lan.host_addresses(),
        lan.log()
    );
    eprintln!("link up -> SLAAC address: {:?}", took.unwrap());
    assert!(
        wait_until(T, || lan.host_default_route().contains("via fe80::")),
        "no default route via the router: {}",
        lan.host_default_route()
    );
    // what a solicitation gets: the prefix, the router's own address as DNS
    let got = lan.probe(&["solicit", "3"]);
    assert!(got.contains("lifetime=1800 flags= "), "{got}");
    assert!(got.contains("prefixes=2001:db8:1:1::/64/"), "{got}");
    assert!(got.contains("rdnss=2001:db8:1:1::1@1800"), "{got}");
    // fw deprecates the prefix: the host's address is deprecated at once
    // (the test waits out MIN_DELAY_BETWEEN_RAS after the RA at start first:
    // within it, RFC 4861 holds the RA back up to 3 s)
    std::thread::sleep(Duration::from_secs(3));
    lan.lan_address("change", 0, 7200);
    let took = time_until(Duration::from_secs(5), || {
        lan.host_addresses().contains("deprecated")
    });
    assert!(
        took.is_some(),
        "the host's address is not deprecated: {}\n{}",
        lan.host_addresses(),
        lan.log()
    );
    eprintln!(
        "preferred_lft 0 on the router -> deprecated on the host: {:?}",
        took.unwrap()
    );
    // stop: a last RA with router lifetime 0, and the host drops the route
    ra.signal(libc::SIGTERM);
    let st = ra.wait_exit(T).expect("ra did not stop");
    assert!(st.success(), "{st:?}");
    assert!(lan.log().contains("router lifetime 0"), "{}", lan.log());
    assert!(
        wait_until(Duration::from_secs(3), || lan
            .host_default_route()
            .is_empty()),
        "the default route stays: {}",
        lan.host_default_route()
    );
}

#[test]
fn no_prefix_no_ra_until_one_comes() {
    let Some(lan) = Lan::new("n") else { return };
    let mut ra = lan.ra(&["--rdnss", "2001:db8::53", "--dnssl", "lan.example"]);
    assert!(
        wait_until(T, || lan.log().contains("nothing to advertise")),
        "{}",
        lan.log()
    );
    lan.host_up();
    // a bounded listen and a solicitation: silence
    let got = lan.probe(&["solicit", "2"]);
    assert!(got.contains("no RA"), "{got}");
    assert!(!lan.log().contains("RA to"), "{}", lan.log());
    assert!(
        !lan.host_addresses().contains("2001:"),
        "{}",
        lan.host_addresses()
    );
    assert!(ra.child.try_wait().unwrap().is_none(), "ra exited");
    // a prefix appears: at once an RA, with the servers given
    let listen = {
        let s = probe_script();
        lan.host
            .exec()
            .args(["python3", s.as_str(), "lh", "listen", "4"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    std::thread::sleep(Duration::from_millis(300));
    lan.lan_address("add", 600, 1200);
    let heard = String::from_utf8_lossy(&listen.wait_with_output().unwrap().stdout).into_owned();
    assert!(heard.contains("prefixes=2001:db8:1:1::/64/"), "{heard}");
    assert!(heard.contains("rdnss=2001:db8::53@1800"), "{heard}");
    assert!(heard.contains("dnssl=lan.example@1800"), "{heard}");
    assert!(
        heard.contains("lifetime=0 "),
        "no default route: not a default router: {heard}"
    );
    assert!(
        wait_until(T, || lan.host_addresses().contains("2001:db8:1:1:")),
        "{}",
        lan.host_addresses()
    );
    // the prefix goes: one goodbye, then silence again
    lan.rt
        .ip(&["addr", "del", "2001:db8:1:1::1/64", "dev", "lr"]);
    assert!(
        wait_until(Duration::from_secs(6), || lan
            .log()
            .matches("RA to ff02::1")
            .count()
            >= 2),
        "{}",
        lan.log()
    );
    let got = lan.probe(&["solicit", "2"]);
    assert!(got.contains("no RA"), "{got}");
    ra.signal(libc::SIGTERM);
    assert!(ra.wait_exit(T).is_some_and(|s| s.success()));
}

#[test]
fn hostile_solicitations_do_not_kill_it_and_answers_stay_bounded() {
    let Some(lan) = Lan::new("h") else { return };
    lan.lan_address("add", 3600, 7200);
    let mut ra = lan.ra(&[]);
    assert!(wait_until(T, || lan.log().contains("RA to ff02::1")));
    lan.host_up();
    assert!(wait_until(T, || lan
        .host_addresses()
        .contains("2001:db8:1:1:")));
    let got = lan.probe(&["flood", "500"]);
    eprintln!("flood: {got}");
    assert!(
        ra.child.try_wait().unwrap().is_none(),
        "ra died: {}",
        lan.log()
    );
    // a storm of valid solicitations: the answers stay bounded (10 unicast
    // per 3 s, then one multicast RA per 3 s; and the host kernel's own)
    std::thread::sleep(Duration::from_millis(3100));
    let got = lan.probe(&["storm", "500"]);
    let ras: usize = got
        .split_whitespace()
        .find_map(|w| w.strip_prefix("ras="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{got}"));
    eprintln!("storm: {got}");
    assert!((5..=16).contains(&ras), "{got}\n{}", lan.log());
    assert!(
        ra.child.try_wait().unwrap().is_none(),
        "ra died: {}",
        lan.log()
    );
    std::thread::sleep(Duration::from_secs(3));
    let got = lan.probe(&["solicit", "3"]);
    assert!(
        got.contains("prefixes=2001:db8:1:1::/64/"),
        "still answers: {got}"
    );
    ra.signal(libc::SIGTERM);
    assert!(ra.wait_exit(T).is_some_and(|s| s.success()));
}

/// Byte 44 of `supervise/status`: 2 once the service said it is ready.
fn ready_flag(dir: &std::path::Path) -> Option<u8> {
    fs::read(dir.join("supervise/status"))
        .ok()
        .and_then(|s| s.get(44).copied())
}

/// `ra_lr/run` a link to ferrite with `notification-fd` under our runsv in
/// the router namespace: the interface from the directory's name; ready
/// once the dump shows nothing to advertise, and once the first RA went out.
#[test]
fn as_ra_if_under_runsv_it_says_when_it_is_ready() {
    let Some(lan) = Lan::new("r") else { return };
    for with_prefix in [false, true] {
        if with_prefix {
            lan.lan_address("add", 3600, 7200);
        }
        let svc = lan.dir.join(&format!("svc{}/ra_lr", with_prefix as u8));
        fs::create_dir_all(&svc).unwrap();
        std::os::unix::fs::symlink(ferrite(), svc.join("run")).unwrap();
        fs::write(svc.join("notification-fd"), "3\n").unwrap();
        let child = lan
            .rt
            .exec()
            .arg(ferrite())
            .arg("runsv")
            .arg(&svc)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(lan.dir.join("runsv.stderr")).unwrap())
            .spawn()
            .unwrap();
        let mut runsv = Proc {
            child,
            owned: vec![svc.join("supervise")],
        };
        assert!(
            wait_until(T, || ready_flag(&svc) == Some(2)),
            "not ready (prefix: {with_prefix}): {:?} {}",
            ready_flag(&svc),
            text_of(&lan.dir.join("runsv.stderr"))
        );
        if with_prefix {
            lan.host_up();
            assert!(
                wait_until(T, || lan.host_addresses().contains("2001:db8:1:1:")),
                "{}",
                lan.host_addresses()
            );
        }
        runsv.signal(libc::SIGTERM);
        let _ = runsv.wait_exit(T);
    }
}
