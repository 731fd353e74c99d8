"""Network namespace helpers the benchmarks share: commands in a
namespace, a namespace made the same way every time (loopback up, DAD off),
an ISP's kea-dhcp6 and radvd, what a run leaves behind ended, and the
medians' table."""
import os, shutil, signal, statistics, subprocess, sys, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FERRITE = os.environ.get("FERRITE", os.path.join(REPO, "target/x86_64-unknown-linux-musl/release/ferrite"))
RUNS = int(os.environ.get("RUNS", "5"))


def program(name):
    """A server's path: on PATH, else in /usr/sbin (a root shell's PATH may lack it)."""
    return shutil.which(name) or os.path.join("/usr/sbin", name)


def sh(*a, **kw):
    subprocess.run(a, check=True, **kw)


def ns(n, *a, **kw):
    """A command in namespace `n`; its output as text."""
    return subprocess.run(["ip", "netns", "exec", n, *a], capture_output=True, text=True, **kw)


def add(n, forwarding=False, keep_addr_on_down=False):
    """A fresh namespace `n`: loopback up, DAD off (addresses usable at
    once: the benchmarks time the clients, not the kernel's 1 s of DAD)."""
    subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)
    sh("ip", "netns", "add", n)
    sh("ip", "-n", n, "link", "set", "lo", "up")
    keys = ["default.accept_dad=0", "all.accept_dad=0"]
    if keep_addr_on_down:
        keys.append("default.keep_addr_on_down=1")
    if forwarding:
        keys.append("all.forwarding=1")
    for k in keys:
        ns(n, "sysctl", "-qw", f"net.ipv6.conf.{k}", check=True)


def delete(*names):
    for n in names:
        subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)


def end_all_in(n):
    """KILL every process in namespace `n`: the benchmark started them all
    (clients, their helpers and what runsvdir started)."""
    pids = subprocess.run(["ip", "netns", "pids", n], capture_output=True, text=True).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def teardown(*names):
    """The namespaces deleted, what still runs in them KILLed first (`ip
    netns del` leaves a namespace's processes running)."""
    for n in names:
        end_all_in(n)
    delete(*names)


def end_group(pgid):
    """TERM, then KILL, what is left of a process group the benchmark started."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        time.sleep(0.5)


def kea6_conf(iface, delegated_len, timers="1000, 1600, 2000, 3000", rapid=False):
    """kea-dhcp6's configuration on `iface`: addresses of 2001:db8:1::/64,
    prefixes of `delegated_len` out of 2001:db8:100::/48; `timers` are
    renew, rebind, preferred and valid (s)."""
    t1, t2, pref, valid = (x.strip() for x in timers.split(","))
    rc = '"rapid-commit": true,' if rapid else ""
    return f"""{{"Dhcp6": {{
  "interfaces-config": {{ "interfaces": ["{iface}"] }},
  "server-id": {{ "type": "LL", "persist": false }},
  "lease-database": {{ "type": "memfile", "persist": false }},
  "renew-timer": {t1}, "rebind-timer": {t2}, "preferred-lifetime": {pref}, "valid-lifetime": {valid},
  "subnet6": [{{ "id": 1, "subnet": "2001:db8:1::/64", "interface": "{iface}", {rc}
    "pools": [{{ "pool": "2001:db8:1::100-2001:db8:1::1ff" }}],
    "pd-pools": [{{ "prefix": "2001:db8:100::", "prefix-len": 48, "delegated-len": {delegated_len} }}],
    "option-data": [{{ "name": "dns-servers", "data": "2001:db8:1::53" }}] }}],
  "loggers": [{{ "name": "kea-dhcp6", "output_options": [{{ "output": "stdout" }}], "severity": "WARN" }}]
}}}}"""


def start_kea6(n, d, conf):
    """kea-dhcp6 in namespace `n` with `conf`, unprivileged files in `d`;
    back once it listens on port 547 (at most 10 s)."""
    path = os.path.join(d, "kea.json")
    with open(path, "w") as f:
        f.write(conf)
    run = os.path.join(d, "kea-run")
    os.makedirs(run, exist_ok=True)
    env = dict(os.environ, KEA_LOCKFILE_DIR=run, KEA_PIDFILE_DIR=run)
    log = open(os.path.join(d, "kea.log"), "a")
    p = subprocess.Popen(["ip", "netns", "exec", n, program("kea-dhcp6"), "-c", path], env=env, stdout=log, stderr=log)
    end = time.monotonic() + 10
    while time.monotonic() < end and ":547" not in ns(n, "ss", "-uln").stdout:
        time.sleep(0.05)
    return p


def radvd_conf(d, iface, body):
    """radvd's configuration in `d`, `body` inside `iface`'s block; its path."""
    conf = os.path.join(d, "radvd.conf")
    with open(conf, "w") as f:
        f.write(f"interface {iface} {{\n{body}\n}};\n")
    return conf


def start_radvd(n, d, iface, body):
    """radvd in namespace `n` on `iface` with `body` inside its interface block."""
    conf = radvd_conf(d, iface, body)
    log = open(os.path.join(d, "radvd.log"), "a")
    return subprocess.Popen(["ip", "netns", "exec", n, program("radvd"), "-n", "-C", conf,
                             "-p", os.path.join(d, "radvd.pid"), "-m", "stderr"], stdout=log, stderr=log)


def median_rows(rows, res, kinds=("ferrite", "dhcpcd"), tag=""):
    """A table row per (i, what) of `rows`: the median of each kind's runs'
    i-th figure (s), and how many runs had none."""
    for i, what in rows:
        cells = []
        for kind in kinds:
            v = [r[i] for r in res[kind] if r[i] is not None]
            miss = len(res[kind]) - len(v)
            cells.append((f"{statistics.median(v):.3f}" if v else "none") + (f" ({miss} failed)" if miss else ""))
        print(f"| {tag}{what} | {' | '.join(cells)} |")


def remove_dir(d):
    """A run's directory removed, or kept (KEEP=1) and named."""
    if os.environ.get("KEEP"):
        print(f"logs in {d}", file=sys.stderr)
    else:
        shutil.rmtree(d, ignore_errors=True)
