#!/usr/bin/env python3
"""A LAN host's view of router advertisements, for tests/ra.rs and
bench/ra.py (root, in the host's network namespace).

  ra-probe.py IFACE listen SECS      print every RA heard for SECS seconds
  ra-probe.py IFACE solicit SECS     send one RS, print the first RA and the
                                     time it took ("ms=...")
  ra-probe.py IFACE flood N          send N hostile solicitations (bad codes,
                                     lengths, options) and N valid ones with
                                     hop limit 1 (from off the link)
  ra-probe.py IFACE storm N          send N valid solicitations at once and
                                     count the RAs heard in 2.5 s

One line per RA: `RA from=ADDR lifetime=S flags=MO prefixes=P/pref/valid,...
rdnss=ADDR@life,... dnssl=NAME@life,... mtu=N`.
"""
import socket
import struct
import sys
import time

ICMPV6 = socket.IPPROTO_ICMPV6


def sock(ifname, hops=255):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, ICMPV6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, hops)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, hops)
    # its own solicitations would fill its receive buffer
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
    return s


def describe(m, frm):
    if len(m) < 16 or m[0] != 134:
        return None
    flags = ("M" if m[5] & 0x80 else "") + ("O" if m[5] & 0x40 else "")
    life = struct.unpack("!H", m[6:8])[0]
    pfx, rdnss, dnssl, mtu = [], [], [], ""
    i = 16
    while i + 2 <= len(m):
        t, ln = m[i], m[i + 1] * 8
        if ln == 0 or i + ln > len(m):
            return "RA malformed"
        o = m[i:i + ln]
        if t == 3 and ln >= 32:
            valid, pref = struct.unpack("!II", o[4:12])
            p = socket.inet_ntop(socket.AF_INET6, o[16:32])
            pfx.append(f"{p}/{o[2]}/{pref}/{valid}")
        elif t == 25 and ln >= 24:
            lt = struct.unpack("!I", o[4:8])[0]
            for j in range(8, ln, 16):
                rdnss.append(socket.inet_ntop(socket.AF_INET6, o[j:j + 16]) + f"@{lt}")
        elif t == 31 and ln >= 16:
            lt = struct.unpack("!I", o[4:8])[0]
            j, labels = 8, []
            while j < ln and o[j] != 0:
                labels.append(o[j + 1:j + 1 + o[j]].decode(errors="replace"))
                j += 1 + o[j]
                if j < ln and o[j] == 0:
                    dnssl.append(".".join(labels) + f"@{lt}")
                    labels = []
                    j += 1
        elif t == 5 and ln >= 8:
            mtu = str(struct.unpack("!I", o[4:8])[0])
        i += ln
    return (f"RA from={frm} lifetime={life} flags={flags} prefixes={','.join(pfx)} "
            f"rdnss={','.join(rdnss)} dnssl={','.join(dnssl)} mtu={mtu}")


def listen(s, secs, first_only=False):
    end = time.monotonic() + secs
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        s.settimeout(left)
        try:
            m, a = s.recvfrom(2048)
        except socket.timeout:
            return False
        d = describe(m, a[0])
        if d:
            print(d, flush=True)
            if first_only:
                return True


def main():
    ifname, mode, n = sys.argv[1], sys.argv[2], float(sys.argv[3])
    idx = socket.if_nametoindex(ifname)
    s = sock(ifname)
    if mode == "listen":
        listen(s, n)
    elif mode == "solicit":
        t0 = time.monotonic()
        s.sendto(bytes([133, 0, 0, 0, 0, 0, 0, 0]), ("ff02::2", 0, 0, idx))
        if listen(s, n, first_only=True):
            print(f"ms={(time.monotonic() - t0) * 1000:.3f}", flush=True)
        else:
            print("no RA", flush=True)
            sys.exit(1)
    elif mode == "flood":
        low = sock(ifname, hops=1)
        bad = [
            b"",
            bytes([133]),
            bytes([133, 1, 0, 0, 0, 0, 0, 0]),  # code 1
            bytes([133, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]),  # option length 0
            bytes([133, 0, 0, 0, 0, 0, 0, 0, 1, 9, 2, 0, 0, 0, 0, 1]),  # option past the end
            bytes([133, 0, 0, 0, 0, 0, 0, 0]) + bytes([1, 255]) + bytes(1200),
            bytes([133, 0, 0, 0, 0, 0, 0, 0]) + bytes(range(256)) * 4,
        ]
        sent = 0
        for i in range(int(n)):
            m = bad[i % len(bad)]
            try:
                s.sendto(m, ("ff02::2", 0, 0, idx))
                # a valid RS from off the link (hop limit 1): must be dropped
                low.sendto(bytes([133, 0, 0, 0, 0, 0, 0, 0]), ("ff02::2", 0, 0, idx))
                sent += 2
            except OSError:
                pass
        print(f"sent={sent}", flush=True)
    elif mode == "storm":
        # valid ones, as fast as they go: the answers stay bounded
        t0, sent = time.monotonic(), 0
        for _ in range(int(n)):
            try:
                s.sendto(bytes([133, 0, 0, 0, 0, 0, 0, 0]), ("ff02::2", 0, 0, idx))
                sent += 1
            except OSError:
                pass
        ras = 0
        s.setblocking(False)
        while time.monotonic() < t0 + 2.5:
            try:
                m, _ = s.recvfrom(2048)
                ras += m[:1] == bytes([134])
            except BlockingIOError:
                time.sleep(0.01)
        print(f"sent={sent} ras={ras}", flush=True)


main()
