#!/usr/bin/env python3
"""Writes the Prometheus alert rules, one file per pipeline (edit this file,
then run it; tests/dashboards/alerts_test.py fails when they differ):

  tcpanomaly-alerts-collectd.yml  collectd + write_prometheus:
      collectd_tcpanomaly_<metric>_total{instance, tcpanomaly=<interface>, type="k=v,..."}
  tcpanomaly-alerts-telegraf.yml  Telegraf inputs.execd + outputs.prometheus_client:
      tcpanomaly_<metric>{host, interface, direction, peer, ...}

Both give the alerts the same labels: the agent's host label (instance /
host), interface, and direction and peer where the metric has them (peer
only with TopPeers / --top-peers; "" otherwise).

Thresholds come from the live lab (tests/data/make_captures.sh): its loss
scenario (a relay dropping ~2% of segments) retransmits 3.3% of the
segments sent, the clean runs 0; refused connects come in bursts of one per
attempt, never in a clean run. Each rule's `for` rides out one interval's
blip without hiding an episode a paged engineer should see.

usage: generate_alerts.py [OUTPUT_DIR]   (default: this folder)
"""
import os
import sys

import yaml

DASHBOARD = "tcpanomaly-prometheus.json"
RUNBOOK = "README.md, \"How to read the numbers\" (what each count means and what it misses)"


class Pipeline:
    """How one pipeline names a metric and its labels in PromQL. Templates
    are in the summaries only: descriptions are fixed text."""

    def __init__(self, name, host):
        self.name, self.host = name, host

    def rate(self, metric, window, labels, where=""):
        raise NotImplementedError


class Collectd(Pipeline):
    def __init__(self):
        super().__init__("collectd", "instance")

    def rate(self, metric, window, labels, where=""):
        name = f"collectd_tcpanomaly_{'total_bytes' if metric == 'bytes' else metric}_total"
        matcher = f'{{type=~"(.*,)?{where}(,.*)?"}}' if where else ""
        expr = f"rate({name}{matcher}[{window}])"
        expr = f'label_replace({expr}, "interface", "$1", "tcpanomaly", "(.*)")'
        for label in labels:
            expr = f'label_replace({expr}, "{label}", "$1", "type", "(?:.*,)?{label}=([^,]+).*")'
        return expr


class Telegraf(Pipeline):
    def __init__(self):
        super().__init__("telegraf", "host")

    def rate(self, metric, window, labels, where=""):
        matcher = ""
        if where:
            k, v = where.split("=")
            matcher = f'{{{k}="{v}"}}'
        return f"rate(tcpanomaly_{metric}{matcher}[{window}])"


def by(p, *labels):
    return f"sum by ({', '.join([p.host, 'interface', *labels])})"


def rules(p):
    flow = ("direction", "peer")
    seg = f"{by(p, *flow)} ({p.rate('tcp_segments', '5m', flow)})"

    def rule(name, expr, duration, severity, summary, description, panel):
        return {"alert": name, "expr": expr, "for": duration,
                "labels": {"severity": severity, "pipeline": p.name},
                "annotations": {"summary": summary, "description": description,
                                "dashboard": f"{DASHBOARD}, panel \"{panel}\"", "runbook": RUNBOOK}}

    traffic = [
        rule("TcpRetransmissionRatioHigh",
             f"{by(p, *flow)} ({p.rate('retransmissions', '5m', flow)}) / {seg} > 0.02 and {seg} > 10",
             "2m", "warning",
             "{{ $value | humanizePercentage }} of TCP segments retransmitted on {{ $labels.interface }}"
             " ({{ $labels.direction }}{{ if $labels.peer }}, peer {{ $labels.peer }}{{ end }})",
             "More than 2% of the TCP segments seen in one direction were retransmissions over 5"
             " minutes (and more than 10 segments a second). direction=out: this host"
             " resends (loss on the path towards the peer, or a slow peer); direction=in: the peer resends"
             " (loss towards this host, or this host's receive side drops: check nstat TcpExtTCPBacklogDrop"
             " and the NIC's drops). Compare peers on the dashboard: one peer means its path or host, all"
             " peers means this host's link.",
             "Retransmitted share of segments"),
        rule("TcpConnectsRefused",
             f"{by(p, *flow)} ({p.rate('connects_refused', '5m', flow)}) > 0.1",
             "2m", "warning",
             "Connections refused on {{ $labels.interface }} ({{ $labels.direction }}): {{ printf \"%.2f\" $value }}/s",
             "SYNs answered with RST for 2 minutes. direction=out: this host connects to a port nobody"
             " listens on (a service down or moved, a wrong address in a client's configuration);"
             " direction=in: clients reach a port here that has no listener (a service not started,"
             " or a listen backlog overflow: nstat TcpExtListenOverflows).",
             "Refused and failed connects"),
        rule("TcpConnectsFailed",
             f"{by(p, *flow)} ({p.rate('connects_failed', '5m', flow)}) > 0.05",
             "5m", "warning",
             "Connection attempts time out on {{ $labels.interface }} ({{ $labels.direction }}): {{ printf \"%.2f\" $value }}/s",
             "SYNs left unanswered (no SYN/ACK, no RST, within the SYN timeout) for 5 minutes: the peer"
             " is down or unreachable, or a firewall drops the SYNs silently. direction=out: this host's"
             " connects fail; direction=in: this host does not answer (check its firewall and SYN backlog).",
             "Refused and failed connects"),
        rule("TcpZeroWindowEpisodes",
             f"{by(p, *flow)} ({p.rate('zero_window_episodes', '10m', flow)}) > 0.05",
             "10m", "warning",
             "Receivers stall TCP on {{ $labels.interface }} ({{ $labels.direction }}): zero-window episodes {{ printf \"%.2f\" $value }}/s",
             "A receiver advertised a zero window (its socket buffer full: the application is not"
             " reading) again and again for 10 minutes. direction=in: the zero windows came from the"
             " peer (a slow consumer there); direction=out: this host's applications read too slowly.",
             "Zero windows and probes"),
        rule("TcpResetsHigh",
             f"{by(p, *flow)} ({p.rate('resets', '5m', flow)}) > 1",
             "5m", "info",
             "TCP resets on {{ $labels.interface }} ({{ $labels.direction }}): {{ printf \"%.2f\" $value }}/s",
             "More than one RST a second for 5 minutes. Some applications close with RST by design;"
             " a rise against the usual level means aborted connections: refused connects, crashes,"
             " idle timeouts of a middlebox, or resets injected on the path.",
             "Resets (RST segments)"),
    ]
    iface = ()
    health = [
        rule("TcpanomalyCaptureDropping",
             f"{by(p)} ({p.rate('capture_dropped', '5m', iface)}) + {by(p)} ({p.rate('capture_if_dropped', '5m', iface)}) > 0",
             "5m", "warning",
             "tcpanomaly misses frames on {{ $labels.interface }}: {{ printf \"%.2f\" $value }}/s",
             "The kernel or the interface dropped frames before tcpanomaly saw them, so every count on"
             " this interface undercounts and retransmissions may look like losses. Raise BufferSize /"
             " --buffer-size, add capture threads (CaptureThreads), or narrow the Filter.",
             "Capture drops (kernel buffer, interface)"),
        rule("TcpanomalyDecodeErrors",
             f"{by(p, 'reason')} ({p.rate('decode_errors', '5m', ('reason',))}) > 1",
             "15m", "info",
             "Undecodable frames on {{ $labels.interface }} ({{ $labels.reason }}): {{ printf \"%.2f\" $value }}/s",
             "Frames tcpanomaly could not decode, by reason: truncated (SnapLen too small for the"
             " headers: raise it), bad headers (a broken sender or a mirror port's corruption), or a"
             " link type or encapsulation it does not know.",
             "Decode errors, by reason"),
        rule("TcpanomalyFlowTableFull",
             f"{by(p)} ({p.rate('flows_evicted', '5m', iface, where='reason=table_full')}) > 0",
             "10m", "warning",
             "tcpanomaly's flow table is full on {{ $labels.interface }}",
             "Connections are evicted, and new ones go untracked, because the flow table is full"
             " (flows_evicted{reason=table_full}): counts of those connections are partial. Raise"
             " FlowTableSize / --flow-table-size (212 bytes per slot), or look for a SYN flood.",
             "Flow evictions, by reason"),
        rule("TcpanomalySeriesOverflow",
             f"{by(p)} ({p.rate('series_overflow', '5m', iface)}) > 0",
             "30m", "info",
             "tcpanomaly folds label sets into peer=other on {{ $labels.interface }}",
             "More label sets than MaxSeries / --max-series: the excess is counted under peer=other"
             " (totals stay exact, the split by peer does not). Raise MaxSeries or lower TopPeers.",
             "Series overflow (peers kept in 'other')"),
    ]
    return [{"name": "tcpanomaly-tcp", "rules": traffic}, {"name": "tcpanomaly-health", "rules": health}]


def panel_alerts():
    """{dashboard panel title: [alert names]}, for the dashboards' panel
    descriptions (generate.py)."""
    out = {}
    for group in rules(Collectd()):
        for r in group["rules"]:
            panel = r["annotations"]["dashboard"].split('panel "', 1)[1].rstrip('"')
            out.setdefault(panel, []).append(r["alert"])
    return out


PIPELINES = {"tcpanomaly-alerts-collectd.yml": Collectd(), "tcpanomaly-alerts-telegraf.yml": Telegraf()}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for file, p in PIPELINES.items():
        with open(os.path.join(out, file), "w") as f:
            f.write(f"# Prometheus alert rules for tcpanomaly through {p.name}.\n"
                    "# Generated by dashboards/generate_alerts.py: edit that, not this.\n")
            f.write(yaml.dump({"groups": rules(p)}, sort_keys=False, width=100000))


if __name__ == "__main__":
    main()
