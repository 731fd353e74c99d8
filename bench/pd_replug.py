#!/usr/bin/env python3
"""WAN replug -> delegated prefix usable again on the LAN (issue 16):
ferrite's router chain against Debian's dhcpcd 9.4, side by side against
the same ISP, in three network namespaces:
- ISP: a bridge (its addresses, kea-dhcp6 with /60s out of
  2001:db8:100::/48, radvd with M and O and 2001:db8:1::/64, a route to the
  pd pool via the router's link-local address) with two ports: the veth to
  the router and a stub, so the ISP's side stays up while the cable is out;
- router (forwarding on, accept_ra=2 on the WAN: the kernel makes the WAN's
  SLAAC address and default route from radvd's RAs on both sides): WAN
  `wan6`, LAN `lan6` (eth0 and eth1 of board-configs/router.toml);
- LAN host: the kernel only, SLAAC from the router's RAs.
ferrite: the router board's services under ferrite's runsvdir, as links to
ferrite: dhcp6_wan6 (-P 60), fw (conf/lan6.ipconf prefix6_from='wan6',
conf/forward), ra_lan6. dhcpcd: `dhcpcd -6 wan6` with `ia_na 1`,
`ia_pd 2/::/60 lan6/0/64` and `noipv6rs` (it puts the LAN's /64 address on
lan6 itself), and ferrite's `ra -i lan6` on the LAN: only the DHCPv6 client
differs. No firewall ruleset on either side.

Usable: the LAN host's ICMPv6 echo to the ISP's 2001:db8:1::1 is answered
(bench/probe6.py in the host's namespace, an echo every 5 ms, from the
address the host's kernel picks: its SLAAC address in the delegated /64).
Replug: the ISP's end of the veth goes down for PULL (2) s, then up; from
that up until the first answer. Also: client start until the first
answer, what the router's LAN /64 and the host did during the pull, and
whether the prefix came back the same. RUNS (5) of each, alternating.
Needs root and the Debian packages kea-dhcp6-server, radvd, dhcpcd-base.
"""
import os, re, shutil, signal, statistics, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import stop  # noqa: E402
import netns  # noqa: E402
from netns import sh, REPO, FERRITE, RUNS  # noqa: E402

PROBE = os.path.join(REPO, "bench/probe6.py")
PULL = float(os.environ.get("PULL", "2"))
I, R, L = (f"{x}{os.getpid()}" for x in ("ferpi", "ferpr", "ferpl"))
WAN, LAN = "wan6", "lan6"
ISP_ADDR = "2001:db8:1::1"
# what the LAN host pings: a server behind the ISP's router (an address on
# its loopback), reached through the router's default route as the
# Internet is
TARGET = os.environ.get("TARGET", "2001:db8:ff::1")
RADVD = """ AdvSendAdvert on; MinRtrAdvInterval 3; MaxRtrAdvInterval 10;
 AdvManagedFlag on; AdvOtherConfigFlag on;
 prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous on; };"""


def setup(d):
    netns.add(I, forwarding=True)  # a router: it takes no redirects from its customer
    netns.add(R, forwarding=True)
    netns.add(L)
    sh("ip", "-n", I, "link", "add", "name", "isp0", "type", "bridge", "mcast_snooping", "0")
    sh("ip", "-n", I, "link", "add", "wi", "type", "veth", "peer", "name", WAN, "netns", R)
    sh("ip", "-n", I, "link", "add", "ws", "type", "veth", "peer", "name", "ws1")
    for port in ("wi", "ws"):
        sh("ip", "-n", I, "link", "set", port, "master", "isp0")
    for dev in ("isp0", "wi", "ws", "ws1"):
        sh("ip", "-n", I, "link", "set", dev, "up")
    sh("ip", "-n", I, "addr", "add", f"{ISP_ADDR}/64", "dev", "isp0", "nodad")
    sh("ip", "-n", I, "addr", "add", "2001:db8:ff::1/128", "dev", "lo")
    netns.ns(I, "sysctl", "-qw", "net.ipv6.conf.ws1.disable_ipv6=1", check=True)  # the stub is no host
    netns.ns(R, "sysctl", "-qw", f"net.ipv6.conf.{WAN}.accept_ra=2", check=True)
    sh("ip", "-n", R, "link", "add", LAN, "type", "veth", "peer", "name", "eth0", "netns", L)
    for n, dev in ((R, WAN), (R, LAN), (L, "eth0")):
        sh("ip", "-n", n, "link", "set", dev, "up")
    daemons = [netns.start_kea6(I, d, netns.kea6_conf("isp0", 60)), netns.start_radvd(I, d, "isp0", RADVD)]
    end = time.monotonic() + 20
    while time.monotonic() < end and "default via" not in netns.ns(R, "ip", "-6", "route", "show", "default").stdout:
        time.sleep(0.05)
    ll = re.search(r"inet6 (fe80::[0-9a-f:]+)/", netns.ns(R, "ip", "-6", "addr", "show", "dev", WAN).stdout)
    if not ll:
        raise SystemExit("pd_replug.py: the router's WAN has no link-local address")
    # the ISP routes the pd pool to its one customer, as a BNG does
    sh("ip", "-n", I, "-6", "route", "add", "2001:db8:100::/48", "via", ll.group(1), "dev", "isp0")
    return daemons


def ferrite_side(d, st):
    """The router board's dhcp6_eth0, fw and ra_eth1 under ferrite's runsvdir."""
    root, dyn = os.path.join(d, "service"), os.path.join(d, "dyn")
    os.makedirs(dyn)
    fw = os.path.join(root, "fw")
    args = {f"dhcp6_{WAN}": f"-P 60 --fw-dir {dyn} --fw-service {fw} --state-dir {st}/dhcp6",
            "fw": f"--dynamic {dyn} --resolv-conf {d}/resolv.conf --etc {d}/etc",
            f"ra_{LAN}": ""}
    for svc, a in args.items():
        os.makedirs(os.path.join(root, svc))
        os.symlink(FERRITE, os.path.join(root, svc, "run"))
        if a:
            open(os.path.join(root, svc, "args"), "w").write(a + "\n")
    os.makedirs(os.path.join(fw, "conf"))
    open(os.path.join(fw, "conf", f"{LAN}.ipconf"), "w").write(f"if='{LAN}'\nprefix6_from='{WAN}'\n")
    open(os.path.join(fw, "conf", "forward"), "w").close()
    out = open(os.path.join(d, "out"), "a")
    return [subprocess.Popen(["ip", "netns", "exec", R, FERRITE, "runsvdir", root], env=dict(os.environ, SVDIR=root),
                             stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)]


def forget_dhcpcd_lease():
    """dhcpcd keeps its lease in /var/lib/dhcpcd (compiled in): each run starts afresh."""
    for f in (f"{WAN}.lease6", f"{WAN}.lease"):
        try:
            os.remove(os.path.join("/var/lib/dhcpcd", f))
        except OSError:
            pass


def dhcpcd_side(d, st):
    """dhcpcd on the WAN, delegating a /64 to the LAN; ferrite's ra there."""
    hook = os.path.join(d, "hook")
    with open(hook, "w") as f:
        f.write('#!/bin/sh\necho "$(cut -d" " -f1 /proc/uptime) $reason $new_dhcp6_ia_pd1_prefix1"'
                f' >> {d}/dhcpcd-events\n')
    os.chmod(hook, 0o755)
    conf = os.path.join(d, "dhcpcd.conf")
    with open(conf, "w") as f:
        f.write("ipv6only\nnoipv6rs\nnohook resolv.conf\nduid\niaid 1\n"
                f"interface {WAN}\n ia_na 1\n ia_pd 2/::/60 {LAN}/0/64\n")
    forget_dhcpcd_lease()
    out = open(os.path.join(d, "out"), "a")
    return [subprocess.Popen(["ip", "netns", "exec", R, netns.program("dhcpcd"), "-f", conf, "-c", hook, "-B", "-6", WAN],
                             cwd=d, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True),
            subprocess.Popen(["ip", "netns", "exec", R, FERRITE, "ra", "-i", LAN],
                             stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)]


def lan_addresses():
    """The router's global /64 addresses on the LAN: {address: preferred lifetime (s)}."""
    out = netns.ns(R, "ip", "-6", "-o", "addr", "show", "dev", LAN, "scope", "global").stdout
    got = {}
    for line in out.splitlines():
        m = re.search(r"inet6 (\S+/64) .*preferred_lft (\d+|forever)", line)
        if m:
            got[m.group(1)] = 1 << 32 if m.group(2) == "forever" else int(m.group(2))
    return got


def host_state():
    """(the LAN host has a global address, it has a default route)."""
    a = "inet6 2001:db8:100:" in netns.ns(L, "ip", "-6", "addr", "show", "dev", "eth0", "scope", "global").stdout
    r = "default via" in netns.ns(L, "ip", "-6", "route", "show", "default").stdout
    return a, r


def clean():
    """The router and the host as setup() left them: no client's addresses
    or routes (the WAN's SLAAC address and default route are the kernel's)."""
    netns.end_all_in(R)
    time.sleep(0.3)
    netns.ns(R, "ip", "-6", "addr", "flush", "dev", LAN, "scope", "global")
    wan = netns.ns(R, "ip", "-6", "-o", "addr", "show", "dev", WAN, "scope", "global").stdout
    for a in re.findall(r"inet6 (2001:db8:1::1[0-9a-f]{2}/\d+)", wan):  # kea's IA_NA pool
        netns.ns(R, "ip", "-6", "addr", "del", a, "dev", WAN)
    netns.ns(R, "ip", "-6", "route", "flush", "type", "unreachable")
    netns.ns(L, "ip", "-6", "addr", "flush", "dev", "eth0", "scope", "global")
    netns.ns(L, "ip", "-6", "route", "flush", "proto", "ra")


class Probe:
    """bench/probe6.py in the LAN host's namespace; its lines as (word, time)."""

    def __init__(self):
        self.p = subprocess.Popen(["ip", "netns", "exec", L, "python3", PROBE, TARGET, "5", "50"],
                                  stdout=subprocess.PIPE, text=True)
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            w = line.split()
            if len(w) == 2:
                self.lines.append((w[0], float(w[1])))

    def first(self, word, after, timeout):
        end = time.monotonic() + timeout
        while True:
            for w, t in list(self.lines):
                if w == word and t >= after:
                    return t
            if time.monotonic() >= end:
                return None
            time.sleep(0.005)

    def end(self):
        stop(self.p, signal.SIGTERM, 5)


def lan_kept(before):
    """Whether a sample of lan_addresses() still has every address of
    `before`, preferred."""
    return lambda s: bool(before) and all(s.get(a, 0) > 0 for a in before)


def host_kept(s):
    addr, route = s
    return addr and route


def lost_and_back(samples, pull, kept):
    """(when a state was first lost, from the pull; when it was back, from
    the replug), each None if it never was."""
    lost = next((t for t, s in samples if not kept(s)), None)
    back = None if lost is None else next((t - pull for t, s in samples if t > lost and kept(s)), None)
    return lost, back


def in_words(lb):
    lost, back = lb
    if lost is None:
        return "kept"
    return (f"lost {lost * 1000:.0f} ms into the pull, "
            + ("not back" if back is None else f"back {back * 1000:+.0f} ms from the replug"))


def run_once(kind, st):
    d = tempfile.mkdtemp(prefix=f"ferrite-pd-{kind}-")
    clean()
    probe = Probe()
    time.sleep(0.1)
    t0 = time.monotonic()
    procs = (ferrite_side if kind == "ferrite" else dhcpcd_side)(d, st)
    res = {"start": None, "replug": None, "lan": (None, None), "host": (None, None), "same": False, "outage": False}
    try:
        got = probe.first("up", t0, 40)
        if got is None:
            print(f"# {kind}: the LAN host never reached the ISP", file=sys.stderr)
            return res
        res["start"] = got - t0
        time.sleep(1.0)
        before = lan_addresses()
        tp = time.monotonic()
        sh("ip", "-n", I, "link", "set", "wi", "down")
        t1, got, neigh, lan, host = None, None, "", [], []
        while time.monotonic() < tp + PULL + 30:
            t = time.monotonic() - tp
            lan.append((t, lan_addresses()))
            host.append((t, host_state()))
            if t1 is None and t >= PULL:
                # what the router's kernel knows of the ISP's side as the cable comes back
                neigh = " ".join(netns.ns(R, "ip", "-6", "neigh", "show", "dev", WAN).stdout.split())
                t1 = time.monotonic()
                sh("ip", "-n", I, "link", "set", "wi", "up")
            if t1 is not None:
                got = probe.first("up", t1, 0)
                if got is not None:
                    break
            time.sleep(0.05)
        down = probe.first("down", tp, 0)
        res["outage"] = down is not None and down < t1
        res["replug"] = got - t1 if got else None
        res["lan"], res["host"] = lost_and_back(lan, PULL, lan_kept(before)), lost_and_back(host, PULL, host_kept)
        time.sleep(0.5)
        after = lan_addresses()
        res["same"] = bool(before) and before.keys() <= after.keys()
        rp = "none" if got is None else f"{res['replug'] * 1000:.0f} ms"
        print(f"# {kind}: start {res['start'] * 1000:.0f} ms, replug {rp}; "
              f"LAN /64 {sorted(before)} -> {sorted(after)}: {in_words(res['lan'])}; "
              f"host's address and default route: {in_words(res['host'])}; "
              f"outage seen: {res['outage']}; WAN neighbours at the replug: {neigh}", file=sys.stderr)
    finally:
        if kind == "ferrite":
            stop(procs[0], signal.SIGHUP, 10)
        else:
            for p in procs:
                stop(p, signal.SIGTERM, 5)
        for p in procs:
            netns.end_group(p.pid)
        probe.end()
        clean()
        if os.environ.get("KEEP"):
            print(f"# {kind}: logs in {d}", file=sys.stderr)
        else:
            shutil.rmtree(d, ignore_errors=True)
    return res


def main():
    if os.geteuid() != 0 or not all(os.path.exists(netns.program(p)) for p in ("kea-dhcp6", "radvd", "dhcpcd")):
        print("pd_replug.py: needs root, kea-dhcp6-server, radvd and dhcpcd-base", file=sys.stderr)
        return 1
    d = tempfile.mkdtemp(prefix="ferrite-pd-")
    st = os.path.join(d, "state")
    daemons = []
    res = {"ferrite": [], "dhcpcd": []}
    try:
        daemons = setup(d)
        for _ in range(RUNS):
            for kind in ("ferrite", "dhcpcd"):
                res[kind].append(run_once(kind, st))
    finally:
        for p in daemons:
            stop(p, signal.SIGTERM, 5)
        netns.teardown(I, R, L)
        forget_dhcpcd_lease()
        shutil.rmtree(d, ignore_errors=True)

    def med(kind, key):
        v = [r[key] for r in res[kind] if r[key] is not None]
        return statistics.median(v) if v else None

    def cell(kind, key):
        v = [r[key] for r in res[kind]]
        m = med(kind, key)
        runs = " ".join("-" if x is None else f"{x * 1000:.0f}" for x in v)
        return ("none" if m is None else f"{m * 1000:.0f}") + f" (runs: {runs})"

    def ratio(key):
        f, b = med("ferrite", key), med("dhcpcd", key)
        return f"{b / f:.1f}x" if f and b else "-"

    def count(kind, key):
        return f"{sum(1 for r in res[kind] if r[key])}/{len(res[kind])}"

    def fate(kind, key):
        """kept, or lost: in how many runs, when (median), back when (median)."""
        lb = [r[key] for r in res[kind] if r[key][0] is not None]
        if not lb:
            return f"kept ({len(res[kind])}/{len(res[kind])})"
        back = [b for _, b in lb if b is not None]
        return (f"lost in {len(lb)}/{len(res[kind])}, {statistics.median(x for x, _ in lb) * 1000:.0f} ms into the pull; "
                + (f"back {statistics.median(back) * 1000:+.0f} ms from the replug" if back else "not back"))

    print(f"| median of {RUNS}, alternating | ferrite (dhcp6 -P 60, fw, ra) | dhcpcd 9.4 (ia_pd) + ferrite ra | dhcpcd / ferrite |")
    print("|---|---|---|---|")
    print(f"| WAN replug ({PULL:.0f} s out) -> LAN host's ping6 to the ISP answered (ms) "
          f"| {cell('ferrite', 'replug')} | {cell('dhcpcd', 'replug')} | {ratio('replug')} |")
    print(f"| client start -> LAN host's ping6 to the ISP answered (ms) "
          f"| {cell('ferrite', 'start')} | {cell('dhcpcd', 'start')} | {ratio('start')} |")
    print(f"| the router's LAN /64 address (preferred) | {fate('ferrite', 'lan')} | {fate('dhcpcd', 'lan')} | |")
    print(f"| the LAN host's address and default route | {fate('ferrite', 'host')} | {fate('dhcpcd', 'host')} | |")
    print(f"| same LAN /64 after the replug | {count('ferrite', 'same')} | {count('dhcpcd', 'same')} | |")
    print(f"| the pull cut the LAN host's ping | {count('ferrite', 'outage')} | {count('dhcpcd', 'outage')} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
