#!/usr/bin/env python3
"""Kernel counters' cost, live (root): iperf3 between the two lab namespaces.

  * per packet in the kernel: bpf_stats (kernel.bpf_stats_enabled) run_time_ns
    / run_cnt of our tc program on veth_a, next to a minimal program that only
    bumps one per-CPU counter (minimal_counter.bpf.c), attached to the same
    hooks right after ours: the same packets, in the same context;
  * the sensor's whole cost at equal load (UDP at a fixed rate both ways of
    counting keep up with): perf samples every CPU with kernel stacks, and a
    sample is the sensor's if it falls in its process, in the AF_PACKET taps
    libpcap's socket adds (the clone and ring copy, in the sender's system
    time and the receiver's softirq) or in the tc classifier running our
    program. (A first try, the whole machine's busy time less a no-sensor
    baseline, swung by several us per packet between rounds here: the
    traffic's own cost is ten times the sensor's.) Rounds alternate the
    two ways; the median is quoted.

usage: kernel_counters_cost.py TCPANOMALY_BINARY [SECONDS] [ROUNDS]
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

MINIMAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "minimal_counter.bpf.c")


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


def iperf(lab, seconds, udp, rate="400M"):
    args = ["iperf3", "-c", "10.200.0.2", "-t", str(seconds), "-J"]
    if udp:
        args += ["-u", "-b", rate, "-l", "256"]
    out = lab.run(lab.a, *args, timeout=seconds + 30).stdout
    return json.loads(out)


def run(binary, seconds, kernel, udp, minimal_obj):
    with Lab("tcpkc") as lab:
        lab.spawn(lab.b, "iperf3", "-s", "-1", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sensor = Sensor(lab, lab.a, binary, ["veth_a"], "--kernel-counters", "on" if kernel else "off")
        if minimal_obj:
            # on the same hooks of the same interface, right after ours
            # (priority 2; ours returns TC_ACT_UNSPEC, so both run on every
            # packet, in the same context, at the same time)
            subprocess.run(["ip", "netns", "exec", lab.a, "tc", "qdisc", "add", "dev", "veth_a", "clsact"],
                           stderr=subprocess.DEVNULL)  # ours made it already
            for hook in ("ingress", "egress"):
                subprocess.run(["ip", "netns", "exec", lab.a, "tc", "filter", "add", "dev", "veth_a", hook, "prio", "2",
                                "bpf", "da", "obj", minimal_obj, "sec", "tc"], check=True)
        time.sleep(1)
        ours0, min0, cpu0 = prog_stats("tcpa_count"), prog_stats("tcpa_minimal"), cpu_ns(sensor.proc.pid)
        iperf(lab, seconds, udp)
        ours1, min1, cpu1 = prog_stats("tcpa_count"), prog_stats("tcpa_minimal"), cpu_ns(sensor.proc.pid)
        snap = sensor.snapshot()
        sensor.stop()
        packets = snap.sum("packets", interface="veth_a")
        d = lambda a, b: (a[0] - b[0], a[1] - b[1])  # noqa: E731
        return {"packets": packets, "process_ns": cpu1 - cpu0, "ours": d(ours1, ours0), "minimal": d(min1, min0)}


# Where a sample's kernel stack shows whose work it is. libpcap's kernel
# side: the taps that clone each frame to the socket and copy it into the
# ring (egress: dev_queue_xmit_nit; ingress: deliver_skb to packet_rcv or
# tpacket_rcv). The tc side: the classifier running our program.
CAPTURE = ("dev_queue_xmit_nit", "tpacket_rcv", "packet_rcv")
TC = ("tcf_classify", "cls_bpf_classify", "tcx_run")


def attributed_cost(binary, seconds, mode):
    """CPU ns the sensor costs, whole machine, sampled: perf samples every
    CPU (cpu-clock, with kernel stacks) while iperf3 sends UDP at a fixed
    rate; a sample is the sensor's if it is in the sensor's process, in
    libpcap's taps or in the tc classifier. Returns (ns by part, packets)."""
    hz = 4000
    with Lab("tcpkm") as lab, tempfile.TemporaryDirectory(prefix="tcpa-kc-perf-") as tmp:
        lab.spawn(lab.b, "iperf3", "-s", "-1", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sensor = Sensor(lab, lab.a, binary, ["veth_a"], "--kernel-counters", mode)
        time.sleep(1)
        data = os.path.join(tmp, "perf.data")
        perf = subprocess.Popen(["perf", "record", "-a", "-g", "-e", "cpu-clock", "-F", str(hz), "-o", data, "--",
                                 "sleep", str(seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out = iperf(lab, seconds + 2, True, rate=UDP_RATE)
        perf.wait(timeout=seconds + 30)
        pid = sensor.proc.pid
        sensor.stop()
        script = subprocess.run(["perf", "script", "-i", data, "-F", "pid,ip,sym"], capture_output=True, text=True,
                                check=True).stdout
    parts = {"process": 0, "capture": 0, "tc": 0}
    for sample in script.split("\n\n"):
        lines = sample.strip().splitlines()
        if not lines:
            continue
        frames = [ln.split()[1] if len(ln.split()) > 1 else "" for ln in lines[1:]]
        names = {f.split("+")[0] for f in frames}
        if names & set(TC):
            parts["tc"] += 1
        elif names & set(CAPTURE):
            parts["capture"] += 1
        elif lines[0].split()[0] == str(pid):
            parts["process"] += 1
    seconds_per_sample = 1.0 / hz
    packets = out["end"]["sum"]["packets"] * seconds / (seconds + 2)  # those sent while perf sampled
    return {k: v * seconds_per_sample * 1e9 for k, v in parts.items()}, packets


# Below what either way of counting saturates at on 2 cores: equal load.
UDP_RATE = "150M"


def main():
    binary = sys.argv[1]
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    tmp = tempfile.mkdtemp(prefix="tcpa-kc-cost-")
    src, obj = MINIMAL, os.path.join(tmp, "minimal.o")
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
            kind = "UDP 256-byte datagrams" if udp else "TCP bulk"
            print(f"== {kind}: {on['packets']} packets (kernel counters on), {off['packets']} (off)")
            print(f"   tc program: {per_ours:.0f} ns/run over {ours_n} runs; minimal counter: {per_min:.0f} ns/run"
                  f" over {min_n} runs; ratio {per_ours / max(per_min, 1e-9):.2f}x")
            print(f"   sensor process per packet: kernel counters {on['process_ns'] / max(on['packets'], 1):.0f} ns"
                  f" (+ program {ours_ns / max(on['packets'], 1):.0f}), libpcap {off['process_ns'] / max(off['packets'], 1):.0f} ns")
        # bpf_stats off for this part: its own overhead is not the program's
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("0")
        costs = {"on": [], "off": []}
        for _ in range(rounds):
            for mode in ("off", "on"):
                parts, n = attributed_cost(binary, seconds, mode)
                costs[mode].append((sum(parts.values()) / max(n, 1), {k: v / max(n, 1) for k, v in parts.items()}))
        med = {m: sorted(c, key=lambda x: x[0])[len(c) // 2][0] for m, c in costs.items()}
        print(f"== sensor's CPU per packet, whole machine (perf samples: its process, libpcap's taps, the tc"
              f" classifier), UDP 256-byte datagrams at {UDP_RATE}bit/s, median of {rounds}: libpcap"
              f" {med['off']:.0f} ns, kernel counters {med['on']:.0f} ns; libpcap / kernel"
              f" {med['off'] / max(med['on'], 1e-9):.2f}x")
        for m, label in (("off", "libpcap"), ("on", "kernel counters")):
            print(f"   {label}: " + "; ".join(
                f"{t:.0f} ns = " + " + ".join(f"{k} {v:.0f}" for k, v in p.items()) for t, p in costs[m]))
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(was)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
