#!/usr/bin/env python3
"""The Prometheus dashboard against the real pipeline: collectd with the built
plugin reads a capture holding every anomaly kind (the lab captures merged
with mergecap), write_prometheus serves it, a real Prometheus (Debian's)
scrapes it on loopback, and every panel's PromQL, with the variables
substituted, is run through Prometheus' HTTP API: each must return data. The
retransmission and reset panels must also add up to tshark's counts on the
same capture (their counters read through the panel's own label handling).
The variable queries must return values (peer labels are on).

usage: prometheus_test.py PLUGIN_DIR DASHBOARD_JSON CAPTURE...
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import collectd_harness as ch  # noqa: E402
from checks import stop_daemon, substitute  # noqa: E402

# Panel -> tshark display filter whose frame count the panel's total must equal.
ORACLE = {"Retransmissions": "tcp.analysis.retransmission", "Resets (RST segments)": "tcp.flags.reset == 1"}
VARS = {"host": ".*", "interface": ".*", "peer": "", "__rate_interval": "30s", "__interval": "15s"}



class Prometheus:
    def __init__(self, target_port):
        self.dir = tempfile.mkdtemp(prefix="tcpa-prom-")
        self.port = ch.free_port()
        conf = os.path.join(self.dir, "prometheus.yml")
        with open(conf, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: collectd
    static_configs:
      - targets: ["127.0.0.1:{target_port}"]
""")
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(["prometheus", f"--config.file={conf}",
                                      f"--storage.tsdb.path={self.dir}/data",
                                      f"--web.listen-address=127.0.0.1:{self.port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?" + urllib.parse.urlencode(params, doseq=True)
        with urllib.request.urlopen(url, timeout=30) as r:
            return json.loads(r.read())

    def query(self, q):
        return self.api("query", query=q)

    def close(self):
        stop_daemon(self.proc, self.log, self.dir)


def tshark_count(capture, display_filter):
    out = subprocess.run(["tshark", "-n", "-2", "-r", capture, "-Y", display_filter, "-T", "fields", "-e",
                          "frame.number"], check=True, capture_output=True, text=True).stdout
    return len(out.split())


def counters_of(expr):
    """The panel's expression reading the raw counters instead of their rates."""
    return re.sub(r"rate\((.*?)\[\$__rate_interval\]\)", r"\1", expr)


def main():
    plugin_dir, dashboard, captures = sys.argv[1], sys.argv[2], sys.argv[3:]
    failures = []
    work = tempfile.mkdtemp(prefix="tcpa-dash-")
    merged = os.path.join(work, "all-anomalies.pcap")
    subprocess.run(["mergecap", "-F", "pcap", "-w", merged] + captures, check=True)
    block = (f'  ReadFile "{merged}"\n  TopPeers 5\n'
             "  SynTimeout 86400\n  EstablishedTimeout 31536000\n  ClosedTimeout 86400")
    daemon = ch.Daemon(plugin_dir, block)
    prom = Prometheus(daemon.port)
    try:
        received = int(subprocess.run(["capinfos", "-M", "-c", "-r", "-T", merged], capture_output=True,
                                      text=True).stdout.split()[-1])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                r = prom.query("min(count_over_time(collectd_tcpanomaly_capture_received_total[1m]))")
                v = r["data"]["result"]
                full = prom.query("sum(collectd_tcpanomaly_capture_received_total)")["data"]["result"]
                if v and float(v[0]["value"][1]) >= 5 and full and float(full[0]["value"][1]) == received:
                    break
            except OSError:
                pass
            time.sleep(1)
        else:
            failures.append("Prometheus never scraped the whole file 5 times")
        d = json.load(open(dashboard))
        for var in d["templating"]["list"]:
            q = substitute(var["query"]["query"], VARS)
            m = re.match(r"label_values\((.*), (\w+)\)$", q)
            series = prom.api("series", **{"match[]": m.group(1)})["data"]
            values = {s.get(m.group(2), "") for s in series}
            if var["regex"]:
                rx = re.compile(var["regex"].strip("/"))
                values = {rx.search(x).group(1) for x in values if rx.search(x)}
            ok = bool(values)
            print(f"{'ok  ' if ok else 'FAIL'} variable ${var['name']}: {sorted(values)[:6]}")
            if not ok:
                failures.append(f"variable {var['name']}")
        for p in d["panels"]:
            if p["type"] == "row":
                continue
            for t in p["targets"]:
                q = substitute(t["expr"], VARS)
                r = prom.query(q)
                result = r["data"]["result"] if r["status"] == "success" else []
                ok = bool(result)
                print(f"{'ok  ' if ok else 'FAIL'} {p['title']} [{t['refId']}]: {len(result)} series")
                if not ok:
                    failures.append(f"{p['title']}: {q}")
            if p["title"] in ORACLE:
                q = substitute(counters_of(p["targets"][0]["expr"]), VARS)
                ours = sum(float(s["value"][1]) for s in prom.query(q)["data"]["result"])
                theirs = tshark_count(merged, ORACLE[p["title"]])
                ok = ours == theirs
                print(f"{'ok  ' if ok else 'FAIL'} {p['title']}: panel total {ours:g}, tshark {theirs}")
                if not ok:
                    failures.append(f"{p['title']} total {ours} != tshark {theirs}")
    finally:
        prom.close()
        daemon.close()
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
