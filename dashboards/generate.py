#!/usr/bin/env python3
"""Writes the two Grafana dashboards from one list of panels, so that the
Prometheus (collectd) and InfluxDB (Telegraf) versions show the same things
and can't drift apart. `tests/dashboards/` checks the committed JSON equals
this script's output.

usage: generate.py [OUT_DIR]   (default: the folder of this script)
"""
import json
import os
import sys

from generate_alerts import panel_alerts  # beside this file

# --- what the dashboards show ---------------------------------------------
# (row, title, unit, [metric, ...], split) -- split: the label the series are
# drawn by, besides interface. Counters are shown as per-second rates.
ROWS = [
    ("TCP anomalies", [
        ("Retransmissions", "pps", ["retransmissions"], "direction"),
        ("Resets (RST segments)", "pps", ["resets"], "direction"),
        ("Refused and failed connects", "pps", ["connects_refused", "connects_failed"], "direction"),
        ("Retransmitted share of segments", "percentunit", None, "direction"),
        ("Duplicate ACKs, out-of-order, lost segments", "pps",
         ["duplicate_acks", "out_of_order", "lost_segments"], "direction"),
        ("Zero windows and probes", "pps", ["zero_windows", "zero_window_probes", "zero_window_episodes"], "direction"),
    ]),
    ("Connections", [
        ("Connections opened", "ops", ["connections_opened"], "direction"),
        ("Connections closed, by kind", "ops", ["connections_closed"], "kind"),
        ("Active connections", "short", ["connections_active"], "direction"),
        ("SYNs and SYN retransmissions", "pps", ["syn", "syn_retransmissions"], "direction"),
    ]),
    ("Latency", [
        ("Data RTT (p50, p95, p99)", "s", ["rtt"], "quantile"),
        ("Handshake RTT (p50, p95, p99)", "s", ["handshake_rtt"], "quantile"),
    ]),
    ("Peers", [
        ("Retransmissions by peer", "pps", ["retransmissions"], "peer"),
        ("Resets by peer", "pps", ["resets"], "peer"),
    ]),
    ("Traffic", [
        ("Packets by protocol", "pps", ["packets"], "proto"),
        ("Bytes by protocol", "Bps", ["bytes"], "proto"),
    ]),
    ("Capture health (can the numbers be trusted?)", [
        ("Capture drops (kernel buffer, interface)", "pps", ["capture_dropped", "capture_if_dropped"], None),
        ("Decode errors, by reason", "pps", ["decode_errors"], "reason"),
        ("Flow evictions, by reason", "ops", ["flows_evicted"], "reason"),
        ("Series overflow (peers kept in 'other')", "ops", ["series_overflow"], None),
        ("Tracked flows", "short", ["flows_active"], None),
    ]),
]
GAUGES = {"connections_active", "flows_active"}
INTERFACE_SCOPE = {"capture_dropped", "capture_if_dropped", "decode_errors", "flows_evicted",
                   "series_overflow", "flows_active"}

# --- Prometheus (collectd -> write_prometheus) ------------------------------
# Names and labels as README "collectd" documents: collectd_tcpanomaly_<type>
# [_total], labels tcpanomaly=<interface>, type="k=v,k=v", instance=<host>.


def prom_type(metric):
    return "total_bytes" if metric == "bytes" else metric


def prom_selector(metric, suffix=""):
    name = f"collectd_tcpanomaly_{prom_type(metric)}{suffix}"
    if metric not in GAUGES:
        name += "_total"
    matchers = 'instance=~"$host",tcpanomaly=~"$interface"'
    if metric not in INTERFACE_SCOPE:
        # $peer is "" (all) or e.g. "peer=192\\.0\\.2\\.0_24" (see the variable).
        matchers += ',type=~".*${peer}(,.*)?"'
    return f"{name}{{{matchers}}}"


def extract(expr, label):
    """label_replace: pulls one k=v pair out of collectd's type label."""
    return f'label_replace({expr}, "{label}", "$1", "type", "(?:.*,)?{label}=([^,]+).*")'


def prom_targets(metrics, split):
    by = ["instance", "tcpanomaly"] + ([split] if split and split != "quantile" else [])
    legend = "{{tcpanomaly}}" + (f" {{{{{split}}}}}" if split and split != "quantile" else "")
    if metrics is None:  # retransmitted share
        rates = [extract("rate(" + prom_selector(m) + "[$__rate_interval])", split)
                 for m in ("retransmissions", "tcp_segments")]
        num, den = (f"sum by ({', '.join(by)}) ({r})" for r in rates)
        return [{"expr": f"{num} / {den}", "legendFormat": legend}]
    targets = []
    for m in metrics:
        if split == "quantile":
            buckets = extract(f"rate({prom_selector(m, '_bucket')}[$__rate_interval])", "le")
            for q in ("0.5", "0.95", "0.99"):
                targets.append({"expr": f"histogram_quantile({q}, sum by (instance, tcpanomaly, le) ({buckets}))",
                                "legendFormat": "{{tcpanomaly}} p" + q[2:].ljust(2, "0")})
            continue
        inner = prom_selector(m) if m in GAUGES else f"rate({prom_selector(m)}[$__rate_interval])"
        if split:
            inner = extract(inner, split)
        expr = f"sum by ({', '.join(by)}) ({inner})"
        if split == "peer":
            expr = f"topk(10, {expr})"
        targets.append({"expr": expr, "legendFormat": (m + " " if len(metrics) > 1 else "") + legend})
    return targets


def prom_variables():
    def query_var(name, label, query, regex="", all_value=None):
        v = {"name": name, "label": label, "type": "query", "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
             "query": {"query": query, "refId": f"{name}-var"}, "definition": query, "refresh": 2,
             "regex": regex, "includeAll": True, "multi": True, "sort": 1,
             "current": {"selected": True, "text": ["All"], "value": ["$__all"]}}
        if all_value is not None:
            v["allValue"] = all_value
        return v
    return [
        query_var("host", "Host", "label_values(collectd_tcpanomaly_capture_received_total, instance)",
                  all_value=".*"),
        query_var("interface", "Interface",
                  'label_values(collectd_tcpanomaly_capture_received_total{instance=~"$host"}, tcpanomaly)',
                  all_value=".*"),
        # Values are whole "peer=<prefix>" pairs of the type label; All = "" so
        # the selectors' ".*${peer}(,.*)?" matches every series (peer label on or off).
        query_var("peer", "Peer",
                  'label_values(collectd_tcpanomaly_tcp_segments_total{instance=~"$host",tcpanomaly=~"$interface"}, type)',
                  regex="/(peer=[^,]+)/", all_value=""),
    ]


# --- InfluxDB 1.x (Telegraf -> InfluxDB, InfluxQL) ---------------------------
# Measurement tcpanomaly; tags host (Telegraf's), interface, direction, peer,
# proto, ip, kind, reason, le; fields are the catalogue names.


def influx_where(metric):
    w = "\"host\" =~ /^$host$/ AND \"interface\" =~ /^$interface$/"
    if metric not in INTERFACE_SCOPE:
        w += " AND \"peer\" =~ /^$peer$/"
    return w + " AND $timeFilter"


# Every tag that tells two series apart: counters are differentiated per
# series first (a subquery), then summed by the panel's split.
SERIES_TAGS = ['"host"', '"interface"', '"direction"', '"peer"', '"proto"', '"ip"', '"kind"', '"reason"']


def influx_rates(fields, metric):
    """Subquery: per-series per-second rates (or last values of gauges) of fields."""
    cols = ", ".join((f'last("{f}")' if f in GAUGES else f'non_negative_derivative(last("{f}"), 1s)') + f' AS "{alias}"'
                     for f, alias in fields)
    return (f'(SELECT {cols} FROM "tcpanomaly" WHERE {influx_where(metric)} '
            f'GROUP BY time($__interval), {", ".join(SERIES_TAGS)} fill(none))')


def influx_targets(metrics, split):
    groups = ['"host"', '"interface"'] + ([f'"{split}"'] if split and split != "quantile" else [])
    group_by = "GROUP BY time($__interval), " + ", ".join(groups) + " fill(none)"
    alias = "$tag_interface" + (f" $tag_{split}" if split and split != "quantile" else "")

    def target(select, fields, metric, name):
        q = f"SELECT {select} FROM {influx_rates(fields, metric)} WHERE $timeFilter {group_by}"
        return {"query": q, "rawQuery": True, "resultFormat": "time_series", "alias": name}

    if metrics is None:  # retransmitted share
        return [target('sum("r") / sum("s")', [("retransmissions", "r"), ("tcp_segments", "s")],
                       "retransmissions", alias)]
    targets = []
    for m in metrics:
        if split == "quantile":
            # InfluxQL has no histogram_quantile: the mean from _sum and _count.
            targets.append(target('sum("s") / sum("c")', [(m + "_sum", "s"), (m + "_count", "c")], m,
                                  "$tag_interface mean"))
        else:
            targets.append(target('sum("v")', [(m, "v")], m, (m + " " if len(metrics) > 1 else "") + alias))
    return targets


def influx_variables():
    def var(name, label, query):
        return {"name": name, "label": label, "type": "query", "datasource": {"type": "influxdb", "uid": "${DS_INFLUXDB}"},
                "query": query, "definition": query, "refresh": 2, "regex": "", "includeAll": True,
                "multi": True, "allValue": ".*", "sort": 1,
                "current": {"selected": True, "text": ["All"], "value": ["$__all"]}}
    return [
        var("host", "Host", 'SHOW TAG VALUES FROM "tcpanomaly" WITH KEY = "host"'),
        var("interface", "Interface", 'SHOW TAG VALUES FROM "tcpanomaly" WITH KEY = "interface" WHERE "host" =~ /^$host$/'),
        var("peer", "Peer", 'SHOW TAG VALUES FROM "tcpanomaly" WITH KEY = "peer" WHERE "host" =~ /^$host$/'),
    ]


# --- dashboard assembly ---------------------------------------------------------


def dashboard(kind):
    prom = kind == "prometheus"
    alerts = panel_alerts()
    alert_file = "tcpanomaly-alerts-collectd.yml" if prom else "tcpanomaly-alerts-telegraf.yml (Telegraf to Prometheus)"
    ds = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"} if prom else {"type": "influxdb", "uid": "${DS_INFLUXDB}"}
    panels, y, pid = [], 0, 1
    for row_title, row_panels in ROWS:
        panels.append({"type": "row", "title": row_title, "id": pid, "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        pid += 1
        y += 1
        for i, (title, unit, metrics, split) in enumerate(row_panels):
            targets = (prom_targets if prom else influx_targets)(metrics, split)
            for t, ref in zip(targets, "ABCDEFGH"):
                t["refId"] = ref
                t["datasource"] = ds
            x = (i % 3) * 8
            if i and i % 3 == 0:
                y += 8
            if not prom:  # InfluxQL can't take quantiles of buckets: the mean instead
                title = title.replace("(p50, p95, p99)", "(mean)")
            panel = {
                "type": "timeseries", "title": title, "id": pid, "datasource": ds,
                "gridPos": {"h": 8, "w": 8, "x": x, "y": y},
                "fieldConfig": {"defaults": {"unit": unit, "custom": {"lineWidth": 1, "fillOpacity": 10}},
                                "overrides": []},
                "options": {"legend": {"displayMode": "list", "placement": "bottom"},
                            "tooltip": {"mode": "multi"}},
                "targets": targets,
            }
            if title in alerts:
                panel["description"] = f"Alert rules on this panel's numbers: {', '.join(alerts[title])} ({alert_file})"
            panels.append(panel)
            pid += 1
        y += 8
    source = "collectd (write_prometheus) in Prometheus" if prom else "Telegraf (inputs.execd) in InfluxDB 1.x"
    inputs = [{"name": "DS_PROMETHEUS" if prom else "DS_INFLUXDB", "label": "Prometheus" if prom else "InfluxDB",
               "type": "datasource", "pluginId": "prometheus" if prom else "influxdb", "pluginName":
               "Prometheus" if prom else "InfluxDB", "description": "where " + source.split(" in ")[0] + " values are"}]
    return {
        "__inputs": inputs,
        "__requires": [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": "9.0.0"},
                       {"type": "datasource", "id": inputs[0]["pluginId"], "name": inputs[0]["pluginName"],
                        "version": "1.0.0"},
                       {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""}],
        "title": "tcpanomaly: TCP health (" + ("Prometheus, collectd" if prom else "InfluxDB, Telegraf") + ")",
        "uid": "tcpanomaly-prom" if prom else "tcpanomaly-influx",
        "description": "TCP anomalies measured by tcpanomaly, from " + source,
        "tags": ["tcpanomaly", "tcp", "network"],
        "timezone": "", "editable": True, "graphTooltip": 1, "schemaVersion": 36, "version": 1,
        "time": {"from": "now-1h", "to": "now"}, "refresh": "30s",
        "templating": {"list": prom_variables() if prom else influx_variables()},
        "annotations": {"list": []},
        "panels": panels,
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for kind, name in (("prometheus", "tcpanomaly-prometheus.json"), ("influxdb", "tcpanomaly-influxdb.json")):
        with open(os.path.join(out, name), "w") as f:
            json.dump(dashboard(kind), f, indent=2, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
