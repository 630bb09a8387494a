#!/usr/bin/env python3
"""The InfluxDB dashboard against the real pipeline: the binary serves a
capture holding every anomaly kind (the lab captures merged) the way execd
runs it (--signal STDIN, a snapshot per newline), each snapshot gets the
`host` tag Telegraf adds and goes into a real influxd; then every panel's
InfluxQL and every variable query, with the variables substituted, must
return data. The retransmission and reset panels, read as totals through the
same WHERE/GROUP BY, must add up to tshark's counts on the capture.

usage: influxdb_test.py TCPANOMALY_BINARY DASHBOARD_JSON CAPTURE...
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from checks import substitute  # noqa: E402
from influxd_harness import Influxd  # noqa: E402

VARS = {"host": ".*", "interface": ".*", "peer": ".*", "timeFilter": "time > now() - 1h", "__interval": "1s"}
ORACLE = {"Retransmissions": ("retransmissions", "tcp.analysis.retransmission"),
          "Resets (RST segments)": ("resets", "tcp.flags.reset == 1")}



def main():
    binary, dashboard, captures = sys.argv[1], sys.argv[2], sys.argv[3:]
    failures = []
    work = tempfile.mkdtemp(prefix="tcpa-dash-")
    merged = os.path.join(work, "all-anomalies.pcap")
    subprocess.run(["mergecap", "-F", "pcap", "-w", merged] + captures, check=True)
    try:
        with Influxd() as influx:
            influx.create("telegraf")
            p = subprocess.Popen([binary, "--read", merged, "--signal", "STDIN", "--top-peers", "5",
                                  "--syn-timeout", "86400", "--established-timeout", "31536000",
                                  "--closed-timeout", "86400"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            for _ in range(5):
                time.sleep(1.1)
                p.stdin.write(b"\n")
                p.stdin.flush()
            time.sleep(0.5)
            out, _ = p.communicate(timeout=10)
            lines = [re.sub(r"^tcpanomaly,", "tcpanomaly,host=ci-host,", l) for l in out.decode().splitlines()]
            status, text = influx.write("telegraf", "\n".join(lines) + "\n")
            if status != 204:
                failures.append(f"influxd write: {status} {text[:200]}")
            d = json.load(open(dashboard))
            for var in d["templating"]["list"]:
                r = influx.query(substitute(var["query"], VARS), "telegraf")["results"][0]
                values = [v[1] for s in r.get("series", []) for v in s["values"]]
                ok = bool(values)
                print(f"{'ok  ' if ok else 'FAIL'} variable ${var['name']}: {values[:6]}")
                if not ok:
                    failures.append(f"variable {var['name']}")
            for panel in d["panels"]:
                if panel["type"] == "row":
                    continue
                for t in panel["targets"]:
                    q = substitute(t["query"], VARS)
                    r = influx.query(q, "telegraf")["results"][0]
                    series = r.get("series", [])
                    points = sum(1 for s in series for v in s["values"] if v[1] is not None)
                    ok = points > 0 and "error" not in r
                    print(f"{'ok  ' if ok else 'FAIL'} {panel['title']} [{t['refId']}]: "
                          f"{len(series)} series, {points} points {r.get('error', '')}")
                    if not ok:
                        failures.append(f"{panel['title']}: {q}")
                if panel["title"] in ORACLE:
                    field, flt = ORACLE[panel["title"]]
                    # The panel's filters, reading the last counter value per series.
                    where = re.search(r'WHERE (.*?) GROUP BY', substitute(panel["targets"][0]["query"], VARS)).group(1)
                    q = f'SELECT last("{field}") FROM "tcpanomaly" WHERE {where} GROUP BY *'
                    r = influx.query(q, "telegraf")["results"][0]
                    ours = sum(s["values"][0][1] for s in r.get("series", []) if s["values"][0][1] is not None)
                    theirs = len(subprocess.run(["tshark", "-n", "-2", "-r", merged, "-Y", flt, "-T", "fields",
                                                 "-e", "frame.number"], capture_output=True, text=True,
                                                check=True).stdout.split())
                    ok = ours == theirs
                    print(f"{'ok  ' if ok else 'FAIL'} {panel['title']}: total {ours}, tshark {theirs}")
                    if not ok:
                        failures.append(f"{panel['title']} total {ours} != tshark {theirs}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
