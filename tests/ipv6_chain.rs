//! The IPv6 chain of the router board end to end, in three network
//! namespaces (root only; issue 16): an ISP with Debian's kea-dhcp6-server
//! (addresses and /60 prefixes from `pd-pools`) and radvd (M and O set), a
//! router running ferrite's own tree as the router board has it (runsvdir
//! with `dhcp6_eth0 -P 60`, `fw` with `eth1.ipconf`'s `prefix6_from=eth0`
//! and `forward`, `ra_eth1`: native mode, no shell), and a LAN host that
//! runs the kernel only. What the test asserts is what a user sees: the
//! host's `ip -6 addr` (an address in the delegated /64, its flags and
//! preferred lifetime), its pings to the ISP, fw's log. The chain:
//! dhcp6 -> dhcp6_eth0.ipconf -> fw (eth1's PREFIX::1/64) -> ra -> the
//! host's kernel. Every namespace, interface and process is the test's own
//! and goes when it ends.

mod common;
use common::lab::Daemon;
use common::*;
use std::fs;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The bound of every wait for a step of the chain.
const T: Duration = Duration::from_secs(15);
/// How long the WAN cable stays out.
const PULL: Duration = Duration::from_secs(3);
/// kea's preferred lifetime (tests/common/kea.rs).
const PREFERRED: u64 = 40;
/// The ISP's own address, what the LAN host pings.
const ISP: &str = "2001:db8:1::1";

fn templates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rootfs/templates")
}

/// Service `name` in `tree` made from the rootfs template `template` as
/// the rootfs tool makes it (its links to /bin/ferrite linked to the
/// ferrite under test, its READMEs left out), with `args`, and its log
/// (svlogd) in `logs/NAME`; `extra` adds to it before runsvdir sees it.
fn service(
    tree: &Path,
    logs: &Path,
    template: &str,
    name: &str,
    args: &str,
    extra: impl FnOnce(&Path),
) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for e in fs::read_dir(from).unwrap().flatten() {
            let (src, dst) = (e.path(), to.join(e.file_name()));
            let ty = e.file_type().unwrap();
            if ty.is_symlink() {
                std::os::unix::fs::symlink(ferrite(), &dst).unwrap();
            } else if ty.is_dir() {
                copy(&src, &dst);
            } else if e.file_name() != "README" {
                fs::copy(&src, &dst).unwrap();
            }
        }
    }
    // made beside the tree and moved in whole: runsvdir sees it complete
    let staging = tree.with_file_name(format!(".{name}"));
    copy(&templates().join(template), &staging);
    fs::write(staging.join("args"), format!("{args}\n")).unwrap();
    let logdir = logs.join(name);
    fs::create_dir_all(&logdir).unwrap();
    fs::write(staging.join("log/args"), format!("{}\n", logdir.display())).unwrap();
    extra(&staging);
    let svc = tree.join(name);
    fs::rename(&staging, &svc).unwrap();
    svc
}

/// The three namespaces, their daemons and files. Fields drop in order:
/// the router's tree and the ISP's servers, then the namespaces, then the
/// directory.
struct Chain {
    tree: Option<TreeGuard>,
    kea: Option<Guard>,
    _radvd: Daemon,
    isp: Netns,
    rt: Netns,
    host: Netns,
    dir: TempDir,
}

impl Chain {
    fn new() -> Option<Chain> {
        if !common::kea::prerequisites()
            || !common::radvd::prerequisites()
            || !require("ping (iputils-ping)", have_program("/usr/bin/ping"))
        {
            return None;
        }
        let dir = TempDir::new("ipv6-chain");
        let isp = Netns::new("6ci");
        let rt = Netns::new("6cr");
        let host = Netns::new("6ch");
        for ns in [&isp, &rt, &host] {
            // no DAD: addresses usable at once, the steps not slowed by 1 s each
            for kv in [
                "net.ipv6.conf.default.accept_dad=0",
                "net.ipv6.conf.all.accept_dad=0",
            ] {
                ns.run(&["sysctl", "-q", "-w", kv]);
            }
        }
        // the ISP's end of the cable is set down to pull it: its address stays
        isp.run(&[
            "sysctl",
            "-q",
            "-w",
            "net.ipv6.conf.default.keep_addr_on_down=1",
        ]);
        // ISP isp0 --- eth0 router eth1 --- lan0 host
        common::lab::veth(&isp, "isp0", &rt, "eth0");
        common::lab::veth(&rt, "eth1", &host, "lan0");
        isp.ip(&["addr", "add", &format!("{ISP}/64"), "dev", "isp0", "nodad"]);
        isp.ip(&["link", "set", "isp0", "up"]);
        // kea listens only on a link with carrier: the router's WAN is up
        rt.ip(&["link", "set", "eth0", "up"]);
        let conf = common::kea::kea_conf("isp0", "2001:db8:100::", 60, "");
        let kea = common::kea::start(&isp, dir.path(), &conf, T);
        let radvd = common::radvd::start(&isp, "isp0", "2001:db8:1::/64", dir.path());
        Some(Chain {
            tree: None,
            kea: Some(kea),
            _radvd: radvd,
            isp,
            rt,
            host,
            dir,
        })
    }

    fn logs(&self) -> PathBuf {
        self.dir.join("logs")
    }

    fn tree(&self) -> PathBuf {
        self.dir.join("tree")
    }

    /// Where dhcp6 writes and fw reads the dynamic ipconf files.
    fn fw_dyn(&self) -> PathBuf {
        self.dir.join("run-fw")
    }

    /// The router's tree, as board-configs/router.toml has it (less
    /// IPv4 on the WAN, dnsmasq and the firewall: not IPv6's chain).
    fn router(&mut self) {
        let tree = self.tree();
        let logs = self.logs();
        fs::create_dir_all(&tree).unwrap();
        let fw = tree.join("fw");
        let d = self.dir.path().display();
        service(
            &tree,
            &logs,
            "dhcp6",
            "dhcp6_eth0",
            &format!(
                "-v -P 60 --fw-dir {} --fw-service {} --state-dir {d}/dhcp6-state",
                self.fw_dyn().display(),
                fw.display()
            ),
            |_| {},
        );
        service(
            &tree,
            &logs,
            "fw",
            "fw",
            &format!(
                "--dynamic {} --resolv-conf {d}/resolv.conf --etc {d}/etc",
                self.fw_dyn().display()
            ),
            |svc| {
                fs::write(
                    svc.join("conf/eth1.ipconf"),
                    "if='eth1'\nipmask='192.168.1.1/24'\nprefix6_from='eth0'\n",
                )
                .unwrap();
                fs::write(svc.join("conf/forward"), "").unwrap();
            },
        );
        service(&tree, &logs, "ra", "ra_eth1", "-v", |_| {});
        self.rt.ip(&["link", "set", "eth1", "up"]);
        self.host.ip(&["link", "set", "lan0", "up"]);
        let console = self.dir.join("console");
        self.tree = Some(common::lab::runsvdir_in(&self.rt, &tree, &console, false));
    }

    /// The current log of service `name`.
    fn log(&self, name: &str) -> String {
        text_of(&self.logs().join(name).join("current"))
    }

    /// Everything a failed assertion should show.
    fn story(&self) -> String {
        let mut s = String::new();
        for n in ["dhcp6_eth0", "fw", "ra_eth1"] {
            s += &format!("--- {n}\n{}", self.log(n));
        }
        s += &format!("--- console\n{}", text_of(&self.dir.join("console")));
        s += &format!("--- ipconf\n{}", self.ipconf());
        s += &format!(
            "--- router\n{}{}",
            self.rt.output(&["ip", "-6", "addr"]),
            self.rt.output(&["ip", "-6", "route"])
        );
        s += &format!("--- host\n{}", self.host_addresses());
        s += &format!("--- kea\n{}", text_of(&self.dir.join("kea.log")));
        s
    }

    fn ipconf(&self) -> String {
        text_of(&self.fw_dyn().join("dhcp6_eth0.ipconf"))
    }

    /// The `KEY='V1 V2'` values of the ipconf file: each `ADDR/LEN,...`.
    fn ipconf_values(&self, key: &str) -> Vec<String> {
        let want = format!("{key}=");
        self.ipconf()
            .lines()
            .filter_map(|l| l.strip_prefix(&want))
            .flat_map(|v| {
                v.trim_matches('\'')
                    .split_whitespace()
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The delegated prefix in use (preferred lifetime above 0): (address,
    /// length).
    fn prefix(&self) -> Option<(Ipv6Addr, u8)> {
        self.ipconf_values("prefix6").iter().find_map(|v| {
            let mut f = v.split(',');
            let (a, l) = f.next()?.split_once('/')?;
            let preferred: u32 = f.next()?.parse().ok()?;
            (preferred > 0).then_some(())?;
            Some((a.parse().ok()?, l.parse().ok()?))
        })
    }

    /// The router's DHCPv6 address on the WAN.
    fn wan_address(&self) -> Option<String> {
        self.ipconf_values("ip6")
            .first()
            .and_then(|v| v.split('/').next().map(String::from))
    }

    /// The ISP routes the delegated prefix to the router's WAN address
    /// (again after a replug: the kernel drops routes over a link set down).
    fn isp_route(&self, prefix: (Ipv6Addr, u8)) {
        let wan = self.wan_address().expect("no WAN address in the ipconf");
        self.isp.ip(&[
            "-6",
            "route",
            "replace",
            &format!("{}/{}", prefix.0, prefix.1),
            "via",
            &wan,
            "dev",
            "isp0",
        ]);
    }

    /// The router's own address on the LAN, fw's PREFIX::1/64 of `lan`.
    fn router_lan_address(&self, lan: Ipv6Addr) -> Option<HostAddr> {
        let want = router_in(lan);
        self.rt
            .output(&["ip", "-6", "-o", "addr", "show", "dev", "eth1"])
            .lines()
            .find_map(|l| HostAddr::parse(l).filter(|a| a.addr == want))
    }

    fn host_addresses(&self) -> String {
        self.host.output(&[
            "ip", "-6", "-o", "addr", "show", "dev", "lan0", "scope", "global",
        ])
    }

    /// The host's address in the /64 `lan`.
    fn host_address_in(&self, lan: Ipv6Addr) -> Option<HostAddr> {
        self.host_addresses()
            .lines()
            .find_map(|l| HostAddr::parse(l).filter(|a| same64(a.addr, lan)))
    }

    /// Within `t`, one ping from the host's address `from` to the ISP answered.
    fn host_reaches_isp(&self, from: Ipv6Addr, t: Duration) -> bool {
        let from = from.to_string();
        wait_until(t, || {
            self.host
                .exec()
                .args(["ping", "-6", "-n", "-c", "1", "-W", "1", "-I", &from, ISP])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
    }

    /// The ISP-side peer of the router's WAN out for PULL, then back in.
    fn pull_wan(&self) {
        self.isp.ip(&["link", "set", "isp0", "down"]);
        std::thread::sleep(PULL);
        self.isp.ip(&["link", "set", "isp0", "up"]);
    }
}

/// One line of `ip -6 -o addr`: the address, its flags, its preferred
/// lifetime in seconds (None: forever).
#[derive(Debug, Clone, PartialEq)]
struct HostAddr {
    addr: Ipv6Addr,
    deprecated: bool,
    preferred: Option<u64>,
}

impl HostAddr {
    fn parse(line: &str) -> Option<HostAddr> {
        let w: Vec<&str> = line.split_whitespace().collect();
        let at = w.iter().position(|x| *x == "inet6")?;
        let addr = w.get(at + 1)?.split('/').next()?.parse().ok()?;
        let p = w.iter().position(|x| *x == "preferred_lft")?;
        let preferred = w.get(p + 1)?.trim_end_matches("sec").parse().ok();
        Some(HostAddr {
            addr,
            deprecated: w.contains(&"deprecated"),
            preferred,
        })
    }
}

/// The /64 fw gives the LAN: subnet 0 of the delegated prefix.
fn lan64(prefix: (Ipv6Addr, u8)) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(prefix.0) >> 64 << 64)
}

fn same64(a: Ipv6Addr, b: Ipv6Addr) -> bool {
    u128::from(a) >> 64 == u128::from(b) >> 64
}

/// fw's address for the router in the LAN's /64: PREFIX::1.
fn router_in(lan: Ipv6Addr) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(lan) | 1)
}

#[test]
fn a_delegated_prefix_reaches_the_lan_survives_a_replug_and_is_renumbered() {
    let Some(mut c) = Chain::new() else { return };
    let t0 = Instant::now();
    c.router();

    // 1. an address and a /60 on the WAN, a /64 of it on the LAN, RAs: the
    // host's SLAAC address in it, and its pings reach the ISP
    assert!(
        wait_until(T, || c.prefix().is_some() && c.wan_address().is_some()),
        "no address and prefix from kea:\n{}",
        c.story()
    );
    let bound = Instant::now();
    let first = c.prefix().unwrap();
    assert!(
        first.1 == 60 && u128::from(first.0) >> 80 == 0x2001_0db8_0100,
        "{first:?}"
    );
    let lan = lan64(first);
    assert!(
        wait_until(T, || c.host_address_in(lan).is_some()),
        "no SLAAC address in {lan}/64 on the host:\n{}",
        c.story()
    );
    let addr = c.host_address_in(lan).unwrap();
    assert!(!addr.deprecated && addr.preferred > Some(0), "{addr:?}");
    eprintln!(
        "tree started -> SLAAC address on the host: {:?}",
        t0.elapsed()
    );
    c.isp_route(first);
    assert!(
        c.host_reaches_isp(addr.addr, T),
        "the host does not reach the ISP:\n{}",
        c.story()
    );

    // 2. the WAN cable out and back: the same prefix, the host's address
    // unchanged and not deprecated, the ping again
    let rebinds = c.log("dhcp6_eth0").matches("rebound").count();
    c.pull_wan();
    let plugged = Instant::now();
    assert!(
        wait_until(T, || c.log("dhcp6_eth0").matches("rebound").count()
            > rebinds),
        "no REBIND after the replug:\n{}",
        c.story()
    );
    eprintln!("replug -> rebound: {:?}", plugged.elapsed());
    assert_eq!(c.prefix(), Some(first), "{}", c.story());
    let now = c.host_address_in(lan);
    assert!(
        now.as_ref()
            .is_some_and(|a| a.addr == addr.addr && !a.deprecated && a.preferred > Some(0)),
        "the host's address after the replug: {now:?}\n{}",
        c.story()
    );
    // the REBIND renewed the lifetimes (kea's: preferred 40 s, valid 60 s):
    // at once on the router's LAN address, and through ra on the host's
    // before the first ones run out there (ra sends them in time; a host
    // left counting down the first RA's would see its address deprecated
    // 40 s after the binding, under a prefix the router still holds)
    let since = |t: Instant| t.elapsed().as_secs();
    let fresh = |a: Option<HostAddr>| {
        let first_left = PREFERRED.saturating_sub(since(bound));
        a.is_some_and(|a| a.preferred.is_some_and(|p| p > first_left + 4))
    };
    assert!(
        wait_until(T, || fresh(c.router_lan_address(lan))),
        "the router's LAN address kept its old lifetimes:\n{}",
        c.story()
    );
    // (a slow run past the first lifetimes still gets ra's 3 s spacing
    // to send them: a single look at once would fail it by chance; a host
    // address that was not renewed then has preferred 0, and fails)
    let by = Duration::from_secs(PREFERRED)
        .saturating_sub(bound.elapsed())
        .max(Duration::from_secs(4));
    assert!(
        wait_until(by, || fresh(c.host_address_in(lan))),
        "the host's address kept its old lifetimes:\n{}",
        c.story()
    );
    eprintln!(
        "binding -> the host's address has the renewed lifetimes: {:?}",
        bound.elapsed()
    );
    c.isp_route(first);
    assert!(
        c.host_reaches_isp(addr.addr, T),
        "no ping after the replug:\n{}",
        c.story()
    );

    // 3. the ISP renumbers: kea comes back with another pool (and no
    // memory), and a replug makes the router ask (REBIND); the old /64 is
    // deprecated through the whole chain, the host gets a new address in
    // the new /64 and reaches the ISP from it
    c.kea = None;
    let conf = common::kea::kea_conf("isp0", "2001:db8:200::", 60, "");
    c.kea = Some(common::kea::start(&c.isp, c.dir.path(), &conf, T));
    c.pull_wan();
    let plugged = Instant::now();
    assert!(
        wait_until(T, || c.prefix().is_some_and(|p| p != first)),
        "no new prefix after the renumbering:\n{}",
        c.story()
    );
    let second = c.prefix().unwrap();
    assert!(u128::from(second.0) >> 80 == 0x2001_0db8_0200, "{second:?}");
    let old_lan = format!("{}/64", router_in(lan));
    assert!(
        wait_until(T, || c
            .log("fw")
            .contains(&format!("deprecated {old_lan} dev eth1"))),
        "fw did not deprecate {old_lan}:\n{}",
        c.story()
    );
    assert!(
        wait_until(T, || c
            .host_address_in(lan)
            .is_some_and(|a| a.deprecated && a.preferred == Some(0))),
        "the host's old address is not deprecated:\n{}",
        c.story()
    );
    eprintln!(
        "renumbering: replug -> the host's old address deprecated: {:?}",
        plugged.elapsed()
    );
    let new_lan = lan64(second);
    assert!(
        wait_until(T, || c
            .host_address_in(new_lan)
            .is_some_and(|a| !a.deprecated)),
        "no SLAAC address in {new_lan}/64 on the host:\n{}",
        c.story()
    );
    let new = c.host_address_in(new_lan).unwrap();
    c.isp_route(second);
    assert!(
        c.host_reaches_isp(new.addr, T),
        "the host does not reach the ISP after the renumbering:\n{}",
        c.story()
    );
}
