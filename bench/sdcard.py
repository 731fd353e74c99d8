#!/usr/bin/env python3
"""The Pi's SD card (issue 14): image sizes per board (sdcard.img or
disk.img, root.img, the small initrd, the boot partition), and the
rpi3-qemu board booted from its card under QEMU TCG (raspi3b, U-Boot from
the card, as `make qemu BOARD=rpi3-qemu` runs it): QEMU start to U-Boot's
banner, to "Starting kernel", to `login:`, and usb0's lease after the
usb-net adapter is plugged in at the prompt. Median of RUNS (default 3).
Needs `make image BOARD=rpi4`, `BOARD=rpi3-qemu` and `BOARD=qemu-aarch64`.
"""
import os, shutil, socket, statistics, subprocess, sys, tempfile, threading, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(REPO, "target/images")
RUNS = int(os.environ.get("RUNS", "3"))


class Vm:
    def __init__(self, args):
        self.buf = b""
        self.lock = threading.Lock()
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            b = self.p.stdout.read1(4096)
            if not b:
                return
            with self.lock:
                self.buf += b

    def wait_for(self, pat, timeout, start=0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                i = self.buf.find(pat, start)
            if i >= 0:
                return time.monotonic() - self.t0, i + len(pat)
            if self.p.poll() is not None:
                break
            time.sleep(0.005)
        raise TimeoutError(pat)

    def send(self, s):
        self.p.stdin.write(s.encode())
        self.p.stdin.flush()

    def stop(self):
        self.p.kill()
        self.p.wait()


def monitor(sock, cmd):
    for _ in range(100):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(sock)
            break
        except OSError:
            time.sleep(0.05)
    else:
        raise RuntimeError("no QEMU monitor")
    s.settimeout(0.5)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.sendall((cmd + "\n").encode())
    time.sleep(0.3)
    s.close()


def rpi3_boot(tmp):
    images = os.path.join(IMAGES, "rpi3-qemu")
    card = os.path.join(tmp, "sdcard.img")
    shutil.copyfile(os.path.join(images, "sdcard.img"), card)
    size = os.path.getsize(card)
    with open(card, "r+b") as f:
        f.truncate(1 << (size - 1).bit_length())
    sock = os.path.join(tmp, "monitor.sock")
    vm = Vm(["qemu-system-aarch64", "-M", "raspi3b", "-accel", "tcg", "-m", "1024",
             "-display", "none", "-serial", "null", "-serial", "stdio",
             "-monitor", f"unix:{sock},server=on,wait=off",
             "-kernel", os.path.join(images, "u-boot.bin"),
             "-drive", f"file={card},if=sd,format=raw",
             "-netdev", "user,id=n0"])
    try:
        t_uboot, pos = vm.wait_for(b"U-Boot 20", 300)
        t_kernel, pos = vm.wait_for(b"Starting kernel", 300, pos)
        t_login, pos = vm.wait_for(b"login: ", 300, pos)
        monitor(sock, "device_add usb-net,netdev=n0,id=nic0")
        t_plug = time.monotonic() - vm.t0
        vm.send("root\n")
        _, pos = vm.wait_for(b"# ", 30, pos)
        vm.send("i=0; while [ $i -lt 2400 ] && ! ip -4 addr show dev usb0 2>/dev/null | "
                "grep -q 10.0.2.15; do usleep 50000; i=$((i+1)); done; echo LEA''SED=$i\n")
        t_lease, _ = vm.wait_for(b"LEASED=", 150, pos)
        return t_uboot, t_kernel, t_login, t_lease - t_plug
    finally:
        vm.stop()


def size(board, name):
    p = os.path.join(IMAGES, board, name)
    return os.path.getsize(p) if os.path.exists(p) else None


def main():
    print("| image | rpi4 | rpi3-qemu | qemu-aarch64 |")
    print("|---|---|---|---|")
    for name in ["sdcard.img", "disk.img", "boot.img", "root.img", "data.img", "initrd.cpio.gz",
                 "initramfs.cpio.gz", "vmlinuz"]:
        cells = [size(b, name) for b in ["rpi4", "rpi3-qemu", "qemu-aarch64"]]
        if any(cells):
            print(f"| {name} | " + " | ".join(f"{c:,}" if c else "" for c in cells) + " |")
    print()
    runs = []
    for i in range(RUNS):
        with tempfile.TemporaryDirectory() as tmp:
            r = rpi3_boot(tmp)
        print(f"run {i + 1}: U-Boot {r[0]:.2f} s, kernel {r[1]:.2f} s, login {r[2]:.2f} s, "
              f"lease {r[3]:.2f} s after the plug", file=sys.stderr)
        runs.append(r)
    cols = list(zip(*runs))
    fmt = lambda xs: f"{statistics.median(xs):.2f} ({' '.join(f'{x:.2f}' for x in xs)})"
    print(f"| rpi3-qemu (raspi3b, TCG) from QEMU start, median of {RUNS} (s; all runs) | |")
    print("|---|---|")
    print(f"| U-Boot's banner | {fmt(cols[0])} |")
    print(f"| U-Boot: Starting kernel | {fmt(cols[1])} |")
    print(f"| `login:` | {fmt(cols[2])} |")
    print(f"| usb0 leased, after the plug at the prompt | {fmt(cols[3])} |")


if __name__ == "__main__":
    main()
