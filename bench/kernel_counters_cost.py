#!/usr/bin/env python3
"""Kernel counters' cost, live (root): iperf3 between the two lab namespaces.

  * per packet in the kernel: bpf_stats (kernel.bpf_stats_enabled) run_time_ns
    / run_cnt of our tc program on veth_a, next to a minimal program that only
    bumps one per-CPU counter, attached to veth_b (the other end of the same
    veth pair: the same packets), in the same run;
  * whole cost at equal load on a UDP-heavy mix: the sensor process's CPU
    (utime + stime from /proc) plus our program's kernel run time, with
    --kernel-counters on, against the same sensor counting with libpcap
    (kernel counters off). The libpcap side's softirq work (copying each
    frame into the ring) is not in its figure, so the ratio is a lower bound.

usage: kernel_counters_cost.py TCPANOMALY_BINARY [SECONDS]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
from lab import Lab, Sensor  # noqa: E402

MINIMAL = r"""
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
char LICENSE[] SEC("license") = "GPL";
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } n SEC(".maps");
SEC("tc") int tcpa_minimal(struct __sk_buff *skb) {
  __u32 k = 0; __u64 *v = bpf_map_lookup_elem(&n, &k); if (v) *v += 1; return -1;
}
"""


def prog_stats(name):
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True, check=True).stdout
    run_ns = cnt = 0
    for p in json.loads(out):
        if p.get("name") == name:
            run_ns += p.get("run_time_ns", 0)
            cnt += p.get("run_cnt", 0)
    return run_ns, cnt


def cpu_ns(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1e9 / os.sysconf("SC_CLK_TCK")


def iperf(lab, seconds, udp):
    args = ["iperf3", "-c", "10.200.0.2", "-t", str(seconds), "-J"]
    if udp:
        args += ["-u", "-b", "400M", "-l", "256"]
    out = lab.run(lab.a, *args, timeout=seconds + 30).stdout
    return json.loads(out)


def run(binary, seconds, kernel, udp, minimal_obj):
    with Lab("tcpkc") as lab:
        lab.spawn(lab.b, "iperf3", "-s", "-1", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if minimal_obj:
            for hook in ("ingress", "egress"):
                subprocess.run(["ip", "netns", "exec", lab.b, "tc", "qdisc", "replace", "dev", "veth_b", "clsact"])
                subprocess.run(["ip", "netns", "exec", lab.b, "tc", "filter", "add", "dev", "veth_b", hook, "bpf",
                                "da", "obj", minimal_obj, "sec", "tc"], check=True)
        sensor = Sensor(lab, lab.a, binary, ["veth_a"], "--kernel-counters", "on" if kernel else "off")
        time.sleep(1)
        ours0, min0, cpu0 = prog_stats("tcpa_count"), prog_stats("tcpa_minimal"), cpu_ns(sensor.proc.pid)
        iperf(lab, seconds, udp)
        ours1, min1, cpu1 = prog_stats("tcpa_count"), prog_stats("tcpa_minimal"), cpu_ns(sensor.proc.pid)
        snap = sensor.snapshot()
        sensor.stop()
        packets = snap.sum("packets", interface="veth_a")
        d = lambda a, b: (a[0] - b[0], a[1] - b[1])  # noqa: E731
        return {"packets": packets, "process_ns": cpu1 - cpu0, "ours": d(ours1, ours0), "minimal": d(min1, min0)}


def main():
    binary = sys.argv[1]
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    tmp = tempfile.mkdtemp(prefix="tcpa-kc-cost-")
    src, obj = os.path.join(tmp, "minimal.bpf.c"), os.path.join(tmp, "minimal.o")
    with open(src, "w") as f:
        f.write(MINIMAL)
    arch = subprocess.run(["gcc", "-print-multiarch"], capture_output=True, text=True).stdout.strip()
    subprocess.run(["clang", "-target", "bpf", "-O2", "-g", f"-I/usr/include/{arch}", "-c", src, "-o", obj], check=True)
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        was = f.read().strip()
    try:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
        for udp in (False, True):
            on = run(binary, seconds, True, udp, obj)
            off = run(binary, seconds, False, udp, None)
            (ours_ns, ours_n), (min_ns, min_n) = on["ours"], on["minimal"]
            per_ours, per_min = ours_ns / max(ours_n, 1), min_ns / max(min_n, 1)
            total_on = on["process_ns"] + ours_ns
            kind = "UDP 256-byte datagrams" if udp else "TCP bulk"
            print(f"== {kind}: {on['packets']} packets (kernel counters on), {off['packets']} (off)")
            print(f"   tc program: {per_ours:.0f} ns/run over {ours_n} runs; minimal counter: {per_min:.0f} ns/run"
                  f" over {min_n} runs; ratio {per_ours / max(per_min, 1e-9):.2f}x")
            print(f"   CPU per packet: kernel counters {total_on / max(on['packets'], 1):.0f} ns (process "
                  f"{on['process_ns'] / max(on['packets'], 1):.0f} + program {ours_ns / max(on['packets'], 1):.0f}),"
                  f" libpcap {off['process_ns'] / max(off['packets'], 1):.0f} ns (process only); "
                  f"libpcap / kernel {(off['process_ns'] / max(off['packets'], 1)) / max(total_on / max(on['packets'], 1), 1e-9):.2f}x")
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(was)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
