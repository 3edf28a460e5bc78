#!/usr/bin/env python3
"""A flood of mDNS announcements, for the discovery benchmark (bench/discovery.sh).

Multicasts unsolicited mDNS responses from port 5353 to 224.0.0.251 on the interface
of the network namespace it runs in (a test host of tests/scenarios/lan.sh: nothing
leaves that LAN), as a venue full of chatty devices would:

  - `printers`: new `_ipp._tcp` printers, each with PTR, SRV, TXT and A records;
  - `web`: the same for `_http._tcp` devices;
  - `booths`: strangers advertising `_boothcloud._tcp` with random node ids;
  - `noise`: answers for service types nobody browses, and malformed packets.

Every packet names a new instance until --distinct is reached, then it cycles, so the
node's bounded inventory is pushed past its limit and then sees a steady churn.
Usage: mdns-flood.py --rate PACKETS_PER_S --seconds S [--distinct N] [--seed N]
[--kinds printers,web,booths,noise].
Stops by itself; prints what it sent as one JSON line.
"""
import argparse
import json
import os
import subprocess
import random
import socket
import struct
import time

GROUP = ("224.0.0.251", 5353)
CLASS_IN = 1
FLUSH = 0x8000
PTR, A, TXT, SRV = 12, 1, 16, 33


def name(text):
    out = b""
    for label in text.rstrip(".").split("."):
        raw = label.encode()
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def record(owner, rtype, rclass, ttl, data):
    return name(owner) + struct.pack("!HHIH", rtype, rclass, ttl, len(data)) + data


def announcement(service_type, instance, host, ip, port, txt):
    full = f"{instance}.{service_type}.local"
    txt_data = b"".join(bytes([len(e)]) + e for e in (f"{k}={v}".encode()[:255] for k, v in txt.items())) or b"\x00"
    answers = [
        record(f"{service_type}.local", PTR, CLASS_IN, 4500, name(full)),
        record(full, SRV, CLASS_IN | FLUSH, 120, struct.pack("!HHH", 0, 0, port) + name(host)),
        record(full, TXT, CLASS_IN | FLUSH, 4500, txt_data),
        record(host, A, CLASS_IN | FLUSH, 120, socket.inet_aton(ip)),
    ]
    # id 0, flags: response + authoritative; 0 questions, 4 answers.
    return struct.pack("!HHHHHH", 0, 0x8400, 0, len(answers), 0, 0) + b"".join(answers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=1000, help="packets a second")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--distinct", type=int, default=5000, help="instances before they repeat")
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--subnet", default="10.78.0", help="the test LAN's /24, for the records' addresses")
    ap.add_argument("--kinds", default="printers,web,booths,noise", help="which kinds of packet, in turn")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    # Only ever on a test LAN: refuse to flood the machine's own network.
    here = subprocess.run(["ip", "netns", "identify", str(os.getpid())], capture_output=True, text=True).stdout.strip()
    if not here:
        raise SystemExit("mdns-flood.py: run me inside a test namespace (ip netns exec …), never on the host's network")

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    sock.bind(("", 5353))

    kinds = [k for k in args.kinds.split(",") if k]
    packets = []
    for i in range(args.distinct):
        kind = kinds[i % len(kinds)]
        ip = f"{args.subnet}.{100 + i % 150}"
        host = f"dev-{i}.local"
        if kind == "printers":
            p = announcement("_ipp._tcp", f"Printer {i}", host, ip, 631, {"rp": "ipp/print", "ty": f"Receipt {i}"})
        elif kind == "web":
            p = announcement("_http._tcp", f"Kiosk {i}", host, ip, 80, {"path": "/"})
        elif kind == "booths":
            node = "%032x" % rng.getrandbits(128)
            p = announcement("_boothcloud._tcp", f"boothcloud-{node[:8]}", f"boothcloud-{node[:8]}.local", ip, 8787,
                             {"id": node, "event": "someone-else", "role": "booth", "version": "0.1.0", "port": "8787", "fp": "00" * 8})
        elif i % 2 == 1:
            p = announcement("_nobody-browses._tcp", f"Thing {i}", host, ip, 9, {"x": "y" * 200})
        else:
            # Malformed: a header promising records that are not there, then junk.
            p = struct.pack("!HHHHHH", 0, 0x8400, 0, 9, 0, 0) + bytes(rng.getrandbits(8) for _ in range(40))
        packets.append((kind, p))

    sent = {k: 0 for k in kinds}
    sent_bytes = 0
    interval = 1.0 / args.rate
    began = time.monotonic()
    next_at = began
    i = 0
    while True:
        now = time.monotonic()
        if now - began >= args.seconds:
            break
        if now < next_at:
            time.sleep(min(next_at - now, 0.002))
            continue
        # Catch up in a burst when behind, but never more than 50 at once.
        for _ in range(min(50, int((now - next_at) / interval) + 1)):
            kind, p = packets[i % len(packets)]
            try:
                sock.sendto(p, GROUP)
                sent[kind] += 1
                sent_bytes += len(p)
            except OSError:
                pass
            i += 1
            next_at += interval
    elapsed = time.monotonic() - began
    print(json.dumps({"packets": sum(sent.values()), "bytes": sent_bytes, "seconds": round(elapsed, 3),
                      "rate": round(sum(sent.values()) / elapsed), "by_kind": sent}))


if __name__ == "__main__":
    main()
