#!/usr/bin/env python3
"""collectd live, as root: the daemon runs inside a network namespace of the
test's own and captures veth_a with the built plugin while the test makes a
known amount of real kernel TCP traffic. The scraped values must equal the
traffic made and the kernel's own counters (nstat) in that namespace:

  connects_refused{out}   = 5 connects to a closed port = TcpAttemptFails
  resets{in}              = the server namespace's TcpOutRsts (5)
  connections_opened{out} = TcpActiveOpens - TcpAttemptFails (3)
  connections_closed{out,kind=fin} = 3
  tcp_segments{out}       = TcpOutSegs + TcpRetransSegs
  retransmissions{out}    = TcpRetransSegs

A second configured interface is absent at start: it is logged and retried,
picked up when it appears, survives being deleted, and veth_a keeps counting
throughout. An interface matching the configured pattern ("/^tcpa_pat/") is
picked up within 2 s of its creation, and its values go once it has been
gone for the grace period. Finally SIGTERM while capturing: the daemon exits within 1 s.

Then a second daemon with `KernelCounters true`: the tc program is attached
to veth_a while it runs, 60 UDP datagrams the test sends show as exactly 60
packets{proto=udp,ip=4,direction=out} (counted in the kernel: the capture
takes TCP only), TCP segments still equal TcpOutSegs + TcpRetransSegs, and
no tc filter of ours is left after collectd stops.

usage: collectd_live_test.py PLUGIN_DIR
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import collectd_harness as ch  # noqa: E402
from checks import Checks  # noqa: E402
from lab import Lab, delta  # noqa: E402

LATE = "tcpa_late0"
PATTERN, MATCHING, GRACE = "/^tcpa_pat/", "tcpa_pat0", 3


def value(samples, field, **labels):
    labels.setdefault("interface", "veth_a")
    return samples.get((field, frozenset(labels.items())))


def main():
    plugin_dir = sys.argv[1]
    checks = Checks()
    expect = checks.expect

    with Lab("tcpa_cd") as lab:
        block = (f'  Interface "veth_a"\n  Interface "{LATE}"\n  Interface "{PATTERN}"\n'
                 f'  InterfaceGrace {GRACE}\n  SynTimeout 3')
        daemon = ch.Daemon(plugin_dir, block, netns=lab.a)
        try:
            daemon.wait_for(lambda s: value(s, "capture_received") is not None)
            deadline = time.monotonic() + 10
            while "capturing on veth_a" not in daemon.output() and time.monotonic() < deadline:
                time.sleep(0.2)
            before_a, before_b = lab.nstat(lab.a), lab.nstat(lab.b)
            lab.server("10.200.0.2", 5001, "sink", 3)
            time.sleep(0.5)
            lab.client("10.200.0.2", 5001, 3, 100000, 5)
            lab.client("10.200.0.2", 5999, 5, 10, 2)
            time.sleep(1.5)  # last FIN/ACKs
            ka, kb = delta(lab.nstat(lab.a), before_a), delta(lab.nstat(lab.b), before_b)
            print("kernel", lab.a, {k: ka[k] for k in ("TcpActiveOpens", "TcpAttemptFails", "TcpOutSegs",
                                                       "TcpRetransSegs", "TcpOutRsts")},
                  lab.b, {"TcpOutRsts": kb["TcpOutRsts"]})
            out_segments = ka["TcpOutSegs"] + ka["TcpRetransSegs"]
            s = daemon.wait_for(lambda s: value(s, "tcp_segments", direction="out") == out_segments
                                and value(s, "connects_refused", direction="out") == 5, timeout=15)
            expect("connects_refused{out} vs traffic", value(s, "connects_refused", direction="out"), 5)
            expect("connects_refused{out} vs TcpAttemptFails", value(s, "connects_refused", direction="out"),
                   ka["TcpAttemptFails"])
            expect("resets{in} vs server TcpOutRsts", value(s, "resets", direction="in"), kb["TcpOutRsts"])
            expect("connections_opened{out}", value(s, "connections_opened", direction="out"),
                   ka["TcpActiveOpens"] - ka["TcpAttemptFails"])
            expect("connections_closed{out,fin}", value(s, "connections_closed", direction="out", kind="fin"), 3)
            expect("tcp_segments{out} vs TcpOutSegs+TcpRetransSegs", value(s, "tcp_segments", direction="out"),
                   out_segments)
            expect("retransmissions{out} vs TcpRetransSegs", value(s, "retransmissions", direction="out"),
                   ka["TcpRetransSegs"])
            expect(f"{LATE} dispatched (zeros) while absent", value(s, "capture_received", interface=LATE), 0)

            # The absent interface appears, is picked up, then vanishes again.
            # (no dummy module on this kernel: a veth pair inside the namespace)
            lab.run(lab.a, "ip", "link", "add", LATE, "type", "veth", "peer", "name", LATE + "p")
            lab.run(lab.a, "ip", "link", "set", LATE, "up")
            deadline = time.monotonic() + 40  # backoff doubles from 1 s
            while f"capturing on {LATE}" not in daemon.output() and time.monotonic() < deadline:
                time.sleep(0.5)
            expect(f"{LATE} picked up after it appeared", f"capturing on {LATE}" in daemon.output(), True)
            lab.run(lab.a, "ip", "link", "del", LATE)
            lab.client("10.200.0.2", 5999, 2, 10, 2)
            s = daemon.wait_for(lambda s: value(s, "connects_refused", direction="out") == 7, timeout=15)
            expect("veth_a still counting after the other interface vanished",
                   value(s, "connects_refused", direction="out"), 7)
            expect("daemon alive", daemon.proc.poll(), None)

            # An interface the pattern matches appears: picked up within 2 s;
            # deleted: its values stay for the grace period, then go.
            created = time.monotonic()
            lab.run(lab.a, "ip", "link", "add", MATCHING, "type", "veth", "peer", "name", "tcpa_q0")
            lab.run(lab.a, "ip", "link", "set", MATCHING, "up")
            lab.run(lab.a, "ip", "link", "set", "tcpa_q0", "up")
            while f"capturing on {MATCHING}" not in daemon.output() and time.monotonic() < created + 5:
                time.sleep(0.05)
            pickup_s = time.monotonic() - created
            expect(f"{MATCHING} (pattern {PATTERN}) picked up within 2 s ({pickup_s:.2f} s)", pickup_s <= 2.0, True)
            daemon.wait_for(lambda s: value(s, "capture_received", interface=MATCHING) is not None, timeout=10)
            lab.run(lab.a, "ip", "link", "del", MATCHING)
            gone = time.monotonic()
            time.sleep(1)
            expect(f"{MATCHING} still dispatched within the grace period",
                   value(daemon.scrape(), "capture_received", interface=MATCHING) is not None, True)
            daemon.wait_for(lambda s: value(s, "capture_received", interface=MATCHING) is None, timeout=GRACE + 10)
            removed_s = time.monotonic() - gone
            # collectd drops a value it no longer receives after 2 intervals (its Timeout).
            # Up to: the grace, a second for the engine's clock tick, collectd's
            # 2-interval Timeout, and this loop's scrapes (slow under ASan).
            expect(f"{MATCHING}'s values gone after the grace period ({removed_s:.1f} s, grace {GRACE} s)",
                   GRACE <= removed_s <= GRACE + 9, True)
            stop_s = daemon.stop()
            print(f"shutdown while capturing: {stop_s:.3f} s")
            expect("shutdown within 1 s", stop_s < 1.0, True)
        finally:
            log = daemon.output()
            daemon.close()
    print("--- collectd log (tcpanomaly lines) ---")
    print("\n".join(l for l in log.splitlines() if "tcpanomaly" in l))
    kernel_counters(plugin_dir, checks)
    sys.exit(1 if checks.failures else 0)


def tc_filters(lab):
    return "".join(lab.run(lab.a, "tc", "filter", "show", "dev", "veth_a", hook).stdout
                   for hook in ("ingress", "egress"))


def kernel_counters(plugin_dir, checks):
    expect = checks.expect
    with Lab("tcpa_ck") as lab:
        daemon = ch.Daemon(plugin_dir, '  Interface "veth_a"\n  KernelCounters true', netns=lab.a)
        try:
            daemon.wait_for(lambda s: value(s, "packets", direction="out", proto="udp", ip="4") is not None)
            expect("KernelCounters: our tc filters on veth_a", tc_filters(lab).count("tcpa_count:"), 2)
            s0 = daemon.scrape()
            before = lab.nstat(lab.a)
            lab.run(lab.a, "python3", "-c", "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                    "for i in range(60): s.sendto(b'k' * 200, ('10.200.0.2', 7000))")
            lab.server("10.200.0.2", 5001, "sink", 1)
            time.sleep(0.5)
            lab.client("10.200.0.2", 5001, 1, 50000, 5)
            time.sleep(1.5)
            ka = delta(lab.nstat(lab.a), before)
            udp0 = value(s0, "packets", direction="out", proto="udp", ip="4")
            seg0 = value(s0, "tcp_segments", direction="out")
            out_segments = ka["TcpOutSegs"] + ka["TcpRetransSegs"]
            s = daemon.wait_for(lambda s: value(s, "packets", direction="out", proto="udp", ip="4") - udp0 >= 60
                                and value(s, "tcp_segments", direction="out") - seg0 >= out_segments, timeout=15)
            expect("KernelCounters: 60 UDP datagrams = packets{udp,4,out}",
                   value(s, "packets", direction="out", proto="udp", ip="4") - udp0, 60)
            expect("KernelCounters: their bytes (IP length 228 each)",
                   value(s, "bytes", direction="out", proto="udp", ip="4")
                   - value(s0, "bytes", direction="out", proto="udp", ip="4"), 60 * 228)
            expect("KernelCounters: tcp_segments{out} vs TcpOutSegs+TcpRetransSegs",
                   value(s, "tcp_segments", direction="out") - seg0, out_segments)
            expect("KernelCounters: packets{tcp,4,out} (kernel) = the same segments",
                   value(s, "packets", direction="out", proto="tcp", ip="4")
                   - value(s0, "packets", direction="out", proto="tcp", ip="4"), out_segments)
            daemon.stop()
            expect("KernelCounters: no filter of ours after collectd stopped", "tcpa_count" in tc_filters(lab), False)
        finally:
            log = daemon.output()
            daemon.close()
        print("\n".join(l for l in log.splitlines() if "tcpanomaly" in l))


if __name__ == "__main__":
    main()
