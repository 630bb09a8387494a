#!/usr/bin/env python3
"""Userspace impairment relay for the netns lab: runs in the middle namespace
and bridges two interfaces frame by frame with AF_PACKET sockets, because
this kernel has no netem. Impairments apply to TCP frames only (ARP and
neighbour discovery always pass) and are drawn from a seeded generator, so
a scenario is repeatable.

  relay.py IF_A IF_B [--loss P] [--ack-loss P] [--dup P] [--reorder P]
           [--reorder-ms MS] [--delay-ms MS] [--blackhole PORT] [--seed N]
           [--lifetime S]

  --loss P       drop P (0..1) of the TCP data frames going A -> B
  --ack-loss P   drop P of the TCP frames without data going B -> A
  --dup P        send P of the forwarded A -> B data frames twice
  --reorder P    hold P of the A -> B data frames back by --reorder-ms
  --delay-ms MS  one-way delay added to every frame, both ways
  --blackhole PORT  drop every TCP frame to or from PORT (both ways)

Prints "ready" once both sockets are bound, and on SIGTERM (or after
--lifetime seconds) one JSON line with what it did, per direction.
"""
import argparse
import heapq
import json
import random
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def tcp_info(frame):
    """(dst_port, src_port, payload_length) of a TCP frame, or None."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    if ethertype == 0x0800 and len(frame) >= 34:
        ihl = (frame[14] & 0x0F) * 4
        if frame[23] != 6:
            return None
        ip_len = struct.unpack_from("!H", frame, 16)[0]
        tcp = 14 + ihl
        header = ihl
    elif ethertype == 0x86DD and len(frame) >= 54:
        if frame[20] != 6:  # lab traffic has no extension headers
            return None
        ip_len = 40 + struct.unpack_from("!H", frame, 18)[0]
        tcp = 54
        header = 40
    else:
        return None
    if len(frame) < tcp + 14:
        return None
    sport, dport = struct.unpack_from("!HH", frame, tcp)
    offset = (frame[tcp + 12] >> 4) * 4
    return dport, sport, ip_len - header - offset


class Relay:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.socks = {}
        for name in (args.if_a, args.if_b):
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            s.bind((name, 0))
            self.socks[name] = s
        self.peer = {args.if_a: self.socks[args.if_b], args.if_b: self.socks[args.if_a]}
        self.pending = []  # heap of (release time, order, socket, frame)
        self.order = 0
        self.stats = {d: {"frames": 0, "tcp": 0, "tcp_data": 0, "forwarded": 0, "dropped": 0,
                          "dropped_data": 0, "duplicated": 0, "reordered": 0, "blackholed": 0}
                      for d in ("a_to_b", "b_to_a")}

    def schedule(self, out, frame, delay_s):
        self.order += 1
        heapq.heappush(self.pending, (time.monotonic() + delay_s, self.order, out, frame))

    def handle(self, ifname, frame):
        a = self.args
        forward_dir = ifname == a.if_a
        st = self.stats["a_to_b" if forward_dir else "b_to_a"]
        st["frames"] += 1
        out = self.peer[ifname]
        delay = a.delay_ms / 1000.0
        info = tcp_info(frame)
        if info is None:
            self.schedule(out, frame, delay)
            return
        dport, sport, payload = info
        st["tcp"] += 1
        st["tcp_data"] += payload > 0
        if a.blackhole and a.blackhole in (dport, sport):
            st["blackholed"] += 1
            return
        if forward_dir and payload > 0:
            if self.rng.random() < a.loss:
                st["dropped"] += 1
                st["dropped_data"] += 1
                return
            copies = 2 if self.rng.random() < a.dup else 1
            st["duplicated"] += copies - 1
            if self.rng.random() < a.reorder:
                st["reordered"] += 1
                delay += a.reorder_ms / 1000.0
            for _ in range(copies):
                self.schedule(out, frame, delay)
            st["forwarded"] += copies
            return
        if not forward_dir and payload == 0 and self.rng.random() < a.ack_loss:
            st["dropped"] += 1
            return
        st["forwarded"] += 1
        self.schedule(out, frame, delay)

    def run(self):
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        deadline = time.monotonic() + self.args.lifetime
        by_fd = {s.fileno(): name for name, s in self.socks.items()}
        print("ready", flush=True)
        while not stop and time.monotonic() < deadline:
            now = time.monotonic()
            while self.pending and self.pending[0][0] <= now:
                _, _, out, frame = heapq.heappop(self.pending)
                try:
                    out.send(frame)
                except OSError:
                    pass  # peer interface gone or queue full: the frame is lost
            timeout = max(0.0, self.pending[0][0] - now) if self.pending else 0.05
            try:
                ready, _, _ = select.select(list(by_fd), [], [], min(timeout, 0.05))
            except InterruptedError:
                continue
            for fd in ready:
                name = by_fd[fd]
                for _ in range(64):  # drain a burst before looking at the clock again
                    try:
                        frame, addr = self.socks[name].recvfrom(65535, socket.MSG_DONTWAIT)
                    except (BlockingIOError, InterruptedError):
                        break
                    if addr[2] != PACKET_OUTGOING:  # not our own transmissions
                        self.handle(name, frame)
        print(json.dumps(self.stats), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("if_a")
    p.add_argument("if_b")
    p.add_argument("--loss", type=float, default=0.0)
    p.add_argument("--ack-loss", type=float, default=0.0)
    p.add_argument("--dup", type=float, default=0.0)
    p.add_argument("--reorder", type=float, default=0.0)
    p.add_argument("--reorder-ms", type=float, default=5.0)
    p.add_argument("--delay-ms", type=float, default=0.0)
    p.add_argument("--blackhole", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lifetime", type=float, default=300.0)
    Relay(p.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
