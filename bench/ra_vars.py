#!/usr/bin/env python3
"""Router advertisements to the handler: ferrite's odhcp6c (RA_DNS, in the
call that follows an RA's change: `bound` or `ra-updated`) against Debian's
dhcpcd 9.4 (-6; its hook's ROUTERADVERT with nd1_rdnss1_servers), side by
side in network namespaces (a veth pair, DAD off) against the same radvd
2.19 (M and O set, RDNSS, an RA every 3-4 s) and kea-dhcp6-server.
Measured, median of RUNS (5): client start -> its handler has the RA's DNS
server; radvd's configuration changed (another DNS server) and SIGHUP ->
the handler has the new server. Needs root, radvd, kea-dhcp6-server and
dhcpcd-base.
"""
import os, shutil, signal, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import stop  # noqa: E402
import dhcp6  # noqa: E402  (kea's configuration, namespaces, process groups)

RUNS = int(os.environ.get("RUNS", "5"))
S, C = dhcp6.S, dhcp6.C

RADVD = """interface vs {{
 AdvSendAdvert on; MinRtrAdvInterval 3; MaxRtrAdvInterval 4;
 AdvManagedFlag on; AdvOtherConfigFlag on; AdvDefaultLifetime 1800;
 prefix 2001:db8:1::/64 {{ AdvOnLink on; AdvAutonomous on; }};
 RDNSS {dns} {{ }};
}};
"""


def wait_for(path, what, timeout=30):
    """The time a line holding `what` appeared in `path`, or None."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if any(what in e for e in dhcp6.events(path)):
            return time.monotonic()
        time.sleep(0.002)
    return None


def client(d, kind, log):
    h = os.path.join(d, f"h-{kind}")
    if kind == "ferrite":
        dhcp6.script(h, f'echo "$2 $RA_DNS" >> {log}')
        return [dhcp6.FERRITE, "odhcp6c", "-s", h, "--state-dir", os.path.join(d, "st"), "vc"]
    dhcp6.script(h, f'[ "$reason" = ROUTERADVERT ] && echo "$reason $nd1_rdnss1_servers" >> {log}')
    conf = os.path.join(d, "dhcpcd.conf")
    with open(conf, "w") as f:
        f.write("ipv6only\nnohook resolv.conf\nduid\niaid 1\ninterface vc\n ia_na 1\n")
    return ["dhcpcd", "-f", conf, "-c", h, "-B", "-6", "vc"]


def measure(d, kind):
    """(start -> the RA's DNS server, reload -> the new one) for one run."""
    conf = os.path.join(d, "kea.json")
    open(conf, "w").write(dhcp6.KEA.replace("RC", ""))
    run = os.path.join(d, "kea-run")
    os.makedirs(run, exist_ok=True)
    env = dict(os.environ, KEA_LOCKFILE_DIR=run, KEA_PIDFILE_DIR=run)
    klog = open(os.path.join(d, "kea.log"), "a")
    kea = subprocess.Popen(["ip", "netns", "exec", S, "kea-dhcp6", "-c", conf], env=env, stdout=klog, stderr=klog)
    rconf = os.path.join(d, "radvd.conf")
    open(rconf, "w").write(RADVD.format(dns="2001:db8:1::53"))
    rlog = open(os.path.join(d, "radvd.log"), "a")
    radvd = subprocess.Popen(["ip", "netns", "exec", S, "/usr/sbin/radvd", "-n", "-m", "stderr", "-C", rconf,
                              "-p", os.path.join(d, "radvd.pid")], stdout=rlog, stderr=rlog)
    time.sleep(1.5)
    log = os.path.join(d, f"ev-{kind}")
    if os.path.exists(log):
        os.remove(log)
    dhcp6.forget_dhcpcd_lease()
    out = open(os.path.join(d, f"out-{kind}"), "a")
    t0 = time.monotonic()
    cl = subprocess.Popen(["ip", "netns", "exec", C] + client(d, kind, log), cwd=d, stdout=out, stderr=out,
                          start_new_session=True)
    got = wait_for(log, "2001:db8:1::53")
    first = got - t0 if got else None
    reload = None
    if got:
        time.sleep(1)
        open(rconf, "w").write(RADVD.format(dns="2001:db8:1::54"))
        t1 = time.monotonic()
        radvd.send_signal(signal.SIGHUP)
        got = wait_for(log, "2001:db8:1::54")
        reload = got - t1 if got else None
    stop(cl, signal.SIGTERM, 5)
    dhcp6.end_group(cl.pid)
    stop(radvd, signal.SIGTERM, 5)
    stop(kea, signal.SIGTERM, 5)
    time.sleep(0.3)
    return first, reload


def main():
    if os.geteuid() != 0 or not all(shutil.which(p) for p in ("kea-dhcp6", "dhcpcd", "/usr/sbin/radvd")):
        print("ra_vars.py: needs root, radvd, kea-dhcp6-server and dhcpcd-base", file=sys.stderr)
        return 1
    d = tempfile.mkdtemp(prefix="bench-ra-vars-")
    try:
        dhcp6.setup()
        dhcp6.sh("ip", "netns", "exec", S, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        res = {kind: [measure(d, kind) for _ in range(RUNS)] for kind in ("ferrite", "dhcpcd")}
        print("| measure | ferrite odhcp6c | dhcpcd 9.4 |")
        print("|---|---|---|")
        for i, what in ((0, "start -> handler has the RA's DNS server (s)"),
                        (1, "radvd reloaded -> handler has the new one (s)")):
            cells = []
            for kind in ("ferrite", "dhcpcd"):
                v = [r[i] for r in res[kind] if r[i] is not None]
                miss = len(res[kind]) - len(v)
                cells.append((f"{statistics.median(v):.3f}" if v else "none") + (f" ({miss} failed)" if miss else ""))
            print(f"| {what} | {cells[0]} | {cells[1]} |")
    finally:
        dhcp6.teardown()
        dhcp6.forget_dhcpcd_lease()
        if os.environ.get("KEEP"):
            print(f"logs in {d}", file=sys.stderr)
        else:
            shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
