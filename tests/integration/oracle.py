#!/usr/bin/env python3
"""Oracle test: our offline counts against tshark 4.0 on the same capture.

For every catalogue counter that Wireshark also defines, tshark's count of
frames carrying the flag (two-pass, default TCP preferences) must equal our
total from `tcpanomaly --read FILE --format json` with no local network.
Each capture is checked twice, every counter equal both times: with idle
timeouts longer than the capture, and with the default timeouts (which
follow TCP's own timers: README "Flow expiry").

usage: oracle.py TCPANOMALY_BINARY CAPTURE...
"""
import json
import subprocess
import sys

# metric -> tshark field whose presence flags the frame
FLAG_FIELDS = {
    "fast_retransmissions": "tcp.analysis.fast_retransmission",
    "spurious_retransmissions": "tcp.analysis.spurious_retransmission",
    "out_of_order": "tcp.analysis.out_of_order",
    "lost_segments": "tcp.analysis.lost_segment",
    "acked_unseen": "tcp.analysis.ack_lost_segment",
    "duplicate_acks": "tcp.analysis.duplicate_ack",
    "zero_windows": "tcp.analysis.zero_window",
    "zero_window_probes": "tcp.analysis.zero_window_probe",
    "window_full": "tcp.analysis.window_full",
    "window_updates": "tcp.analysis.window_update",
    "keep_alives": "tcp.analysis.keep_alive",
}
EXTRA_FIELDS = [
    "tcp.analysis.retransmission", "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.reset",
    "tcp.flags.ece", "tcp.flags.cwr", "tcp.srcport", "icmp.type", "icmpv6.type", "ip.version",
    "ipv6.version", "ip.flags.df", "tcp.len", "ip.dsfield.ecn", "ipv6.tclass", "tcp.option_kind",
]
# SYN option counters: option kind number carried by SYN and SYN/ACK segments.
SYN_OPTIONS = {"syn_window_scale": "3", "syn_sack_permitted": "4", "syn_timestamps": "8"}

# Timeouts longer than any test capture: nothing is expired for being idle,
# so every counter must equal tshark's exactly.
NO_EXPIRY = ["--syn-timeout", "86400", "--established-timeout", "31536000",
             "--closed-timeout", "86400"]

def first(value):
    return value.split(",")[0] if value else ""


def is_set(value):
    return first(value) in ("1", "True", "true")


def tshark_counts(capture):
    fields = list(FLAG_FIELDS.values()) + EXTRA_FIELDS
    cmd = ["tshark", "-n", "-2", "-r", capture, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    counts = {m: 0 for m in list(FLAG_FIELDS) + [
        "retransmissions", "syn", "syn_retransmissions", "resets", "tcp_segments",
        "tcp_payload_bytes", "ip_df", "ecn_ece", "ecn_cwr", "ecn_ce", "packets", *SYN_OPTIONS]}
    for line in out.splitlines():
        row = dict(zip(fields, line.split("\t")))
        if row.get("ip.version") or row.get("ipv6.version"):
            counts["packets"] += 1
            if first(row.get("ip.version", "")) == "4" and is_set(row.get("ip.flags.df", "")):
                counts["ip_df"] += 1
            ecn = first(row.get("ip.dsfield.ecn", ""))
            tclass = first(row.get("ipv6.tclass", ""))
            if ecn == "3" or (tclass and int(tclass, 0) & 3 == 3):
                counts["ecn_ce"] += 1
        # ICMP errors quote a TCP header: that is not a TCP segment.
        if not row.get("tcp.srcport") or row.get("icmp.type") or row.get("icmpv6.type"):
            continue
        counts["tcp_segments"] += 1
        counts["tcp_payload_bytes"] += int(first(row.get("tcp.len", "0")) or 0)
        for metric, field in FLAG_FIELDS.items():
            if row.get(field):
                counts[metric] += 1
        retrans = any(row.get(f) for f in (
            "tcp.analysis.retransmission", "tcp.analysis.fast_retransmission",
            "tcp.analysis.spurious_retransmission"))
        counts["retransmissions"] += retrans
        syn, ack = is_set(row["tcp.flags.syn"]), is_set(row["tcp.flags.ack"])
        if syn:
            kinds = set(row.get("tcp.option_kind", "").split(","))
            for metric, kind in SYN_OPTIONS.items():
                counts[metric] += kind in kinds
        if syn and not ack:
            counts["syn"] += 1
            if retrans or row.get("tcp.analysis.out_of_order"):
                counts["syn_retransmissions"] += 1
        counts["resets"] += is_set(row["tcp.flags.reset"])
        if not syn:
            counts["ecn_ece"] += is_set(row["tcp.flags.ece"])
            counts["ecn_cwr"] += is_set(row["tcp.flags.cwr"])
    return counts


def our_report(binary, capture, extra=()):
    out = subprocess.run([binary, "--read", capture, "--format", "json", *extra], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def compare(name, mode, theirs, ours):
    """Prints one line per non-zero or failing metric; returns (checks, failures)."""
    failures = 0
    for metric, expected in sorted(theirs.items()):
        got = ours[metric]
        ok = got == expected
        status = "ok" if ok else "FAIL"
        if not ok or (expected and mode == "no-expiry"):
            print(f"  {name:58s} {mode:9s} {metric:24s} ours={got:<7} tshark={expected:<7} {status}")
        failures += not ok
    return len(theirs), failures


def check_capture(binary, capture, name):
    """tshark against us on one capture, in both timeout modes; returns (checks, failures)."""
    theirs = tshark_counts(capture)
    checks = failures = 0
    for mode, extra in (("no-expiry", NO_EXPIRY), ("default", ())):
        n, bad = compare(name, mode, theirs, our_report(binary, capture, extra)["totals"])
        checks += n
        failures += bad
    return checks, failures


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    binary, captures = sys.argv[1], sys.argv[2:]
    version = subprocess.run(["tshark", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    print(f"oracle: {version}")
    failures = checks = 0
    for capture in captures:
        n, bad = check_capture(binary, capture, capture.rsplit("/", 1)[-1])
        checks += n
        failures += bad
    print(f"oracle: {checks - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
