//! The DHCPv6 client against Debian's kea-dhcp6-server, in two network
//! namespaces joined by a veth pair (root only): an ISP side with kea
//! (addresses and prefix delegation from `pd-pools`) and the client's side.
//! Every namespace, interface and process is the test's own (unique names)
//! and is removed when it ends.

mod common;
use common::*;
use std::fs;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

struct Kea6 {
    dir: TempDir,
    isp: Netns,
    rt: Netns,
    kea: Option<Guard>,
}

fn sysctl(ns: &Netns, kv: &str) {
    ns.run(&["sysctl", "-q", "-w", kv]);
}

/// kea's configuration on `vs` (common::kea): /56 prefixes out of
/// `pd_prefix`/48.
fn kea_conf(pd_prefix: &str, extra_subnet: &str) -> String {
    common::kea::kea_conf("vs", pd_prefix, 56, extra_subnet)
}

impl Kea6 {
    fn new(tag: &str) -> Option<Kea6> {
        if !common::kea::prerequisites() {
            return None;
        }
        Some(Self::lab(tag))
    }

    /// The two namespaces and the veth pair (`vs` on the ISP side, `vc`).
    fn lab(tag: &str) -> Kea6 {
        let dir = TempDir::new(&format!("dhcp6-{tag}"));
        let isp = Netns::new(&format!("6i{tag}"));
        let rt = Netns::new(&format!("6r{tag}"));
        for ns in [&isp, &rt] {
            // no DAD: link-local addresses usable at once
            sysctl(ns, "net.ipv6.conf.default.accept_dad=0");
            sysctl(ns, "net.ipv6.conf.all.accept_dad=0");
            sysctl(ns, "net.ipv6.conf.default.keep_addr_on_down=1");
        }
        isp.ip(&[
            "link", "add", "vs", "type", "veth", "peer", "name", "vc", "netns", &rt.0,
        ]);
        isp.ip(&["addr", "add", "2001:db8:1::1/64", "dev", "vs", "nodad"]);
        isp.ip(&["link", "set", "vs", "up"]);
        rt.ip(&["link", "set", "vc", "up"]);
        Kea6 {
            dir,
            isp,
            rt,
            kea: None,
        }
    }

    /// Start kea with `conf`; wait until it listens on port 547.
    fn kea(&mut self, conf: &str) {
        self.kea = None;
        self.kea = Some(common::kea::start(&self.isp, self.dir.path(), conf, T));
    }

    /// A handler that logs `STATE ADDRESSES=.. PREFIXES=.. RDNSS=.. DOMAINS=..`.
    fn handler(&self) -> PathBuf {
        let h = self.dir.join("handler");
        let log = self.dir.join("events");
        script(
            &h,
            &format!(
                "echo \"$1 $2 ADDRESSES=$ADDRESSES PREFIXES=$PREFIXES RDNSS=$RDNSS DOMAINS=$DOMAINS\" >> {}",
                log.display()
            ),
        );
        h
    }

    fn events(&self) -> Vec<String> {
        lines_of(&self.dir.join("events"))
    }

    fn wait_event(&self, state: &str, n: usize) -> bool {
        self.wait_event_for(T, state, n)
    }

    fn wait_event_for(&self, t: Duration, state: &str, n: usize) -> bool {
        let want = format!("vc {state} ");
        wait_until(t, || {
            self.events()
                .iter()
                .filter(|e| e.starts_with(&want))
                .count()
                >= n
        })
    }

    fn client(&self, applet: &str, args: &[&str]) -> Guard {
        self.client_env(applet, args, &[])
    }

    /// `client` with `env` added to the applet's environment.
    fn client_env(&self, applet: &str, args: &[&str], env: &[(&str, &str)]) -> Guard {
        let log = fs::File::create(self.dir.join(&format!("{applet}.log"))).unwrap();
        let state = self.dir.join("state");
        let child = self
            .rt
            .exec()
            .arg(ferrite())
            .arg(applet)
            .args(["-v", "--state-dir", state.to_str().unwrap()])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Guard(child)
    }

    fn log(&self, applet: &str) -> String {
        text_of(&self.dir.join(&format!("{applet}.log")))
    }
}

fn field<'a>(event: &'a str, key: &str) -> &'a str {
    let k = format!("{key}=");
    let at = event.find(&k).map(|i| i + k.len()).unwrap_or(event.len());
    let rest = &event[at..];
    // values run to the next KEY=
    let end = ["ADDRESSES=", "PREFIXES=", "RDNSS=", "DOMAINS="]
        .iter()
        .filter_map(|n| rest.find(n))
        .min()
        .unwrap_or(rest.len());
    rest[..end].trim()
}

fn prefix_of(event: &str) -> String {
    field(event, "PREFIXES")
        .split(',')
        .next()
        .unwrap_or("")
        .to_string()
}

#[test]
fn odhcp6c_gets_an_address_and_a_prefix_keeps_it_over_a_replug_and_releases() {
    let Some(mut lab) = Kea6::new("a") else {
        return;
    };
    lab.kea(&kea_conf("2001:db8:100::", ""));
    let h = lab.handler();
    let mut cl = lab.client("odhcp6c", &["-P", "56", "-s", h.to_str().unwrap(), "vc"]);
    assert!(
        lab.wait_event("bound", 1),
        "no binding: {}\n{}",
        lab.log("odhcp6c"),
        text_of(&lab.dir.join("kea.log"))
    );
    let ev = lab.events();
    assert!(ev[0].starts_with("vc started"), "{ev:?}");
    let b = ev.iter().find(|e| e.starts_with("vc bound ")).unwrap();
    let addr = field(b, "ADDRESSES");
    assert!(
        addr.starts_with("2001:db8:1::1") && addr.ends_with("/128,40,60"),
        "{b}"
    );
    let prefix = prefix_of(b);
    assert!(
        prefix.starts_with("2001:db8:100:") && prefix.ends_with("/56"),
        "{b}"
    );
    assert!(field(b, "PREFIXES").ends_with(",40,60"), "{b}");
    assert_eq!(field(b, "RDNSS"), "2001:db8:1::53");
    assert_eq!(field(b, "DOMAINS"), "lab.example");
    // the cable out and back: no RELEASE, REBIND, the same prefix back
    lab.rt.ip(&["link", "set", "vc", "down"]);
    std::thread::sleep(Duration::from_millis(500));
    lab.rt.ip(&["link", "set", "vc", "up"]);
    assert!(
        lab.wait_event("rebound", 1),
        "no rebind after the replug: {}",
        lab.log("odhcp6c")
    );
    let ev = lab.events();
    assert!(!ev.iter().any(|e| e.starts_with("vc unbound")), "{ev:?}");
    let r = ev.iter().find(|e| e.starts_with("vc rebound ")).unwrap();
    assert_eq!(prefix_of(r), prefix, "{r}");
    // the cable out at the ISP's end while the client's side has traffic
    // for an address of the ISP's link (a router's LAN hosts do): the
    // kernel's unresolved entry for it is gone once the carrier is back, so
    // the next packet asks at once, not at the kernel's next solicitation a
    // second after the first (the ISP's own solicitation for the client,
    // to send kea's Reply, resolves only the ISP's link-local address)
    lab.rt
        .ip(&["-6", "route", "add", "2001:db8:1::/64", "dev", "vc"]);
    let unresolved = |lab: &Kea6| {
        let n = lab.rt.output(&[
            "ip",
            "-6",
            "neigh",
            "show",
            "dev",
            "vc",
            "to",
            "2001:db8:1::1",
        ]);
        n.contains("INCOMPLETE") || n.contains("FAILED")
    };
    lab.isp.ip(&["link", "set", "vs", "down"]);
    lab.rt.output(&["ping", "-c1", "-W0.2", "2001:db8:1::1"]);
    assert!(unresolved(&lab), "nothing asked for with the cable out");
    lab.isp.ip(&["link", "set", "vs", "up"]);
    assert!(
        lab.wait_event("rebound", 2),
        "no rebind after the second replug: {}",
        lab.log("odhcp6c")
    );
    assert!(
        wait_until(Duration::from_millis(300), || !unresolved(&lab)),
        "the entry unresolved with the cable out is still there: {}",
        lab.rt.output(&["ip", "-6", "neigh", "show", "dev", "vc"])
    );
    // T1 is 20 s: renewed
    assert!(
        lab.wait_event_for(Duration::from_secs(45), "updated", 1),
        "no renewal: {}",
        lab.log("odhcp6c")
    );
    // stop: unbound (RELEASE), stopped, exit 0
    unsafe { libc::kill(cl.0.id() as i32, libc::SIGTERM) };
    assert!(
        wait_until(T, || matches!(cl.0.try_wait(), Ok(Some(_)))),
        "did not stop"
    );
    let ev = lab.events();
    assert!(ev.iter().any(|e| e.starts_with("vc unbound")), "{ev:?}");
    assert_eq!(
        ev.last()
            .map(|e| e.split(' ').take(2).collect::<Vec<_>>().join(" ")),
        Some("vc stopped".into())
    );
    let kea = text_of(&lab.dir.join("kea.log"));
    assert!(kea.contains("RELEASE"), "no RELEASE reached kea");
    assert!(
        fs::read_to_string(lab.dir.join("state/duid")).is_ok_and(|d| d.starts_with("00030001")),
        "DUID-LL kept"
    );
}

#[test]
fn native_prefix_only_writes_the_ipconf_and_follows_a_changed_prefix() {
    let Some(mut lab) = Kea6::new("b") else {
        return;
    };
    lab.kea(&kea_conf("2001:db8:100::", r#", "rapid-commit": true"#));
    let fw = lab.dir.join("fw");
    let fwsvc = lab.dir.join("fwsvc");
    let mut cl = lab.client(
        "dhcp6",
        &[
            "-N",
            "none",
            "-P",
            "56",
            "--fw-dir",
            fw.to_str().unwrap(),
            "--fw-service",
            fwsvc.to_str().unwrap(),
            "vc",
        ],
    );
    let conf = fw.join("dhcp6_vc.ipconf");
    assert!(
        wait_until(T, || conf.exists()),
        "no ipconf: {}",
        lab.log("dhcp6")
    );
    let t = text_of(&conf);
    assert!(t.contains("if='vc'") && t.contains("origin='dhcp6'"), "{t}");
    assert!(t.contains("prefix6='2001:db8:100:"), "{t}");
    assert!(!t.contains("ip6="), "prefix only: {t}");
    assert!(t.contains("dns6='2001:db8:1::53'"), "{t}");
    // dhcp6_vc/check (what `sv check` runs): 0 while the prefix is held
    let svc = lab.dir.join("dhcp6_vc");
    fs::create_dir_all(&svc).unwrap();
    fs::write(svc.join("args"), format!("--fw-dir {} vc\n", fw.display())).unwrap();
    std::os::unix::fs::symlink(ferrite(), svc.join("check")).unwrap();
    let check = |lab: &Kea6| {
        let st = lab
            .rt
            .exec()
            .arg(svc.join("check"))
            .current_dir(&svc)
            .status();
        st.unwrap().code()
    };
    assert_eq!(check(&lab), Some(0), "check while the prefix is held: {t}");
    assert!(
        !lab.log("dhcp6").contains("sent Request"),
        "rapid commit: {}",
        lab.log("dhcp6")
    );
    // the ISP renumbers: kea restarts with another pool and no memory
    lab.kea(&kea_conf("2001:db8:200::", ""));
    // at T1 (20 s) the RENEW reaches a kea that forgot the binding: the
    // new prefix comes (from a REQUEST after NoBinding, or the RENEW itself)
    let renumbered = wait_until(Duration::from_secs(45), || {
        text_of(&conf).contains("prefix6='2001:db8:200:")
    });
    assert!(renumbered, "{}\n{}", text_of(&conf), lab.log("dhcp6"));
    let t = text_of(&conf);
    assert!(!t.contains("ip6="), "{t}");
    // the old prefix, if still there, is deprecated (preferred 0) until it ends
    if let Some(at) = t.find("2001:db8:100:") {
        assert!(
            t[at..].split(' ').next().unwrap().contains("/56,0,"),
            "old prefix not deprecated: {t}"
        );
    }
    // stopped: the file goes, and check says nothing is held
    unsafe { libc::kill(cl.0.id() as i32, libc::SIGTERM) };
    let gone = wait_until(T, || matches!(cl.0.try_wait(), Ok(Some(_))));
    assert!(gone && !conf.exists(), "{}", lab.log("dhcp6"));
    assert_eq!(check(&lab), Some(1));
}

/// A hostile server: answers every SOLICIT, REQUEST, RENEW and REBIND at
/// once with a message full of bad lengths, absurd lifetimes, a /80 and a
/// /200 prefix, a multicast address and shell metacharacters in names.
const HOSTILE: &str = r#"
import socket, struct
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, 25, b"vs\0")
s.bind(("::", 547))
idx = socket.if_nametoindex("vs")
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
             socket.inet_pton(socket.AF_INET6, "ff02::1:2") + struct.pack("@I", idx))
def o(c, b): return struct.pack(">HH", c, len(b)) + b
A = lambda x: socket.inet_pton(socket.AF_INET6, x)
open("READY", "w").close()
while True:
    data, addr = s.recvfrom(4096)
    t, xid, opts, i, got = data[0], data[1:4], data[4:], 0, {}
    while i + 4 <= len(opts):
        c, l = struct.unpack(">HH", opts[i:i + 4])
        got.setdefault(c, opts[i + 4:i + 4 + l])
        i += 4 + l
    if t not in (1, 3, 5, 6) or 1 not in got:
        continue
    na_id = got.get(3, b"\0\0\0\0")[:4]
    pd_id = got.get(25, b"\0\0\0\0")[:4]
    na = (na_id + struct.pack(">II", 0, 0)
          + o(5, A("2001:db8:1::bad") + struct.pack(">II", 500, 100))
          + o(5, A("ff02::1") + struct.pack(">II", 10, 20))
          + o(5, A("2001:db8:1::77") + struct.pack(">II", 0xffffffff, 0xffffffff))
          + o(5, b"short"))
    pd = (pd_id + struct.pack(">II", 0, 0)
          + o(26, struct.pack(">IIB", 100, 200, 80) + A("2001:db8:5:5:5::"))
          + o(26, struct.pack(">IIB", 4000, 5000, 56) + A("2001:db8:300::"))
          + o(26, struct.pack(">IIB", 10, 20, 200) + A("::")))
    names = b"\x0a$(reboot)x\x00" + b"\x05a;b c\x00" + b"\x07example\x03com\x00" + b"\xc0\x0c"
    body = (o(1, got[1]) + o(2, bytes([0, 3, 0, 1, 2, 0, 0, 0, 0, 0x99])) + o(14, b"")
            + o(3, na) + o(25, pd) + o(23, A("2001:db8::53") + b"1234") + o(24, names)
            + o(7, b"\xff") + o(13, b"\x00\x00ok\n\x1b[31m") + o(82, b"\x00\x00\x00\x01"))
    s.sendto(bytes([2 if t == 1 else 7]) + xid + body + struct.pack(">HH", 99, 500) + b"cut", addr)
"#;

#[test]
fn a_hostile_server_is_harmless() {
    if !netns_prerequisites() || !require("python3", have_program("/usr/bin/python3")) {
        return;
    }
    let lab = Kea6::lab("h");
    let srv = lab.dir.join("hostile.py");
    fs::write(&srv, HOSTILE).unwrap();
    let child = lab
        .isp
        .exec()
        .args(["python3", srv.to_str().unwrap()])
        .current_dir(lab.dir.path())
        .stderr(fs::File::create(lab.dir.join("hostile.log")).unwrap())
        .spawn()
        .unwrap();
    let _srv = Guard(child);
    assert!(
        wait_until(T, || lab.dir.join("READY").exists()),
        "{}",
        text_of(&lab.dir.join("hostile.log"))
    );
    let h = lab.handler();
    let mut cl = lab.client("odhcp6c", &["-P", "56", "-s", h.to_str().unwrap(), "vc"]);
    assert!(
        lab.wait_event("bound", 1),
        "no binding: {}",
        lab.log("odhcp6c")
    );
    let ev = lab.events();
    let b = ev.iter().find(|e| e.starts_with("vc bound ")).unwrap();
    assert_eq!(
        field(b, "ADDRESSES"),
        "2001:db8:1::77/128,4294967295,4294967295",
        "{b}"
    );
    assert_eq!(field(b, "PREFIXES"), "2001:db8:300::/56,4000,5000", "{b}");
    assert_eq!(field(b, "RDNSS"), "2001:db8::53", "{b}");
    assert_eq!(field(b, "DOMAINS"), "example.com", "{b}");
    // and it goes on running
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        matches!(cl.0.try_wait(), Ok(None)),
        "{}",
        lab.log("odhcp6c")
    );
}

/// Router advertisements with the given flags byte, every 0.2 s, to ff02::1.
const RA_SENDER: &str = r#"
import socket, struct, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.SOL_SOCKET, 25, b"vs\0")
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex("vs"))
ra = struct.pack(">BBHBBHII", 134, 0, 0, 64, int(sys.argv[1], 16), 0, 0, 0)
while True:
    s.sendto(ra, ("ff02::1", 0, 0, socket.if_nametoindex("vs")))
    time.sleep(0.2)
"#;

#[test]
fn native_mode_on_a_host_follows_the_m_and_o_flags() {
    if !require("python3", have_program("/usr/bin/python3")) {
        return;
    }
    let Some(mut lab) = Kea6::new("m") else {
        return;
    };
    lab.kea(&kea_conf("2001:db8:100::", ""));
    let sender = lab.dir.join("ra.py");
    fs::write(&sender, RA_SENDER).unwrap();
    let ra = |flags: &str| {
        let c = lab
            .isp
            .exec()
            .args(["python3", sender.to_str().unwrap(), flags])
            .spawn()
            .unwrap();
        Guard(c)
    };
    let fw = lab.dir.join("fw");
    let fwsvc = lab.dir.join("fwsvc");
    let conf = fw.join("dhcp6_vc.ipconf");
    let _cl = lab.client(
        "dhcp6",
        &[
            "--fw-dir",
            fw.to_str().unwrap(),
            "--fw-service",
            fwsvc.to_str().unwrap(),
            "vc",
        ],
    );
    // M=0 O=0, as QEMU's user network sends: nothing asked
    let r = ra("00");
    assert!(
        wait_until(T, || lab.log("dhcp6").contains("M=0 O=0")),
        "{}",
        lab.log("dhcp6")
    );
    std::thread::sleep(Duration::from_secs(1));
    assert!(!lab.log("dhcp6").contains("sent "), "{}", lab.log("dhcp6"));
    assert!(!conf.exists());
    drop(r);
    // O only: INFORMATION-REQUEST, DNS servers and no address
    let r = ra("40");
    assert!(
        wait_until(T, || text_of(&conf).contains("dns6=")),
        "{}",
        lab.log("dhcp6")
    );
    assert!(!text_of(&conf).contains("ip6="), "{}", text_of(&conf));
    assert!(
        lab.log("dhcp6").contains("sent InformationRequest"),
        "{}",
        lab.log("dhcp6")
    );
    drop(r);
    // M: an address
    let _r = ra("80");
    assert!(
        wait_until(T, || text_of(&conf).contains("ip6='2001:db8:1::1")),
        "{}",
        lab.log("dhcp6")
    );
}

/// radvd's configuration on `vs`: the /64 for SLAAC (valid 3000 s,
/// preferred 2000 s), one route, one DNS server and domain, hop limit
/// `hops`.
fn radvd_conf(hops: u8, route: &str, dns: &str, domain: &str) -> String {
    format!(
        "interface vs {{\n AdvSendAdvert on;\n MinRtrAdvInterval 3;\n MaxRtrAdvInterval 4;\n \
         AdvDefaultLifetime 1800;\n AdvManagedFlag on;\n AdvOtherConfigFlag on;\n \
         AdvCurHopLimit {hops};\n AdvLinkMTU 1400;\n \
         prefix 2001:db8:1::/64 {{ AdvOnLink on; AdvAutonomous on; AdvValidLifetime 3000; \
         AdvPreferredLifetime 2000; }};\n {route}\n RDNSS {dns} {{ }};\n DNSSL {domain} {{ }};\n}};\n"
    )
}

/// The first `ip -6 -o addr` line of `dev` in `ns` that holds `what`.
fn addr_line(ns: &Netns, dev: &str, what: &str) -> String {
    let out = ns
        .exec()
        .args(["ip", "-6", "-o", "addr", "show", "dev", dev])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.contains(what))
        .unwrap_or_default()
        .to_string()
}

/// The number after `key ` in `line` (`valid_lft 2999sec`).
fn number_after(line: &str, key: &str) -> u32 {
    let at = line
        .find(key)
        .map(|i| i + key.len() + 1)
        .unwrap_or(line.len());
    line.get(at..)
        .unwrap_or("")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(0)
}

/// `ENTRY` of a space-separated list that starts with `start`: its
/// comma-separated fields.
fn entry_of(list: &str, start: &str) -> Option<Vec<String>> {
    list.split(' ')
        .find(|e| e.starts_with(start))
        .map(|e| e.split(',').map(String::from).collect())
}

#[test]
fn odhcp6c_passes_on_what_the_router_advertisements_say_and_calls_ra_updated() {
    let Some(mut lab) = Kea6::new("v") else {
        return;
    };
    if !common::radvd::prerequisites() {
        return;
    }
    lab.kea(&kea_conf("2001:db8:100::", ""));
    let conf = lab.dir.join("radvd.conf");
    let route1 = "route 2001:db8:77::/48 { AdvRoutePreference high; AdvRouteLifetime 900; };";
    let first = radvd_conf(61, route1, "2001:db8:1::53", "lab.example");
    let radvd = common::radvd::start_with(&lab.isp, &first, lab.dir.path());
    // the handler: STATE|RA_ADDRESSES|RA_ROUTES|RA_DNS|RA_DOMAINS|RA_HOPLIMIT|RA_MTU
    let h = lab.dir.join("handler");
    let log = lab.dir.join("ra-events");
    script(
        &h,
        &format!(
            "echo \"$2|$RA_ADDRESSES|$RA_ROUTES|$RA_DNS|$RA_DOMAINS|$RA_HOPLIMIT|$RA_MTU\" >> {}",
            log.display()
        ),
    );
    let events = || -> Vec<Vec<String>> {
        lines_of(&log)
            .iter()
            .map(|l| l.split('|').map(String::from).collect())
            .collect()
    };
    let _cl = lab.client("odhcp6c", &["-s", h.to_str().unwrap(), "vc"]);
    let diag = |lab: &Kea6| {
        format!(
            "{:#?}\n{}\n{}",
            events(),
            lab.log("odhcp6c"),
            text_of(&lab.dir.join("radvd.log"))
        )
    };
    assert!(
        wait_until(T, || events()
            .iter()
            .any(|e| e.len() == 7 && !e[1].is_empty() && !e[3].is_empty())),
        "no RA_ values: {}",
        diag(&lab)
    );
    let ev = events();
    let e = ev.iter().find(|e| !e[1].is_empty()).unwrap();
    // the kernel's own SLAAC address, with its lifetimes, as odhcp6c writes it
    let kernel = addr_line(&lab.rt, "vc", "dynamic");
    assert!(kernel.contains("2001:db8:1:"), "{kernel}");
    let ip = kernel.split_whitespace().nth(3).unwrap().to_string();
    let a = entry_of(&e[1], &ip).unwrap_or_else(|| panic!("{ip} not in {e:?}"));
    assert_eq!(a.len(), 3, "{a:?}");
    let (p, v): (u32, u32) = (a[1].parse().unwrap(), a[2].parse().unwrap());
    assert!(
        (1990..=2000).contains(&p) && (2990..=3000).contains(&v),
        "{a:?}"
    );
    assert!(
        number_after(&kernel, "valid_lft").abs_diff(v) <= 5
            && number_after(&kernel, "preferred_lft").abs_diff(p) <= 5,
        "{kernel} vs {a:?}"
    );
    // routes: the default via radvd's link-local address, the announced
    // route (preference high: 384), the on-link prefix (no gateway, 256)
    let ll = addr_line(&lab.isp, "vs", "fe80:");
    let ll = ll
        .split_whitespace()
        .nth(3)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let d = entry_of(&e[2], "::/0,").unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!((d[1].as_str(), d[3].as_str()), (ll, "512"), "{d:?}");
    assert!(
        (1790..=1800).contains(&d[2].parse::<u32>().unwrap()),
        "{d:?}"
    );
    let r = entry_of(&e[2], "2001:db8:77::/48,").unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!((r[1].as_str(), r[3].as_str()), (ll, "384"), "{r:?}");
    assert!((890..=900).contains(&r[2].parse::<u32>().unwrap()), "{r:?}");
    let o = entry_of(&e[2], "2001:db8:1::/64,").unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!((o[1].as_str(), o[3].as_str()), ("", "256"), "{o:?}");
    assert_eq!(
        (&e[3][..], &e[4][..], &e[5][..], &e[6][..]),
        ("2001:db8:1::53", "lab.example", "61", "1400"),
        "{e:?}"
    );
    // the router's configuration changes: ra-updated with the new values
    let route2 = "route 2001:db8:88::/48 { AdvRoutePreference low; AdvRouteLifetime 900; };";
    fs::write(
        &conf,
        radvd_conf(62, route2, "2001:db8:1::54", "other.example"),
    )
    .unwrap();
    radvd.signal(libc::SIGHUP);
    let new = |e: &Vec<String>| {
        e.len() == 7 && e[0] == "ra-updated" && e[3].contains("2001:db8:1::54") && e[5] == "62"
    };
    assert!(
        wait_until(T, || events().iter().any(new)),
        "no ra-updated with the new values: {}",
        diag(&lab)
    );
    let ev = events();
    let e = ev.iter().find(|e| new(e)).unwrap();
    let r = entry_of(&e[2], "2001:db8:88::/48,").unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!((r[1].as_str(), r[3].as_str()), (ll, "640"), "{r:?}");
    assert!(e[4].split(' ').any(|d| d == "other.example"), "{e:?}");
    assert!(entry_of(&e[1], &ip).is_some(), "{e:?}");
}

/// Prints `RS SECONDS` for each router solicitation on `vs`, counted from
/// when the file `argv[1]` appears (the client's start) for 14 s: a 4th
/// solicitation, 12 s after the first, would be seen. Gives up 30 s after
/// "listening" if the file never comes.
const RS_COUNTER: &str = r#"
import os, socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.SOL_SOCKET, 25, b"vs\0")
s.settimeout(0.1)
up, t0 = time.monotonic(), None
print("listening", flush=True)
while time.monotonic() - up < 30 and (t0 is None or time.monotonic() - t0 < 14):
    try:
        b = s.recvfrom(1500)[0]
    except socket.timeout:
        b = b""
    # the file is made before the client starts: what came after it counts
    if t0 is None and os.path.exists(sys.argv[1]):
        t0 = time.monotonic()
    if b[:1] == b"\x85" and t0 is not None:
        print(f"RS {time.monotonic() - t0:.2f}", flush=True)
"#;

#[test]
fn odhcp6c_solicits_a_router_three_times_4_s_apart_when_none_answers() {
    if !require("python3", have_program("/usr/bin/python3")) {
        return;
    }
    let lab = Kea6::lab("s");
    // the ISP side as a router (ff02::2 joined); the kernel of the client's
    // side solicits nothing itself
    sysctl(&lab.isp, "net.ipv6.conf.all.forwarding=1");
    sysctl(&lab.rt, "net.ipv6.conf.vc.router_solicitations=0");
    let counter = lab.dir.join("rs.py");
    fs::write(&counter, RS_COUNTER).unwrap();
    let out = lab.dir.join("rs.out");
    let start = lab.dir.join("client-started");
    let c = lab
        .isp
        .exec()
        .args(["python3", counter.to_str().unwrap()])
        .arg(&start)
        .stdout(fs::File::create(&out).unwrap())
        .spawn()
        .unwrap();
    let mut c = Guard(c);
    assert!(wait_until(T, || text_of(&out).contains("listening")));
    // a solicitation from no address at all is not sent: wait for vc's
    // link-local address (the retries cover that at a real start)
    assert!(wait_until(T, || !addr_line(&lab.rt, "vc", "fe80:").is_empty()));
    // a `set -u` handler: the bindings' variables are there (empty) while
    // nothing is bound, not inherited from odhcp6c's own environment
    let h = lab.dir.join("handler");
    let calls = lab.dir.join("calls");
    script(
        &h,
        &format!(
            "set -u\necho \"$2|$ADDRESSES|$PREFIXES|$RDNSS|$DOMAINS\" >> {}",
            calls.display()
        ),
    );
    let stale = [
        ("ADDRESSES", "2001:db8:9::1/128,1,2"),
        ("PREFIXES", "2001:db8:99::/56,1,2"),
        ("RDNSS", "2001:db8:9::53"),
        ("DOMAINS", "stale.example"),
    ];
    fs::write(&start, "").unwrap();
    let _cl = lab.client_env("odhcp6c", &["-s", h.to_str().unwrap(), "vc"], &stale);
    // link messages with the carrier there (MTU changes) are no carrier
    // return: no extra solicitation, the schedule goes on
    for (after, mtu) in [(1, "1400"), (5, "1500")] {
        std::thread::sleep(Duration::from_secs(after));
        lab.rt.ip(&["link", "set", "vc", "mtu", mtu]);
    }
    assert!(
        wait_until(Duration::from_secs(20), || matches!(
            c.0.try_wait(),
            Ok(Some(_))
        )),
        "the counter did not end"
    );
    let times: Vec<f64> = lines_of(&out)
        .iter()
        .filter_map(|l| l.strip_prefix("RS ")?.parse().ok())
        .collect();
    assert_eq!(times.len(), 3, "{times:?}\n{}", lab.log("odhcp6c"));
    assert_eq!(
        lines_of(&calls).first().map(String::as_str),
        Some("started||||")
    );
    for w in times.windows(2) {
        assert!((3.5..4.5).contains(&(w[1] - w[0])), "{times:?}");
    }
}

#[test]
fn odhcp6c_without_a_link_local_address_dumps_the_addresses_at_most_once_a_second() {
    if !require("python3", have_program("/usr/bin/python3"))
        || !require("strace", have_program("/usr/bin/strace"))
    {
        return;
    }
    let lab = Kea6::lab("l");
    // vc without its link-local address: the interface identifier of
    // RA_ADDRESSES stays unknown while RAs come every 0.2 s
    lab.rt
        .ip(&["-6", "addr", "flush", "dev", "vc", "scope", "link"]);
    let sender = lab.dir.join("ra.py");
    fs::write(&sender, RA_SENDER).unwrap();
    let trace = lab.dir.join("trace");
    let log = fs::File::create(lab.dir.join("odhcp6c.log")).unwrap();
    // strace's tracee is ended by its pid file's pid
    let piddir = lab.dir.join("odhcp6c-pid");
    fs::create_dir_all(&piddir).unwrap();
    let child = lab
        .rt
        .exec()
        .args(["strace", "-f", "-e", "trace=sendto", "-o"])
        .arg(&trace)
        .arg(ferrite())
        .args(["odhcp6c", "-s", "/bin/true", "-p"])
        .arg(piddir.join("pid"))
        .arg("vc")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let _cl = Proc {
        child,
        owned: vec![piddir.clone()],
    };
    assert!(wait_until(T, || piddir.join("pid").exists()));
    let ra = lab
        .isp
        .exec()
        .args(["python3", sender.to_str().unwrap(), "00"])
        .spawn()
        .unwrap();
    let ra = Guard(ra);
    let dumps = || text_of(&trace).matches("RTM_GETADDR").count();
    // about 20 RAs in 4 s: 4 or 5 dumps, not one per RA
    std::thread::sleep(Duration::from_secs(4));
    drop(ra);
    let n = dumps();
    assert!(
        (1..=6).contains(&n),
        "{n} address dumps\n{}",
        lab.log("odhcp6c")
    );
}
