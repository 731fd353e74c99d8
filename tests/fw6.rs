//! fw's IPv6 in network namespaces (root only): the DHCPv6 client's file
//! becomes the uplink's address, an `unreachable` route over the delegated
//! prefix, the LAN's `PREFIX::1/64` with the prefix's lifetimes and the v6
//! name servers in resolv.conf; a renumbered or lost prefix leaves the old
//! LAN address deprecated (RFC 7084 L-13), never deleted. Every namespace,
//! interface and process is the test's own and is removed when it ends.

mod common;
use common::lab::{fw, fw_dirs, two_links};
use common::*;
use std::fs;

/// `ip -6 -o addr show dev DEV` in `ns`, one line per address.
fn addrs6(ns: &Netns, dev: &str) -> String {
    ns.output(&["ip", "-6", "-o", "addr", "show", "dev", dev])
}

/// The line of `addr` in `ip -6 -o addr` output.
fn line_of<'a>(addrs: &'a str, addr: &str) -> Option<&'a str> {
    addrs.lines().find(|l| l.contains(&format!(" {addr} ")))
}

/// The preferred lifetime `ip` shows in an address line, in seconds
/// (`forever` is u64::MAX).
fn preferred(line: &str) -> u64 {
    let w: Vec<&str> = line.split_whitespace().collect();
    let at = w.iter().position(|x| *x == "preferred_lft").unwrap();
    let v = w[at + 1].trim_end_matches("sec");
    v.parse().unwrap_or(u64::MAX)
}

fn valid(line: &str) -> u64 {
    let w: Vec<&str> = line.split_whitespace().collect();
    let at = w.iter().position(|x| *x == "valid_lft").unwrap();
    w[at + 1]
        .trim_end_matches("sec")
        .parse()
        .unwrap_or(u64::MAX)
}

const WAN: &str = "# as dhcp6 writes it\nif='eth0'\norigin='dhcp6'\nip6='2001:db8:1::150/128,400,600'\nprefix6='2001:db8:100:ab00::/56,400,600'\ndns6='2001:db8:1::53'\ndomains6='lab.example'\n";

#[test]
fn a_dhcp6_file_numbers_the_lan_and_a_new_prefix_deprecates_the_old() {
    if !netns_prerequisites() {
        return;
    }
    let n = two_links("6a");
    let t = TempDir::new("fw6");
    fw_dirs(t.path());
    fs::write(
        t.join("conf/eth1.ipconf"),
        "if=eth1\nipmask=192.168.7.1/24\nprefix6_from=eth0\n",
    )
    .unwrap();
    fs::write(t.join("conf/forward"), "").unwrap();
    fs::write(t.join("dyn/dhcp6_eth0.ipconf"), WAN).unwrap();
    // the file was written 100 s ago: its lifetimes count from then
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(100);
    fs::File::options()
        .write(true)
        .open(t.join("dyn/dhcp6_eth0.ipconf"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let (code, out, err) = fw(&n, t.path());
    assert_eq!(code, 0, "{out}{err}");
    let wan = addrs6(&n, "eth0");
    let w = line_of(&wan, "2001:db8:1::150/128").expect(&wan);
    assert!(w.contains("noprefixroute"), "{w}");
    assert!(
        (495..=500).contains(&valid(w)) && preferred(w) <= 300,
        "{w}"
    );
    let lan = addrs6(&n, "eth1");
    let l = line_of(&lan, "2001:db8:100:ab00::1/64").expect(&lan);
    assert!((495..=500).contains(&valid(l)), "{l}");
    assert!((295..=300).contains(&preferred(l)), "{l}");
    let routes = n.output(&["ip", "-6", "route"]);
    assert!(
        routes.contains("unreachable 2001:db8:100:ab00::/56 dev lo proto 102"),
        "{routes}"
    );
    assert!(
        routes.contains("2001:db8:100:ab00::/64 dev eth1 proto kernel"),
        "{routes}"
    );
    assert_eq!(
        fs::read_to_string(t.join("resolv.conf")).unwrap(),
        "# written by ferrite fw\nsearch lab.example\nnameserver 2001:db8:1::53\n"
    );
    let sysctl = |k: &str| n.output(&["sysctl", "-n", k]).trim().to_string();
    assert_eq!(sysctl("net.ipv6.conf.eth0.accept_ra"), "2");
    assert_eq!(sysctl("net.ipv6.conf.all.forwarding"), "1");
    assert_eq!(sysctl("net.ipv4.ip_forward"), "1");
    // again: nothing to do
    let (code, out, _) = fw(&n, t.path());
    assert_eq!((code, out.as_str()), (0, ""));
    // the ISP renumbers: the old LAN address deprecated, the new one added
    fs::write(
        t.join("dyn/dhcp6_eth0.ipconf"),
        WAN.replace("100:ab00::/56,400,600", "200:cd00::/56,400,600"),
    )
    .unwrap();
    let (code, out, err) = fw(&n, t.path());
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("deprecated 2001:db8:100:ab00::1/64 dev eth1"),
        "{out}"
    );
    let lan = addrs6(&n, "eth1");
    let l = line_of(&lan, "2001:db8:100:ab00::1/64").expect(&lan);
    assert!(l.contains("deprecated") && preferred(l) == 0, "{l}");
    assert!(valid(l) <= 500, "{l}");
    let l = line_of(&lan, "2001:db8:200:cd00::1/64").expect(&lan);
    assert!(preferred(l) >= 395, "{l}");
    let routes = n.output(&["ip", "-6", "route"]);
    assert!(
        routes.contains("unreachable 2001:db8:200:cd00::/56"),
        "{routes}"
    );
    assert!(
        !routes.contains("unreachable 2001:db8:100:ab00::/56"),
        "{routes}"
    );
    // the lease lost: the LAN address deprecated, the uplink's DHCPv6
    // address removed, resolv.conf without the v6 name server
    fs::remove_file(t.join("dyn/dhcp6_eth0.ipconf")).unwrap();
    let (code, out, err) = fw(&n, t.path());
    assert_eq!(code, 0, "{out}{err}");
    let lan = addrs6(&n, "eth1");
    let l = line_of(&lan, "2001:db8:200:cd00::1/64").expect(&lan);
    assert!(preferred(l) == 0 && valid(l) > 0, "{l}");
    assert!(line_of(&lan, "2001:db8:100:ab00::1/64").is_some(), "{lan}");
    assert!(line_of(&addrs6(&n, "eth0"), "2001:db8:1::150/128").is_none());
    assert_eq!(
        fs::read_to_string(t.join("resolv.conf")).unwrap(),
        "# written by ferrite fw\n"
    );
    assert!(!n.output(&["ip", "-6", "route"]).contains("unreachable"));
    // and nothing more to do after that
    let (code, out, _) = fw(&n, t.path());
    assert_eq!((code, out.as_str()), (0, ""));
}

#[test]
fn a_prefix_inside_a_vpn_route_and_a_hostile_file_are_harmless() {
    if !netns_prerequisites() {
        return;
    }
    let n = two_links("6b");
    // a VPN's route (a veth stands for the tunnel)
    n.veth("wg0", "wgp");
    n.ip(&["link", "set", "wg0", "up"]);
    n.ip(&["-6", "route", "add", "2001:db8::/32", "dev", "wg0"]);
    let t = TempDir::new("fw6v");
    fw_dirs(t.path());
    fs::write(t.join("conf/eth1.ipconf"), "if=eth1\nprefix6_from=eth0\n").unwrap();
    fs::write(t.join("dyn/dhcp6_eth0.ipconf"), WAN).unwrap();
    let (code, out, err) = fw(&n, t.path());
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains(
            "prefix 2001:db8:100:ab00::/56 from eth0 not used: it would shadow 2001:db8::/32"
        ),
        "{err}"
    );
    assert!(line_of(&addrs6(&n, "eth1"), "2001:db8:100:ab00::1/64").is_none());
    assert!(!n.output(&["ip", "-6", "route"]).contains("unreachable"));
    // a file with bad values is named and skipped, never a panic
    fs::write(
        t.join("dyn/dhcp6_eth0.ipconf"),
        "if=eth0\norigin=dhcp6\nprefix6='2001:db8::/56,900,10'\n",
    )
    .unwrap();
    let (code, _, err) = fw(&n, t.path());
    assert_eq!(code, 1);
    assert!(err.contains("dhcp6_eth0.ipconf:3:"), "{err}");
}

/// Static IPv6 routes from a local file (a link without router
/// advertisements): `gw6=` a default route, `net6=` routes via it; fw
/// installs them once, and removes them when the file drops them.
#[test]
fn static_ipv6_routes_come_and_go_with_the_file() {
    if !netns_prerequisites() {
        return;
    }
    let n = two_links("6c");
    let t = TempDir::new("fw6s");
    fw_dirs(t.path());
    let conf = "if=eth0\nip6=2001:db8:9::2/64\ngw6=2001:db8:9::1\nnet6='2001:db8:aa::/48'\n";
    fs::write(t.join("conf/eth0.ipconf"), conf).unwrap();
    // a default route from a router advertisement is there too (the
    // kernel's, metric 1024): fw's goes ahead of it, no collision
    n.ip(&["link", "set", "eth0", "up"]);
    n.ip(&[
        "-6", "route", "add", "default", "via", "fe80::99", "dev", "eth0", "proto", "ra", "metric",
        "1024",
    ]);
    let (code, out, err) = fw(&n, t.path());
    assert_eq!(code, 0, "{out}{err}");
    let routes = n.output(&["ip", "-6", "route"]);
    assert!(
        routes.contains("default via fe80::99 dev eth0 proto ra metric 1024"),
        "{routes}"
    );
    for want in [
        "default via 2001:db8:9::1 dev eth0 proto 102 metric 512",
        "2001:db8:aa::/48 via 2001:db8:9::1 dev eth0 proto 102 metric 512",
    ] {
        assert!(routes.contains(want), "{want:?} not in:\n{routes}\n{out}");
    }
    // again: nothing to do (the kernel's routes read back as fw's)
    let (code, out, _) = fw(&n, t.path());
    assert_eq!((code, out.as_str()), (0, ""));
    fs::write(
        t.join("conf/eth0.ipconf"),
        "if=eth0\nip6=2001:db8:9::2/64\n",
    )
    .unwrap();
    let (code, out, err) = fw(&n, t.path());
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("- route default via 2001:db8:9::1"), "{out}");
    let routes = n.output(&["ip", "-6", "route"]);
    assert!(
        !routes.contains("default via 2001:db8:9::1") && !routes.contains("2001:db8:aa::"),
        "{routes}"
    );
    assert!(
        routes.contains("default via fe80::99"),
        "the kernel's route stays: {routes}"
    );
}
