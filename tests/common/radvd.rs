//! Debian's radvd as the ISP's router advertiser on its side of a WAN
//! (tests/qemu.rs's router board, tests/ipv6_chain.rs): M and O set (ask
//! DHCPv6 for addresses and information), one /64 for SLAAC, an RA every
//! 3-10 s. radvd wants forwarding on in its namespace: `start` turns it on.

use super::lab::{spawn_logged, Daemon};
use super::*;

pub const RADVD: &str = "/usr/sbin/radvd";

pub fn prerequisites() -> bool {
    require("radvd", have_program(RADVD))
}

/// radvd in `ns` on `iface` announcing `prefix` (`2001:db8:1::/64`), its
/// files in `dir` (radvd.conf, radvd.pid, radvd.log); IPv6 forwarding on
/// and RAs ignored in `ns` first.
pub fn start(ns: &Netns, iface: &str, prefix: &str, dir: &Path) -> Daemon {
    let conf = format!(
        "interface {iface} {{\n AdvSendAdvert on;\n MinRtrAdvInterval 3;\n MaxRtrAdvInterval 10;\n \
         AdvManagedFlag on;\n AdvOtherConfigFlag on;\n \
         prefix {prefix} {{ AdvOnLink on; AdvAutonomous on; }};\n}};\n"
    );
    start_with(ns, &conf, dir)
}

/// radvd in `ns` with the configuration `text` (in `dir/radvd.conf`:
/// rewrite it and send SIGHUP to change what it announces); forwarding on
/// and RAs ignored in `ns` first.
pub fn start_with(ns: &Netns, text: &str, dir: &Path) -> Daemon {
    for kv in [
        "net.ipv6.conf.all.forwarding=1",
        "net.ipv6.conf.all.accept_ra=0",
    ] {
        ns.run(&["sysctl", "-q", "-w", kv]);
    }
    let conf = dir.join("radvd.conf");
    fs::write(&conf, text).unwrap();
    let mut cmd = ns.exec();
    cmd.args([RADVD, "-n", "-m", "stderr", "-d", "1", "-C"])
        .arg(&conf)
        .arg("-p")
        .arg(dir.join("radvd.pid"));
    spawn_logged(&mut cmd, dir.join("radvd.log"))
}
