//! CVE-2024-3661 ("TunnelVision") in network namespaces (root only): dnsmasq
//! sends classless static routes (option 121) 0.0.0.0/1 and 128.0.0.0/1 via
//! itself, next to 10.99.0.0/16, 172.16.5.0/24 and a default route. While a
//! `wg0` link (a veth here) holds a full-tunnel default route, neither fw
//! nor `dhcp --apply` installs any of the specific ones (each would pull its
//! destinations out of the tunnel; the equal default route stays, metrics
//! order it), and both say so; a VPN that reports through its own ipconf
//! guards once fw prefers it. With a split tunnel (172.16.0.0/12 dev wg0)
//! only 172.16.5.0/24 is dropped and the halves and 10.99.0.0/16 are
//! installed, so the test can fail. Every namespace, link and process is
//! the test's own and is removed when it ends.

mod common;
use common::lab::*;
use common::*;
use std::fs;
use std::time::Duration;

const T: Duration = Duration::from_secs(15);
const ROUTES: &str = "--dhcp-option=121,0.0.0.0/1,10.77.0.1,128.0.0.0/1,10.77.0.1,10.99.0.0/16,10.77.0.1,172.16.5.0/24,10.77.0.1,0.0.0.0/0,10.77.0.1";

/// In the lab (`vs` 10.77.0.1/24): dnsmasq sending ROUTES, and a `wg0`
/// link, up, next to `vc` in the client namespace.
fn vpn(lab: &Lab) -> Daemon {
    // a dummy link would do, but not every kernel has the module: a veth
    // pair whose peer is up gives a link with carrier as well
    lab.c.veth("wg0", "wg0p");
    lab.c.ip(&["link", "set", "wg0", "up"]);
    lab.dnsmasq_with(&default_range(lab.net), Some("leases"), &[ROUTES])
}

/// The VPN's routes: `full` is `0.0.0.0/0 dev wg0 metric 50`, else the
/// split tunnel `172.16.0.0/12 dev wg0`.
fn vpn_route(c: &Netns, add: bool, full: bool) {
    let verb = if add { "add" } else { "del" };
    let net = if full { "0.0.0.0/0" } else { "172.16.0.0/12" };
    c.ip(&["route", verb, net, "dev", "wg0", "metric", "50"]);
}

fn halves(r: &str) -> (bool, bool) {
    (
        r.lines()
            .any(|l| l.starts_with("0.0.0.0/1 via 10.77.0.1 dev vc")),
        r.lines()
            .any(|l| l.starts_with("128.0.0.0/1 via 10.77.0.1 dev vc")),
    )
}

/// The native client on `vc`, its ipconf in the lab's `dyn`, fw not poked.
fn client(lab: &Lab, extra: &[&str], tag: &str) -> Daemon {
    lab::dhcp(
        &lab.c,
        &lab.join("dhcp_vc"),
        extra,
        &lab.join("dyn"),
        &lab.join("no-fw"),
        &lab.join("state"),
        lab.join(&format!("dhcp-{tag}.log")),
    )
}

const DROPPED_LO: &str =
    "DHCP route 0.0.0.0/1 via 10.77.0.1 dev vc dropped: it would shadow default dev wg0";
const DROPPED_HI: &str =
    "DHCP route 128.0.0.0/1 via 10.77.0.1 dev vc dropped: it would shadow default dev wg0";
const DROPPED_10: &str =
    "DHCP route 10.99.0.0/16 via 10.77.0.1 dev vc dropped: it would shadow default dev wg0";
const DROPPED_SPLIT: &str =
    "DHCP route 172.16.5.0/24 via 10.77.0.1 dev vc dropped: it would shadow 172.16.0.0/12 dev wg0";

fn has(r: &str, route: &str) -> bool {
    r.lines().any(|l| l.starts_with(route))
}

#[test]
fn fw_keeps_dhcp_routes_from_pulling_traffic_around_a_vpn() {
    let Some(lab) = lab("tv-fw") else { return };
    let _srv = vpn(&lab);
    let c = &lab.c;
    fw_dirs(lab.path());
    vpn_route(c, true, true);
    let mut cl = client(&lab, &[], "fw");
    let lease = lab.join("dyn/dhcp_vc.ipconf");
    assert!(
        wait_until(T, || fs::read_to_string(&lease)
            .unwrap_or_default()
            .contains("net='172.16.5.0/24'")),
        "no lease with option 121: {}",
        cl.log()
    );
    let text = fs::read_to_string(&lease).unwrap();
    assert!(text.contains("origin='dhcp'"), "{text}");
    assert!(text.contains("net='0.0.0.0/1'"), "{text}");

    // a full tunnel: every specific route is dropped and named, the lease's
    // address and its (equal) default route are installed
    let (code, out, err) = fw(c, lab.path());
    assert_eq!(code, 0, "{out}{err}");
    for d in [DROPPED_LO, DROPPED_HI, DROPPED_10] {
        assert!(err.contains(d), "{d}: {err}");
    }
    assert_eq!(err.matches("dropped").count(), 4, "{err}");
    let r = routes(c);
    assert_eq!(halves(&r), (false, false), "{r}");
    assert!(!has(&r, "10.99.0.0/16") && !has(&r, "172.16.5.0/24"), "{r}");
    assert!(
        has(&r, "default via 10.77.0.1 dev vc proto 102 metric 10"),
        "the equal default route stays: {r}"
    );
    assert!(has(&r, "default dev wg0 scope link metric 50"), "{r}");

    // a split tunnel instead: only the route inside it is dropped; the
    // halves and the harmless 10.99.0.0/16 are installed
    vpn_route(c, false, true);
    vpn_route(c, true, false);
    let (code, out, err) = fw(c, lab.path());
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains(DROPPED_SPLIT), "{err}");
    assert_eq!(err.matches("dropped").count(), 1, "{err}");
    let r = routes(c);
    assert_eq!(halves(&r), (true, true), "without a full tunnel: {r}");
    assert!(
        has(&r, "10.99.0.0/16 via 10.77.0.1 dev vc proto 102"),
        "{r}"
    );
    assert!(!has(&r, "172.16.5.0/24"), "{r}");

    // the full tunnel comes (back) up and pokes fw: fw takes them away
    vpn_route(c, true, true);
    let (_, out, err) = fw(c, lab.path());
    assert!(
        err.contains(DROPPED_LO) && err.contains(DROPPED_10),
        "{err}"
    );
    assert!(
        out.contains("- route 0.0.0.0/1 via 10.77.0.1 dev vc"),
        "{out}"
    );
    let r = routes(c);
    assert_eq!(halves(&r), (false, false), "{r}");
    assert!(!has(&r, "10.99.0.0/16"), "{r}");
    vpn_route(c, false, true);
    vpn_route(c, false, false);

    // a VPN that reports itself through its own ipconf counts as well,
    // once fw prefers it: after the lease in fw's order its default route
    // gets the higher metric and carries nothing a route could take away
    let (_, _, err) = fw(c, lab.path());
    assert!(!err.contains("dropped"), "no VPN at all: {err}");
    assert_eq!(halves(&routes(c)), (true, true), "{}", routes(c));
    fs::write(
        lab.join("dyn/vpn_wg0.ipconf"),
        "if='wg0'\norigin='vpn'\nnet='0/0'\n",
    )
    .unwrap();
    let (_, _, err) = fw(c, lab.path());
    assert!(!err.contains("dropped"), "{err}");
    let r = routes(c);
    assert!(
        has(&r, "default dev wg0 proto 102 scope link metric 20"),
        "{r}"
    );
    assert_eq!(halves(&r), (true, true), "{r}");
    fs::write(lab.join("conf/prefer"), "wg0\n").unwrap();
    let (_, _, err) = fw(c, lab.path());
    assert!(
        err.contains(DROPPED_LO) && err.contains(DROPPED_HI),
        "{err}"
    );
    let r = routes(c);
    assert_eq!(halves(&r), (false, false), "{r}");
    assert!(
        has(&r, "default dev wg0 proto 102 scope link metric 10"),
        "{r}"
    );
    assert!(
        has(&r, "default via 10.77.0.1 dev vc proto 102 metric 20"),
        "{r}"
    );

    // a lease file of the old form (no origin=, the seed's handler) is
    // still taken for a DHCP one by its name
    cl.stop();
    fs::write(
        &lease,
        "if='vc'\nip='10.77.0.120'\nipmask='10.77.0.120/24'\ngw='10.77.0.1'\nnet='0.0.0.0/1'\ngw='10.77.0.1'\nnet='0/0'\n",
    )
    .unwrap();
    let (_, _, err) = fw(c, lab.path());
    assert!(err.contains(DROPPED_LO), "{err}");
    let r = routes(c);
    assert!(!halves(&r).0, "{r}");
    assert!(has(&r, "default via 10.77.0.1 dev vc"), "{r}");
    // named otherwise and unmarked, it is local configuration: installed
    fs::rename(&lease, lab.join("dyn/static_vc.ipconf")).unwrap();
    let (_, _, err) = fw(c, lab.path());
    assert!(!err.contains("dropped"), "{err}");
    assert!(halves(&routes(c)).0, "{}", routes(c));
}

#[test]
fn dhcp_apply_keeps_dhcp_routes_from_pulling_traffic_around_a_vpn() {
    let Some(lab) = lab("tv-apply") else { return };
    let _srv = vpn(&lab);
    let c = &lab.c;
    let resolv = lab.join("resolv.conf");
    let args = ["--apply", "--resolv-conf", resolv.to_str().unwrap()];
    let default = "default via 10.77.0.1 dev vc";
    let harmless = "10.99.0.0/16 via 10.77.0.1 dev vc";

    // the full tunnel is up before the lease: no specific route appears
    vpn_route(c, true, true);
    let mut cl = client(&lab, &args, "full");
    assert!(
        wait_until(T, || has(&routes(c), default)
            && cl.log().contains(DROPPED_HI)),
        "{} {}",
        routes(c),
        cl.log()
    );
    let r = routes(c);
    assert_eq!(halves(&r), (false, false), "{r}");
    assert!(!has(&r, "10.99.0.0/16") && !has(&r, "172.16.5.0/24"), "{r}");
    assert!(
        cl.log().contains(DROPPED_LO) && cl.log().contains(DROPPED_10),
        "{}",
        cl.log()
    );
    cl.stop();
    assert!(!has(&routes(c), default), "stopped: {}", routes(c));

    // a split tunnel: the halves and the harmless route are installed, the
    // route inside the tunnel is not (the reverse check)
    vpn_route(c, false, true);
    vpn_route(c, true, false);
    let cl = client(&lab, &args, "split");
    assert!(
        wait_until(T, || halves(&routes(c)) == (true, true)),
        "without a full tunnel: {} {}",
        routes(c),
        cl.log()
    );
    let r = routes(c);
    assert!(has(&r, harmless) && has(&r, default), "{r}");
    assert!(!has(&r, "172.16.5.0/24"), "{r}");
    assert!(cl.log().contains(DROPPED_SPLIT), "{}", cl.log());
    assert!(!cl.log().contains(DROPPED_LO), "{}", cl.log());

    // the full tunnel comes up; at the next renewal (forced here by
    // SIGUSR1) the halves and 10.99.0.0/16 go, the default route stays
    vpn_route(c, true, true);
    cl.signal(libc::SIGUSR1);
    assert!(
        wait_until(T, || {
            let r = routes(c);
            halves(&r) == (false, false) && !has(&r, "10.99.0.0/16")
        }),
        "after the renewal: {} {}",
        routes(c),
        cl.log()
    );
    assert!(has(&routes(c), default), "{}", routes(c));
    assert!(cl.log().contains(DROPPED_LO), "{}", cl.log());
}
