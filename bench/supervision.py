#!/usr/bin/env python3
"""Supervision benchmark: ferrite vs runit vs s6, side by side in one run.

For N services of `exec sleep MARK` (MARK unique per service and run):
time until all are up, PSS per supervised service, voluntary wake-ups of the
scanner and of one supervisor over idle seconds, `sv status` over all
services, and restart latency after `kill -9` of a service that ran > 1 s.
Prints a Markdown table for BENCHMARKS.md. Ends only processes it started.
"""
import os, shutil, signal, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import pss_kb, rss_kb, stop, voluntary_switches as vol  # noqa: E402

FERRITE = os.environ.get("FERRITE", "target/x86_64-unknown-linux-musl/release/ferrite")
IDLE = int(os.environ.get("IDLE_SECS", "30"))
COUNTS = [int(x) for x in os.environ.get("COUNTS", "100 1000").split()]
RESTARTS = 9


def procs():
    """pid -> (ppid, cmdline bytes) for every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        ppid = int(st.rsplit(")", 1)[1].split()[1])
        out[int(d)] = (ppid, cmd)
    return out


def marked(ps, base):
    """pids of `sleep MARK` services of this run, keyed by mark."""
    res = {}
    for pid, (_, cmd) in ps.items():
        parts = cmd.split(b"\0")
        if len(parts) >= 2 and parts[0] == b"sleep" and parts[1].isdigit():
            m = int(parts[1])
            if base <= m < base + 100000:
                res[m] = pid
    return res


def descendants(ps, root):
    kids = {}
    for pid, (ppid, _) in ps.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


class Impl:
    def __init__(self, name, scanner_argv, supervisor_name, env=None):
        self.name, self.scanner_argv, self.sup, self.env = name, scanner_argv, supervisor_name, env

    def start(self, scandir):
        env = dict(os.environ, **(self.env or {}))
        return subprocess.Popen(self.scanner_argv + [scandir], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def run_one(impl, n, base, results):
    tmp = tempfile.mkdtemp(prefix=f"ferrite-bench-{impl.name}-")
    scandir = os.path.join(tmp, "service")
    os.mkdir(scandir)
    for i in range(n):
        d = os.path.join(scandir, f"s{i:04d}")
        os.mkdir(d)
        with open(os.path.join(d, "run"), "w") as f:
            f.write(f"#!/bin/sh\nexec sleep {base + i}\n")
        os.chmod(os.path.join(d, "run"), 0o755)
    t0 = time.monotonic()
    scanner = impl.start(scandir)
    up = None
    deadline = t0 + 120
    while time.monotonic() < deadline:
        if len(marked(procs(), base)) == n:
            up = time.monotonic() - t0
            break
        time.sleep(0.01)
    r = {"up_s": up}
    time.sleep(2)
    ps = procs()
    tree = descendants(ps, scanner.pid)
    services = set(marked(ps, base).values())
    supervisors = [p for p in tree if p != scanner.pid and p not in services
                   and ps[p][1].split(b"\0")[0].endswith(impl.sup.encode())]
    r["supervisors"] = len(supervisors)
    r["pss_per_service_kb"] = sum(pss_kb(p) for p in supervisors + [scanner.pid]) / n
    r["rss_one_supervisor_kb"] = rss_kb(supervisors[0]) if supervisors else 0
    if n == COUNTS[0]:
        one = supervisors[0]
        v0s, v0o = vol(scanner.pid), vol(one)
        time.sleep(IDLE)
        r["scanner_wakeups"] = vol(scanner.pid) - v0s
        r["supervisor_wakeups"] = vol(one) - v0o
        # sv status over all services (runit layout only)
        if impl.name != "s6":
            dirs = [os.path.join(scandir, d) for d in sorted(os.listdir(scandir))]
            for label, sv in (("ferrite_sv", [FERRITE, "sv"]), ("runit_sv", ["/usr/bin/sv"])):
                ts = []
                for _ in range(5):
                    t = time.monotonic()
                    subprocess.run(sv + ["status"] + dirs, stdout=subprocess.DEVNULL)
                    ts.append(time.monotonic() - t)
                r[f"status_all_{label}_ms"] = statistics.median(ts) * 1000
        # restart latency after kill -9 of a service that ran over a second
        lat = []
        for k in range(RESTARTS):
            mark = base + k
            old = marked(procs(), base).get(mark)
            time.sleep(1.1)
            t = time.monotonic()
            os.kill(old, signal.SIGKILL)
            while time.monotonic() - t < 10:
                new = marked(procs(), base).get(mark)
                if new and new != old:
                    lat.append(time.monotonic() - t)
                    break
                time.sleep(0.0005)
        r["restart_ms_median"] = statistics.median(lat) * 1000 if lat else None
    # stop: the scanner takes its supervisors down
    if impl.name == "s6":
        subprocess.run(["s6-svscanctl", "-t", scandir])
        try:
            scanner.wait(timeout=30)
        except subprocess.TimeoutExpired:
            scanner.kill()
            scanner.wait()
    else:
        stop(scanner, signal.SIGHUP, 30)
    end = time.monotonic() + 20
    while marked(procs(), base) and time.monotonic() < end:
        time.sleep(0.1)
    for pid in marked(procs(), base).values():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for p in supervisors:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    shutil.rmtree(tmp, ignore_errors=True)
    results[(impl.name, n)] = r


def main():
    if not os.path.exists(FERRITE):
        sys.exit(f"build the release binary first ({FERRITE})")
    bindir = tempfile.mkdtemp(prefix="ferrite-bench-bin-")
    subprocess.run([FERRITE, "--install", bindir], check=True)
    impls = [Impl("ferrite", [os.path.join(bindir, "runsvdir")], "runsv")]
    if os.path.exists("/usr/bin/runsvdir"):
        impls.append(Impl("runit", ["/usr/bin/runsvdir"], "runsv", {"PATH": "/usr/bin:/bin"}))
    if os.path.exists("/usr/bin/s6-svscan"):
        impls.append(Impl("s6", ["/usr/bin/s6-svscan"], "s6-supervise"))
    results = {}
    base = 7_000_000 + (os.getpid() % 1000) * 1000 * 10
    for n in COUNTS:
        for k, impl in enumerate(impls):
            run_one(impl, n, base + k * 100000 // 10 + n, results)
            print(f"# {impl.name} n={n}: {results[(impl.name, n)]}", file=sys.stderr)
    shutil.rmtree(bindir, ignore_errors=True)
    names = [i.name for i in impls]
    def cell(v, fmt):
        return "n/a" if v is None else fmt.format(v)
    print(f"| measure | {' | '.join(names)} |")
    print(f"|---|{'---|' * len(names)}")
    for n in COUNTS:
        print(f"| {n} services: time until all up (s) | " + " | ".join(cell(results[(x, n)]['up_s'], '{:.2f}') for x in names) + " |")
        print(f"| {n} services: PSS per service incl. scanner (KiB) | " + " | ".join(cell(results[(x, n)]['pss_per_service_kb'], '{:.0f}') for x in names) + " |")
        print(f"| {n} services: RSS of one supervisor (KiB) | " + " | ".join(cell(results[(x, n)]['rss_one_supervisor_kb'], '{}') for x in names) + " |")
    n = COUNTS[0]
    print(f"| scanner wake-ups in {IDLE} idle s | " + " | ".join(cell(results[(x, n)].get('scanner_wakeups'), '{}') for x in names) + " |")
    print(f"| one supervisor's wake-ups in {IDLE} idle s | " + " | ".join(cell(results[(x, n)].get('supervisor_wakeups'), '{}') for x in names) + " |")
    print(f"| restart after kill -9, median of {RESTARTS} (ms) | " + " | ".join(cell(results[(x, n)].get('restart_ms_median'), '{:.1f}') for x in names) + " |")
    for label in ("ferrite_sv", "runit_sv"):
        who = label.split('_')[0]
        print(f"| `sv status` of all {n} services with {who}'s sv, median of 5 (ms) | " + " | ".join(cell(results[(x, n)].get(f'status_all_{label}_ms'), '{:.1f}') for x in names) + " |")


if __name__ == "__main__":
    main()
