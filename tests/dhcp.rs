//! The DHCP client against a real DHCP server: dnsmasq in network namespaces
//! joined by veth pairs (root only). Every namespace, interface and process
//! is the test's own and is removed when it ends.

mod common;
use common::lab::*;
use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(15);

/// What the handler logs of each event.
const FIELDS: &[&str] = &[
    "ip",
    "mask",
    "subnet",
    "router",
    "dns",
    "lease",
    "serverid",
    "broadcast",
    "domain",
];

fn handler(dir: &Path) -> PathBuf {
    lab::handler(dir, FIELDS)
}

fn udhcpc(lab: &Lab, args: &[&str]) -> Daemon {
    lab::udhcpc(&lab.c, lab.path(), &[], &handler(lab.path()), args)
}

#[test]
fn lease_environment_renewal_and_release() {
    let Some(lab) = lab("lease") else { return };
    let srv = lab.dnsmasq(&[
        "--dhcp-option=3,10.77.0.1",
        "--dhcp-option=6,10.77.0.53,10.77.0.54",
        "--domain=lab.example",
    ]);
    let cl = udhcpc(&lab, &["-i", "vc", "-R"]);
    assert!(lab.wait_event(T, "bound"), "no lease: {}", cl.log());
    let ev = events(lab.path());
    assert!(ev[0].starts_with("deconfig"), "{ev:?}");
    let b = ev.iter().find(|e| e.starts_with("bound")).unwrap();
    let ipaddr = field(b, "ip").to_string();
    assert!(ipaddr.starts_with("10.77.0.1"), "{b}");
    assert_eq!(field(b, "mask"), "24");
    assert_eq!(field(b, "subnet"), "255.255.255.0");
    assert_eq!(field(b, "router"), "10.77.0.1");
    assert_eq!(field(b, "dns"), "10.77.0.53");
    assert_eq!(field(b, "serverid"), "10.77.0.1");
    assert_eq!(field(b, "lease"), "600");
    assert_eq!(field(b, "broadcast"), "10.77.0.255");
    assert_eq!(field(b, "domain"), "lab.example");
    // the handler logs the event before it runs `ip addr add`
    assert!(
        wait_until(T, || lab.vc_addresses().contains(&format!("{ipaddr}/24"))),
        "the handler configured the address"
    );
    // SIGUSR1: renew now, by unicast to the server
    cl.signal(libc::SIGUSR1);
    assert!(lab.wait_event(T, "renew"), "{}", cl.log());
    assert!(
        srv.log().contains(&format!("DHCPREQUEST(vs) {ipaddr}")),
        "{}",
        srv.log()
    );
    // SIGTERM with -R: RELEASE reaches the server, the handler deconfigures
    let mut cl = cl;
    cl.signal(libc::SIGTERM);
    let st = cl.child.wait().unwrap();
    assert!(st.success());
    assert!(
        wait_until(T, || srv
            .log()
            .contains(&format!("DHCPRELEASE(vs) {ipaddr}"))),
        "{}",
        srv.log()
    );
    assert!(events(lab.path()).last().unwrap().starts_with("deconfig"));
    assert!(!lab.vc_addresses().contains("10.77."));
    // its log says why it went
    assert!(
        cl.log().contains("received SIGTERM: stopping"),
        "{}",
        cl.log()
    );
}

#[test]
fn nak_after_the_server_changes_its_range() {
    let Some(lab) = lab("nak") else { return };
    let srv = lab.dnsmasq_with("10.77.0.100,10.77.0.110,255.255.255.0,600", None, &[]);
    let cl = udhcpc(&lab, &["-i", "vc"]);
    assert!(lab.wait_event(T, "bound"), "{}", cl.log());
    drop(srv);
    let _srv2 = lab.dnsmasq_with(
        "10.77.0.200,10.77.0.210,255.255.255.0,600",
        None,
        &["--dhcp-authoritative"],
    );
    cl.signal(libc::SIGUSR1);
    assert!(
        wait_until(T, || events(lab.path())
            .iter()
            .filter(|e| e.starts_with("bound"))
            .count()
            == 2),
        "{:?} {}",
        events(lab.path()),
        cl.log()
    );
    let ev = events(lab.path());
    let i = ev
        .iter()
        .position(|e| e.starts_with("nak"))
        .expect("nak event");
    assert!(ev[i + 1].starts_with("deconfig"), "{ev:?}");
    assert!(
        field(ev.last().unwrap(), "ip").starts_with("10.77.0.2"),
        "{ev:?}"
    );
}

#[test]
fn waits_for_carrier_then_gets_a_lease_at_once() {
    let Some(lab) = lab("carrier") else { return };
    lab.s.ip(&["link", "set", "vs", "down"]);
    let srv = lab.dnsmasq(&[]);
    let cl = udhcpc(&lab, &["-i", "vc", "-v"]);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        cl.log().contains("no carrier, waiting for it"),
        "{}",
        cl.log()
    );
    assert!(
        !cl.log().contains("sent Some(Discover)"),
        "sent into a dead link: {}",
        cl.log()
    );
    let t0 = Instant::now();
    lab.s.ip(&["link", "set", "vs", "up"]);
    assert!(lab.wait_event(T, "bound"), "{}", cl.log());
    let took = t0.elapsed();
    eprintln!("carrier up to bound: {took:?}");
    assert!(
        took < Duration::from_secs(2),
        "lease {took:?} after the carrier came: {}",
        srv.log()
    );
}

#[test]
fn cable_moved_to_another_network() {
    if !prerequisites() {
        return;
    }
    let t = TempDir::new("dhcp-move");
    // client --- switch (bridge) --- server A / server B
    let cable = Cable::new(["c", "w", "a", "b"], t.path(), &[]);
    let c = &cable.c;
    let cl = lab::udhcpc(c, t.path(), &[], &handler(t.path()), &["-i", "vc", "-v"]);
    assert!(
        wait_for_event(t.path(), T, |e| e.starts_with("bound")),
        "{}",
        cl.log()
    );
    assert!(field(events(t.path()).last().unwrap(), "ip").starts_with("10.71.0."));
    // pull the cable, plug it into network B
    cable.pull_for_b();
    let t0 = Instant::now();
    cable.plug_in();
    assert!(
        wait_until(T, || field(
            events(t.path()).last().map(String::as_str).unwrap_or(""),
            "ip"
        )
        .starts_with("10.72.0.")),
        "{:?} {}",
        events(t.path()),
        cl.log()
    );
    let took = t0.elapsed();
    eprintln!(
        "replug into another network to new lease: {took:?}\n{}",
        cl.log()
    );
    assert!(
        took < Duration::from_secs(3),
        "new network's lease after {took:?} (udhcpc waits until T1)"
    );
    // the new lease replaces the old one (the handler's `bound` flushes
    // it): no `deconfig` in between, the box is never without an address
    let ev = events(t.path());
    assert!(!ev[1..].iter().any(|e| e.starts_with("deconfig")), "{ev:?}");
    assert!(
        wait_until(T, || !addresses(c, "vc").contains("10.71.0.")),
        "the old address must go: {}",
        addresses(c, "vc")
    );
}

#[test]
fn a_missing_interface_is_a_clear_error() {
    fails_with(
        Command::new(applet("udhcpc")).args(["-i", "nosuchif0", "-f", "-q"]),
        1,
        "interface nosuchif0",
    );
    fails_with(
        Command::new(applet("udhcpc")).args(["-Z"]),
        1,
        "usage: udhcpc",
    );
}

#[test]
fn native_mode_writes_ipconf_and_pokes_a_supervised_fw() {
    let Some(lab) = lab("native") else { return };
    let _srv = lab.dnsmasq(&["--dhcp-option=6,10.77.0.53"]);
    // fw, one-shot as in the seed: it marks itself "once" first, then records what it sees
    let fw = lab.join("service/fw");
    script(
        &fw.join("run"),
        &format!(
            "{sv} once .\nsleep 0.2\necho \"run $(grep ^ip= dhcp_vc.ipconf 2>/dev/null)\" >> {runs}",
            sv = applet("sv").display(),
            runs = lab.join("fw-runs").display()
        ),
    );
    fs::write(fw.join("down"), "").unwrap();
    let _fw = start_runsv(&fw);
    assert!(wait_until(T, || fw.join("supervise/ok").exists()));
    std::thread::sleep(Duration::from_millis(200));
    let svc = lab.join("service/dhcp_vc");
    let mut cl = lab::dhcp(
        &lab.c,
        &svc,
        &[],
        &fw,
        &fw,
        &lab.join("state"),
        lab.join("dhcp.log"),
    );
    let runs = || text_of(&lab.join("fw-runs"));
    assert!(
        wait_until(T, || runs().contains("run ip='10.77.0.1")),
        "fw never saw the lease: {:?} {}",
        runs(),
        cl.log()
    );
    let ipconf = fs::read_to_string(fw.join("dhcp_vc.ipconf")).unwrap();
    assert!(
        ipconf.contains("if='vc'")
            && ipconf.contains("gw='10.77.0.1'\nnet='0/0'")
            && ipconf.contains("dns='10.77.0.53'"),
        "{ipconf}"
    );
    assert!(
        ipconf
            .lines()
            .filter(|l| !l.starts_with('#'))
            .all(|l| l.contains("='")),
        "every value quoted: {ipconf}"
    );
    let env = fs::read_to_string(svc.join("env.out")).unwrap();
    assert!(env.contains("router='10.77.0.1'"), "{env}");
    // a one-shot fw: it ran once, and stays down
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(runs().lines().count(), 1, "{:?}", runs());
    // the client stops: the ipconf goes and fw runs again
    cl.signal(libc::SIGTERM);
    assert!(cl.child.wait().unwrap().success());
    assert!(!fw.join("dhcp_vc.ipconf").exists());
    assert!(!svc.join("env.out").exists());
    assert!(
        wait_until(T, || runs().lines().last() == Some("run ")),
        "{:?}",
        runs()
    );
}

// ---- replies of lab::TestServer, for what dnsmasq will not do ----------

use netsvc::dhcp::msg::{opt, Message, MsgType, BOOTREPLY};
use std::net::Ipv4Addr;

fn base_reply(m: &Message, t: MsgType, lease: u32) -> Message {
    let mut r = Message::new(BOOTREPLY, m.xid, m.mac());
    r.yiaddr = Ipv4Addr::new(10, 77, 0, 42);
    r.set(opt::MSG_TYPE, vec![t as u8]);
    r.set(opt::SERVER_ID, vec![10, 77, 0, 1]);
    r.set(opt::SUBNET_MASK, vec![255, 255, 255, 0]);
    r.set(opt::ROUTER, vec![10, 77, 0, 1]);
    r.set(opt::LEASE_TIME, lease.to_be_bytes().to_vec());
    r
}

fn hostile_reply(m: &Message, t: MsgType) -> Message {
    let mut r = base_reply(m, t, 0); // a zero lease
    r.set(opt::HOSTNAME, b"x; touch /tmp/ferrite-PWNED-h #".to_vec());
    r.set(opt::DOMAIN_NAME, b"$(touch /tmp/ferrite-PWNED-d)".to_vec());
    // search: a label with a quote and a newline
    r.set(opt::DOMAIN_SEARCH, b"\x05a'b\nc\x00".to_vec());
    // option 121 with a prefix length of 40
    r.set(
        opt::CLASSLESS_ROUTES,
        vec![40, 10, 0, 0, 0, 0, 10, 77, 0, 9],
    );
    // DNS option of 7 bytes, and a 255-byte vendor blob
    r.set(opt::DNS, vec![1, 2, 3, 4, 5, 6, 7]);
    r.set(43, vec![b'\''; 255]);
    r.sname = b"evil`reboot`".to_vec();
    r
}

fn short_lease_reply(m: &Message, t: MsgType) -> Message {
    base_reply(m, t, 10)
}

#[test]
fn hostile_server_cannot_harm_the_box() {
    let Some(lab) = lab("hostile") else { return };
    let _ = fs::remove_file("/tmp/ferrite-PWNED-h");
    let _ = fs::remove_file("/tmp/ferrite-PWNED-d");
    let _srv = TestServer::start(&lab.s, "vs", hostile_reply);
    // the handler dumps its whole environment, the way a careless script would use it
    let dump = lab.join("env-dump");
    let cl = udhcpc(&lab, &["-i", "vc", "-q"]);
    assert!(lab.wait_event(T, "bound"), "{}", cl.log());
    let b = events(lab.path())
        .into_iter()
        .find(|e| e.starts_with("bound"))
        .unwrap();
    assert_eq!(field(&b, "ip"), "10.77.0.42");
    assert_eq!(
        field(&b, "lease"),
        "10",
        "a zero lease is raised to the minimum"
    );
    assert_eq!(field(&b, "dns"), "", "a malformed DNS option is dropped");
    assert_eq!(field(&b, "domain"), "");
    assert_eq!(
        field(&b, "router"),
        "10.77.0.1",
        "bad option 121 dropped, router kept"
    );
    let log = cl.log();
    for w in [
        "invalid host name",
        "invalid domain name",
        "option 121",
        "option 119",
        "option 6",
    ] {
        assert!(log.contains(w), "no warning about {w}: {log}");
    }
    // nothing from the network was executed
    assert!(!Path::new("/tmp/ferrite-PWNED-h").exists());
    assert!(!Path::new("/tmp/ferrite-PWNED-d").exists());
    // the native files are safe to source
    let fw = lab.join("fw");
    fs::create_dir_all(&fw).unwrap();
    let svc = lab.join("dhcp_vc");
    let mut n = lab::dhcp(
        &lab.c,
        &svc,
        &["-q"],
        &fw,
        &fw,
        &lab.join("state2"),
        lab.join("dhcp-q.log"),
    );
    assert!(n.child.wait().unwrap().success());
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            ". {}; . {}; echo \"$ip|$hostname|$opt43\" > {}",
            fw.join("dhcp_vc.ipconf").display(),
            svc.join("env.out").display(),
            dump.display()
        ))
        .status()
        .unwrap();
    assert!(out.success());
    let d = fs::read_to_string(&dump).unwrap();
    assert!(d.starts_with("10.77.0.42||27272727"), "{d}");
    assert!(
        !Path::new("/tmp/ferrite-PWNED-h").exists() && !Path::new("/tmp/ferrite-PWNED-d").exists()
    );
}

#[test]
fn short_lease_renews_then_rebinds_and_expires() {
    let Some(lab) = lab("short") else { return };
    let srv = TestServer::start(&lab.s, "vs", short_lease_reply);
    let cl = udhcpc(&lab, &["-i", "vc", "-v"]);
    assert!(lab.wait_event(T, "bound"), "{}", cl.log());
    let t0 = Instant::now();
    // T1 = 5 s: renewed by unicast
    assert!(lab.wait_event(T, "renew"), "{}", cl.log());
    let renewed = t0.elapsed();
    assert!(
        renewed >= Duration::from_millis(4500),
        "renewed after {renewed:?}, before T1"
    );
    assert!(
        cl.log()
            .contains("sent Some(Request) to Unicast(10.77.0.1)"),
        "{}",
        cl.log()
    );
    // the server goes silent: REBINDING (broadcast) at T2, deconfig at expiry
    srv.quiet.store(true, Ordering::SeqCst);
    let t1 = Instant::now();
    assert!(
        wait_until(Duration::from_secs(20), || events(lab.path())
            .last()
            .is_some_and(|e| e.starts_with("deconfig"))),
        "{:?} {}",
        events(lab.path()),
        cl.log()
    );
    let expired = t1.elapsed();
    assert!(
        expired >= Duration::from_secs(8) && expired <= Duration::from_secs(12),
        "expired after {expired:?}"
    );
    let log = cl.log();
    let after_renew = &log[log.find("Unicast").unwrap()..];
    assert!(
        after_renew.contains("sent Some(Request) to Broadcast"),
        "no REBINDING: {log}"
    );
}

fn classless_reply(m: &Message, t: MsgType) -> Message {
    let mut r = base_reply(m, t, 600);
    r.set(opt::DNS, vec![10, 77, 0, 53]);
    r.set(opt::DOMAIN_NAME, b"lab.example".to_vec());
    // 10.200.0.0/16 via 10.77.0.9 and the default route via 10.77.0.1
    r.set(
        opt::CLASSLESS_ROUTES,
        vec![16, 10, 200, 10, 77, 0, 9, 0, 10, 77, 0, 1],
    );
    // a router option that option 121 overrides (RFC 3442)
    r.set(opt::ROUTER, vec![10, 77, 0, 254]);
    r.set(opt::MTU, 1400u16.to_be_bytes().to_vec());
    r
}

#[test]
fn native_apply_installs_address_routes_and_resolv_conf() {
    let Some(lab) = lab("apply") else { return };
    let c = &lab.c;
    let _srv = TestServer::start(&lab.s, "vs", classless_reply);
    let resolv = lab.join("resolv.conf");
    let mut cl = lab::dhcp(
        c,
        &lab.join("dhcp_vc"),
        &["--apply", "--resolv-conf", resolv.to_str().unwrap()],
        &lab.join("fw"),
        &lab.join("fw"),
        &lab.join("state"),
        lab.join("dhcp.log"),
    );
    let routes = || c.output(&["ip", "-4", "route", "show", "dev", "vc"]);
    assert!(
        wait_until(T, || lab.vc_addresses().contains("10.77.0.42/24")),
        "no address: {} {}",
        lab.vc_addresses(),
        cl.log()
    );
    let a = lab.vc_addresses();
    assert!(
        a.contains("brd 10.77.0.255") && a.contains("valid_lft 6"),
        "lifetime from the lease: {a}"
    );
    assert!(
        wait_until(T, || routes().contains("default via 10.77.0.1")),
        "{}",
        routes()
    );
    let r = routes();
    assert!(r.contains("10.200.0.0/16 via 10.77.0.9"), "{r}");
    assert!(
        !r.contains("10.77.0.254"),
        "option 121 must override the router option: {r}"
    );
    assert_eq!(
        fs::read_to_string(&resolv).unwrap(),
        "domain lab.example\nnameserver 10.77.0.53\n"
    );
    let link = || c.output(&["ip", "-o", "link", "show", "vc"]);
    assert!(link().contains("mtu 1400"), "the lease's MTU: {}", link());
    // stopped (sv down): the address and routes are gone, the MTU is the link's again
    cl.signal(libc::SIGTERM);
    assert!(cl.child.wait().unwrap().success());
    assert!(
        !lab.vc_addresses().contains("10.77.0.42"),
        "{}",
        lab.vc_addresses()
    );
    assert!(!routes().contains("default"), "{}", routes());
    assert!(link().contains("mtu 1500"), "{}", link());
}

#[test]
fn arp_check_declines_an_address_in_use() {
    let Some(lab) = lab("arp") else { return };
    // another host already has the address the server hands out
    lab.s.ip(&["addr", "add", "10.77.0.42/24", "dev", "vs"]);
    let _srv = TestServer::start(&lab.s, "vs", short_lease_reply);
    let cl = udhcpc(&lab, &["-i", "vc", "-a", "-v"]);
    assert!(
        wait_until(T, || cl
            .log()
            .contains("10.77.0.42 is in use by another host: declining")),
        "{}",
        cl.log()
    );
    assert!(
        wait_until(T, || cl.log().contains("sent Some(Decline) to Broadcast")),
        "{}",
        cl.log()
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !events(lab.path()).iter().any(|e| e.starts_with("bound")),
        "bound to an address in use"
    );
}

#[test]
fn hostname_vendor_and_client_id_reach_the_server() {
    let Some(lab) = lab("ids") else { return };
    let srv = lab.dnsmasq(&[]);
    let mut cl = udhcpc(
        &lab,
        &[
            "-i",
            "vc",
            "-q",
            "-x",
            "hostname:fbox",
            "-V",
            "ferrite-test",
        ],
    );
    assert!(cl.child.wait().unwrap().success(), "{}", cl.log());
    let log = srv.log();
    assert!(log.contains("client provides name: fbox"), "{log}");
    assert!(log.contains("vendor class: ferrite-test"), "{log}");
    // the lease file: expiry, MAC, address, name, client id (01 = Ethernet + MAC)
    let leases: String = fs::read_dir(lab.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("leases-"))
        .map(|e| fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    let line = leases
        .lines()
        .find(|l| l.contains(" fbox "))
        .unwrap_or_else(|| panic!("{leases}"));
    let f: Vec<&str> = line.split(' ').collect();
    assert_eq!(
        f[4],
        format!("01:{}", f[1]),
        "client id from the MAC: {line}"
    );
}

/// `-b`: no lease after the first tries → the command returns (exit 0) and
/// a background client goes on; when a server appears it gets the lease.
#[test]
fn background_after_the_first_failure_then_a_lease() {
    let Some(lab) = lab("background") else { return };
    let pidfile = lab.join("udhcpc.pid");
    let log = lab.join("udhcpc.log");
    let mut parent = lab
        .c
        .exec()
        .arg(applet("udhcpc"))
        .args(["-b", "-t", "2", "-T", "1", "-A", "1", "-i", "vc", "-s"])
        .arg(handler(lab.path()))
        .arg("-p")
        .arg(&pidfile)
        .arg("--state-dir")
        .arg(lab.join("state"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let parent_pid = parent.id() as i32;
    let mut status = None;
    assert!(
        wait_until(Duration::from_secs(15), || {
            status = parent.try_wait().unwrap();
            status.is_some()
        }),
        "udhcpc -b did not return"
    );
    assert!(status.unwrap().success(), "{:?}", status);
    assert!(events(lab.path())
        .iter()
        .any(|e| e.starts_with("leasefail")));
    let pid: i32 = fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_ne!(pid, parent_pid, "the pid file names the background client");
    // the background client is ours (forked by the command we ran): end it at the end
    let bg = PidGuard(pid);
    assert!(bg.alive(), "no background client");
    let _srv = lab.dnsmasq(&[]);
    assert!(
        lab.wait_event(Duration::from_secs(20), "bound ip=10.77.0."),
        "no lease in the background: {:?} {}",
        events(lab.path()),
        text_of(&log)
    );
}
