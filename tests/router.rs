//! The router board's firewall (board-configs/router/firewall.nft) on the
//! build machine's Debian nftables: it loads (`nft -c`, then for real) in a
//! network namespace of the test's own, so its syntax and the kernel's
//! checks hold before any image boots it; and in three namespaces (ISP,
//! router, LAN host) it does what RFC 6092 asks. The router board itself
//! runs in tests/qemu.rs (`the_router_board_...`).

mod common;
use common::*;
use std::path::PathBuf;
use std::time::Duration;

const NFT: &str = "/usr/sbin/nft";

fn ruleset() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board-configs/router/firewall.nft")
}

#[test]
fn the_router_firewall_loads_on_debian_nftables() {
    if !netns_prerequisites() || !require("nft (Debian nftables)", have_program(NFT)) {
        return;
    }
    let ns = Netns::new("nft");
    let file = ruleset();
    let file = file.to_str().unwrap();
    let (rc, _, err) = run(ns.exec().args([NFT, "-c", "-f", file]));
    assert_eq!(rc, 0, "nft -c -f {file}: {err}");
    let (rc, _, err) = run(ns.exec().args([NFT, "-f", file]));
    assert_eq!(rc, 0, "nft -f {file}: {err}");
    let listed = ns.output(&[NFT, "list", "ruleset"]);
    for want in [
        "table inet filter",
        "type filter hook input priority filter; policy drop;",
        "type filter hook forward priority filter; policy drop;",
        "ct state established,related accept",
        "iifname \"eth1\" oifname \"eth0\" accept",
        "packet-too-big",
        "udp sport 547 udp dport 546 accept",
        "table ip nat",
        "oifname \"eth0\" masquerade",
    ] {
        assert!(listed.contains(want), "{want:?} not in:\n{listed}");
    }
    // loaded twice (fw loads it at every run): the same ruleset, not two
    let (rc, _, err) = run(ns.exec().args([NFT, "-f", file]));
    assert_eq!(rc, 0, "{err}");
    assert_eq!(ns.output(&[NFT, "list", "ruleset"]), listed);
}

/// Root, iproute2, Debian's nft and python3 (the tests' peers and probes).
fn three_namespace_prerequisites() -> bool {
    netns_prerequisites()
        && require("nft (Debian nftables)", have_program(NFT))
        && require("python3", have_program("/usr/bin/python3"))
}

/// The ruleset at work in three namespaces: an ISP, the router (veth
/// `eth0` to the ISP, `eth1` to the LAN, forwarding on, the ruleset
/// loaded) and a LAN host with a global IPv6 address of the LAN's /64.
struct Net {
    isp: Netns,
    rtr: Netns,
    lan: Netns,
    dir: TempDir,
}

fn sysctl(ns: &Netns, kv: &str) {
    ns.run(&["sysctl", "-q", "-w", kv]);
}

impl Net {
    fn new() -> Net {
        let (isp, rtr, lan) = (Netns::new("fi"), Netns::new("fr"), Netns::new("fl"));
        for ns in [&isp, &rtr, &lan] {
            sysctl(ns, "net.ipv6.conf.all.accept_dad=0");
            sysctl(ns, "net.ipv6.conf.default.accept_dad=0");
        }
        common::lab::veth(&isp, "wan", &rtr, "eth0");
        common::lab::veth(&lan, "lan", &rtr, "eth1");
        let addrs: [(&Netns, &str, &[&str]); 6] = [
            (&isp, "wan", &["10.9.0.1/24", "2001:db8:1::1/64"]),
            (&rtr, "eth0", &["10.9.0.2/24", "2001:db8:1::2/64"]),
            (&rtr, "eth1", &["192.168.1.1/24", "2001:db8:100:1::1/64"]),
            (&lan, "lan", &["192.168.1.100/24", "2001:db8:100:1::100/64"]),
            (&isp, "lo", &[]),
            (&lan, "lo", &[]),
        ];
        for (ns, dev, list) in addrs {
            for a in list {
                let dad: &[&str] = if a.contains(':') { &["nodad"] } else { &[] };
                ns.ip(&[&["addr", "add", a, "dev", dev][..], dad].concat());
            }
            ns.ip(&["link", "set", dev, "up"]);
        }
        // the ISP knows the LAN's prefix (as it routes a delegated one)
        isp.ip(&[
            "-6",
            "route",
            "add",
            "2001:db8:100::/48",
            "via",
            "2001:db8:1::2",
        ]);
        rtr.ip(&["route", "add", "default", "via", "10.9.0.1"]);
        rtr.ip(&["-6", "route", "add", "default", "via", "2001:db8:1::1"]);
        lan.ip(&["route", "add", "default", "via", "192.168.1.1"]);
        lan.ip(&["-6", "route", "add", "default", "via", "2001:db8:100:1::1"]);
        sysctl(&rtr, "net.ipv4.ip_forward=1");
        sysctl(&rtr, "net.ipv6.conf.all.forwarding=1");
        let file = ruleset();
        let (rc, _, err) = run(rtr.exec().args([NFT, "-f", file.to_str().unwrap()]));
        assert_eq!(rc, 0, "{err}");
        Net {
            isp,
            rtr,
            lan,
            dir: TempDir::new("router-fw"),
        }
    }

    fn pings(ns: &Netns, to: &str) -> bool {
        let (rc, _, _) = run(ns.exec().args(["ping", "-c", "1", "-W", "2", to]));
        rc == 0
    }
}

/// RFC 6092 simple security with the router's ruleset: the LAN host
/// connects out over both families (IPv4 masqueraded behind the WAN
/// address, IPv6 as it is), the ISP side cannot open a connection to it
/// (dropped: the connect times out), echo requests pass (RFC 4890), and a
/// port of the router itself opens only when the conf's set names it.
#[test]
fn the_router_firewall_lets_the_lan_out_and_nothing_in() {
    if !three_namespace_prerequisites() {
        return;
    }
    let net = Net::new();
    let d = net.dir.path();
    let _isp4 = common::lab::tell_peer(&net.isp, "10.9.0.1", 8080, d);
    let _isp6 = common::lab::tell_peer(&net.isp, "2001:db8:1::1", 8080, d);
    let _lan6 = common::lab::tell_peer(&net.lan, "::", 8081, d);
    let _rtr = common::lab::tell_peer(&net.rtr, "::", 2222, d);
    // out: IPv4 through NAT, IPv6 routed
    assert_eq!(
        common::lab::connect(&net.lan, "10.9.0.1", 8080, 5),
        "peer=10.9.0.2"
    );
    assert_eq!(
        common::lab::connect(&net.lan, "2001:db8:1::1", 8080, 5),
        "peer=2001:db8:100:1::100"
    );
    assert!(Net::pings(&net.lan, "2001:db8:1::1"));
    assert!(Net::pings(&net.lan, "10.9.0.1"));
    // in: the LAN host's open port is not reachable from the WAN
    let t0 = std::time::Instant::now();
    let inbound = common::lab::connect(&net.isp, "2001:db8:100:1::100", 8081, 3);
    assert!(inbound.starts_with("failed="), "the ISP got in: {inbound}");
    assert!(
        !inbound.contains("Refused"),
        "dropped, not refused: {inbound}"
    );
    eprintln!(
        "ISP -> LAN host TCP over IPv6: {inbound} after {:?}",
        t0.elapsed()
    );
    // ... but the LAN host itself reaches it (the server is up)
    assert_eq!(common::lab::connect(&net.lan, "::1", 8081, 5), "peer=::1");
    // ICMPv6 echo passes in transit (RFC 4890 4.3.1)
    assert!(Net::pings(&net.isp, "2001:db8:100:1::100"));
    // the router's own port: closed until the conf opens it
    let closed = common::lab::connect(&net.isp, "2001:db8:1::2", 2222, 2);
    assert!(closed.starts_with("failed="), "{closed}");
    net.rtr.run(&[
        NFT, "add", "element", "inet", "filter", "open_tcp", "{ 2222 }",
    ]);
    assert_eq!(
        common::lab::connect(&net.isp, "2001:db8:1::2", 2222, 5),
        "peer=2001:db8:1::1"
    );
    // and it was the ruleset that kept the ISP out: without it, it gets in
    net.rtr.run(&[NFT, "flush", "ruleset"]);
    assert_eq!(
        common::lab::connect(&net.isp, "2001:db8:100:1::100", 8081, 5),
        "peer=2001:db8:1::1"
    );
}

/// A python3 UDP receiver on ADDR PORT: one line `from=SOURCE` per datagram
/// on stderr (spawn_logged keeps stderr).
const UDP_LOG: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    d, p = s.recvfrom(100)
    print('from=%s' % p[0], file=sys.stderr, flush=True)
"#;

/// One UDP datagram from SOURCE to ADDR PORT.
const UDP_SEND: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.sendto(b'x', (sys.argv[2], int(sys.argv[3])))
"#;

fn send_udp(ns: &Netns, from: &str, to: &str, port: u16) {
    ns.run(&["python3", "-c", UDP_SEND, from, to, &port.to_string()]);
}

/// A receiver on `addr` in `ns`, and whether datagrams sent from `forged`
/// arrive: `real` is sent after it on the same path and must arrive, so
/// once it has, a forged one sent just before it has arrived by then or never will.
fn forged_arrives(
    net: &Net,
    sender: &Netns,
    forged: &str,
    real: &str,
    receiver: &Netns,
    addr: &str,
    port: u16,
) -> bool {
    let log = net.dir.join(&format!("udp-{port}.log"));
    let mut cmd = receiver.exec();
    cmd.args(["python3", "-c", UDP_LOG, addr, &port.to_string()]);
    let mut d = common::lab::spawn_logged(&mut cmd, log);
    let up = wait_until(Duration::from_secs(5), || {
        receiver
            .output(&["ss", "-uln"])
            .contains(&format!(":{port} "))
    });
    assert!(up, "no UDP receiver on {addr} {port}: {}", d.log());
    send_udp(sender, forged, addr, port);
    send_udp(sender, real, addr, port);
    let real_line = format!("from={real}\n");
    let got = wait_until(Duration::from_secs(5), || d.log().contains(&real_line));
    assert!(got, "the real source's datagram never came: {}", d.log());
    let arrived = d.log().contains(&format!("from={forged}\n"));
    d.stop();
    arrived
}

/// RFC 6092 3.1's basic sanitation with the router's ruleset: a LAN host
/// cannot send to the Internet from an address outside the LAN's prefix
/// (REC-5, BCP 38) or from a unique local address (REC-7), and the WAN
/// cannot reach the router claiming a LAN address as its source (REC-6);
/// the same datagrams from the real addresses pass. Without the ruleset
/// the forged ones arrive, so it is the ruleset that stops them.
#[test]
fn the_router_firewall_drops_forged_sources() {
    if !three_namespace_prerequisites() {
        return;
    }
    let net = Net::new();
    // forged sources: another subnet of the site's /48 and a ULA on the
    // LAN host, a LAN address on the ISP
    for a in ["2001:db8:100:2::100/128", "fd00:1::100/128"] {
        net.lan.ip(&["addr", "add", a, "dev", "lan", "nodad"]);
    }
    net.isp.ip(&[
        "addr",
        "add",
        "2001:db8:100:1::200/128",
        "dev",
        "wan",
        "nodad",
    ]);
    let lan_real = "2001:db8:100:1::100";
    let isp = ("2001:db8:1::1", &net.isp);
    for (forged, port) in [("2001:db8:100:2::100", 9000), ("fd00:1::100", 9001)] {
        assert!(
            !forged_arrives(&net, &net.lan, forged, lan_real, isp.1, isp.0, port),
            "the LAN host reached the ISP from {forged}"
        );
    }
    // REC-6: the router's own open UDP port, from the WAN
    net.rtr.run(&[
        NFT, "add", "element", "inet", "filter", "open_udp", "{ 9002 }",
    ]);
    assert!(
        !forged_arrives(
            &net,
            &net.isp,
            "2001:db8:100:1::200",
            "2001:db8:1::1",
            &net.rtr,
            "2001:db8:1::2",
            9002
        ),
        "the ISP reached the router from a LAN address"
    );
    // the ruleset is what stopped them: without it each arrives (else
    // this test proves nothing)
    net.rtr.run(&[NFT, "flush", "ruleset"]);
    for (forged, port) in [("2001:db8:100:2::100", 9003), ("fd00:1::100", 9004)] {
        assert!(
            forged_arrives(&net, &net.lan, forged, lan_real, isp.1, isp.0, port),
            "without the ruleset {forged} should reach the ISP"
        );
    }
    assert!(
        forged_arrives(
            &net,
            &net.isp,
            "2001:db8:100:1::200",
            "2001:db8:1::1",
            &net.rtr,
            "2001:db8:1::2",
            9005
        ),
        "without the ruleset the ISP should reach the router from a LAN address"
    );
}
