#!/usr/bin/env python3
"""Router advertisement benchmark: ferrite's `ra` against Debian's radvd
(2.19), side by side on the same veth pair between a router namespace
(forwarding on, 2001:db8:1:1::1/64 on its LAN end) and a host namespace
(the kernel only), DAD off. Measured:
- RS -> RA: the host sends one router solicitation (tests/data/ra-probe.py)
  and waits for the first RA; median of RS_RUNS (10), 3.2 s apart so
  RFC 4861's MIN_DELAY_BETWEEN_RAS never holds a multicast answer back;
- link up -> SLAAC address: the host's end of the veth comes up, until the
  kernel has made its address in 2001:db8:1:1::/64; median of RUNS (5).
Both daemons advertise the same prefix and RDNSS. Needs root, python3 and
the Debian package radvd.
"""
import os, shutil, signal, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import stop  # noqa: E402
import netns  # noqa: E402
from netns import sh, ns, REPO, FERRITE, RUNS  # noqa: E402

PROBE = os.path.join(REPO, "tests/data/ra-probe.py")
RS_RUNS = int(os.environ.get("RS_RUNS", "10"))
R, H = f"ferar{os.getpid()}", f"ferah{os.getpid()}"

RADVD = """interface lr {
  AdvSendAdvert on;
  prefix 2001:db8:1:1::/64 { AdvOnLink on; AdvAutonomous on; };
  RDNSS 2001:db8:1:1::1 { };
};
"""


def setup():
    netns.add(R, forwarding=True)
    netns.add(H)
    sh("ip", "-n", R, "link", "add", "lr", "type", "veth", "peer", "name", "lh", "netns", H)
    sh("ip", "-n", R, "link", "set", "lr", "up")
    sh("ip", "-n", R, "addr", "add", "2001:db8:1:1::1/64", "dev", "lr",
       "preferred_lft", "3600", "valid_lft", "7200")


def host_has_address():
    out = ns(H, "ip", "-6", "addr", "show", "dev", "lh", "scope", "global").stdout
    return "2001:db8:1:1:" in out


def link_up_to_slaac():
    sh("ip", "-n", H, "link", "set", "lh", "down")
    end = time.monotonic() + 5
    while host_has_address() and time.monotonic() < end:
        time.sleep(0.01)
    time.sleep(0.2)
    t0 = time.monotonic()
    sh("ip", "-n", H, "link", "set", "lh", "up")
    end = t0 + 30
    while time.monotonic() < end:
        if host_has_address():
            return time.monotonic() - t0
        time.sleep(0.001)
    return None


def rs_to_ra():
    out = ns(H, "python3", PROBE, "lh", "solicit", "5").stdout
    for w in out.split():
        if w.startswith("ms="):
            return float(w[3:]) / 1000
    return None


def measure(name, start):
    proc = start()
    time.sleep(1.0)
    sh("ip", "-n", H, "link", "set", "lh", "up")
    time.sleep(0.5)
    rs = []
    for _ in range(RS_RUNS):
        time.sleep(3.2)
        t = rs_to_ra()
        if t is not None:
            rs.append(t)
    up = [t for t in (link_up_to_slaac() for _ in range(RUNS)) if t is not None]
    stop(proc, signal.SIGTERM, 5)
    sh("ip", "-n", H, "link", "set", "lh", "down")
    return name, rs, up


def main():
    if os.geteuid() != 0:
        print("bench/ra.py: needs root (network namespaces)", file=sys.stderr)
        return 1
    have_radvd = shutil.which("radvd") or os.path.exists("/usr/sbin/radvd")
    tmp = tempfile.mkdtemp(prefix="ferrite-ra-bench-")
    results = []
    try:
        setup()
        ra = lambda: subprocess.Popen(
            ["ip", "netns", "exec", R, FERRITE, "ra", "-i", "lr"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        results.append(measure("ferrite ra", ra))
        if have_radvd:
            conf = os.path.join(tmp, "radvd.conf")
            with open(conf, "w") as f:
                f.write(RADVD)
            radvd = lambda: subprocess.Popen(
                ["ip", "netns", "exec", R, "radvd", "-n", "-C", conf,
                 "-p", os.path.join(tmp, "radvd.pid"), "-m", "stderr"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            results.append(measure("radvd 2.19", radvd))
        else:
            print("radvd not installed: ferrite only", file=sys.stderr)
    finally:
        netns.delete(R, H)
        shutil.rmtree(tmp, ignore_errors=True)
    med = lambda v: f"{statistics.median(v) * 1000:.1f}" if v else "-"
    print(f"| measure | {' | '.join(r[0] for r in results)} |")
    print("|---|" + "---|" * len(results))
    print(f"| RS -> RA, median of {RS_RUNS} (ms) | {' | '.join(med(r[1]) for r in results)} |")
    print(f"| link up -> SLAAC address, median of {RUNS} (ms) | {' | '.join(med(r[2]) for r in results)} |")
    for name, rs, up in results:
        print(f"{name}: RS->RA {[round(t * 1000, 1) for t in rs]} ms; "
              f"link up->SLAAC {[round(t * 1000, 1) for t in up]} ms", file=sys.stderr)
    return 0


sys.exit(main())
