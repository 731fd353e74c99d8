#!/usr/bin/env python3
"""The disk image against the initramfs (issue 14), for the default board
qemu-x86_64 under QEMU TCG: QEMU start to `login:` and to eth0 holding
QEMU's lease (a watcher service checks every 20 ms and says so on the
console, the same in both), for the initramfs, the disk's first boot (a
fresh copy of disk.img: the data partition is checked and its overlay made)
and its second boot (the lease remembered: INIT-REBOOT); the image sizes;
and flash wear: bytes the idle default tree writes to the data partition,
from the guest's /sys/block/vda/vda2/stat, over IDLE seconds (default 600)
scaled to an hour. Median of RUNS (default 5), alternating.
"""
import os, re, shutil, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boot  # noqa: E402
import qemu_replug  # noqa: E402

REPO = boot.REPO
RUNS = int(os.environ.get("RUNS", "5"))
IDLE = int(os.environ.get("IDLE", "600"))
WATCH = (f"while ! {qemu_replug.HAS}; do usleep 20000; done; "
         f"echo {boot.LEASE_MARK[:-2]}\"{boot.LEASE_MARK[-2:]}\" > /dev/console")


def disk_vm(images, disk):
    with open(os.path.join(images, "cmdline")) as f:
        line = f.read().strip()
    machine = ["qemu-system-x86_64", "-accel", "tcg", "-m", "256", "-append", line]
    return boot.Vm(os.path.join(images, "initrd.cpio.gz"), machine, boot.KERNEL,
                   ["-drive", f"file={disk},if=virtio,format=raw"])


def timed(vm):
    """(login, lease) from QEMU start, then logs in and powers off."""
    t_login, pos = vm.wait_for(b"login: ", 120)
    t_lease, _ = vm.wait_for(boot.LEASE_MARK.encode(), 120)
    return t_login, t_lease, pos


def power_off(vm, pos):
    vm.send("root\n")
    _, pos = vm.wait_for(b"# ", 30, pos)
    vm.send("sync; poweroff\n")
    try:
        vm.p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        vm.stop()


def sectors_written(vm, pos):
    """Sectors written to the data partition so far (the 7th field of its
    stat), read on the logged-in console."""
    vm.send("read a b c d e f g x < /sys/block/vda/vda2/stat; echo W=$g=W\n")
    end = pos
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with vm.lock:
            m = re.search(rb"W=(\d+)=W", vm.buf[pos:])
        if m:
            return int(m.group(1)), pos + m.end()
        time.sleep(0.05)
    raise TimeoutError("no stat of vda2")


def main():
    tmp = tempfile.mkdtemp(prefix="ferrite-diskbench-")
    boot.ferrite_watch_image(tmp, WATCH)
    images = os.path.join(REPO, "target/images/bench-leasewatch")
    res = {k: ([], []) for k in ("initramfs", "disk, first boot", "disk, second boot")}
    try:
        for _ in range(RUNS):
            vm = boot.Vm(os.path.join(images, "initramfs.cpio.gz"))
            try:
                t_login, t_lease, _ = timed(vm)
            finally:
                vm.stop()
            res["initramfs"][0].append(t_login)
            res["initramfs"][1].append(t_lease)
            disk = os.path.join(tmp, "disk.img")
            shutil.copy(os.path.join(images, "disk.img"), disk)
            for which in ("disk, first boot", "disk, second boot"):
                vm = disk_vm(images, disk)
                try:
                    t_login, t_lease, pos = timed(vm)
                    res[which][0].append(t_login)
                    res[which][1].append(t_lease)
                    power_off(vm, pos)
                finally:
                    vm.stop()
        # flash wear: the default tree, idle, on a disk that has booted once
        vm = disk_vm(images, disk)
        try:
            _, _, pos = timed(vm)
            vm.send("root\n")
            _, pos = vm.wait_for(b"# ", 30, pos)
            time.sleep(20)
            before, pos = sectors_written(vm, pos)
            time.sleep(IDLE)
            after, pos = sectors_written(vm, pos)
        finally:
            vm.stop()
        wear = (after - before) * 512 * 3600 / IDLE
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    run = lambda xs: f"{statistics.median(xs):.2f} ({' '.join(f'{t:.2f}' for t in xs)})"
    print(f"| QEMU start to ..., median of {RUNS} (s; all runs) | `login:` | eth0 holds the lease |")
    print("|---|---|---|")
    for k, (login, lease) in res.items():
        print(f"| {k} | {run(login)} | {run(lease)} |")
    print()
    size = lambda f: os.path.getsize(os.path.join(images, f))
    print("| image | bytes |")
    print("|---|---|")
    for f in ("initramfs.cpio.gz", "initrd.cpio.gz", "root.img", "data.img", "disk.img", "vmlinuz"):
        print(f"| {f} | {size(f):,} |")
    print()
    print(f"| flash wear, idle default tree | {after - before} sectors in {IDLE} s = {wear:,.0f} bytes per hour to the data partition |")
    shutil.rmtree(images, ignore_errors=True)


if __name__ == "__main__":
    main()
