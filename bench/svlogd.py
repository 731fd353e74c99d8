#!/usr/bin/env python3
"""Logger benchmark: 1,000,000 lines of 100 bytes with human-readable time
stamps (svlogd -tt / s6-log T) and rotation every 1 MB, through ferrite's
svlogd, runit's svlogd and s6-log, alternating, median of 3. Reports wall
time, lines/s, CPU time, peak RSS (GNU time, Debian package `time`), and
checks that every line arrived.
"""
import os, shutil, statistics, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FERRITE = os.environ.get("FERRITE", os.path.join(REPO, "target/x86_64-unknown-linux-musl/release/ferrite"))
LINES = int(os.environ.get("LINES", "1000000"))
RUNS = int(os.environ.get("RUNS", "3"))


def command(impl, d):
    if impl == "ferrite":
        return [FERRITE, "svlogd", "-tt", d]
    if impl == "runit":
        return ["/usr/bin/svlogd", "-tt", d]
    return ["/usr/bin/s6-log", "T", "s1000000", "n1000", d]


def count_lines(d):
    n = 0
    seen = set()
    for name in sorted(os.listdir(d)):
        if name.startswith("@") or name == "current":
            with open(os.path.join(d, name), "rb") as f:
                for line in f:
                    # the message starts after the time stamp
                    msg = line.split(b" ", 2)[-2] if line.count(b" ") >= 2 else line
                    seen.add(msg)
                    n += 1
    return n, len(seen)


def main():
    tmp = tempfile.mkdtemp(prefix="ferrite-logbench-")
    src = os.path.join(tmp, "input")
    with open(src, "w") as f:
        for i in range(LINES):
            f.write(("%07d " % i) + "x" * 91 + "\n")
    impls = ["ferrite"]
    if os.path.exists("/usr/bin/svlogd"):
        impls.append("runit")
    if os.path.exists("/usr/bin/s6-log"):
        impls.append("s6")
    res = {k: [] for k in impls}
    for _ in range(RUNS):
        for impl in impls:
            d = os.path.join(tmp, impl)
            shutil.rmtree(d, ignore_errors=True)
            os.mkdir(d)
            with open(os.path.join(d, "config"), "w") as f:
                f.write("s1000000\nn1000\n")
            with open(src, "rb") as stdin:
                t0 = time.monotonic()
                # GNU time reports the logger's own peak RSS (wait4's would
                # include this Python process, which the child starts as).
                p = subprocess.Popen(["/usr/bin/time", "-f", "%M %U %S"] + command(impl, d), stdin=stdin,
                                     stderr=subprocess.PIPE)
                _, err = p.communicate()
                wall = time.monotonic() - t0
                status = p.returncode
                rss, user, system = err.decode().strip().splitlines()[-1].split()
            lines, distinct = count_lines(d)
            res[impl].append((wall, float(user) + float(system), int(rss), lines, distinct, status))
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"| {LINES} lines of 100 bytes, -tt, s1000000 (median of {RUNS}) | " + " | ".join(impls) + " |")
    print("|---|" + "---|" * len(impls))
    med = lambda impl, i: statistics.median(r[i] for r in res[impl])
    print("| wall time (s) | " + " | ".join(f"{med(i, 0):.2f}" for i in impls) + " |")
    print("| lines/s | " + " | ".join(f"{LINES / med(i, 0):,.0f}" for i in impls) + " |")
    print("| CPU time user+sys (s) | " + " | ".join(f"{med(i, 1):.2f}" for i in impls) + " |")
    print("| peak RSS (KiB) | " + " | ".join(f"{med(i, 2):.0f}" for i in impls) + " |")
    print("| lines lost (worst run) | " + " | ".join(str(max(LINES - min(r[3], r[4]) for r in res[i])) for i in impls) + " |")


if __name__ == "__main__":
    main()
