#!/usr/bin/env python3
"""Kernel truth, live, as root: real Linux TCP between two namespaces, A
(client, 10.200.0.1 / fd00:200::1) and B (server, .2 / ::2), joined through
a third, R, where tests/lib/relay.py impairs the path (this kernel has no
netem). Each scenario runs a fresh tcpanomaly in A on veth_a and in B on
veth_b, and dumpcap beside each, then compares:

  1. what each side SENT, as we count it on its own interface, with that
     namespace's kernel counters (nstat deltas) -- exact, no tolerance:
       tcp_segments{out}        = TcpOutSegs + TcpRetransSegs
       retransmissions{out}     = TcpRetransSegs
       syn{out}                 = TcpActiveOpens + TcpExtTCPSynRetrans
       syn_retransmissions{out} = TcpExtTCPSynRetrans
       resets{out}              = TcpOutRsts
       connects_refused{out} + connects_failed{out} = TcpAttemptFails
       connections_opened{out}  = TcpActiveOpens - TcpAttemptFails
       connections_opened{in}   = TcpPassiveOpens (at B)
       zero_window_episodes{out}= TcpExtTCPToZeroWindowAdv
       keep_alives{out}         = TcpExtTCPWinProbe + TcpExtTCPKeepAlive
         (Linux zero-window probes look like keep-alives, as tshark says)
  2. our counts with tshark 4.0 on the simultaneous capture, tshark being
     the reference for what only a receiver sees: retransmissions,
     out-of-order, lost segments, duplicate ACKs, zero windows.
  3. the receiver's view against the sender's truth and the relay's own
     record of what it did on the path:
       tcp_segments{in} at B = tcp_segments{out} at A - dropped + duplicated
       duplicated <= (retransmissions + out_of_order){in} at B
                  <= TcpRetransSegs(A) + duplicated + reordered
     (a network duplicate looks like a retransmission to the receiver, a
     frame the path held back arrives out of order; a lost retransmission
     or a lost tail never reaches it.)

Every scenario is bounded in connections, bytes and seconds; the namespaces
go away even when a check or the test fails.

usage: kernel_truth_test.py TCPANOMALY_BINARY
"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from checks import Checks  # noqa: E402
from lab import Dumpcap, Lab, Relay, Sensor, delta  # noqa: E402

V4, V6 = "10.200.0.2", "fd00:200::2"
checks = Checks()
expect = checks.expect
table = []  # (scenario, check, ours, reference, ok) for the summary


def compare(scenario, what, ours, truth):
    table.append((scenario, what, ours, truth, ours == truth))
    expect(f"[{scenario}] {what}", ours, truth)


def bounded(scenario, what, low, ours, high):
    table.append((scenario, what, ours, f"{low}..{high}", low <= ours <= high))
    expect(f"[{scenario}] {what} within {low}..{high}", low <= ours <= high, True)


# --- scenarios: impairment on the path and the traffic that crosses it --------
# Each returns nothing; it must leave no connection open when it returns.

def bulk(addr, port, connections, size):
    def run(lab):
        server = lab.server(addr, port, "sink", connections)
        time.sleep(0.3)
        lab.client(addr, port, connections, size, 20)
        server.wait(30)
    return run


def blackhole(port):
    def run(lab):
        # The kernel gives up after 2 retries (about 3 s here): a real failed
        # connect, which the kernel counts in TcpAttemptFails.
        lab.run(lab.a, "sysctl", "-qw", "net.ipv4.tcp_syn_retries=2")
        v4 = lab.start_client(V4, port, 1, 10, 15)
        v6 = lab.start_client(V6, port, 1, 10, 15)
        v4.wait(30)
        v6.wait(30)
        time.sleep(1.5)  # past our syn_timeout of 2 s
    return run


def refused(port):
    def run(lab):
        lab.client(V4, port, 5, 10, 2)
        lab.client(V6, port, 3, 10, 2)
    return run


def aborted(port):
    def run(lab):
        server = lab.server(V4, port, "sink", 4)
        time.sleep(0.3)
        lab.client(V4, port, 4, 20000, 5, "abort")
        server.wait(30)
    return run


def zero_window(port):
    def run(lab):
        # B's application reads nothing for 4 s: its window falls to zero, A probes.
        server = lab.server(V4, port, "stall", 1)
        time.sleep(0.3)
        lab.client(V4, port, 1, 400000, 20)
        server.wait(30)
    return run


SCENARIOS = [
    # name, relay options, traffic, server port
    ("loss+dup v4", ["--loss", "0.02", "--dup", "0.01", "--delay-ms", "2", "--seed", "11"],
     bulk(V4, 5101, 3, 1_000_000), 5101),
    ("loss+reorder+ack-loss v6", ["--loss", "0.01", "--reorder", "0.03", "--reorder-ms", "4",
                                  "--ack-loss", "0.02", "--delay-ms", "1", "--seed", "12"],
     bulk(V6, 5102, 3, 1_000_000), 5102),
    ("blackholed port", ["--blackhole", "5103"], blackhole(5103), 5103),
    ("closed port", [], refused(5104), 5104),
    ("aborted (RST)", ["--delay-ms", "1"], aborted(5105), 5105),
    ("zero window", ["--delay-ms", "1"], zero_window(5106), 5106),
]


def sender_truth(name, side, snap, k, server_side):
    """Our counts of what this namespace sent against its own kernel counters."""
    out = dict(direction="out")
    # A retransmitted SYN/ACK is counted twice by the kernel: tcp_rtx_synack()
    # adds it to RetransSegs, and tcp_make_synack() to OutSegs as every SYN/ACK
    # (other retransmissions are not in OutSegs). A server's TCPSynRetrans are
    # its SYN/ACK retransmissions: counted once on the wire.
    synack_retrans = k.get("TcpExtTCPSynRetrans", 0) if server_side else 0
    compare(name, f"{side} tcp_segments{{out}} = TcpOutSegs+TcpRetransSegs-SYN/ACK retransmissions",
            snap.sum("tcp_segments", **out), k["TcpOutSegs"] + k["TcpRetransSegs"] - synack_retrans)
    compare(name, f"{side} retransmissions{{out}} = TcpRetransSegs",
            snap.sum("retransmissions", **out), k["TcpRetransSegs"])
    compare(name, f"{side} resets{{out}} = TcpOutRsts", snap.sum("resets", **out), k["TcpOutRsts"])
    compare(name, f"{side} zero_window_episodes{{out}} = TCPToZeroWindowAdv",
            snap.sum("zero_window_episodes", **out), k.get("TcpExtTCPToZeroWindowAdv", 0))
    compare(name, f"{side} keep_alives{{out}} = TCPWinProbe+TCPKeepAlive",
            snap.sum("keep_alives", **out), k.get("TcpExtTCPWinProbe", 0) + k.get("TcpExtTCPKeepAlive", 0))
    if server_side:
        compare(name, f"{side} connections_opened{{in}} = TcpPassiveOpens",
                snap.sum("connections_opened", direction="in"), k["TcpPassiveOpens"])
        return
    syn_retrans = k.get("TcpExtTCPSynRetrans", 0)
    compare(name, f"{side} syn{{out}} = TcpActiveOpens+TCPSynRetrans", snap.sum("syn", **out),
            k["TcpActiveOpens"] + syn_retrans)
    compare(name, f"{side} syn_retransmissions{{out}} = TCPSynRetrans",
            snap.sum("syn_retransmissions", **out), syn_retrans)
    compare(name, f"{side} connects_refused+failed{{out}} = TcpAttemptFails",
            snap.sum("connects_refused", **out) + snap.sum("connects_failed", **out), k["TcpAttemptFails"])
    compare(name, f"{side} connections_opened{{out}} = TcpActiveOpens-TcpAttemptFails",
            snap.sum("connections_opened", **out), k["TcpActiveOpens"] - k["TcpAttemptFails"])


def tshark_reference(name, side, snap, cap, port):
    """Our counts against tshark on the same interface, at the same time."""
    frm = {"A": f"tcp.dstport == {port}", "B": f"tcp.srcport == {port}"}
    local, remote = ("A", "B") if side == "A" else ("B", "A")
    compare(name, f"{side} tcp_segments{{out}} = tshark frames", snap.sum("tcp_segments", direction="out"),
            cap.count(f"tcp && {frm[local]}"))
    compare(name, f"{side} tcp_segments{{in}} = tshark frames", snap.sum("tcp_segments", direction="in"),
            cap.count(f"tcp && {frm[remote]}"))
    # Sent by us: nothing can reorder it before the capture, so what tshark
    # calls out-of-order there is a retransmission (see README).
    compare(name, f"{side} retransmissions{{out}} = tshark retransmission||out_of_order",
            snap.sum("retransmissions", direction="out"),
            cap.count(f"{frm[local]} && (tcp.analysis.retransmission || tcp.analysis.out_of_order)"))
    for metric, flag in (("retransmissions", "retransmission"), ("out_of_order", "out_of_order"),
                         ("lost_segments", "lost_segment"), ("duplicate_acks", "duplicate_ack"),
                         ("zero_windows", "zero_window")):
        compare(name, f"{side} {metric}{{in}} = tshark {flag}", snap.sum(metric, direction="in"),
                cap.count(f"{frm[remote]} && tcp.analysis.{flag}"))
    for metric, flag in (("duplicate_acks", "duplicate_ack"), ("zero_windows", "zero_window")):
        compare(name, f"{side} {metric}{{out}} = tshark {flag}", snap.sum(metric, direction="out"),
                cap.count(f"{frm[local]} && tcp.analysis.{flag}"))


def receiver_view(name, a, b, ka, relay):
    path = relay["a_to_b"]
    lost_on_path = path["dropped"] + path["blackholed"]
    compare(name, "B tcp_segments{in} = A tcp_segments{out} - dropped + duplicated (relay)",
            b.sum("tcp_segments", direction="in"),
            a.sum("tcp_segments", direction="out") - lost_on_path + path["duplicated"])
    back = relay["b_to_a"]
    compare(name, "A tcp_segments{in} = B tcp_segments{out} - dropped (relay)",
            a.sum("tcp_segments", direction="in"),
            b.sum("tcp_segments", direction="out") - back["dropped"] - back["blackholed"])
    seen_resent = b.sum("retransmissions", direction="in") + b.sum("out_of_order", direction="in")
    bounded(name, "B (retransmissions+out_of_order){in}", path["duplicated"], seen_resent,
            ka["TcpRetransSegs"] + path["duplicated"] + path["reordered"])


def run_scenario(lab, binary, tmp, name, relay_options, traffic, port):
    print(f"\n=== {name}: relay {' '.join(relay_options) or '(no impairment)'}")
    relay = Relay(lab, *relay_options)
    extra = ["--syn-timeout", "2"]
    sensor_a = Sensor(lab, lab.a, binary, ["veth_a"], *extra)
    sensor_b = Sensor(lab, lab.b, binary, ["veth_b"], *extra)
    # The same interface on two capture threads (one PACKET_FANOUT group).
    sensor_a2 = Sensor(lab, lab.a, binary, ["veth_a"], *extra, "--capture-threads", "2")
    slug = name.split()[0].replace("+", "_")
    cap_a = Dumpcap(lab, lab.a, "veth_a", os.path.join(tmp, f"{slug}-a.pcapng"))
    cap_b = Dumpcap(lab, lab.b, "veth_b", os.path.join(tmp, f"{slug}-b.pcapng"))
    before_a, before_b = lab.nstat(lab.a), lab.nstat(lab.b)
    t0 = time.monotonic()
    traffic(lab)
    time.sleep(1.0)  # last ACKs on the wire, in both captures and both sensors
    ka, kb = delta(lab.nstat(lab.a), before_a), delta(lab.nstat(lab.b), before_b)
    a, b, a2 = sensor_a.snapshot(), sensor_b.snapshot(), sensor_a2.snapshot()
    cap_a.stop()
    cap_b.stop()
    path = relay.stats()
    sensor_a.stop()
    sensor_b.stop()
    sensor_a2.stop()
    keys = ("TcpOutSegs", "TcpRetransSegs", "TcpActiveOpens", "TcpPassiveOpens", "TcpAttemptFails",
            "TcpOutRsts", "TcpExtTCPSynRetrans", "TcpExtTCPToZeroWindowAdv", "TcpExtTCPWinProbe")
    print(f"  traffic {time.monotonic() - t0:.1f} s; kernel A", {k: ka.get(k, 0) for k in keys})
    print("  kernel B", {k: kb.get(k, 0) for k in keys})
    print("  relay", {d: {k: v for k, v in s.items() if v} for d, s in path.items()})
    sender_truth(name, "A", a, ka, server_side=False)
    sender_truth(name, "B", b, kb, server_side=True)
    tshark_reference(name, "A", a, cap_a, port)
    tshark_reference(name, "B", b, cap_b, port)
    receiver_view(name, a, b, ka, path)
    one, two = a.series_of("veth_a"), a2.series_of("veth_a")
    differ = sorted(k for k in set(one) | set(two) if one.get(k) != two.get(k))
    compare(name, f"A on 2 capture threads: series differing from 1 thread ({len(one)} series; {differ[:3]})",
           len(differ), 0)
    return a, b


def main():
    binary = sys.argv[1]
    only = sys.argv[2:]  # optional scenario names, for a developer's rerun
    tmp = tempfile.mkdtemp(prefix="tcpa-truth-")
    started = time.monotonic()
    with Lab("tcpa_kt", relay=True) as lab:
        for name, options, traffic, port in SCENARIOS:
            if not only or name in only:
                run_scenario(lab, binary, tmp, name, options, traffic, port)
    print(f"\n--- summary: ours vs reference ({time.monotonic() - started:.0f} s) ---")
    for scenario, what, ours, truth, ok in table:
        mark = "ok  " if ok else "FAIL"
        print(f"{mark} {scenario:26} {what:70} {ours!s:>8} {truth!s:>8}")
    checks.finish(tmp)


if __name__ == "__main__":
    main()
