#!/usr/bin/env python3
"""Live benchmark (root): what tcpanomaly costs per frame on real traffic,
next to tcpdump and a plain libpcap loop, and how --capture-threads scales.

    bench/live_bench.py [--build DIR] [--seconds S] [--rounds N] [cost] [scaling]

cost     iperf3 between two network namespaces (tests/lib/netns_lab.sh: a veth
         pair, offloads off, so every segment is its own frame) at a fixed rate,
         once with bulk segments and once with small writes. Each reader
         captures veth_b in turn on the same traffic, pinned to CPU 1 (the
         traffic and the kernel's receive path on CPU 0): tcpanomaly, `tcpdump
         -w /dev/null` and bench/live_count (libpcap counting only), all with
         snaplen 256 and a 32 MiB buffer. CPU is the reader's own (every
         thread's run time from /proc/PID/task/*/schedstat) over a window in
         the middle of the run; frames are the interface's own counters over
         the same window. Rounds alternate the readers.
scaling  a burst that one thread cannot keep up with: tcpanomaly opens
         --capture-threads N sockets on veth_b and is stopped (SIGSTOP); replay
         sends a generated capture (50 000 concurrent connections) into
         veth_a, where it queues in the kernel's rings; then SIGCONT, and the
         time until its threads go idle gives frames/s at N threads. The
         snapshot afterwards must hold every frame, with no drops.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import lab as lablib  # noqa: E402

SNAPLEN = 256
PROFILES = {
    # ~100 000 frames/s of 1448-byte segments (and their ACKs on top)
    "bulk": ["-b", "1160M"],
    # 64-byte writes, Nagle off: each write its own segment where the ACK clock lets it
    "small": ["-b", "51M", "-l", "64", "-N"],
}


def task_cpu_ns(pid):
    """Run time of every thread of a process (schedstat's first field, ns)."""
    total, per = 0, {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
        except OSError:
            continue
        per[tid] = ns
        total += ns
    return total, per


def link_frames(lab, ns, dev):
    out = {}
    for k in ("rx_packets", "tx_packets"):
        out[k] = int(lab.run(ns, "cat", f"/sys/class/net/{dev}/statistics/{k}").stdout)
    return out["rx_packets"] + out["tx_packets"]


class Reader:
    """One capturing process in namespace B, pinned to CPU 1."""

    def __init__(self, lab, kind, build):
        self.kind = kind
        fd, self.log = tempfile.mkstemp(prefix=f"bench-{kind}-", suffix=".log")
        lab.logs.append(self.log)
        pin = ["taskset", "-c", "1"]
        if kind == "tcpanomaly":
            argv = [os.path.join(build, "exec", "tcpanomaly"), "-i", "veth_b", "--signal", "STDIN",
                    "--format", "json", "--snaplen", str(SNAPLEN)]
            ready = "capturing on veth_b"
        elif kind == "tcpdump":
            argv = ["tcpdump", "-i", "veth_b", "-n", "-s", str(SNAPLEN), "-B", "32768", "-w", "/dev/null"]
            ready = "listening on veth_b"
        else:
            argv = [os.path.join(build, "bench", "live_count"), "veth_b", str(SNAPLEN)]
            ready = "capturing on veth_b"
        with os.fdopen(fd, "w") as log:
            self.proc = lab.spawn(lab.b, *pin, *argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=log)
        deadline = time.monotonic() + 10
        while ready not in open(self.log).read():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"{kind} did not start: {open(self.log).read()}")
            time.sleep(0.05)

    def frames_seen(self):
        """The reader's own count at the end (a check, not the measurement)."""
        if self.kind == "tcpanomaly":
            self.proc.stdin.write(b"\n")
            self.proc.stdin.flush()
            snap = lablib.Snapshot(json.loads(self.proc.stdout.readline()))
            self.proc.stdin.close()
            self.proc.wait(10)
            return snap.sum("capture_received")
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=10)
        if self.kind == "tcpdump":
            for line in open(self.log):
                if "packets received by filter" in line:
                    return int(line.split()[0])
            return 0
        return int(out.split()[2])


def cost(args, lab):
    print(f"== cost per frame: readers on CPU 1, traffic on CPU 0, {args.seconds} s runs, "
          f"{args.rounds} rounds ==")
    kinds = ["tcpanomaly", "tcpdump", "live_count"]
    server = lab.spawn(lab.b, "taskset", "-c", "0", "iperf3", "-s", "-B", "10.200.0.2",
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    results = {}
    try:
        for profile, opts in PROFILES.items():
            per = {k: [] for k in kinds}
            pps = []
            for rnd in range(args.rounds):
                order = kinds[rnd % 3:] + kinds[:rnd % 3]
                for kind in order:
                    reader = Reader(lab, kind, args.build)
                    client = lab.spawn(lab.a, "taskset", "-c", "0", "iperf3", "-c", "10.200.0.2",
                                       "-t", str(args.seconds + 2), *opts,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(1.0)
                    c0, f0, t0 = task_cpu_ns(reader.proc.pid)[0], link_frames(lab, lab.b, "veth_b"), time.monotonic()
                    time.sleep(args.seconds)
                    c1, f1, t1 = task_cpu_ns(reader.proc.pid)[0], link_frames(lab, lab.b, "veth_b"), time.monotonic()
                    client.wait(args.seconds + 30)
                    seen = reader.frames_seen()
                    frames = f1 - f0
                    per[kind].append((c1 - c0) / frames)
                    pps.append(frames / (t1 - t0))
                    print(f"  {profile:5} round {rnd + 1} {kind:10} {frames / (t1 - t0) / 1e3:7.1f} kframes/s "
                          f"{(c1 - c0) / frames:7.1f} ns/frame (CPU {100 * (c1 - c0) / 1e9 / (t1 - t0):4.1f} %; "
                          f"it counted {seen} frames in all)", flush=True)
            results[profile] = {k: statistics.median(v) for k, v in per.items()}
            results[profile]["kpps"] = statistics.median(pps) / 1e3
    finally:
        server.kill()
        server.wait(5)
    print()
    print("| traffic | frames/s | tcpanomaly | tcpdump -w /dev/null | libpcap loop | vs tcpdump | vs loop |")
    print("|---|---|---|---|---|---|---|")
    for profile, r in results.items():
        print(f"| {profile} | {r['kpps']:.0f} k | {r['tcpanomaly']:.0f} ns | {r['tcpdump']:.0f} ns | "
              f"{r['live_count']:.0f} ns | {r['tcpanomaly'] / r['tcpdump']:.2f}x | "
              f"{r['tcpanomaly'] / r['live_count']:.2f}x |")
    print("(CPU per frame, medians; x 1e6 = CPU ns per million frames)")


def replay(lab, build, pcap):
    return lab.run(lab.a, os.path.join(build, "bench", "replay"), "veth_a", pcap, timeout=300).stdout.strip()


def one_drain(lab, build, proc, pcap):
    """Stops the reader, queues one burst in its rings, lets it go on and
    measures how long it runs busy: (frames queued, seconds busy, CPU seconds
    of each busy thread)."""
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        f0 = link_frames(lab, lab.b, "veth_b")
        replay(lab, build, pcap)
        queued = link_frames(lab, lab.b, "veth_b") - f0
        c0, per0 = task_cpu_ns(proc.pid)
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    t0 = time.monotonic()
    samples = [(t0, c0)]
    # Idle = under 5 ms of CPU in 100 ms (tcpanomaly's threads still wake
    # every 100 ms to read the clock); the drain ended at the last busy sample.
    while time.monotonic() - t0 < 60:
        time.sleep(0.002)
        samples.append((time.monotonic(), task_cpu_ns(proc.pid)[0]))
        recent = [x for x in samples if x[0] >= samples[-1][0] - 0.1]
        if samples[-1][0] - t0 > 0.2 and recent[-1][1] - recent[0][1] < 5e6:
            break
    busy = [b for a, b in zip(samples, samples[1:]) if b[1] - a[1] > 0.2 * (b[0] - a[0]) * 1e9]
    t_end = busy[-1][0] if busy else samples[-1][0]
    per1 = task_cpu_ns(proc.pid)[1]
    threads = sorted(((per1.get(t, 0) - per0.get(t, 0)) / 1e9 for t in per1), reverse=True)
    return queued, t_end - t0, [x for x in threads if x > 0.001]


def drains(args, lab, name, argv, ready, pcap):
    """One reader: started in namespace B, its rings wrapped by warm-up
    bursts, then args.bursts measured drains. Returns the process (still
    running), the frames/s of each drain, and the frames sent since it started."""
    fd, log = tempfile.mkstemp(prefix="bench-drain-", suffix=".log")
    os.close(fd)
    lab.logs.append(log)
    start_frames = link_frames(lab, lab.b, "veth_b")
    with open(log, "w") as logf:
        proc = lab.spawn(lab.b, *argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=logf)
    deadline = time.monotonic() + 10
    while not ready(open(log).read()):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(open(log).read())
        time.sleep(0.05)
    # The first pass over a ring is slow on this VM (see bench/README.md:
    # the first touch of each ring page from user space costs microseconds),
    # so bursts sent while the reader runs wrap every ring first.
    for _ in range(args.warm_ups):
        replay(lab, args.build, pcap)
    time.sleep(0.5)
    rates = []
    for _ in range(args.bursts):
        queued, took, threads = one_drain(lab, args.build, proc, pcap)
        rates.append(queued / took)
        print(f"  {name:24} {queued} frames drained in {took:.3f} s = {queued / took / 1e6:5.2f} M frames/s, "
              f"{1e9 * sum(threads) / queued:4.0f} ns CPU/frame, threads busy "
              f"{', '.join(f'{x:.3f}' for x in threads)} s", flush=True)
    return proc, rates, link_frames(lab, lab.b, "veth_b") - start_frames


def scaling(args, lab):
    print(f"== capture threads: bursts of {args.frames} frames queued, then drained ==")
    pcap = os.path.join(tempfile.gettempdir(), f"live-bench-{os.getpid()}.pcap")
    lab.logs.append(pcap)
    subprocess.run([os.path.join(args.build, "bench", "bench_gen"), "--packets", str(args.frames),
                    "--connections", "50000", pcap], check=True, capture_output=True)
    rates = {}
    for rnd in range(args.rounds):
        # The floor: libpcap alone draining the same bursts from one ring.
        argv = [os.path.join(args.build, "bench", "live_count"), "veth_b", str(SNAPLEN), str(args.ring)]
        proc, r, total = drains(args, lab, "libpcap loop", argv, lambda log: "capturing on" in log, pcap)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
        counted, dropped = int(out.split()[0]), int(out.split()[3])
        rates.setdefault("libpcap loop", []).extend(r)
        print(f"  libpcap loop counted {counted} of the {total} frames since it started, dropped {dropped}")
        for n in (1, 2):
            name = f"tcpanomaly, {n} thread{'s' if n > 1 else ''}"
            argv = [os.path.join(args.build, "exec", "tcpanomaly"), "--signal", "STDIN", "--format", "json",
                    "-i", "veth_b", "--capture-threads", str(n), "--buffer-size", str(args.ring)]
            proc, r, total = drains(args, lab, name, argv,
                                    lambda log, n=n: log.count("capturing on veth_b") >= n, pcap)
            proc.stdin.write(b"\n")
            proc.stdin.flush()
            snap = lablib.Snapshot(json.loads(proc.stdout.readline()))
            proc.stdin.close()
            proc.wait(10)
            counted, dropped = snap.sum("packets", interface="veth_b"), snap.sum("capture_dropped")
            rates.setdefault(name, []).extend(r)
            print(f"  {name} counted {counted} of the {total} frames since it started, dropped {dropped}")
            if dropped:
                print("  !! frames were dropped: a burst did not fit the rings")
    print(f"\n| reader | frames/s: median (min-max) of {args.rounds * args.bursts} drains |\n|---|---|")
    for k, v in rates.items():
        print(f"| {k} | {statistics.median(v) / 1e6:.2f} M ({min(v) / 1e6:.2f}-{max(v) / 1e6:.2f}) |")
    one, two = statistics.median(rates["tcpanomaly, 1 thread"]), statistics.median(rates["tcpanomaly, 2 threads"])
    print(f"2 threads / 1 thread (medians): {two / one:.2f}x")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--frames", type=int, default=1000000, help="burst size of the scaling run")
    ap.add_argument("--ring", type=int, default=1024, help="MiB of ring per socket in the scaling run")
    ap.add_argument("--warm-ups", type=int, default=4, help="bursts that wrap the rings before the one measured")
    ap.add_argument("--bursts", type=int, default=3, help="measured drains per reader and round")
    ap.add_argument("what", nargs="*", default=["cost", "scaling"])
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    with lablib.Lab("tcpab") as lab:
        if "cost" in args.what:
            cost(args, lab)
        if "scaling" in args.what:
            scaling(args, lab)


if __name__ == "__main__":
    main()
