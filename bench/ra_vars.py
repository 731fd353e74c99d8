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
import os, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import stop  # noqa: E402
import dhcp6  # noqa: E402  (kea's configuration, the namespaces, the hooks)
import netns  # noqa: E402  (the servers, ending what runs, the table)
from netns import RUNS  # noqa: E402

S, C = dhcp6.S, dhcp6.C

RADVD = """ AdvSendAdvert on; MinRtrAdvInterval 3; MaxRtrAdvInterval 4;
 AdvManagedFlag on; AdvOtherConfigFlag on; AdvDefaultLifetime 1800;
 prefix 2001:db8:1::/64 {{ AdvOnLink on; AdvAutonomous on; }};
 RDNSS {dns} {{ }};"""


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
    procs, cl = [], None
    try:
        procs.append(netns.start_kea6(S, d, dhcp6.KEA.replace("RC", "")))
        radvd = netns.start_radvd(S, d, "vs", RADVD.format(dns="2001:db8:1::53"))
        procs.append(radvd)
        time.sleep(1.5)
        log = os.path.join(d, f"ev-{kind}")
        if os.path.exists(log):
            os.remove(log)
        dhcp6.forget_dhcpcd_lease()
        out = open(os.path.join(d, f"out-{kind}"), "a")
        t0 = time.monotonic()
        # a session of its own: dhcpcd's privilege-separation helpers are ended with it
        cl = subprocess.Popen(["ip", "netns", "exec", C] + client(d, kind, log), cwd=d, stdout=out, stderr=out,
                              start_new_session=True)
        got = wait_for(log, "2001:db8:1::53")
        first = got - t0 if got else None
        reload = None
        if got:
            time.sleep(1)
            netns.radvd_conf(d, "vs", RADVD.format(dns="2001:db8:1::54"))
            t1 = time.monotonic()
            radvd.send_signal(signal.SIGHUP)
            got = wait_for(log, "2001:db8:1::54")
            reload = got - t1 if got else None
    finally:
        # the client and its session, the servers, then whatever is left in
        # the namespaces (an exception above included)
        if cl:
            stop(cl, signal.SIGTERM, 5)
            netns.end_group(cl.pid)
        for p in procs:
            stop(p, signal.SIGTERM, 5)
        netns.end_all_in(S)
        netns.end_all_in(C)
        time.sleep(0.3)
    return first, reload


def main():
    if os.geteuid() != 0 or not all(os.path.exists(netns.program(p)) for p in ("kea-dhcp6", "dhcpcd", "radvd")):
        print("ra_vars.py: needs root, radvd, kea-dhcp6-server and dhcpcd-base", file=sys.stderr)
        return 1
    d = tempfile.mkdtemp(prefix="bench-ra-vars-")
    try:
        dhcp6.setup()
        netns.ns(S, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1", check=True)
        res = {kind: [measure(d, kind) for _ in range(RUNS)] for kind in ("ferrite", "dhcpcd")}
        print("| measure | ferrite odhcp6c | dhcpcd 9.4 |")
        print("|---|---|---|")
        netns.median_rows(((0, "start -> handler has the RA's DNS server (s)"),
                           (1, "radvd reloaded -> handler has the new one (s)")), res)
    finally:
        netns.teardown(S, C)
        dhcp6.forget_dhcpcd_lease()
        netns.remove_dir(d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
