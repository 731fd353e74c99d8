//! fw in a network namespace: ipconf files (both forms) become addresses,
//! routes and resolv.conf; only differences are applied; a lost lease takes
//! its address and routes along; runsv's "once" gives exactly one more run.

mod common;
use common::lab::{self, default_range, fw, fw_dirs, runsvdir_in, two_links, Lab};
use common::*;
use std::fs;
use std::process::Stdio;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn prerequisites() -> bool {
    netns_prerequisites()
}

/// A namespace tagged `tag` with the links eth0 and eth1 (`two_links`),
/// when the prerequisites are there.
fn links(tag: &str) -> Option<Netns> {
    prerequisites().then(|| two_links(tag))
}

#[test]
fn ipconf_to_kernel_state_only_differences_and_lease_loss() {
    let Some(n) = links("a") else { return };
    let t = TempDir::new("fw");
    fw_dirs(t.path());
    // static, BusyBox array form
    fs::write(
        t.join("conf/lan.ipconf"),
        "let cfg=cfg+1\nif[$cfg]=eth1\nip[$cfg]=192.168.7.1\nipmask[$cfg]=192.168.7.1/24\ngw[$cfg]=192.168.7.254\nnet[$cfg]=0/0\n",
    )
    .unwrap();
    // two default routes: the lease's interface is preferred over the file order
    fs::write(t.join("conf/prefer"), "# uplinks, best first\neth0\n").unwrap();
    // dynamic, as the DHCP client writes it
    fs::write(
        t.join("dyn/dhcp_eth0.ipconf"),
        "if='eth0'\nip='10.88.0.5'\nipmask='10.88.0.5/24'\ngw='10.88.0.1'\nnet='0/0'\ngw='10.88.0.9'\nnet='10.200.0.0/16'\ndns='10.88.0.53'\nmtu='1400'\n",
    )
    .unwrap();
    // /etc templates: values from the wanted state, lines without values left out
    fs::create_dir_all(t.join("etc/dnsmasq.d")).unwrap();
    fs::write(
        t.join("etc/hosts"),
        "127.0.0.1 localhost\n@ip_eth0@ uplink\n@ip_eth1@ lan\n",
    )
    .unwrap();
    fs::write(
        t.join("etc/dnsmasq.d/lan.conf"),
        "listen-address=@ip_eth1@\nserver=@dns@\n@bogus@\n",
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
    let addrs = n.output(&["ip", "-4", "-o", "addr"]);
    assert!(addrs.contains("eth0    inet 10.88.0.5/24"), "{addrs}");
    assert!(addrs.contains("eth1    inet 192.168.7.1/24"), "{addrs}");
    let routes = lab::routes(&n);
    for route in [
        "default via 10.88.0.1 dev eth0 proto 102 metric 10",
        "default via 192.168.7.254 dev eth1 proto 102 metric 20",
        "10.200.0.0/16 via 10.88.0.9 dev eth0 proto 102",
    ] {
        assert!(routes.contains(route), "{routes}");
    }
    assert_eq!(
        fs::read_to_string(t.join("resolv.conf")).unwrap(),
        "# written by ferrite fw\nnameserver 10.88.0.53\n"
    );
    assert!(t.join("up").exists());
    let mtu = || n.output(&["ip", "-o", "link", "show", "eth0"]);
    assert!(mtu().contains("mtu 1400"), "{}", mtu());
    // the files rendered from the templates
    let rendered = |hosts: &str, lan: &str| {
        assert_eq!(fs::read_to_string(t.join("gen/hosts")).unwrap(), hosts);
        assert_eq!(
            fs::read_to_string(t.join("gen/dnsmasq.d/lan.conf")).unwrap(),
            lan
        );
    };
    rendered(
        "127.0.0.1 localhost\n10.88.0.5 uplink\n192.168.7.1 lan\n",
        "listen-address=192.168.7.1\nserver=10.88.0.53\n",
    );
    assert!(
        err.contains("etc/dnsmasq.d/lan.conf:3: unknown variable @bogus@"),
        "{err}"
    );
    assert!(out.contains("gen/hosts written"), "{out}");
    // again: nothing changes
    fs::remove_file(t.join("dyn/broken.ipconf")).unwrap();
    fs::write(
        t.join("etc/dnsmasq.d/lan.conf"),
        "listen-address=@ip_eth1@\nserver=@dns@\n",
    )
    .unwrap();
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
    assert!(out.contains("mtu 1500 dev eth0"), "{out}");
    assert!(
        mtu().contains("mtu 1500"),
        "the link's own MTU not given back"
    );
    let addrs = n.output(&["ip", "-4", "-o", "addr"]);
    assert!(
        !addrs.contains("10.88.0.5") && addrs.contains("192.168.7.1/24"),
        "{addrs}"
    );
    let routes = lab::routes(&n);
    assert!(
        !routes.contains("default via 10.88.0.1"),
        "default route left behind: {routes}"
    );
    assert!(
        routes.contains("default via 192.168.7.254 dev eth1 proto 102 metric 10"),
        "the remaining uplink takes over: {routes}"
    );
    rendered(
        "127.0.0.1 localhost\n192.168.7.1 lan\n",
        "listen-address=192.168.7.1\n",
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
    let Some(n) = links("b") else { return };
    let t = TempDir::new("fw-once");
    let svc = t.join("fw");
    fw_dirs(&svc);
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
    let runs = || lines_of(&t.join("runs")).len();
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

/// The seed's tree with no shell, under a real runsvdir in the client
/// namespace: ifplugd_vc, dhcp_vc and fw are links to ferrite.
#[test]
fn whole_tree_follows_the_cable() {
    if !prerequisites()
        || !require(
            "dnsmasq (Debian dnsmasq-base)",
            have_program("/usr/sbin/dnsmasq"),
        )
        || !require("ping (Debian iputils-ping)", have_program("/usr/bin/ping"))
    {
        return;
    }
    // vc stays down: the tree's ifplugd brings it up
    let lab = Lab::on("fw-tree", "10.79.0", false);
    let _dnsmasq = lab.dnsmasq_with(
        &default_range(lab.net),
        Some("leases"),
        &["--dhcp-option=6,10.79.0.53"],
    );
    let tree = lab.join("service");
    for svc in ["ifplugd_vc", "dhcp_vc", "zcip_vc", "fw"] {
        fs::create_dir_all(tree.join(svc)).unwrap();
        std::os::unix::fs::symlink(ferrite(), tree.join(svc).join("run")).unwrap();
    }
    fs::create_dir_all(tree.join("fw/conf")).unwrap();
    fs::write(tree.join("ifplugd_vc/args"), "-u0 -d0\n").unwrap();
    let fw = tree.join("fw");
    fs::write(
        tree.join("dhcp_vc/args"),
        format!(
            "--fw-dir {} --fw-service {} --state-dir {}\n",
            fw.display(),
            fw.display(),
            lab.join("state").display()
        ),
    )
    .unwrap();
    fs::write(
        tree.join("fw/args"),
        format!(
            "--dynamic {} --resolv-conf {}\n",
            fw.display(),
            lab.join("resolv.conf").display()
        ),
    )
    .unwrap();
    fs::write(
        tree.join("zcip_vc/args"),
        format!("--fw-dir {} --fw-service {}\n", fw.display(), fw.display()),
    )
    .unwrap();
    fs::write(tree.join("zcip_vc/down"), "").unwrap();
    fs::write(tree.join("dhcp_vc/down"), "").unwrap();
    fs::write(tree.join("fw/down"), "").unwrap();
    let _rsd = runsvdir_in(&lab.c, &tree, &lab.join("console"), true);
    let has_lease = || lab.vc_addresses().contains("inet 10.79.0.1");
    let default_route = || lab::routes(&lab.c).contains("default via 10.79.0.1");
    let ok = wait_until(Duration::from_secs(20), || has_lease() && default_route());
    let console = || text_of(&lab.join("console"));
    assert!(ok, "no lease through the tree: {}", console());
    // fw writes resolv.conf after the kernel has the address and route
    let resolv = || fs::read_to_string(lab.join("resolv.conf")).unwrap_or_default();
    assert!(
        wait_until(Duration::from_secs(10), || resolv()
            .contains("nameserver 10.79.0.53")),
        "resolv.conf: {:?}\n{}",
        resolv(),
        console()
    );
    assert!(fw.join("dhcp_vc.ipconf").exists());
    // zcip claims a link-local address next to the lease (probes take 1-9 s)
    let link_local = || {
        lab.vc_addresses()
            .lines()
            .any(|l| l.contains("inet 169.254.") && l.contains("/16") && l.contains("scope link"))
    };
    assert!(
        wait_until(Duration::from_secs(20), link_local),
        "no link-local address: {} {}",
        lab.c.output(&["ip", "-4", "-o", "addr"]),
        console()
    );
    let zc = fs::read_to_string(fw.join("zcip_vc.ipconf")).unwrap();
    assert!(
        zc.contains("if='vc'") && zc.contains("ipmask='169.254."),
        "{zc}"
    );
    // reachable over it from a neighbour that has only a link-local address
    let ll = zc
        .split("ipmask='")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap();
    lab.s.ip(&["addr", "add", "169.254.0.1/16", "dev", "vs"]);
    let ping = lab
        .s
        .exec()
        .args(["ping", "-c1", "-W2", ll])
        .output()
        .unwrap();
    assert!(ping.status.success(), "{ll} does not answer a ping");
    assert!(
        default_route() && has_lease(),
        "the link-local address disturbed the lease"
    );
    // pull the cable
    let t0 = std::time::Instant::now();
    lab.s.ip(&["link", "set", "vs", "down"]);
    assert!(
        wait_until(T, || !has_lease() && !default_route()),
        "address or route left after the pull: {}",
        console()
    );
    eprintln!("pull → address and route gone: {:?}", t0.elapsed());
    assert!(!fw.join("dhcp_vc.ipconf").exists(), "ipconf left behind");
    assert!(
        wait_until(T, || !link_local()),
        "link-local address left after the pull"
    );
    assert!(
        !fw.join("zcip_vc.ipconf").exists(),
        "zcip ipconf left behind"
    );
    assert!(
        wait_until(T, || state_of(&tree.join("dhcp_vc")) == Some(0)),
        "dhcp_vc not downed"
    );
    // replug: a lease again
    std::thread::sleep(Duration::from_millis(1100));
    let t1 = std::time::Instant::now();
    lab.s.ip(&["link", "set", "vs", "up"]);
    assert!(
        wait_until(Duration::from_secs(20), || has_lease() && default_route()),
        "no lease after the replug: {}",
        console()
    );
    eprintln!("replug → address and route back: {:?}", t1.elapsed());
    assert!(
        wait_until(Duration::from_secs(20), link_local),
        "no link-local address after the replug"
    );
    // the guards stop the tree, then dnsmasq
}

#[test]
fn pinger_restarts_dhcp_when_the_router_stops_answering() {
    if !prerequisites() {
        return;
    }
    let lab = Lab::on("pinger", "10.78.0", true);
    lab.c.ip(&["addr", "add", "10.78.0.5/24", "dev", "vc"]);
    let tree = lab.join("service");
    // a DHCP client stand-in: leaves env.out as the real one does, counts its starts
    script(
        &tree.join("dhcp_vc/run"),
        &format!(
            "echo \"router='10.78.0.1'\" > env.out\necho start >> {}\nexec sleep 100",
            lab.join("starts").display()
        ),
    );
    fs::create_dir_all(tree.join("dhcp_vc_pinger")).unwrap();
    std::os::unix::fs::symlink(ferrite(), tree.join("dhcp_vc_pinger/run")).unwrap();
    let log = lab.join("pinger.log");
    script(
        &tree.join("dhcp_vc_pinger/log/run"),
        &format!("exec cat >> {}", log.display()),
    );
    let said = || text_of(&log);
    fs::write(
        tree.join("dhcp_vc_pinger/args"),
        "--interval 0.5 --retry 0.2 --failures 3 --timeout 0.3\n",
    )
    .unwrap();
    let _rsd = runsvdir_in(&lab.c, &tree, &lab.join("console"), false);
    let starts = || lines_of(&lab.join("starts")).len();
    assert!(wait_until(T, || starts() == 1));
    // the router answers: nothing happens
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(starts(), 1, "restarted although the router answers");
    assert!(said().contains("router 10.78.0.1 answers\n"), "{}", said());
    assert!(!said().contains("does not answer"), "{}", said());
    assert_eq!(
        said().matches("answers\n").count(),
        1,
        "said at every ping: {}",
        said()
    );
    // the router goes silent: after 3 failures dhcp_vc is restarted
    lab.s
        .run(&["sysctl", "-q", "-w", "net.ipv4.icmp_echo_ignore_all=1"]);
    assert!(wait_until(T, || starts() >= 2), "dhcp_vc not restarted");
    assert!(
        said().contains("router 10.78.0.1 does not answer (3/3)\n"),
        "{}",
        said()
    );
    lab.s
        .run(&["sysctl", "-q", "-w", "net.ipv4.icmp_echo_ignore_all=0"]);
    let n = starts();
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        starts() <= n + 1,
        "restarts go on although the router answers again"
    );
}

#[test]
fn pinger_without_a_lease_waits() {
    // an empty namespace: the router below is unreachable, nothing leaves it
    let Some(n) = prerequisites().then(|| Netns::new("pinger-nolease")) else {
        return;
    };
    let t = TempDir::new("pinger-nolease");
    let dir = t.join("dhcp_eth9_pinger");
    fs::create_dir_all(&dir).unwrap();
    let log = t.join("pinger.out");
    // a retry of 60 s: only the lease appearing can wake it in time
    let _p = Guard(
        n.exec()
            .arg(applet("pinger"))
            .args(["--retry", "60", "--timeout", "0.3"])
            .current_dir(&dir)
            .stdout(fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let text = || text_of(&log);
    assert!(wait_until(T, || text()
        .contains("no lease with a router on eth9 yet; waiting")));
    // waiting costs no wake-ups
    std::thread::sleep(Duration::from_millis(200));
    let before = voluntary_switches(_p.0.id() as i32);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        voluntary_switches(_p.0.id() as i32),
        before,
        "the pinger woke up while waiting"
    );
    // the lease arrives (written atomically, as the client does): it is
    // noticed at once; the first ping waits one retry, for fw to apply it
    fs::create_dir_all(t.join("dhcp_eth9")).unwrap();
    fs::write(t.join("dhcp_eth9/env.out.new"), "router='192.0.2.1'\n").unwrap();
    fs::rename(t.join("dhcp_eth9/env.out.new"), t.join("dhcp_eth9/env.out")).unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || text()
            .contains("router 192.0.2.1 on eth9: first ping in 60s")),
        "the lease was not noticed: {}",
        text()
    );
    assert_eq!(
        text()
            .matches("no lease with a router on eth9 yet; waiting")
            .count(),
        1,
        "{}",
        text()
    );
}

/// Fill the tmpfs `disk` up; returns the filler file.
fn fill(disk: &Tmpfs, name: &str) -> std::path::PathBuf {
    use std::io::Write;
    let f = disk.0.join(name);
    let mut w = fs::File::create(&f).unwrap();
    let block = vec![0x5au8; 4096];
    for _ in 0..100_000 {
        if w.write_all(&block).is_err() {
            break;
        }
    }
    let _ = w.sync_all();
    // and the last few bytes
    let mut n = 0;
    while n < 4096 && fs::write(disk.0.join(format!("crumb-{name}-{n}")), b"x").is_ok() {
        n += 1;
    }
    f
}

#[test]
fn a_full_disk_under_the_state_files_loses_nothing() {
    let Some(n) = links("full") else { return };
    let t = TempDir::new("fw-full");
    let disk = Tmpfs::mount(&t.join("run"), "256k");
    let d = t.join("run");
    fw_dirs(&d);
    fs::create_dir_all(d.join("etc")).unwrap();
    fs::write(d.join("etc/hosts"), "@ip_eth0@ uplink\n").unwrap();
    let lease = |ip: &str, dns: &str| {
        fs::write(
            d.join("dyn/dhcp_eth0.ipconf"),
            format!("if='eth0'\nip='{ip}'\nipmask='{ip}/24'\ndns='{dns}'\n"),
        )
        .unwrap()
    };
    lease("10.88.0.5", "10.88.0.53");
    let (code, _, err) = fw(&n, &d);
    assert_eq!(code, 0, "{err}");
    assert!(d.join("applied.reserve").exists(), "no reserve set aside");
    // the disk fills up; then a new lease comes: the reserve takes the state
    let filler = fill(&disk, "filler1");
    assert!(
        fs::write(d.join("probe"), vec![1u8; 8192]).is_err(),
        "the disk is not full"
    );
    lease("10.88.0.6", "10.88.0.54");
    let (code, _, err) = fw(&n, &d);
    eprintln!("fw on a full disk with its reserve: exit {code}\n{err}");
    assert_eq!(code, 1, "a full disk is reported in the exit code");
    assert!(err.contains("space set aside"), "{err}");
    let applied = fs::read_to_string(d.join("applied")).unwrap();
    assert!(applied.contains("10.88.0.6/24"), "{applied}");
    // it came back once the new files freed the old ones' space; now the
    // disk is full and the reserve gone (used by a run that left no room
    // to set it aside again): nothing can be written, nothing is damaged
    fs::remove_file(d.join("applied.reserve")).unwrap();
    let filler2 = fill(&disk, "filler2");
    let resolv_before = fs::read_to_string(d.join("resolv.conf")).unwrap();
    let hosts_before = fs::read_to_string(d.join("gen/hosts")).unwrap();
    lease("10.88.0.7", "10.88.0.55");
    let (code, _, err) = fw(&n, &d);
    eprintln!("fw on a full disk: exit {code}\n{err}");
    assert_eq!(code, 1, "a full disk is reported in the exit code");
    assert!(err.contains("applied: out of disk space"), "{err}");
    assert!(err.contains("resolv.conf: out of disk space"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // the kernel has the new lease; the files others read are whole
    let addrs = lab::addresses(&n, "eth0");
    assert!(
        addrs.contains("10.88.0.7/24") && !addrs.contains("10.88.0.6"),
        "{addrs}"
    );
    assert_eq!(
        fs::read_to_string(d.join("resolv.conf")).unwrap(),
        resolv_before,
        "resolv.conf damaged"
    );
    assert_eq!(
        fs::read_to_string(d.join("gen/hosts")).unwrap(),
        hosts_before,
        "a rendered file damaged"
    );
    fs::remove_file(&filler2).unwrap();
    // room again: the files catch up, the reserve comes back
    fs::remove_file(&filler).unwrap();
    for e in fs::read_dir(&d).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("crumb") {
            let _ = fs::remove_file(e.path());
        }
    }
    let (code, out, err) = fw(&n, &d);
    assert_eq!(code, 0, "{err}");
    assert!(
        d.join("applied.reserve").exists(),
        "reserve not set aside again"
    );
    assert!(out.contains("resolv.conf"), "{out}");
    assert!(fs::read_to_string(d.join("resolv.conf"))
        .unwrap()
        .contains("nameserver 10.88.0.55"));
    // the lease goes: the address added while the disk was full goes too
    fs::remove_file(d.join("dyn/dhcp_eth0.ipconf")).unwrap();
    let (code, out, err) = fw(&n, &d);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("- 10.88.0.7/24"), "{out}");
    let addrs = lab::addresses(&n, "eth0");
    assert!(!addrs.contains("10.88.0."), "address left behind: {addrs}");
    drop(disk);
}
