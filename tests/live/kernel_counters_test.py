#!/usr/bin/env python3
"""Kernel counters (--kernel-counters), live, as root, between two lab
namespaces (veth_a 10.200.0.1 / fd00:200::1, offloads off):

  1. equality: for a bounded mix of TCP, UDP (fragmented too), ICMP and
     ICMPv6 over IPv4 and IPv6, every kernel counter (packets and bytes per
     direction, IP version and protocol; DF, fragments and size buckets per
     direction; non-IP frames) equals what a simultaneous libpcap capture
     (dumpcap) of the same interface holds, counted by tshark over the same
     interval; and the TCP analysis, now fed TCP only, still counts every
     segment once.
  2. lifecycle: SIGTERM leaves no tc filter or BPF program of ours; after
     SIGKILL the filters stay, a restart removes them and counts each packet
     once; an interface a pattern watches loses its programs when deleted and
     gets them again when re-created; a user's own tc filter on the same hook
     is intact throughout and still counts.
  3. refusals: without CAP_BPF, `on` fails naming what is missing and `auto`
     falls back to counting with libpcap, with a warning.

usage: kernel_counters_test.py TCPANOMALY_BINARY
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from checks import Checks  # noqa: E402
from lab import Dumpcap, Lab, Sensor  # noqa: E402

BINARY = sys.argv[1]
SIZE_BOUNDS = [64, 128, 256, 512, 1024, 1500, 9000]
PROG = "tcpa_count"

# A bounded mix from namespace A: UDP of many sizes to a closed port (the
# peer answers ICMP/ICMPv6 port unreachable), UDP too large for the MTU
# (fragments), ICMP and ICMPv6 echo, over IPv4 and IPv6.
MIX = r"""
import socket, time
for fam, dst in ((socket.AF_INET, "10.200.0.2"), (socket.AF_INET6, "fd00:200::2")):
    u = socket.socket(fam, socket.SOCK_DGRAM)
    if fam == socket.AF_INET:
        u.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER = DONT: fragment, DF off
    for i in range(40):
        u.sendto(b"u" * (10 + 37 * i), (dst, 9))
        time.sleep(0.002)
    for n in (3000, 4000):
        u.sendto(b"f" * n, (dst, 9))
    proto = socket.IPPROTO_ICMP if fam == socket.AF_INET else socket.IPPROTO_ICMPV6
    r = socket.socket(fam, socket.SOCK_RAW, proto)
    kind = 8 if fam == socket.AF_INET else 128
    for i in range(15):
        body = bytes([kind, 0, 0, 0, 0, 1, 0, i]) + b"p" * (i * 50)
        if fam == socket.AF_INET:  # ICMPv6's checksum is the kernel's
            s = sum((body[j] << 8) + (body[j + 1] if j + 1 < len(body) else 0) for j in range(0, len(body), 2))
            while s >> 16:
                s = (s & 0xFFFF) + (s >> 16)
            body = body[:2] + (0xFFFF - s).to_bytes(2, "big") + body[4:]
        r.sendto(body, (dst, 0))
        time.sleep(0.002)
"""


# A user's own tc filter, to share the hook with: it passes every packet
# (TC_ACT_UNSPEC) and the kernel counts its runs (bpf_stats).
USER_FILTER = r"""
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
char LICENSE[] SEC("license") = "GPL";
SEC("tc") int user_own(struct __sk_buff *skb) { return -1; }
"""


def build_user_filter(tmp):
    src, obj = os.path.join(tmp, "user.bpf.c"), os.path.join(tmp, "user.o")
    with open(src, "w") as f:
        f.write(USER_FILTER)
    arch = subprocess.run(["gcc", "-print-multiarch"], capture_output=True, text=True).stdout.strip()
    subprocess.run(["clang", "-target", "bpf", "-O2", "-g", f"-I/usr/include/{arch}", "-c", src, "-o", obj], check=True)
    return obj


def run_count(name):
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True).stdout
    return sum(p.get("run_cnt", 0) for p in json.loads(out or "[]") if p.get("name") == name)


def tc_filters(lab, ns, dev):
    out = ""
    for hook in ("ingress", "egress"):
        out += subprocess.run(["ip", "netns", "exec", ns, "tc", "filter", "show", "dev", dev, hook],
                              capture_output=True, text=True).stdout
    return out


def our_programs():
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True).stdout
    return [p for p in json.loads(out or "[]") if p.get("name") == PROG]


def programs_after_exit(timeout=3.0):
    """Ours still loaded after the process exited, polled: the kernel frees
    a program when its last reference goes, a moment after the exit."""
    deadline = time.monotonic() + timeout
    while our_programs() and time.monotonic() < deadline:
        time.sleep(0.1)
    return len(our_programs())


def local_addresses(lab, ns):
    doc = json.loads(lab.run(ns, "ip", "-j", "addr").stdout)
    return {a["local"] for link in doc for a in link.get("addr_info", [])}


def bucket(length):
    return sum(1 for b in SIZE_BOUNDS if length > b)


def reference(dumpcap, local, t0, t1):
    """Per-key counts from the capture, by tshark, for frames in (t0, t1)."""
    fields = ["frame.time_epoch", "frame.protocols", "ip.src", "ip.dst", "ip.len", "ip.proto", "ip.flags.df",
              "ip.flags.mf", "ip.frag_offset", "ipv6.src", "ipv6.dst", "ipv6.plen", "ipv6.fraghdr.offset",
              "ipv6.fraghdr.more"]
    argv = ["tshark", "-r", dumpcap.path, "-n", "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
            "-T", "fields", "-E", "occurrence=f", "-E", "separator=\t"]
    for f in fields:
        argv += ["-e", f]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    ref = {"packets": {}, "bytes": {}, "ip_df": {}, "ip_fragments": {}, "buckets": {}, "non_ip": 0, "frames": 0}
    for line in out.splitlines():
        f = dict(zip(fields, line.split("\t")))
        t = float(f["frame.time_epoch"])
        if not t0 < t < t1:
            continue
        ref["frames"] += 1
        layers = f["frame.protocols"].split(":")
        if "ip" in layers and (("ipv6" not in layers) or layers.index("ip") < layers.index("ipv6")):
            ip, src, dst, length = "4", f["ip.src"], f["ip.dst"], int(f["ip.len"])
            proto = {"6": "tcp", "17": "udp", "1": "icmp"}.get(f["ip.proto"], "other")
            df = f["ip.flags.df"] in ("1", "True")
            frag = f["ip.flags.mf"] in ("1", "True") or int(f["ip.frag_offset"] or 0) != 0
        elif "ipv6" in layers:
            ip, src, dst, length = "6", f["ipv6.src"], f["ipv6.dst"], int(f["ipv6.plen"]) + 40
            after = [x for x in layers[layers.index("ipv6") + 1:] if not x.startswith("ipv6.")]
            upper = after[0] if after else ""
            frag = f["ipv6.fraghdr.more"] in ("1", "True") or int(f["ipv6.fraghdr.offset"] or 0) != 0
            if frag and int(f["ipv6.fraghdr.offset"] or 0) != 0:
                upper = "udp"  # the test's only fragmented traffic; tshark calls later fragments "data"
            proto = {"tcp": "tcp", "udp": "udp", "icmpv6": "icmp"}.get(upper, "other")
            df = False
        else:
            ref["non_ip"] += 1
            continue
        direction = "out" if src in local else "in" if dst in local else "transit"
        for name, key, value in (("packets", (direction, ip, proto), 1), ("bytes", (direction, ip, proto), length),
                                 ("ip_df", direction, int(df)), ("ip_fragments", direction, int(frag)),
                                 ("buckets", (direction, proto, bucket(length)), 1)):
            ref[name][key] = ref[name].get(key, 0) + value
    return ref


def ours(before, after):
    """The same keys from two snapshots' difference."""
    def index(snap):
        out = {}
        for s in snap.series:
            if s.get("interface") != "veth_a":
                continue
            name = s["name"]
            if name in ("packets", "bytes"):
                out[(name, (s["direction"], s["ip"], s["proto"]))] = out.get((name, (s["direction"], s["ip"], s["proto"])), 0) + s["value"]
            elif name in ("ip_df", "ip_fragments"):
                out[(name, s["direction"])] = out.get((name, s["direction"]), 0) + s["value"]
            elif name == "packet_size_bucket":
                out[("cum", (s["direction"], s["proto"], s["le"]))] = s["value"]
            elif name in ("non_ip_frames", "tcp_segments"):
                out[(name, None)] = out.get((name, None), 0) + s["value"]
        return out
    a, b = index(after), index(before)
    d = {k: v - b.get(k, 0) for k, v in a.items()}
    got = {"packets": {}, "bytes": {}, "ip_df": {}, "ip_fragments": {}, "buckets": {}}
    for (name, key), v in d.items():
        if name in got:
            if v:
                got[name][key] = v
    # Cumulative le buckets back to per-bucket counts.
    les = [str(b) for b in SIZE_BOUNDS] + ["+Inf"]
    for direction in ("out", "in", "transit"):
        for proto in ("tcp", "udp", "icmp", "other"):
            prev = 0
            for i, le in enumerate(les):
                c = d.get(("cum", (direction, proto, le)), 0)
                if c - prev:
                    got["buckets"][(direction, proto, i)] = c - prev
                prev = c
    got["non_ip"] = d.get(("non_ip_frames", None), 0)
    got["tcp_segments"] = d.get(("tcp_segments", None), 0)
    return got


def equality(checks, tmp):
    with Lab("tcpak") as lab:
        local = local_addresses(lab, lab.a)
        cap = Dumpcap(lab, lab.a, "veth_a", os.path.join(tmp, "veth_a.pcapng"))
        sensor = Sensor(lab, lab.a, BINARY, ["veth_a"], "--kernel-counters", "on")
        checks.expect("kernel counters on (log)", "kernel counters on" in sensor.log(), True)
        lab.server("10.200.0.2", 5001, "sink", 3)
        lab.spawn(lab.b, "python3", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib",
                                                  "traffic.py"), "server", "fd00:200::2", "5002", "sink", "1")
        time.sleep(1.5)  # past the link's first IPv6 chatter
        # The interval is the snapshots' own: each is stamped when taken, the
        # kernel's counters read within a millisecond of it.
        before = sensor.snapshot()
        t0 = before.doc["time_ns"] / 1e9
        lab.client("10.200.0.2", 5001, 3, 300_000, 10)
        lab.client("fd00:200::2", 5002, 1, 200_000, 10)
        lab.run(lab.a, "python3", "-c", MIX)
        time.sleep(1.0)  # every answer in
        after = sensor.snapshot()
        t1 = after.doc["time_ns"] / 1e9
        sensor.stop()
        time.sleep(0.3)
        cap.stop()
        ref = reference(cap, local, t0, t1)
        got = ours(before, after)
        checks.expect("the mix crossed veth_a (frames)", ref["frames"] > 600, True)
        for name in ("packets", "bytes", "ip_df", "ip_fragments", "buckets"):
            keys = sorted(set(ref[name]) | set(got[name]), key=str)
            for k in keys:
                checks.expect(f"{name}{k}: kernel == tshark", got[name].get(k, 0), ref[name].get(k, 0))
        checks.expect("non_ip_frames: kernel == tshark", got["non_ip"], ref["non_ip"])
        tcp_frames = sum(v for (d, ip, p), v in ref["packets"].items() if p == "tcp")
        checks.expect("tcp_segments (the capture, TCP only) == tshark's TCP packets, none counted twice",
                      got["tcp_segments"], tcp_frames)
        checks.expect("the capture's filter is TCP only (log)", "capture takes TCP only" in sensor.log(), True)


def udp_burst(lab, n):
    lab.run(lab.a, "python3", "-c",
            f"import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            f"for i in range({n}): s.sendto(b'x' * 100, ('10.200.0.2', 7000))")


def lifecycle(checks, tmp):
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        stats_were = f.read().strip()
    obj = build_user_filter(tmp)
    try:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
        with Lab("tcpal") as lab:
            lifecycle_in(checks, lab, obj)
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(stats_were)


def lifecycle_in(checks, lab, obj):
    if True:
        # A user's own filter on the egress hook we share, at another priority.
        lab.run(lab.a, "tc", "qdisc", "add", "dev", "veth_a", "clsact")
        lab.run(lab.a, "tc", "filter", "add", "dev", "veth_a", "egress", "prio", "100", "bpf", "da", "obj", obj,
                "sec", "tc")

        def user_filter_packets():
            return run_count("user_own")

        sensor = Sensor(lab, lab.a, BINARY, ["veth_a"], "--kernel-counters", "on")
        running = tc_filters(lab, lab.a, "veth_a")
        checks.expect("running: our filter on ingress and egress", running.count(PROG + ":"), 2)
        checks.expect("running: one program of ours loaded", len(our_programs()), 1)
        user_before = user_filter_packets()
        s0 = sensor.snapshot()
        udp_burst(lab, 50)
        time.sleep(0.3)
        s1 = sensor.snapshot()
        checks.expect("50 UDP datagrams counted once", s1.sum("packets", interface="veth_a", proto="udp", direction="out")
                      - s0.sum("packets", interface="veth_a", proto="udp", direction="out"), 50)
        checks.expect("the user's filter counted them too", user_filter_packets() - user_before >= 50, True)
        sensor.proc.send_signal(signal.SIGTERM)
        sensor.proc.wait(10)
        checks.expect("SIGTERM: no filter of ours left", PROG in tc_filters(lab, lab.a, "veth_a"), False)
        checks.expect("SIGTERM: no program of ours left", programs_after_exit(), 0)
        checks.expect("SIGTERM: the user's filter intact", "user_own" in tc_filters(lab, lab.a, "veth_a"), True)

        # SIGKILL: the filters outlive us; a restart takes them away first.
        sensor = Sensor(lab, lab.a, BINARY, ["veth_a"], "--kernel-counters", "on")
        sensor.proc.kill()
        sensor.proc.wait(10)
        checks.expect("SIGKILL: our filters stay behind", tc_filters(lab, lab.a, "veth_a").count(PROG + ":"), 2)
        sensor = Sensor(lab, lab.a, BINARY, ["veth_a"], "--kernel-counters", "on")
        checks.expect("restart: the stale filters removed (log)",
                      sensor.wait_log(["filter an earlier tcpanomaly left on veth_a"], 5), True)
        checks.expect("restart: one filter per hook", tc_filters(lab, lab.a, "veth_a").count(PROG + ":"), 2)
        checks.expect("restart: one program of ours", len(our_programs()), 1)
        s0 = sensor.snapshot()
        udp_burst(lab, 40)
        time.sleep(0.3)
        s1 = sensor.snapshot()
        checks.expect("restart: 40 datagrams counted once, not twice",
                      s1.sum("packets", interface="veth_a", proto="udp", direction="out")
                      - s0.sum("packets", interface="veth_a", proto="udp", direction="out"), 40)
        sensor.stop()
        checks.expect("stdin closed: no filter of ours left", PROG in tc_filters(lab, lab.a, "veth_a"), False)
        checks.expect("stdin closed: no program of ours left", programs_after_exit(), 0)

        # A watched pattern: an interface deleted loses its programs, re-created gets them again.
        lab.run(lab.a, "ip", "link", "add", "kcx0", "type", "veth", "peer", "name", "kcy0")
        lab.run(lab.a, "ip", "link", "set", "kcx0", "up")
        sensor = Sensor(lab, lab.a, BINARY, ["veth_a"], "-i", "kcx*", "--kernel-counters", "on")
        deadline = time.monotonic() + 5
        while PROG not in tc_filters(lab, lab.a, "kcx0") and time.monotonic() < deadline:
            time.sleep(0.1)
        checks.expect("pattern: kcx0 counted in the kernel", tc_filters(lab, lab.a, "kcx0").count(PROG + ":"), 2)
        lab.run(lab.a, "ip", "link", "del", "kcx0")
        time.sleep(0.5)
        checks.expect("deleted: the program still loaded (veth_a)", len(our_programs()), 1)
        lab.run(lab.a, "ip", "link", "add", "kcx0", "type", "veth", "peer", "name", "kcy0")
        deadline = time.monotonic() + 5
        while PROG not in tc_filters(lab, lab.a, "kcx0") and time.monotonic() < deadline:
            time.sleep(0.1)
        checks.expect("re-created: kcx0 gets its filters again", tc_filters(lab, lab.a, "kcx0").count(PROG + ":"), 2)
        udp_burst(lab, 5)
        time.sleep(0.2)
        checks.expect("the sensor still answers and counts", sensor.snapshot().sum("packets", interface="veth_a") >= 5,
                      True)
        sensor.proc.send_signal(signal.SIGTERM)
        sensor.proc.wait(10)
        checks.expect("end: no filter of ours on veth_a or kcx0",
                      PROG in tc_filters(lab, lab.a, "veth_a") + tc_filters(lab, lab.a, "kcx0"), False)
        checks.expect("end: no program of ours", programs_after_exit(), 0)
        user_before = user_filter_packets()
        udp_burst(lab, 10)
        checks.expect("end: the user's filter intact and counting", user_filter_packets() - user_before >= 10, True)


def refusals(checks):
    with Lab("tcpar") as lab:
        no_bpf = ["setpriv", "--bounding-set=-bpf,-sys_admin,-perfmon", "--inh-caps=-all", "--"]
        r = subprocess.run(["ip", "netns", "exec", lab.a, *no_bpf, BINARY, "-i", "veth_a", "--kernel-counters", "on",
                            "--duration", "1"], capture_output=True, text=True, timeout=30)
        checks.expect("on without CAP_BPF: exits non-zero", r.returncode != 0, True)
        checks.expect("on without CAP_BPF: says what is missing", "CAP_BPF" in r.stderr, True)
        print("   ", r.stderr.strip().splitlines()[-1][:300] if r.stderr.strip() else "(no message)")
        fd, log = tempfile.mkstemp(prefix="tcpar-", suffix=".log")
        lab.logs.append(log)
        with os.fdopen(fd, "w") as f:
            p = lab.spawn(lab.a, *no_bpf, BINARY, "-i", "veth_a", "--kernel-counters", "auto", "--duration", "3",
                          "--format", "json", stdout=subprocess.PIPE, stderr=f, text=True)
        time.sleep(1.2)
        udp_burst(lab, 30)
        out, _ = p.communicate(timeout=20)
        with open(log) as f:
            text = f.read()
        checks.expect("auto without CAP_BPF: a warning, off", "W!" in text and "kernel counters are off (auto)" in text,
                      True)
        doc = json.loads(out.strip().splitlines()[-1])
        udp = sum(s["value"] for s in doc["series"]
                  if s["name"] == "packets" and s.get("proto") == "udp" and s.get("direction") == "out")
        checks.expect("auto without CAP_BPF: the capture counts UDP instead", udp, 30)
        checks.expect("auto without CAP_BPF: no program of ours", programs_after_exit(), 0)


def main():
    checks = Checks()
    tmp = tempfile.mkdtemp(prefix="tcpa-kernel-counters-")
    print("== equality with a libpcap capture")
    equality(checks, tmp)
    print("== lifecycle")
    lifecycle(checks, tmp)
    print("== refusals")
    refusals(checks)
    checks.finish(tmp)


if __name__ == "__main__":
    main()
