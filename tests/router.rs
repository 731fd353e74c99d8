//! The router board's firewall (board-configs/router/firewall.nft) on the
//! build machine's Debian nftables: it loads (`nft -c`, then for real) in a
//! network namespace of the test's own, so its syntax and the kernel's
//! checks hold before any image boots it. The router itself runs in
//! tests/qemu.rs (`the_router_board_...`).

mod common;
use common::*;
use std::path::PathBuf;

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
