#!/usr/bin/env python3
"""DHCPv6 benchmark: ferrite's odhcp6c against Debian's dhcpcd (dhcpcd-base,
-6 with ia_na and ia_pd), side by side against the same kea-dhcp6-server in
network namespaces (a veth pair, DAD off). Measured, median of RUNS (5):
client start -> its handler has an address and a delegated /56; cable
replug (the server's end of the veth down 1.5 s, then up) -> the handler
has the prefix again. kea without and with Rapid Commit. Needs root and the
Debian packages kea-dhcp6-server and dhcpcd-base. dhcpcd gets `option
rapid_commit` in the Rapid Commit runs.
"""
import os, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import stop  # noqa: E402
import netns  # noqa: E402
from netns import sh, FERRITE, RUNS  # noqa: E402

S, C = f"fer6s{os.getpid()}", f"fer6c{os.getpid()}"

KEA = """{"Dhcp6": {
  "interfaces-config": { "interfaces": ["vs"] },
  "server-id": { "type": "LL", "persist": false },
  "lease-database": { "type": "memfile", "persist": false },
  "renew-timer": 1000, "rebind-timer": 1600, "preferred-lifetime": 2000, "valid-lifetime": 3000,
  "subnet6": [{ "id": 1, "subnet": "2001:db8:1::/64", "interface": "vs", RC
    "pools": [{ "pool": "2001:db8:1::100-2001:db8:1::1ff" }],
    "pd-pools": [{ "prefix": "2001:db8:100::", "prefix-len": 48, "delegated-len": 56 }] }],
  "loggers": [{ "name": "kea-dhcp6", "output_options": [{ "output": "stdout" }], "severity": "WARN" }]
}}"""


def script(path, body):
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)


def events(path):
    try:
        return open(path).read().split("\n")
    except OSError:
        return []


def wait_for(path, n, timeout=30):
    """The time the n-th line with a prefix appeared in `path`, or None."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if sum(1 for e in events(path) if "2001:db8:1" in e and "2001:db8:100:" in e) >= n:
            return time.monotonic()
        time.sleep(0.002)
    return None


def ferrite_client(d, log):
    h = os.path.join(d, "h-ferrite")
    script(h, f'echo "$2 $ADDRESSES $PREFIXES" >> {log}')
    return [FERRITE, "odhcp6c", "-P", "56", "-s", h, "--state-dir", os.path.join(d, "st"), "vc"]


def dhcpcd_client(d, log, rapid):
    h = os.path.join(d, "h-dhcpcd")
    # the hook gets the address and prefix of a binding in its environment
    script(h, 'case "$reason" in BOUND6|REBIND6|RENEW6|REBOOT6|INFORM6)'
              f' echo "$reason $new_dhcp6_ia_na1_ia_addr1 $new_dhcp6_ia_pd1_prefix1" >> {log};; esac')
    conf = os.path.join(d, "dhcpcd.conf")
    with open(conf, "w") as f:
        f.write("ipv6only\nnoipv6rs\nnohook resolv.conf\nduid\niaid 1\n"
                + ("option rapid_commit\n" if rapid else "")
                + "interface vc\n ia_na 1\n ia_pd 2/::/56 d0/0/64\n")
    return ["dhcpcd", "-f", conf, "-c", h, "-B", "-6", "vc"]


def forget_dhcpcd_lease():
    """dhcpcd keeps its lease in /var/lib/dhcpcd (compiled in): each run starts afresh."""
    for f in ("vc.lease6", "vc.lease"):
        try:
            os.remove(os.path.join("/var/lib/dhcpcd", f))
        except OSError:
            pass


def setup():
    for n in (S, C):
        netns.add(n, keep_addr_on_down=True)
    sh("ip", "-n", S, "link", "add", "vs", "type", "veth", "peer", "name", "vc", "netns", C)
    sh("ip", "-n", C, "link", "add", "d0", "type", "veth", "peer", "name", "d1")  # the LAN of dhcpcd's ia_pd
    sh("ip", "-n", C, "link", "set", "d0", "up")
    sh("ip", "-n", C, "link", "set", "vc", "up")
    sh("ip", "-n", S, "addr", "add", "2001:db8:1::1/64", "dev", "vs", "nodad")
    sh("ip", "-n", S, "link", "set", "vs", "up")
    time.sleep(1)


def measure(d, kind, rapid):
    """(start -> address and prefix, [replug -> prefix again]) for one run."""
    conf = os.path.join(d, "kea.json")
    open(conf, "w").write(KEA.replace("RC", '"rapid-commit": true,' if rapid else ""))
    run = os.path.join(d, "kea-run")
    os.makedirs(run, exist_ok=True)
    env = dict(os.environ, KEA_LOCKFILE_DIR=run, KEA_PIDFILE_DIR=run)
    klog = open(os.path.join(d, "kea.log"), "a")
    kea = subprocess.Popen(["ip", "netns", "exec", S, netns.program("kea-dhcp6"), "-c", conf], env=env, stdout=klog, stderr=klog)
    time.sleep(1.5)
    log = os.path.join(d, f"ev-{kind}")
    if os.path.exists(log):
        os.remove(log)
    forget_dhcpcd_lease()
    cmd = ferrite_client(d, log) if kind == "ferrite" else dhcpcd_client(d, log, rapid)
    t0 = time.monotonic()
    out = open(os.path.join(d, f"out-{kind}"), "a")
    # a session of its own: dhcpcd's privilege-separation helpers are ended with it
    cl = subprocess.Popen(["ip", "netns", "exec", C] + cmd, cwd=d, stdout=out, stderr=out,
                          start_new_session=True)
    got = wait_for(log, 1)
    first = got - t0 if got else None
    replug = None
    if got:
        sh("ip", "-n", S, "link", "set", "vs", "down")
        time.sleep(1.5)
        t1 = time.monotonic()
        sh("ip", "-n", S, "link", "set", "vs", "up")
        got = wait_for(log, 2)
        replug = got - t1 if got else None
    stop(cl, signal.SIGTERM, 5)
    netns.end_group(cl.pid)
    stop(kea, signal.SIGTERM, 5)
    time.sleep(0.3)
    return first, replug


def main():
    if os.geteuid() != 0 or not all(os.path.exists(netns.program(p)) for p in ("kea-dhcp6", "dhcpcd")):
        print("dhcp6.py: needs root, kea-dhcp6-server and dhcpcd-base", file=sys.stderr)
        return 1
    d = tempfile.mkdtemp(prefix="bench-dhcp6-")
    try:
        setup()
        print("| measure | ferrite odhcp6c | dhcpcd 9.4 |")
        print("|---|---|---|")
        for rapid in (False, True):
            res = {}
            for kind in ("ferrite", "dhcpcd"):
                runs = [measure(d, kind, rapid) for _ in range(RUNS)]
                res[kind] = runs
            tag = "kea with Rapid Commit: " if rapid else "kea: "
            netns.median_rows(((0, "start -> address and /56 (s)"), (1, "replug -> prefix again (s)")), res, tag=tag)
    finally:
        netns.teardown(S, C)
        forget_dhcpcd_lease()
        netns.remove_dir(d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
