#!/usr/bin/env python3
"""Replug benchmark: cable replugged (the peer of the client's veth comes
back up after 1.5 s down) until the address is configured again, median of
5, in network namespaces against dnsmasq (--no-ping).

ferrite: the seed's tree with no shell under ferrite's runsvdir (ifplugd_vc,
dhcp_vc, fw as links to ferrite). Reference: the BusyBox-style chain under
runit's runsvdir: Debian's ifplugd (0.28) with a handler script that ups and
downs dhcp_vc, BusyBox udhcpc with a handler script that writes the ipconf
file and ups fw, and a shell fw that applies it with `ip` (scripts written
here, after the seed's description). With zero debounce and with -u8 -d8.
Also, after the zero-debounce runs, the wake-ups of the whole tree while it
idles with its lease (voluntary context switches of every process in the
client namespace over IDLE seconds, 30 by default).
Needs root and the Debian packages dnsmasq-base, udhcpc, ifplugd, runit.
"""
import os, shutil, signal, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import stop  # noqa: E402
import netns  # noqa: E402
from netns import sh  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FERRITE = os.environ.get("FERRITE", os.path.join(REPO, "target/x86_64-unknown-linux-musl/release/ferrite"))
RUNS = int(os.environ.get("RUNS", "5"))
S, C = f"ferps{os.getpid()}", f"ferpc{os.getpid()}"


def script(path, body):
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)


def has_address():
    out = subprocess.run(["ip", "-n", C, "-4", "-o", "addr", "show", "dev", "vc"], capture_output=True, text=True).stdout
    return "inet 10.67.0." in out


def ferrite_tree(root, state, delays):
    for svc in ("ifplugd_vc", "dhcp_vc", "fw"):
        os.makedirs(os.path.join(root, svc))
        os.symlink(FERRITE, os.path.join(root, svc, "run"))
    os.makedirs(os.path.join(root, "fw", "conf"))
    fw = os.path.join(root, "fw")
    open(os.path.join(root, "ifplugd_vc", "args"), "w").write(delays + "\n")
    open(os.path.join(root, "dhcp_vc", "args"), "w").write(f"--fw-dir {fw} --fw-service {fw} --state-dir {state}\n")
    open(os.path.join(root, "fw", "args"), "w").write(f"--dynamic {fw} --resolv-conf {state}/resolv.conf\n")
    for svc in ("dhcp_vc", "fw"):
        open(os.path.join(root, svc, "down"), "w").close()
    return [FERRITE, "runsvdir", root], {"SVDIR": root}


def busybox_tree(root, state, delays):
    fw = os.path.join(root, "fw")
    for svc in ("ifplugd_vc", "dhcp_vc", "fw"):
        os.makedirs(os.path.join(root, svc))
    u, d = delays.replace("-u", "").replace("-d", "").split()
    script(os.path.join(root, "ifplugd_vc", "run"),
           f"exec /usr/sbin/ifplugd -n -s -i vc -r ./handler -u {u} -d {d} 2>&1")
    script(os.path.join(root, "ifplugd_vc", "handler"),
           'case "$2" in up) sv u ../dhcp_vc ;; down) sv d ../dhcp_vc ;; esac; exit 0')
    script(os.path.join(root, "dhcp_vc", "run"), "exec /usr/sbin/udhcpc -i vc -f -s ./handler 2>&1")
    script(os.path.join(root, "dhcp_vc", "handler"),
           f'f={fw}/dhcp_vc.ipconf\n'
           'case "$1" in\n'
           ' bound|renew) printf "let cfg=cfg+1\\nif[\\$cfg]=%s\\nipmask[\\$cfg]=%s/%s\\ngw[\\$cfg]=%s\\n" "$interface" "$ip" "$mask" "${router%% *}" > "$f.new" && mv "$f.new" "$f"; sv u ../fw ;;\n'
           ' deconfig) rm -f "$f"; sv u ../fw ;;\n'
           'esac')
    script(os.path.join(root, "dhcp_vc", "finish"), f"rm -f {fw}/dhcp_vc.ipconf; sv u ../fw")
    # plain sh has no arrays: the handler's form is read by a small loop instead
    script(os.path.join(root, "fw", "run"),
           "sv o .\n"
           "ip addr flush dev vc; ip route flush dev vc\n"
           "for f in *.ipconf; do [ -f \"$f\" ] || continue\n"
           " m=$(sed -n 's/^ipmask\\[\\$cfg\\]=//p' \"$f\"); g=$(sed -n 's/^gw\\[\\$cfg\\]=//p' \"$f\")\n"
           " ip addr add \"$m\" dev vc; [ -n \"$g\" ] && ip route add default via \"$g\" dev vc\n"
           "done\n"
           "exit 0")
    for svc in ("dhcp_vc", "fw"):
        open(os.path.join(root, svc, "down"), "w").close()
    return ["/usr/bin/runsvdir", root], {"PATH": "/usr/bin:/usr/sbin:/bin:/sbin"}


IDLE = float(os.environ.get("IDLE", "30"))


def idle_wakeups(seconds):
    """Wake-ups per minute of everything in the client namespace while
    nothing happens: the sum of their voluntary context switches (each
    sleep after a wake-up is one) over `seconds`, and how many processes."""
    def switches():
        out = {}
        for pid in subprocess.run(["ip", "netns", "pids", C], capture_output=True, text=True).stdout.split():
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("voluntary_ctxt_switches:"):
                            out[pid] = int(line.split()[1])
            except OSError:
                pass
        return out
    before = switches()
    time.sleep(seconds)
    after = switches()
    woke = sum(after[p] - before[p] for p in before if p in after)
    return woke * 60 / seconds, len(before)


def measure(make_tree, delays, idle=None):
    tmp = tempfile.mkdtemp(prefix="ferrite-replug-")
    root, state = os.path.join(tmp, "service"), os.path.join(tmp, "state")
    os.makedirs(root)
    os.makedirs(state)
    cmd, env = make_tree(root, state, delays)
    p = subprocess.Popen(["ip", "netns", "exec", C] + cmd, env=dict(os.environ, **env),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times = []
    try:
        end = time.monotonic() + 60
        while not has_address() and time.monotonic() < end:
            time.sleep(0.01)
        print(f"# {make_tree.__name__} {delays}: first lease {'ok' if has_address() else 'MISSING'}", file=sys.stderr)
        for _ in range(RUNS):
            sh("ip", "-n", S, "link", "set", "vs", "down")
            end = time.monotonic() + 60
            while has_address() and time.monotonic() < end:
                time.sleep(0.01)
            time.sleep(1.5)
            t0 = time.monotonic()
            sh("ip", "-n", S, "link", "set", "vs", "up")
            end = t0 + 60
            while not has_address() and time.monotonic() < end:
                time.sleep(0.005)
            times.append(time.monotonic() - t0)
            print(f"# {make_tree.__name__} {delays}: {times[-1]:.3f}s", file=sys.stderr)
        if idle is not None:
            time.sleep(2)  # the replug's work done (fw's run, the lease written)
            idle.append(idle_wakeups(IDLE))
            print(f"# {make_tree.__name__}: {idle[-1][0]:.1f} wake-ups/min idle ({idle[-1][1]} processes)", file=sys.stderr)
    finally:
        stop(p, signal.SIGHUP, 10)
        time.sleep(1)
        # everything left in the client namespace was started here: end it,
        # and start the next measurement from a bare interface
        netns.end_all_in(C)
        time.sleep(0.5)
        subprocess.run(["ip", "-n", C, "addr", "flush", "dev", "vc"])
        subprocess.run(["ip", "-n", C, "route", "flush", "dev", "vc"])
        shutil.rmtree(tmp, ignore_errors=True)
    return times


def main():
    if os.geteuid() != 0:
        sys.exit("needs root")
    for n in (S, C):
        netns.add(n)
    tmp = tempfile.mkdtemp(prefix="ferrite-replug-dns-")
    try:
        sh("ip", "link", "add", "vs", "netns", S, "type", "veth", "peer", "name", "vc", "netns", C)
        sh("ip", "-n", S, "addr", "add", "10.67.0.1/24", "dev", "vs")
        sh("ip", "-n", S, "link", "set", "vs", "up")
        dns = subprocess.Popen(["ip", "netns", "exec", S, "dnsmasq", "--no-daemon", "--port=0", "--bind-interfaces",
                                "--interface=vs", "--no-ping", "--dhcp-range=10.67.0.100,10.67.0.200,600",
                                "--dhcp-option=3,10.67.0.1", f"--dhcp-leasefile={tmp}/leases"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        rows = []
        idle_f, idle_b = [], []
        for delays in ("-u0 -d0", "-u8 -d8"):
            first = delays == "-u0 -d0"
            f = measure(ferrite_tree, delays, idle_f if first else None)
            b = measure(busybox_tree, delays, idle_b if first else None)
            rows.append((delays, f, b))
        dns.terminate()
        dns.wait()
    finally:
        netns.delete(S, C)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"| replug → address configured by fw, median of {RUNS} (ms) | ferrite | BusyBox-style chain (Debian ifplugd 0.28, BusyBox udhcpc, shell handlers, runit) |")
    print("|---|---|---|")
    for delays, f, b in rows:
        fm, bm = statistics.median(f) * 1000, statistics.median(b) * 1000
        print(f"| debounce `{delays}` | {fm:.0f} (runs: {' '.join(f'{x*1000:.0f}' for x in f)}) | {bm:.0f} (runs: {' '.join(f'{x*1000:.0f}' for x in b)}) |")
    (wf, nf), (wb, nb) = idle_f[0], idle_b[0]
    print(f"| idle with the lease, wake-ups per minute of the whole tree ({IDLE:.0f} s) | {wf:.1f} ({nf} processes) | {wb:.1f} ({nb} processes) |")


if __name__ == "__main__":
    main()
