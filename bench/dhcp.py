#!/usr/bin/env python3
"""DHCP benchmark: time from process start to `bound` (the client exits with
-q right after its handler ran) for ferrite's udhcpc and BusyBox's udhcpc
(Debian package udhcpc), against one dnsmasq (--no-ping) in network
namespaces, alternating, 30 runs each. Two cases: a link that is up, and a
cable plugged in 50 ms after the client started (the first DISCOVER of a
client that does not wait for carrier is lost). Needs root.
"""
import os, statistics, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FERRITE = os.environ.get("FERRITE", os.path.join(REPO, "target/x86_64-unknown-linux-musl/release/ferrite"))
RUNS = int(os.environ.get("RUNS", "30"))
S, C = f"febs{os.getpid()}", f"febc{os.getpid()}"


def sh(*a):
    subprocess.run(a, check=True)


def main():
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    tmp = tempfile.mkdtemp(prefix="ferrite-dhcpbench-")
    for ns in (S, C):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        sh("ip", "netns", "add", ns)
    try:
        sh("ip", "link", "add", "vs", "netns", S, "type", "veth", "peer", "name", "vc", "netns", C)
        sh("ip", "-n", S, "addr", "add", "10.66.0.1/24", "dev", "vs")
        sh("ip", "-n", S, "link", "set", "vs", "up")
        sh("ip", "-n", C, "link", "set", "vc", "up")
        dns = subprocess.Popen(["ip", "netns", "exec", S, "dnsmasq", "--no-daemon", "--port=0", "--bind-interfaces",
                                "--interface=vs", "--no-ping", "--dhcp-range=10.66.0.100,10.66.0.200,600",
                                f"--dhcp-leasefile={tmp}/leases"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        clients = {
            "ferrite": [FERRITE, "udhcpc", "-i", "vc", "-f", "-q", "-s", "/bin/true", "--state-dir", tmp],
            "busybox": ["/usr/sbin/udhcpc", "-i", "vc", "-f", "-q", "-s", "/bin/true"],
        }
        results = {}
        for case in ("link up", "cable plugged 50 ms after start"):
            times = {k: [] for k in clients}
            for _ in range(RUNS):
                for name, cmd in clients.items():
                    # forget the remembered lease: every run starts from DISCOVER
                    for f in os.listdir(tmp):
                        if f.endswith(".lease"):
                            os.remove(os.path.join(tmp, f))
                    if case != "link up":
                        sh("ip", "-n", S, "link", "set", "vs", "down")
                        time.sleep(0.05)
                    t0 = time.monotonic()
                    p = subprocess.Popen(["ip", "netns", "exec", C] + cmd,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    if case != "link up":
                        time.sleep(0.05)
                        sh("ip", "-n", S, "link", "set", "vs", "up")
                    try:
                        p.wait(timeout=30)
                        times[name].append(time.monotonic() - t0)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
                        times[name].append(float("inf"))
            results[case] = times
        dns.terminate()
        dns.wait()
    finally:
        for ns in (S, C):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
    print(f"| start to bound (ms), {RUNS} runs each | ferrite median | ferrite p90 | ferrite max | BusyBox median | BusyBox p90 | BusyBox max |")
    print("|---|---|---|---|---|---|---|")
    for case, times in results.items():
        row = []
        for name in ("ferrite", "busybox"):
            v = sorted(times[name])
            row += [f"{statistics.median(v) * 1000:.0f}", f"{v[int(len(v) * 0.9) - 1] * 1000:.0f}", f"{v[-1] * 1000:.0f}"]
        print(f"| {case} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
