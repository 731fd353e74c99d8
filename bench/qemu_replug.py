#!/usr/bin/env python3
"""Replug benchmark in QEMU (x86_64, TCG, the default board's NIC,
virtio-net, on QEMU's user network): `set_link n0 off`, the address gone,
1.5 s out, `set_link n0 on`, until eth0 has its lease (10.0.2.15) again;
median of 5; and from `set_link n0 off` until the address is gone.

ferrite: the default image (board qemu-x86_64: ifplugd_eth0 -u0 -d0,
dhcp_eth0, zcip_eth0, fw, no shell). Reference: the same kernel with a
BusyBox image whose init starts BusyBox's runsvdir over the seed's tree
written as shell scripts, as in bench/replug.py: runit's runsvdir/runsv/sv
and Debian's ifplugd 0.28 (-u0 -d0, its default 1 s poll) copied from this
host with their libraries (Debian's busybox-static has neither), a handler
that ups and downs dhcp_eth0, BusyBox udhcpc with a handler that writes the
ipconf and ups fw, and a shell fw applying it with `ip`. In both, a shell
loop in the guest watches the address every 20 ms. Needs the Debian
packages runit and ifplugd on the host.
"""
import os, shutil, socket, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boot  # noqa: E402

RUNS = int(os.environ.get("RUNS", "5"))
HAS = "ip -4 addr show dev eth0 | grep -q 10.0.2.15"
SETTLE = float(os.environ.get("SETTLE", "10"))



def edge(vm, mon, pos, wait_loop, link, word):
    """Start a guest loop that waits for the change (`wait_loop`) and then
    says `word`, pull or replug the cable, and return how long the guest
    took to see it (and the new console position)."""
    half = len(word) // 2
    vm.send(f"{wait_loop}; do usleep 20000; done; echo {word[:half]}''{word[half:]}\n")
    time.sleep(0.3)  # the loop is running
    t0 = time.monotonic() - vm.t0
    monitor(mon, f"set_link n0 {link}")
    t, pos = vm.wait_for(f"{word}\r\n".encode(), 60, pos)
    return t - t0, pos

def sh_file(root, path, body):
    p = os.path.join(root, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(p, 0o755)


HOST_BINARIES = ["/usr/bin/runsvdir", "/usr/bin/runsv", "/usr/bin/sv", "/usr/sbin/ifplugd"]


def copy_with_libraries(root, binary):
    """`binary` and the shared libraries ldd names, at the same paths."""
    paths = [binary]
    for line in subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout.splitlines():
        w = line.split()
        if "=>" in w and len(w) > 2 and w[2].startswith("/"):
            paths.append(w[2])
        elif w and w[0].startswith("/"):
            paths.append(w[0])
    for p in paths:
        dst = os.path.join(root, p.lstrip("/"))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if not os.path.exists(dst) or os.path.islink(dst):
            if os.path.lexists(dst):
                os.unlink(dst)
            shutil.copy(os.path.realpath(p), dst)


def seed_tree(root):
    """The seed's var_service tree for eth0, as BusyBox + runit users write it."""
    for b in HOST_BINARIES:
        copy_with_libraries(root, b)
    bb = "/bin/busybox"
    sh_file(root, "service/ifplugd_eth0/run",
            "exec /usr/sbin/ifplugd -n -s -i eth0 -r ./handler -u0 -d0 2>&1")
    sh_file(root, "service/ifplugd_eth0/handler",
            'case "$2" in up) /usr/bin/sv u ../dhcp_eth0 ;; down) /usr/bin/sv d ../dhcp_eth0 ;; esac; exit 0')
    sh_file(root, "service/dhcp_eth0/run", f"exec {bb} udhcpc -i eth0 -f -s ./handler 2>&1")
    sh_file(root, "service/dhcp_eth0/handler",
            'f=/service/fw/dhcp_eth0.ipconf\n'
            'case "$1" in\n'
            ' bound|renew) printf "let cfg=cfg+1\\nif[\\$cfg]=%s\\nipmask[\\$cfg]=%s/%s\\ngw[\\$cfg]=%s\\n" '
            '"$interface" "$ip" "$mask" "${router%% *}" > "$f.new" && mv "$f.new" "$f"; '
            '/usr/bin/sv u ../fw ;;\n'
            ' deconfig) rm -f "$f"; /usr/bin/sv u ../fw ;;\n'
            'esac')
    sh_file(root, "service/dhcp_eth0/finish", "rm -f /service/fw/dhcp_eth0.ipconf; /usr/bin/sv u ../fw")
    sh_file(root, "service/fw/run",
            "/usr/bin/sv o .\n"
            "ip addr flush dev eth0; ip route flush dev eth0\n"
            "for f in *.ipconf; do [ -f \"$f\" ] || continue\n"
            " m=$(sed -n 's/^ipmask\\[\\$cfg\\]=//p' \"$f\"); g=$(sed -n 's/^gw\\[\\$cfg\\]=//p' \"$f\")\n"
            " ip addr add \"$m\" dev eth0; [ -n \"$g\" ] && ip route add default via \"$g\" dev eth0\n"
            "done\n"
            "exit 0")
    for svc in ("dhcp_eth0", "fw"):
        open(os.path.join(root, "service", svc, "down"), "w").close()
    return ("::sysinit:/bin/mkdir -p /var/run /run\n::sysinit:/bin/ip link set lo up\n"
            "::respawn:/usr/bin/runsvdir /service\n")


def monitor(path, cmd):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.settimeout(5)
    s.recv(4096)  # banner
    s.sendall(cmd.encode() + b"\n")
    time.sleep(0.05)
    s.close()


def measure(initrd, tmp):
    mon = os.path.join(tmp, f"mon{time.monotonic_ns()}.sock")
    vm = boot.Vm(initrd, extra_args=["-monitor", f"unix:{mon},server,nowait"])
    replug, pull = [], []
    try:
        _, pos = vm.wait_for(b"login: ")
        vm.send("root\n")
        _, pos = vm.wait_for(b"# ", 30, pos)
        vm.send(f"while ! {HAS}; do usleep 20000; done; echo FIR''ST\n")
        _, pos = vm.wait_for(b"FIRST\r\n", 90, pos)
        for i in range(RUNS):
            # settled: zcip_eth0 has claimed its address after the last
            # replug (up to ~9 s of probes and announcements), fw is done
            time.sleep(SETTLE)
            took, pos = edge(vm, mon, pos, f"while {HAS}", "off", f"GONE{i}")
            pull.append(took)
            time.sleep(1.5)
            took, pos = edge(vm, mon, pos, f"while ! {HAS}", "on", f"BACK{i}")
            replug.append(took)
            print(f"# {os.path.basename(initrd)}: pull {pull[-1]:.3f}s, replug {replug[-1]:.3f}s", file=sys.stderr)
    except TimeoutError:
        print(vm.buf[-3000:].decode(errors="replace"), file=sys.stderr)
        raise
    finally:
        vm.stop()
    return replug, pull


def main():
    ferrite = os.path.join(boot.IMG, "initramfs.cpio.gz")
    for need in (ferrite, boot.BUSYBOX):
        if not os.path.exists(need):
            sys.exit(f"missing {need}: run `make image` first")
    tmp = tempfile.mkdtemp(prefix="ferrite-qemu-replug-")
    reference = boot.busybox_image(tmp, seed_tree)
    rows = {}
    if os.environ.get("ONLY") != "busybox":
        rows["ferrite"] = measure(ferrite, tmp)
    rows["BusyBox"] = measure(reference, tmp)
    print(f"| QEMU replug, median of {RUNS} (ms) | ferrite | BusyBox init + runsvdir, ifplugd, udhcpc, shell handlers |")
    print("|---|---|---|")
    f, b = rows["ferrite"], rows["BusyBox"]
    ms = lambda xs: f"{statistics.median(xs) * 1000:.0f} (runs: {' '.join(f'{x * 1000:.0f}' for x in xs)})"
    print(f"| `set_link off` → the address is gone | {ms(f[1])} | {ms(b[1])} |")
    print(f"| `set_link on` → eth0 has the lease again | {ms(f[0])} | {ms(b[0])} |")


if __name__ == "__main__":
    main()
