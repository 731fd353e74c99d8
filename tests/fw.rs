//! fw in a network namespace: ipconf files (both forms) become addresses,
//! routes and resolv.conf; only differences are applied; a lost lease takes
//! its address and routes along; runsv's "once" gives exactly one more run.

mod common;
use common::*;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn prerequisites() -> bool {
    require("root (network namespaces)", is_root())
        && require(
            "ip (iproute2)",
            have_program("/usr/sbin/ip") || have_program("/bin/ip"),
        )
}

struct Ns(String);
impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.0])
            .stderr(Stdio::null())
            .status();
    }
}

fn ns(tag: &str) -> Ns {
    let name = format!("fefw{tag}{}", std::process::id() % 100000);
    let _ = Command::new("ip")
        .args(["netns", "del", &name])
        .stderr(Stdio::null())
        .status();
    assert!(Command::new("ip")
        .args(["netns", "add", &name])
        .status()
        .unwrap()
        .success());
    let n = Ns(name);
    // two links, each with a peer that is up, so they have carrier
    for (a, b) in [("eth0", "peer0"), ("eth1", "peer1")] {
        assert!(Command::new("ip")
            .args(["-n", &n.0, "link", "add", a, "type", "veth", "peer", "name", b])
            .status()
            .unwrap()
            .success());
        assert!(Command::new("ip")
            .args(["-n", &n.0, "link", "set", b, "up"])
            .status()
            .unwrap()
            .success());
    }
    n
}

fn in_ns(n: &Ns, args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", &n.0])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fw(n: &Ns, dir: &Path) -> (i32, String, String) {
    run(Command::new("ip")
        .args(["netns", "exec", &n.0])
        .arg(applet("fw"))
        .arg("--conf")
        .arg(dir.join("conf"))
        .arg("--dynamic")
        .arg(dir.join("dyn"))
        .arg("--run-dir")
        .arg(dir)
        .arg("--resolv-conf")
        .arg(dir.join("resolv.conf"))
        .current_dir(dir))
}

#[test]
fn ipconf_to_kernel_state_only_differences_and_lease_loss() {
    if !prerequisites() {
        return;
    }
    let t = TempDir::new("fw");
    let n = ns("a");
    fs::create_dir_all(t.join("conf")).unwrap();
    fs::create_dir_all(t.join("dyn")).unwrap();
    // static, BusyBox array form
    fs::write(
        t.join("conf/lan.ipconf"),
        "let cfg=cfg+1\nif[$cfg]=eth1\nip[$cfg]=192.168.7.1\nipmask[$cfg]=192.168.7.1/24\n",
    )
    .unwrap();
    // dynamic, as the DHCP client writes it
    fs::write(
        t.join("dyn/dhcp_eth0.ipconf"),
        "if='eth0'\nip='10.88.0.5'\nipmask='10.88.0.5/24'\ngw='10.88.0.1'\nnet='0/0'\ngw='10.88.0.9'\nnet='10.200.0.0/16'\ndns='10.88.0.53'\n",
    )
    .unwrap();
    // a broken file: named in the output, the others still applied
    fs::write(t.join("dyn/broken.ipconf"), "if=eth0\nip=$(reboot)\n").unwrap();
    let (code, out, err) = fw(&n, t.path());
    assert_eq!(code, 1, "a skipped file is reported in the exit code");
    assert!(err.contains("broken.ipconf:2: shell syntax"), "{err}");
    assert!(
        out.contains("+ 10.88.0.5/24") && out.contains("+ 192.168.7.1/24"),
        "{out}"
    );
    let addrs = in_ns(&n, &["ip", "-4", "-o", "addr"]);
    assert!(addrs.contains("eth0    inet 10.88.0.5/24"), "{addrs}");
    assert!(addrs.contains("eth1    inet 192.168.7.1/24"), "{addrs}");
    let routes = in_ns(&n, &["ip", "-4", "route"]);
    assert!(
        routes.contains("default via 10.88.0.1 dev eth0 proto 102 metric 10"),
        "{routes}"
    );
    assert!(
        routes.contains("10.200.0.0/16 via 10.88.0.9 dev eth0 proto 102"),
        "{routes}"
    );
    assert_eq!(
        fs::read_to_string(t.join("resolv.conf")).unwrap(),
        "# written by ferrite fw\nnameserver 10.88.0.53\n"
    );
    assert!(t.join("up").exists());
    // again: nothing changes
    fs::remove_file(t.join("dyn/broken.ipconf")).unwrap();
    let (code, out, err) = fw(&n, t.path());
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    // the lease is gone: its address and routes go, the static ones stay
    fs::remove_file(t.join("dyn/dhcp_eth0.ipconf")).unwrap();
    let (code, out, _) = fw(&n, t.path());
    assert_eq!(code, 0);
    assert!(
        out.contains("- 10.88.0.5/24") && out.contains("- route default via 10.88.0.1"),
        "{out}"
    );
    let addrs = in_ns(&n, &["ip", "-4", "-o", "addr"]);
    assert!(
        !addrs.contains("10.88.0.5") && addrs.contains("192.168.7.1/24"),
        "{addrs}"
    );
    assert!(
        !in_ns(&n, &["ip", "-4", "route"]).contains("default"),
        "default route left behind"
    );
    // a file for an interface that does not exist yet
    fs::write(
        t.join("dyn/dhcp_wlan9.ipconf"),
        "if='wlan9'\nip='10.1.1.1'\n",
    )
    .unwrap();
    let (_, _, err) = fw(&n, t.path());
    assert!(
        err.contains("interface wlan9 does not exist (yet)"),
        "{err}"
    );
}

#[test]
fn two_ups_while_fw_runs_give_exactly_one_more_run() {
    if !prerequisites() {
        return;
    }
    let t = TempDir::new("fw-once");
    let n = ns("b");
    let svc = t.join("fw");
    fs::create_dir_all(svc.join("conf")).unwrap();
    fs::create_dir_all(svc.join("dyn")).unwrap();
    script(
        &svc.join("run"),
        &format!(
            "ip netns exec {ns} {fw} --conf conf --dynamic dyn --run-dir . --resolv-conf ./resolv.conf\necho run >> ../runs\nsleep 1",
            ns = n.0,
            fw = applet("fw").display()
        ),
    );
    fs::write(svc.join("down"), "").unwrap();
    let _r = start_runsv(&svc);
    assert!(wait_until(T, || svc.join("supervise/stat").exists()));
    let runs = || {
        fs::read_to_string(t.join("runs"))
            .unwrap_or_default()
            .lines()
            .count()
    };
    assert_eq!(sv(t.path(), &["up", "fw"]).0, 0);
    assert!(wait_until(T, || runs() == 1));
    // while the first run sleeps: two more ups
    assert_eq!(sv(t.path(), &["up", "fw"]).0, 0);
    assert_eq!(sv(t.path(), &["up", "fw"]).0, 0);
    assert!(wait_until(T, || runs() == 2), "no second run");
    std::thread::sleep(Duration::from_millis(3000));
    assert_eq!(runs(), 2, "more than one extra run");
    assert!(
        wait_until(T, || state_of(&svc) == Some(0)),
        "fw did not stay down"
    );
}
