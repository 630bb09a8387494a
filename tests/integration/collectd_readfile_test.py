#!/usr/bin/env python3
"""collectd, for real: the daemon loads the built tcpanomaly.so with ReadFile
on a capture, write_prometheus serves it on loopback, and every value scraped
must equal what `tcpanomaly --read FILE --format json` reports for the same
file (same settings): every series, every histogram bucket, no extra series (with peer labels on:
every sum over peers, see without_peer).

usage: collectd_readfile_test.py TCPANOMALY_BINARY PLUGIN_DIR CAPTURE...
"""
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import collectd_harness as ch  # noqa: E402

# (collectd block lines, matching tcpanomaly options): without and with peer labels.
VARIANTS = [
    ([], []),
    (["TopPeers 3", "PeerPrefixLength 24", "PeerPrefixLengthV6 48"],
     ["--top-peers", "3", "--peer-prefix-v4", "24", "--peer-prefix-v6", "48"]),
]


def without_peer(samples):
    """Sums over the peer label. Which prefixes get their own label depends on
    when snapshots are taken (top-K is re-ranked at each one), and collectd's
    reads land at arbitrary points of the background file read, so only the
    sums over peers must equal --read's single snapshot."""
    out = {}
    for (field, labels), v in samples.items():
        key = (field, frozenset((k, x) for k, x in labels if k != "peer"))
        out[key] = out.get(key, 0) + v
    return out


def peer_values(samples):
    return {x for (_, labels) in samples for k, x in labels if k == "peer"}


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def check(binary, plugin_dir, capture, block_lines, options):
    expected = ch.expected_from_json(subprocess.run(
        [binary, "--read", capture, "--format", "json"] + options,
        check=True, capture_output=True, text=True).stdout)
    received = next(v for (f, labels), v in expected.items() if f == "capture_received")
    block = "\n".join([f'  ReadFile "{capture}"'] + ["  " + l for l in block_lines])
    daemon = ch.Daemon(plugin_dir, block)
    try:
        # The file is read in the background: wait until its last frame is counted
        # and every expected series has been dispatched at least once.
        got = daemon.wait_for(lambda s: any(f == "capture_received" and v == received for (f, _), v in s.items()))
    finally:
        stop_s = daemon.stop()
        log = daemon.output()
        daemon.close()
    problems = []
    if options:
        peers = peer_values(got) - {"other"}
        if "other" not in peer_values(got) or len(peers) > 3:
            problems.append(f"peer labels {sorted(peer_values(got))}: want 'other' and at most 3 prefixes")
        got, expected = without_peer(got), without_peer(expected)
    for key, value in expected.items():
        if not close(got[key], value):
            problems.append(f"{key[0]} {dict(key[1])}: collectd {got[key]} != --read {value}")
    for key in got.keys() - expected.keys():
        problems.append(f"unexpected series {key[0]} {dict(key[1])}")
    name = os.path.basename(capture) + (" (peers)" if options else "")
    print(f"{name}: {len(expected)} series compared, stopped in {stop_s:.2f} s, "
          f"{len(problems)} problems")
    if "tcpanomaly plugin: finished reading" not in log:
        problems.append("no 'finished reading' log line:\n" + log)
    return problems


def main():
    binary, plugin_dir, captures = sys.argv[1], sys.argv[2], sys.argv[3:]
    problems = []
    for capture in captures:
        for block_lines, options in VARIANTS:
            problems += check(binary, plugin_dir, os.path.abspath(capture), block_lines, options)
    for p in problems[:50]:
        print("FAIL", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
