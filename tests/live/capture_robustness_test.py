#!/usr/bin/env python3
"""Live capture robustness, as root, on real kernel TCP between two
namespaces joined by two veth links (veth_a/veth_b on 10.200.0.0/24 and
fd00:200::/64, veth_c/veth_d on 10.201.0.0/24):

  1. several interfaces at once and "any": per-interface counts equal tshark
     on a simultaneous capture of that interface, both sensors' egress
     totals equal the client namespace's TcpOutSegs + TcpRetransSegs, and
     "any", split by the interface each frame crossed, equals the separate
     captures series by series.
  2. an interface pattern (vpat*, with an exclusion): an interface created
     after start is picked up within 2 s, an excluded one never, and a
     deleted one's series stay for the grace period, then go.
  3. veth_c deleted and re-created mid-capture while veth_a carries traffic:
     logged, reopened, picked up again, and nothing lost elsewhere: veth_a
     still equals tshark and the total still equals the kernel's.
  4. kernel drops: a sensor with a 1 MiB buffer is descheduled (SIGSTOP, as
     on an overloaded host) through a 30 MB burst; the drops show as
     capture_dropped, capture_received equals the frames the interface's own
     counters say crossed it, and every received frame is either analysed
     or reported dropped. (No dumpcap reference here: at this burst rate
     dumpcap drops too.)
  5. SYN flood from tens of thousands of spoofed sources: flow-table and
     label-series caps hold, evictions and overflow are counted, every frame
     is counted, memory stays flat, snapshots keep coming within a second,
     and a real connection afterwards is tracked as usual.

usage: capture_robustness_test.py TCPANOMALY_BINARY
"""
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from build_kind import sanitizer_build  # noqa: E402
from checks import Checks  # noqa: E402
from lab import LIB, Dumpcap, Lab, Sensor, delta  # noqa: E402

checks = Checks()
expect = checks.expect
V4, V4C = "10.200.0.2", "10.201.0.2"
SYNFLOOD = os.path.join(LIB, "synflood.py")


def add_link_c(lab):
    """The second link, veth_c (A) - veth_d (B), offloads off like the first."""
    lab.run(lab.a, "ip", "link", "add", "veth_c", "type", "veth", "peer", "name", "veth_d", "netns", lab.b)
    lab.run(lab.a, "ip", "addr", "add", "10.201.0.1/24", "dev", "veth_c")
    lab.run(lab.b, "ip", "addr", "add", "10.201.0.2/24", "dev", "veth_d")
    for ns, dev in ((lab.a, "veth_c"), (lab.b, "veth_d")):
        lab.run(ns, "ip", "link", "set", dev, "up")
        lab.run(ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", "tx", "off")


def link_frames(lab, ns, dev):
    """The interface's own counters (ip -s link): every frame that crossed it."""
    import json
    doc = json.loads(lab.run(ns, "ip", "-s", "-j", "link", "show", dev).stdout)[0]["stats64"]
    return {"rx": doc["rx"]["packets"], "tx": doc["tx"]["packets"], "tx_dropped": doc["tx"]["dropped"],
            "rx_dropped": doc["rx"]["dropped"]}


def quiet_point(lab, sensor):
    """A snapshot and veth_b's counters at one quiet moment: no frame crossed
    between the two counter reads, and the capture stats (refreshed every
    100 ms) were read after the first. IPv6 chatter can always interleave."""
    for _ in range(20):
        before = link_frames(lab, lab.b, "veth_b")
        time.sleep(0.3)
        snap = sensor.snapshot()
        if link_frames(lab, lab.b, "veth_b") == before:
            return snap, before
    raise RuntimeError("veth_b never quiet for 0.3 s")


def out_segments(k):
    return k["TcpOutSegs"] + k["TcpRetransSegs"]


def several_interfaces_and_any(lab, binary, tmp):
    print("\n=== several interfaces at once, and any")
    both = Sensor(lab, lab.a, binary, ["veth_a", "veth_c"])
    anyif = Sensor(lab, lab.a, binary, ["any"])
    caps = {i: Dumpcap(lab, lab.a, i, os.path.join(tmp, f"multi-{i}.pcapng")) for i in ("veth_a", "veth_c")}
    before = lab.nstat(lab.a)
    sa = lab.server(V4, 5301, "sink", 2)
    sc = lab.server(V4C, 5302, "sink", 2)
    time.sleep(0.3)
    lab.client(V4, 5301, 2, 300000, 5)
    lab.client(V4C, 5302, 2, 200000, 5)
    lab.client("fd00:200::2", 5999, 3, 10, 2)  # refused, IPv6, on veth_a
    lab.client(V4C, 5999, 2, 10, 2)            # refused on veth_c
    sa.wait(20)
    sc.wait(20)
    time.sleep(1)
    k = delta(lab.nstat(lab.a), before)
    s, s_any = both.snapshot(), anyif.snapshot()
    for c in caps.values():
        c.stop()
    print("  kernel", {n: k[n] for n in ("TcpOutSegs", "TcpRetransSegs", "TcpAttemptFails")})
    for i, local in (("veth_a", "ip.src==10.200.0.1 || ipv6.src==fd00:200::1"), ("veth_c", "ip.src==10.201.0.1")):
        expect(f"{i} tcp_segments{{out}} = tshark on {i}", s.sum("tcp_segments", interface=i, direction="out"),
               caps[i].count(f"tcp && ({local})"))
        expect(f"{i} tcp_segments{{in}} = tshark on {i}", s.sum("tcp_segments", interface=i, direction="in"),
               caps[i].count(f"tcp && !({local})"))
    expect("refused per interface (traffic made: 3 on veth_a, 2 on veth_c)",
           (s.sum("connects_refused", interface="veth_a"), s.sum("connects_refused", interface="veth_c")), (3, 2))
    expect("veth_a + veth_c tcp_segments{out} = TcpOutSegs+TcpRetransSegs",
           s.sum("tcp_segments", direction="out"), out_segments(k))
    expect("any tcp_segments{out} = TcpOutSegs+TcpRetransSegs",
           s_any.sum("tcp_segments", direction="out"), out_segments(k))
    expect("any tcp_segments{in} = veth_a + veth_c", s_any.sum("tcp_segments", direction="in"),
           s.sum("tcp_segments", direction="in"))
    expect("any connects_refused = TcpAttemptFails", s_any.sum("connects_refused"), k["TcpAttemptFails"])
    # -i any splits by the interface each frame crossed (SLL2): every series
    # of veth_a and veth_c equals the one the separate captures made.
    # One allowance: a data RTT sample. Each socket's ring takes frames in
    # the order its taps ran, and an ACK received on one CPU can overtake, in
    # one socket only, the data segment being sent on the other (seen once,
    # in the slower sanitizer build): that socket then has no RTT sample for
    # it. Every counter must still be equal.
    def same(key, a, b):
        if a == b:
            return True
        return key[0].startswith("rtt") and a is not None and b is not None and abs(a - b) <= 1

    for i in ("veth_a", "veth_c"):
        ours, theirs = s_any.series_of(i), s.series_of(i)
        differ = sorted(k for k in set(ours) | set(theirs) if not same(k, ours.get(k), theirs.get(k)))
        expect(f"any: every {i} series = -i {i}'s ({len(theirs)} series; differing: {differ[:5]})", differ, [])
    expect("any: nothing counted under interface=any but its capture statistics",
           [x["name"] for x in s_any.series if x.get("interface") == "any" and x["value"]
            and not x["name"].startswith("capture_")], [])
    return both, anyif


def interface_patterns(lab, binary):
    print("\n=== an interface pattern: interfaces created and deleted while it runs")
    grace = 3
    sensor = Sensor(lab, lab.a, binary, ["vpat*"], "--exclude-interface", "/^vpatx/", "--interface-grace", str(grace))
    sensor.wait_log(["watching interfaces matching vpat*"])

    def new_link(name, peer, net):
        lab.run(lab.a, "ip", "link", "add", name, "type", "veth", "peer", "name", peer, "netns", lab.b)
        lab.run(lab.a, "ip", "addr", "add", f"{net}.1/24", "dev", name)
        lab.run(lab.b, "ip", "addr", "add", f"{net}.2/24", "dev", peer)
        lab.run(lab.b, "ip", "link", "set", peer, "up")
        lab.run(lab.a, "ip", "link", "set", name, "up")
    created = time.monotonic()
    new_link("vpat1", "vpat1b", "10.202.0")
    new_link("vpatx1", "vpatx1b", "10.203.0")  # excluded
    picked_up = sensor.wait_log(["capturing on vpat1"], timeout=5)
    pickup_s = time.monotonic() - created
    before = lab.nstat(lab.a)
    lab.client("10.202.0.2", 5999, 3, 10, 2)   # refused, on vpat1
    lab.client("10.203.0.2", 5999, 2, 10, 2)   # refused, on the excluded one
    time.sleep(0.5)
    k = delta(lab.nstat(lab.a), before)
    s = sensor.snapshot()
    names = {x.get("interface") for x in s.series}
    print(f"  picked up after {pickup_s:.2f} s; interfaces {sorted(names)}")
    expect("vpat1 picked up within 2 s of its creation", picked_up and pickup_s <= 2.0, True)
    expect("vpat1 connects_refused = 3 made there", s.sum("connects_refused", interface="vpat1"), 3)
    expect("all refused connects = TcpAttemptFails (5)", k["TcpAttemptFails"], 5)
    expect("the excluded vpatx1 not watched", "vpatx1" in names, False)
    lab.run(lab.a, "ip", "link", "del", "vpat1")
    gone = time.monotonic()
    sensor.wait_log(["vpat1 is gone"], timeout=5)
    time.sleep(1)
    kept = "vpat1" in {x.get("interface") for x in sensor.snapshot().series}
    deadline = gone + grace + 5
    while time.monotonic() < deadline and "vpat1" in {x.get("interface") for x in sensor.snapshot().series}:
        time.sleep(0.2)
    removed_s = time.monotonic() - gone
    print(f"  vpat1's series removed {removed_s:.2f} s after its deletion (grace {grace} s)")
    expect("vpat1's series kept within the grace period", kept, True)
    expect(f"vpat1's series gone after the grace period ({grace} s, + 1 s tick)",
           grace <= removed_s <= grace + 1.5, True)
    expect("sensor alive", sensor.proc.poll(), None)
    lab.run(lab.a, "ip", "link", "del", "vpatx1")
    sensor.stop()


def interface_deleted_and_recreated(lab, both, anyif, tmp):
    print("\n=== veth_c deleted and re-created mid-capture")
    s0, s0_any = both.snapshot(), anyif.snapshot()
    cap_a = Dumpcap(lab, lab.a, "veth_a", os.path.join(tmp, "reopen-veth_a.pcapng"))
    before = lab.nstat(lab.a)
    server = lab.server(V4, 5303, "sink", 12)
    time.sleep(0.3)

    def steady():  # veth_a traffic spanning the deletion and the re-creation
        for _ in range(12):
            lab.client(V4, 5303, 1, 100000, 5)
            time.sleep(0.4)
    t = threading.Thread(target=steady)
    t.start()
    lab.client(V4C, 5999, 2, 10, 2)  # veth_c before
    time.sleep(0.5)
    lab.run(lab.a, "ip", "link", "del", "veth_c")
    lost = both.wait_log(["veth_c", "reopening"], timeout=5)
    time.sleep(1)
    add_link_c(lab)
    deadline = time.monotonic() + 20
    while both.log().count("capturing on veth_c") < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    picked_up = both.log().count("capturing on veth_c") >= 2
    lab.client(V4C, 5999, 3, 10, 2)  # veth_c after
    t.join(60)
    server.wait(20)
    time.sleep(1)
    k = delta(lab.nstat(lab.a), before)
    s, s_any = both.snapshot(), anyif.snapshot()
    cap_a.stop()
    print("  log:", "; ".join(l for l in both.log().splitlines() if "veth_c" in l))

    def grew(snap, snap0, name, **labels):
        return snap.sum(name, **labels) - snap0.sum(name, **labels)
    expect("loss of veth_c logged with 'reopening'", lost, True)
    expect("veth_c picked up again after re-creation", picked_up, True)
    expect("sensor alive", both.proc.poll(), None)
    expect("veth_a tcp_segments during it = tshark on veth_a",
           grew(s, s0, "tcp_segments", interface="veth_a"), cap_a.count("tcp"))
    expect("veth_a + veth_c tcp_segments{out} = TcpOutSegs+TcpRetransSegs",
           grew(s, s0, "tcp_segments", direction="out"), out_segments(k))
    expect("veth_c refused before + after (2 + 3)", grew(s, s0, "connects_refused", interface="veth_c"), 5)
    expect("any tcp_segments{out} = TcpOutSegs+TcpRetransSegs",
           grew(s_any, s0_any, "tcp_segments", direction="out"), out_segments(k))
    both.stop()
    anyif.stop()


def kernel_drops(lab, binary):
    print("\n=== kernel drops with a 1 MiB capture buffer")
    small = Sensor(lab, lab.b, binary, ["veth_b"], "--buffer-size", "1")
    server = lab.server(V4, 5304, "sink", 1)
    s0, link0 = quiet_point(lab, small)
    small.proc.send_signal(signal.SIGSTOP)
    try:
        lab.client(V4, 5304, 1, 30_000_000, 20)
        server.wait(30)
        time.sleep(0.5)
    finally:
        small.proc.send_signal(signal.SIGCONT)
    s, link1 = quiet_point(lab, small)

    def grew(name):
        return s.sum(name) - s0.sum(name)
    wire = sum(link1[k] - link0[k] for k in ("rx", "tx", "tx_dropped"))
    dropped, received = grew("capture_dropped"), grew("capture_received")
    analysed = grew("packets") + grew("non_ip_frames") + grew("decode_errors")
    print(f"  frames on veth_b (its own counters) {wire}; capture_received {received}; "
          f"analysed {analysed}; capture_dropped {dropped}")
    expect("capture_dropped > 0 after a burst into a stopped, 1 MiB-buffered sensor", dropped > 0, True)
    expect("capture_received = frames that crossed veth_b (ip -s link)", received, wire)
    expect("analysed + capture_dropped = capture_received (nothing lost silently)", analysed + dropped, received)
    small.stop()


def syn_flood(lab, binary):
    print("\n=== SYN flood from spoofed sources")
    flows, series, peers = 2000, 40, 10
    sensor = Sensor(lab, lab.b, binary, ["veth_b"], "--flow-table-size", str(flows), "--max-series", str(series),
                    "--top-peers", str(peers), "--peer-prefix-v4", "32")
    # B answers each spoofed SYN to its closed port with a RST, routed back
    # towards A, which drops it: every source becomes an anomalous peer.
    lab.run(lab.b, "ip", "route", "replace", "198.18.0.0/15", "via", "10.200.0.1")
    rss0 = sensor.rss_kib()
    before = lab.nstat(lab.b)
    flood = lab.spawn(lab.a, "python3", SYNFLOOD, V4, "5999", "30000", "2", "30",
                      stdout=subprocess.PIPE, text=True)
    latencies = []
    while flood.poll() is None:
        t0 = time.monotonic()
        sensor.snapshot()
        latencies.append(time.monotonic() - t0)
        time.sleep(0.3)
    sent = int(flood.stdout.read().strip())
    time.sleep(1)
    k = delta(lab.nstat(lab.b), before)
    s = sensor.snapshot()
    rss1 = sensor.rss_kib()
    labelled = {(x.get("interface"), x.get("direction"), x.get("peer")) for x in s.series if "direction" in x}
    peer_labels = {x["peer"] for x in s.series if x.get("peer") not in (None, "other")}
    print(f"  sent {sent} SYNs; snapshot latency max {max(latencies) * 1000:.0f} ms over {len(latencies)}; "
          f"RSS {rss0} -> {rss1} KiB; flows_active {s.sum('flows_active')}, "
          f"evicted(table_full) {s.sum('flows_evicted', reason='table_full')}, "
          f"series_overflow {s.sum('series_overflow')}, label sets {len(labelled)}, peers {len(peer_labels)}")
    expect("every flood frame counted (tcp_segments{in} + capture_dropped = frames sent)",
           s.sum("tcp_segments", direction="in") + s.sum("capture_dropped"), sent)
    expect("syn{in} = SYNs sent, tracked or not", s.sum("syn", direction="in"), sent)
    expect("resets{out} = B's TcpOutRsts, tracked or not", s.sum("resets", direction="out"), k["TcpOutRsts"])
    expect(f"flows_active <= flow table size {flows}", s.sum("flows_active") <= flows, True)
    expect("flows_evicted{table_full} counted", s.sum("flows_evicted", reason="table_full") > 0, True)
    expect(f"label sets <= max series {series}", len(labelled) <= series, True)
    expect(f"peer labels <= top peers {peers}", len(peer_labels) <= peers, True)
    expect("series_overflow counted", s.sum("series_overflow") > 0, True)
    # ASan keeps freed memory in quarantine (256 MiB): the tight bound is the
    # Release run's, the sanitizer run only checks nothing runs away.
    bound = 128 if sanitizer_build(binary) else 16
    expect(f"RSS growth under {bound} MiB", rss1 - rss0 < bound * 1024, True)
    expect("snapshots answered within 1 s during the flood", max(latencies) < 1.0, True)

    # Afterwards a real connection is tracked as usual (half-open flood
    # flows are evicted first when the table is full).
    time.sleep(1.5)
    before = lab.nstat(lab.b)
    server = lab.server(V4, 5305, "sink", 1)
    time.sleep(0.3)
    lab.client(V4, 5305, 1, 10000, 5)
    server.wait(10)
    time.sleep(1)
    k = delta(lab.nstat(lab.b), before)
    s2 = sensor.snapshot()
    expect("after the flood: connections_opened{in} grew by TcpPassiveOpens (1)",
           s2.sum("connections_opened", direction="in") - s.sum("connections_opened", direction="in"),
           k["TcpPassiveOpens"])
    sensor.stop()


def main():
    binary = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="tcpa-robust-")
    started = time.monotonic()
    with Lab("tcpa_rb") as lab:
        add_link_c(lab)
        both, anyif = several_interfaces_and_any(lab, binary, tmp)
        interface_deleted_and_recreated(lab, both, anyif, tmp)
        interface_patterns(lab, binary)
        kernel_drops(lab, binary)
        syn_flood(lab, binary)
    print(f"\n{time.monotonic() - started:.0f} s")
    checks.finish(tmp)


if __name__ == "__main__":
    main()
