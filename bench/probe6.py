#!/usr/bin/env python3
"""ICMPv6 echo prober for the benchmarks: `probe6.py DEST [INTERVAL_MS
[GAP_MS]]` sends an echo request to DEST every INTERVAL_MS (5) from
whatever source address the kernel picks, and prints a line at each change:
`up T` when a reply comes after none, `down T` when the last reply is more
than GAP_MS (50) old. T is CLOCK_MONOTONIC in seconds, the clock every
namespace shares, so the caller compares it with its own. Runs until
killed; needs root (a raw ICMPv6 socket, whose checksum the kernel fills in).
"""
import os, select, socket, struct, sys, time

dest = sys.argv[1]
interval = float(sys.argv[2] if len(sys.argv) > 2 else 5) / 1000
gap = float(sys.argv[3] if len(sys.argv) > 3 else 50) / 1000
ident = os.getpid() & 0xFFFF
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setblocking(False)
seq, up, last = 0, False, 0.0
nxt = time.monotonic()
print("start", f"{nxt:.6f}", flush=True)
while True:
    now = time.monotonic()
    if now >= nxt:
        seq = (seq + 1) & 0xFFFF
        try:
            s.sendto(struct.pack("!BBHHH", 128, 0, 0, ident, seq) + b"ferrite", (dest, 0))
        except OSError:
            pass  # no route yet: the next one tries again
        nxt = now + interval
    if up and now - last > gap:
        up = False
        print("down", f"{now:.6f}", flush=True)
    r, _, _ = select.select([s], [], [], max(0.0, nxt - time.monotonic()))
    if not r:
        continue
    while True:
        try:
            data = s.recv(2048)
        except (BlockingIOError, InterruptedError):
            break
        if len(data) >= 8 and data[0] == 129 and struct.unpack("!H", data[4:6])[0] == ident:
            last = time.monotonic()
            if not up:
                up = True
                print("up", f"{last:.6f}", flush=True)
