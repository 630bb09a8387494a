#!/usr/bin/env python3
"""Tag escaping through a real strict parser: interface labels with spaces,
commas, '=', quotes and backslashes (before special characters too) are
written by `tcpanomaly --read FILE --label NAME`, posted to influxd (204
required), and must come back from influxd unchanged. The one documented
exception: a trailing backslash, which line protocol can't spell at all, is
dropped (README "Telegraf").

usage: line_protocol_escaping_test.py TCPANOMALY_BINARY CAPTURE
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from influxd_harness import Influxd  # noqa: E402

# label -> what influxd must hold (itself unless noted)
EXPECTED = {"ends with\\": "ends with", " \\\\": " ", "\\": "_"}
LABELS = [
    "eth0",
    "my interface",
    "a,b",
    "x=y",
    'say "hi"',
    "back\\slash",
    "ends with\\",
    "all of it, x=1 \"q\" \\ ",
    "  leading spaces",
    "a\\,b",
    "a\\=b",
    "a\\ b",
    "x\\\\y",
    " \\\\",
    "\\",
    "unicode-é",
]


def main():
    binary, capture = sys.argv[1], sys.argv[2]
    problems = []
    with Influxd() as influx:
        influx.create("esc")
        for label in LABELS:
            body = subprocess.run([binary, "--read", capture, "--label", label, "--format", "influx"],
                                  check=True, capture_output=True, text=True).stdout
            status, text = influx.write("esc", body)
            print(f"{'ok  ' if status == 204 else 'FAIL'} write with interface {label!r}: {status}")
            if status != 204:
                problems.append(f"{label!r}: {status} {text[:200]}")
        res = influx.query('SHOW TAG VALUES FROM "tcpanomaly" WITH KEY = "interface"', "esc")
        got = {v[1] for v in res["results"][0]["series"][0]["values"]}
        wanted = {EXPECTED.get(l, l) for l in LABELS}
        for label in LABELS:
            ok = EXPECTED.get(label, label) in got
            print(f"{'ok  ' if ok else 'FAIL'} read back {label!r}")
            if not ok:
                problems.append(f"{label!r} not read back")
        for extra in got - wanted:
            problems.append(f"unexpected tag value {extra!r}")
            print(f"FAIL unexpected tag value {extra!r}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
