#!/usr/bin/env python3
"""The Prometheus alert rules (dashboards/tcpanomaly-alerts-*.yml):

  * current with their generator (dashboards/generate_alerts.py);
  * `promtool check rules` accepts them;
  * `promtool test rules`: every rule fires on a synthetic series built here
    (interface eth0) and stays silent on a healthy one (eth1), in both
    pipelines' names. The series, the expected labels and the rendered
    summaries are written out below by hand from the rule's threshold, not
    taken from the rules; only the fixed texts (description, dashboard,
    runbook) are read from the rule file.

usage: alerts_test.py DASHBOARDS_DIR
"""
import os
import subprocess
import sys
import tempfile

import yaml

HOST = "node1"

# name: (metric, extra labels, eth0 increase per minute, eth1 increase per
#        minute, minutes, expected summary for eth0)
# Thresholds: retransmitted share > 2% with > 10 segments/s; refused > 0.1/s;
# failed > 0.05/s; zero-window episodes > 0.05/s; resets > 1/s; capture
# drops > 0; decode errors > 1/s; table_full evictions > 0; series overflow > 0.
FLOW = {"direction": "out"}
SCENARIOS = {
    "TcpConnectsRefused": ("connects_refused", FLOW, 30, 0, 20,
                           "Connections refused on eth0 (out): 0.50/s"),
    "TcpConnectsFailed": ("connects_failed", FLOW, 6, 1, 20,
                          "Connection attempts time out on eth0 (out): 0.10/s"),
    "TcpZeroWindowEpisodes": ("zero_window_episodes", FLOW, 6, 1, 40,
                              "Receivers stall TCP on eth0 (out): zero-window episodes 0.10/s"),
    "TcpResetsHigh": ("resets", FLOW, 120, 30, 20, "TCP resets on eth0 (out): 2.00/s"),
    "TcpanomalyDecodeErrors": ("decode_errors", {"reason": "truncated"}, 120, 30, 40,
                               "Undecodable frames on eth0 (truncated): 2.00/s"),
    "TcpanomalySeriesOverflow": ("series_overflow", {}, 5, 0, 60,
                                 "tcpanomaly folds label sets into peer=other on eth0"),
}
MINUTES = 60


class Names:
    """How each pipeline names a series (README "collectd"; Telegraf's
    prometheus_client output: measurement_field, tags as labels)."""

    def __init__(self, pipeline):
        self.pipeline = pipeline
        self.host = "instance" if pipeline == "collectd" else "host"

    def series(self, metric, interface, labels):
        if self.pipeline == "collectd":
            out = f'collectd_tcpanomaly_{metric}_total{{instance="{HOST}",tcpanomaly="{interface}"'
            if labels:
                out += ',type="' + ",".join(f"{k}={v}" for k, v in labels.items()) + '"'
            return out + "}"
        tags = "".join(f',{k}="{v}"' for k, v in labels.items())
        return f'tcpanomaly_{metric}{{host="{HOST}",interface="{interface}"{tags}}}'


def counter(per_minute, minutes=MINUTES):
    return f"0+{per_minute}x{minutes}"


def fixed_annotations(rules_file):
    out = {}
    for group in yaml.safe_load(open(rules_file))["groups"]:
        for r in group["rules"]:
            out[r["alert"]] = {k: v for k, v in r["annotations"].items() if k != "summary"}
    return out


def alert(names, name, severity, interface, labels, summary, fixed):
    exp = {"severity": severity, "pipeline": names.pipeline, names.host: HOST, "interface": interface, **labels}
    return {"exp_labels": exp, "exp_annotations": {"summary": summary, **fixed[name]}}


def unit_tests(names, rules_file):
    fixed = fixed_annotations(rules_file)
    severity = {r["alert"]: r["labels"]["severity"] for g in yaml.safe_load(open(rules_file))["groups"]
                for r in g["rules"]}
    series, checks = [], []
    for name, (metric, labels, bad, good, minutes, summary) in SCENARIOS.items():
        series.append({"series": names.series(metric, "eth0", labels), "values": counter(bad)})
        series.append({"series": names.series(metric, "eth1", labels), "values": counter(good)})
        checks.append({"eval_time": f"{minutes}m", "alertname": name,
                       "exp_alerts": [alert(names, name, severity[name], "eth0", labels, summary, fixed)]})
        checks.append({"eval_time": "1m", "alertname": name, "exp_alerts": []})  # not before its `for`
    # Retransmitted share: eth0 5% of 100 segments/s to one peer; eth1 1% of
    # 100/s (healthy); eth2 50% of 5 segments/s (too few to judge).
    peer = {"direction": "out", "peer": "192.0.2.0_24"}
    for interface, segments, retransmitted in (("eth0", 6000, 300), ("eth1", 6000, 60), ("eth2", 300, 150)):
        series.append({"series": names.series("tcp_segments", interface, peer), "values": counter(segments)})
        series.append({"series": names.series("retransmissions", interface, peer), "values": counter(retransmitted)})
    checks.append({"eval_time": "10m", "alertname": "TcpRetransmissionRatioHigh", "exp_alerts": [
        alert(names, "TcpRetransmissionRatioHigh", "warning", "eth0", peer,
              "5% of TCP segments retransmitted on eth0 (out, peer 192.0.2.0_24)", fixed)]})
    # Capture drops: eth0 drops in the kernel buffer only; eth1 none at all.
    for interface, dropped in (("eth0", 60), ("eth1", 0)):
        series.append({"series": names.series("capture_dropped", interface, {}), "values": counter(dropped)})
        series.append({"series": names.series("capture_if_dropped", interface, {}), "values": counter(0)})
    checks.append({"eval_time": "10m", "alertname": "TcpanomalyCaptureDropping", "exp_alerts": [
        alert(names, "TcpanomalyCaptureDropping", "warning", "eth0", {}, "tcpanomaly misses frames on eth0: 1.00/s",
              fixed)]})
    # Flow table: eth0 evicts because the table is full; eth1 only idle flows.
    series.append({"series": names.series("flows_evicted", "eth0", {"reason": "table_full"}), "values": counter(10)})
    series.append({"series": names.series("flows_evicted", "eth1", {"reason": "idle"}), "values": counter(1000)})
    checks.append({"eval_time": "20m", "alertname": "TcpanomalyFlowTableFull", "exp_alerts": [
        alert(names, "TcpanomalyFlowTableFull", "warning", "eth0", {}, "tcpanomaly's flow table is full on eth0",
              fixed)]})
    # promtool evaluates the checks in the order given: in time order, then.
    checks.sort(key=lambda c: int(c["eval_time"][:-1]))
    covered = {c["alertname"] for c in checks}
    missing = set(severity) - covered
    if missing:
        raise SystemExit(f"FAIL: rules without a unit test: {sorted(missing)}")
    return {"rule_files": [os.path.abspath(rules_file)], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": checks}]}


def main():
    dashboards = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="tcpa-alerts-") as tmp:
        subprocess.run([sys.executable, os.path.join(dashboards, "generate_alerts.py"), tmp], check=True)
        for f in sorted(os.listdir(tmp)):
            if open(os.path.join(tmp, f)).read() != open(os.path.join(dashboards, f)).read():
                raise SystemExit(f"FAIL: dashboards/{f} differs from generate_alerts.py's output; run it")
        for pipeline in ("collectd", "telegraf"):
            rules_file = os.path.join(dashboards, f"tcpanomaly-alerts-{pipeline}.yml")
            subprocess.run(["promtool", "check", "rules", rules_file], check=True)
            test_file = os.path.join(tmp, f"{pipeline}-test.yml")
            with open(test_file, "w") as f:
                yaml.safe_dump(unit_tests(Names(pipeline), rules_file), f, sort_keys=False)
            r = subprocess.run(["promtool", "test", "rules", test_file], capture_output=True, text=True)
            print(r.stdout + r.stderr)
            if r.returncode != 0:
                raise SystemExit(f"FAIL: promtool test rules ({pipeline})")
    print("ok: every rule fires on its synthetic series and stays silent on the healthy one, both pipelines")


if __name__ == "__main__":
    main()
