#!/usr/bin/env python3
"""Boot benchmark: time from QEMU start to the `login:` prompt on the serial
console, median of 5, ferrite's qemu-x86_64 image side by side with a
reference image on the same kernel whose init is BusyBox init with an
inittab that respawns BusyBox getty on ttyS0 (built here from Debian's
busybox-static; no BusyBox binary is committed). Also image sizes and the
memory of PID 1 and of each runsv after boot (from smaps_rollup). With
runit and ifplugd on the host, also a BusyBox image that runs the same
network tree as shell scripts (bench/qemu_replug.py's), and for both
network images the time until eth0 holds QEMU's lease.
"""
import json, os, re, shutil, statistics, subprocess, sys, tempfile, threading, time, tomllib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMG = os.path.join(REPO, "target/images/qemu-x86_64")
BUSYBOX = os.path.join(REPO, "target/cache/debian/amd64/busybox-static/root/bin/busybox")
RUNS = int(os.environ.get("RUNS", "5"))
# LOGIN_ONLY=1: only the two login rows (ferrite and BusyBox init + getty),
# for comparing a change quickly.
LOGIN_ONLY = os.environ.get("LOGIN_ONLY") == "1"
# The NIC and its modules come from the default board, for every image.
with open(os.path.join(REPO, "board-configs/qemu-x86_64.toml"), "rb") as _f:
    _BOARD = tomllib.load(_f)
NIC = _BOARD["qemu"]["nic"]
MODULES = _BOARD["modules"]
# Both images boot the same kernel: the uncompressed one (PVH) when the
# image has it, as `make qemu` does.
KERNEL = os.path.join(IMG, "vmlinux") if os.path.exists(os.path.join(IMG, "vmlinux")) else os.path.join(IMG, "vmlinuz")


def module_closure(names):
    """The .ko files of `names` and everything they depend on, each after
    its dependencies (each module's `depends=` in its .modinfo section, as
    depmod reads it; Debian's package ships no modules.dep)."""
    found = subprocess.run(["find", os.path.join(REPO, "target/cache/debian/amd64"), "-name", "*.ko"],
                           capture_output=True, text=True).stdout.split()
    by_name = {os.path.basename(m)[:-3].replace("-", "_"): m for m in found}
    order = []

    def depends(path):
        with open(path, "rb") as f:
            m = re.search(rb"\0depends=([^\0]*)\0", f.read())
        return [d for d in (m.group(1).decode().split(",") if m else []) if d]

    def visit(name):
        path = by_name[name]
        if path in order:
            return
        for d in depends(path):
            visit(d.replace("-", "_"))
        order.append(path)
    for n in names:
        visit(n)
    return order


def busybox_image(tmp, extra=None):
    """BusyBox init + getty image; `extra(root)` may add files and returns
    more inittab lines."""
    root = os.path.join(tmp, "bbroot")
    for d in ["bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root", "usr/bin", "usr/sbin", "lib"]:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    shutil.copy(BUSYBOX, os.path.join(root, "bin/busybox"))
    applets = subprocess.run([BUSYBOX, "--list-full"], capture_output=True, text=True, check=True).stdout.split()
    for a in applets:
        p = os.path.join(root, a)
        if not os.path.lexists(p):
            os.symlink("/bin/busybox", p)
    os.symlink("bin/busybox", os.path.join(root, "init"))
    # the same modules as the ferrite image, with their dependencies first
    # (from the kernel's modules.dep), loaded in that order by BusyBox's
    # insmod: a module whose dependencies are missing fails to load, and
    # then the reference would boot without its NIC driver
    insmod = ""
    for path in module_closure(MODULES):
        name = os.path.basename(path)
        shutil.copy(path, os.path.join(root, f"lib/{name}"))
        insmod += f"::sysinit:/sbin/insmod /lib/{name}\n"
    with open(os.path.join(root, "etc/inittab"), "w") as f:
        f.write("::sysinit:/bin/mount -t proc proc /proc\n"
                "::sysinit:/bin/mount -t sysfs sysfs /sys\n"
                "::sysinit:/bin/mount -t devtmpfs devtmpfs /dev\n"
                + insmod +
                "::sysinit:/bin/hostname busybox\n"
                "ttyS0::respawn:/sbin/getty -L 115200 ttyS0 vt100\n"
                "::ctrlaltdel:/sbin/reboot\n")
        if extra:
            f.write(extra(root))
    with open(os.path.join(root, "etc/passwd"), "w") as f:
        f.write("root::0:0:root:/root:/bin/sh\n")
    with open(os.path.join(root, "etc/group"), "w") as f:
        f.write("root:x:0:\n")
    out = os.path.join(tmp, "busybox.cpio.gz")
    subprocess.run(["cargo", "run", "-q", "--release", "-p", "rootfs", "--", "cpio", root, out], cwd=REPO, check=True)
    return out


X86 = ["qemu-system-x86_64", "-accel", "tcg", "-m", "256", "-append", "console=ttyS0,115200"]
ARM = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57", "-accel", "tcg", "-m", "256",
       "-append", "console=ttyAMA0,115200"]
ARM_IMG = os.path.join(REPO, "target/images/qemu-aarch64")


class Vm:
    def __init__(self, initrd, machine=X86, kernel=KERNEL, extra_args=()):
        self.buf = b""
        self.lock = threading.Lock()
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(
            machine + ["-display", "none", "-serial", "stdio", "-kernel", kernel, "-initrd", initrd,
                       "-netdev", "user,id=n0", "-device", f"{NIC},netdev=n0", "-no-reboot", *extra_args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            b = self.p.stdout.read1(4096)
            if not b:
                return
            with self.lock:
                self.buf += b

    def wait_for(self, pat, timeout=120, start=0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                i = self.buf.find(pat, start)
            if i >= 0:
                return time.monotonic() - self.t0, i + len(pat)
            time.sleep(0.005)
        raise TimeoutError(pat)

    def send(self, s):
        self.p.stdin.write(s.encode())
        self.p.stdin.flush()

    def stop(self):
        self.p.kill()
        self.p.wait()


MEM_SCRIPT = ("for p in 1 $(pidof runsv); do echo \"MEM $p $(cat /proc/$p/comm) "
              "$(grep -E '^(Rss|Pss):' /proc/$p/smaps_rollup | tr -s ' ' | tr '\\n' ' ')\"; done; echo MEMDONE\n")


LEASE_MARK = "LEASE-WATCH-UP"


def ferrite_watch_image(tmp, watch):
    """The default board plus a service that runs `watch` (a shell line)."""
    with open(os.path.join(REPO, "board-configs/qemu-x86_64.toml")) as f:
        text = f.read().replace('name = "qemu-x86_64"', 'name = "bench-leasewatch"')
    script = "#!/bin/sh\n" + watch + "\nexec sleep 1000000\n"
    text += '\n[[file]]\npath = "/etc/service/leasewatch/run"\nmode = 0o755\ncontent = ' + json.dumps(script) + "\n"
    board = os.path.join(tmp, "leasewatch.toml")
    with open(board, "w") as f:
        f.write(text)
    subprocess.run(["cargo", "run", "-q", "--release", "-p", "rootfs", "--", "image", board], cwd=REPO,
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(REPO, "target/images/bench-leasewatch/initramfs.cpio.gz")


def memory(vm, pos):
    vm.send("root\n")
    _, pos = vm.wait_for(b"# ", 30, pos)
    vm.send(MEM_SCRIPT)
    _, end = vm.wait_for(b"MEMDONE\r\n", 30, pos)
    text = vm.buf[pos:end].decode(errors="replace")
    rows = re.findall(r"MEM (\d+) (\S+) Rss: (\d+) kB Pss: (\d+) kB", text)
    return [(int(p), c, int(r), int(s)) for p, c, r, s in rows]


def main():
    for need in (os.path.join(IMG, "initramfs.cpio.gz"), BUSYBOX):
        if not os.path.exists(need):
            sys.exit(f"missing {need}: run `make image` first")
    tmp = tempfile.mkdtemp(prefix="ferrite-bootbench-")
    bb = busybox_image(tmp)
    images = {"ferrite": os.path.join(IMG, "initramfs.cpio.gz"), "busybox": bb}
    # The same network tree on the BusyBox side (runit + ifplugd + udhcpc +
    # shell handlers, as in bench/qemu_replug.py), when runit and ifplugd
    # are on this host to be copied in.
    import qemu_replug  # noqa: E402 (it imports this module)
    if not LOGIN_ONLY and all(os.path.exists(b) for b in qemu_replug.HOST_BINARIES):
        seed_tmp = os.path.join(tmp, "seed")
        os.makedirs(seed_tmp)
        images["busybox-tree"] = busybox_image(seed_tmp, qemu_replug.seed_tree)
    times = {k: [] for k in images}
    userspace = {k: [] for k in images}
    mem = {}
    for i in range(RUNS):
        for name, initrd in images.items():
            vm = Vm(initrd)
            try:
                t_init, _ = vm.wait_for(b"Run /init")
                t, pos = vm.wait_for(b"login: ")
                times[name].append(t)
                userspace[name].append(t - t_init)
                if i == 0 and name != "busybox-tree" and not LOGIN_ONLY:
                    mem[name] = memory(vm, pos)
            finally:
                vm.stop()
    # The lease, seen from inside without logging in: both network images
    # get the same watcher, started at boot, that checks for the address
    # every 20 ms and says so on the console.
    lease, lease_userspace = {}, {}
    if "busybox-tree" in images:
        watch = f"while ! {qemu_replug.HAS}; do usleep 20000; done; echo {LEASE_MARK[:-2]}\"{LEASE_MARK[-2:]}\" > /dev/console"
        watched = {"ferrite": ferrite_watch_image(tmp, watch)}
        wtmp = os.path.join(tmp, "watch")
        os.makedirs(wtmp)
        watched["busybox-tree"] = busybox_image(
            wtmp, lambda root: qemu_replug.seed_tree(root) + f"::once:/bin/sh -c '{watch}'\n")
        for _ in range(RUNS):
            for name, initrd in watched.items():
                vm = Vm(initrd)
                try:
                    t_init, pos = vm.wait_for(b"Run /init")
                    t_lease = vm.wait_for(LEASE_MARK.encode(), 90, pos)[0]
                    lease.setdefault(name, []).append(t_lease)
                    lease_userspace.setdefault(name, []).append(t_lease - t_init)
                finally:
                    vm.stop()
        shutil.rmtree(os.path.dirname(watched["ferrite"]), ignore_errors=True)
    arm = []
    if not LOGIN_ONLY and os.path.exists(os.path.join(ARM_IMG, "initramfs.cpio.gz")):
        for _ in range(RUNS):
            vm = Vm(os.path.join(ARM_IMG, "initramfs.cpio.gz"), ARM, os.path.join(ARM_IMG, "vmlinuz"))
            try:
                arm.append(vm.wait_for(b"login: ")[0])
            finally:
                vm.stop()
    sizes = {k: os.path.getsize(v) for k, v in images.items()}
    shutil.rmtree(tmp, ignore_errors=True)
    ferrite_bin = os.path.join(REPO, "target/x86_64-unknown-linux-musl/release/ferrite")
    print("| measure | ferrite | BusyBox init + getty |")
    print("|---|---|---|")
    print(f"| QEMU start to `login:`, median of {RUNS} (s) | {statistics.median(times['ferrite']):.2f} | {statistics.median(times['busybox']):.2f} |")
    print(f"| kernel's `Run /init` to `login:` (userspace only), median (s) | {statistics.median(userspace['ferrite']):.2f} | {statistics.median(userspace['busybox']):.2f} |")
    print(f"| ... all runs (s) | {' '.join(f'{t:.2f}' for t in times['ferrite'])} | {' '.join(f'{t:.2f}' for t in times['busybox'])} |")
    if "busybox-tree" in images:
        run = lambda xs: f"{statistics.median(xs):.2f} (runs: {' '.join(f'{t:.2f}' for t in xs)})"
        print()
        print("| with the network tree, median (s) | ferrite | BusyBox init + runit + ifplugd + udhcpc, shell handlers |")
        print("|---|---|---|")
        print(f"| QEMU start to `login:` | {run(times['ferrite'])} | {run(times['busybox-tree'])} |")
        print(f"| kernel's `Run /init` to `login:` | {run(userspace['ferrite'])} | {run(userspace['busybox-tree'])} |")
        print(f"| kernel's `Run /init` to eth0 configured with the lease | {run(lease_userspace['ferrite'])} | {run(lease_userspace['busybox-tree'])} |")
        print(f"| QEMU start to eth0 configured with the lease | {run(lease['ferrite'])} | {run(lease['busybox-tree'])} |")
        print()
    print(f"| initramfs.cpio.gz (bytes) | {sizes['ferrite']} (incl. BusyBox for the shell) | {sizes['busybox']} |")
    print(f"| init binary (bytes, static) | {os.path.getsize(ferrite_bin)} (ferrite) | {os.path.getsize(BUSYBOX)} (busybox) |")
    if arm:
        print(f"| qemu-aarch64 (virt, Cortex-A57, TCG) start to `login:`, median of {RUNS} (s) | {statistics.median(arm):.2f} | |")
    for name in images:
        for pid, comm, rss, pss in mem.get(name, []):
            print(f"| {name}: pid {pid} `{comm}` after boot: Rss / Pss (KiB) | {rss} / {pss} | |" if name == "ferrite"
                  else f"| {name}: pid {pid} `{comm}` after boot: Rss / Pss (KiB) | | {rss} / {pss} |")


if __name__ == "__main__":
    main()
