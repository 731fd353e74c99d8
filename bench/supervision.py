#!/usr/bin/env python3
"""Supervision benchmark: ferrite vs runit vs s6, side by side in one run.

For N services of `exec sleep MARK` (MARK unique per service and run):
time until all are up, PSS per supervised service, voluntary wake-ups of the
scanner and of one supervisor over idle seconds, `sv status` over all
services, and restart latency after `kill -9` of a service that ran > 1 s.
Then `sv -w 7 restart` of one service, median of 20: ferrite's sv and runsv
with a service that reports readiness on `notification-fd`, the same
without notification, and runit's sv and runsv (runit has no readiness: its
sv calls the service up once it runs, looking every ~420 ms). The notifying
service writes the wall-clock time just before it says it is ready; for the
others the moment is runsv's record of the start in `supervise/status`. The
table gives the whole command and how long after that moment it returned.
Prints Markdown tables for BENCHMARKS.md. Ends only processes it started.
PARTS="restart_wait" runs only the second part.
"""
import os, shutil, signal, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import pss_kb, rss_kb, stop, voluntary_switches as vol  # noqa: E402

FERRITE = os.environ.get("FERRITE", "target/x86_64-unknown-linux-musl/release/ferrite")
IDLE = int(os.environ.get("IDLE_SECS", "30"))
COUNTS = [int(x) for x in os.environ.get("COUNTS", "100 1000").split()]
RESTARTS = 9
WAIT_RESTARTS = 20
PARTS = os.environ.get("PARTS", "scale restart_wait").split()


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


def restart_wait(label, runsv, sv, notify):
    """`sv -w 7 restart` of one service under `runsv`, WAIT_RESTARTS times:
    (median ms of the command, median ms from the service's ready/start
    stamp to the command's return)."""
    tmp = tempfile.mkdtemp(prefix=f"ferrite-bench-wait-{label}-")
    svc = os.path.join(tmp, "svc")
    os.mkdir(svc)
    say = "echo >&3\n" if notify else ""
    with open(os.path.join(svc, "run"), "w") as f:
        f.write(f"#!/bin/sh\ndate +%s%N > stamp\n{say}exec sleep 1000\n")
    os.chmod(os.path.join(svc, "run"), 0o755)
    if notify:
        with open(os.path.join(svc, "notification-fd"), "w") as f:
            f.write("3\n")
    p = subprocess.Popen([runsv, svc], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    total, after = [], []
    try:
        for _ in range(WAIT_RESTARTS):
            # runit's sv compares start times in whole seconds, and runsv holds
            # back a restart of a service that ran under a second
            time.sleep(1.1)
            t0 = time.time_ns()
            r = subprocess.run(sv + ["-w", "7", "restart", svc], stdout=subprocess.PIPE)
            t1 = time.time_ns()
            if r.returncode != 0:
                print(f"# {label}: sv -w 7 restart exited {r.returncode}", file=sys.stderr)
                continue
            if notify:
                # the service's own clock just before it said so
                with open(os.path.join(svc, "stamp")) as f:
                    ready = int(f.read().strip())
            else:
                # runsv's record of the start (TAI64N, bytes 0-11 of status)
                with open(os.path.join(svc, "supervise/status"), "rb") as f:
                    rec = f.read(12)
                secs = int.from_bytes(rec[:8], "big") - (1 << 62) - 10
                ready = secs * 10**9 + int.from_bytes(rec[8:12], "big")
            total.append((t1 - t0) / 1e6)
            after.append((t1 - ready) / 1e6)
    finally:
        subprocess.run(sv + ["-w", "7", "exit", svc], stdout=subprocess.DEVNULL)
        stop(p, signal.SIGTERM, 10)
        shutil.rmtree(tmp, ignore_errors=True)
    if not total:
        return None, None
    return statistics.median(total), statistics.median(after)


def restart_wait_table(bindir):
    rows = [("ferrite sv + runsv, service with `notification-fd`",
             os.path.join(bindir, "runsv"), [os.path.join(bindir, "sv")], True),
            ("ferrite sv + runsv, no notification (up = running)",
             os.path.join(bindir, "runsv"), [os.path.join(bindir, "sv")], False)]
    if os.path.exists("/usr/bin/runsv"):
        rows.append(("runit sv + runsv (no readiness: up = running)",
                     "/usr/bin/runsv", ["/usr/bin/sv"], False))
    print(f"| `sv -w 7 restart`, median of {WAIT_RESTARTS} | whole command (ms) "
          "| returned after the service was ready / running (ms) |")
    print("|---|---|---|")
    for label, runsv, sv, notify in rows:
        t, a = restart_wait(label.split()[0], runsv, sv, notify)
        print(f"# {label}: {t} {a}", file=sys.stderr)
        cell = lambda v: "n/a" if v is None else f"{v:.1f}"
        print(f"| {label} | {cell(t)} | {cell(a)} |")


def main():
    if not os.path.exists(FERRITE):
        sys.exit(f"build the release binary first ({FERRITE})")
    bindir = tempfile.mkdtemp(prefix="ferrite-bench-bin-")
    subprocess.run([FERRITE, "--install", bindir], check=True)
    if "scale" in PARTS:
        scale(bindir)
    if "restart_wait" in PARTS:
        print()
        restart_wait_table(bindir)
    shutil.rmtree(bindir, ignore_errors=True)


def scale(bindir):
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
