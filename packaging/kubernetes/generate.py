#!/usr/bin/env python3
"""Writes the Kubernetes manifests in this folder (edit this file, then run
it; tests/kubernetes fails when the files differ from its output):

  tcpanomaly-collectd.yaml         capture only: CAP_NET_RAW
  tcpanomaly-collectd-kernel.yaml  plus kernel counters: CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN
  tcpanomaly-telegraf.yaml         the Telegraf variant (inputs.execd -> outputs.prometheus_client)

Each is a Namespace, a ServiceAccount, a ConfigMap with the agent's
configuration, a DaemonSet on every node in the host network, and a
headless Service whose annotations let Prometheus find the pods.

usage: generate.py [OUTPUT_DIR]   (default: this folder)
"""
import os
import sys

import yaml

VERSION = "0.1.0"  # CMakeLists.txt project(VERSION); the image tag
NAMESPACE = "tcpanomaly"
METRICS_PORT = 9103  # write_prometheus's default port

# The host side of pods' interfaces, by CNI: veth (bridge, flannel, kindnet),
# cali (Calico), lxc (Cilium), gke (GKE), eni (AWS VPC CNI), azv (Azure).
POD_INTERFACES = "/^(veth|cali|lxc|gke|eni|azv)/"

# Memory, from README "Cost": 212 bytes per flow-table slot, reserved per
# interface and resident only once used; the capture ring (BufferSize MiB)
# per interface; series capped per interface (MaxSeries). With 16384 slots
# (3.3 MiB) and a 4 MiB ring, one pod interface costs at most ~7.5 MiB; the
# kubelet's default of 110 pods per node bounds it at ~830 MiB. Typical
# resident memory is the rings in use plus the flows actually seen.
FLOW_TABLE_SIZE = 16384
BUFFER_MIB = 4
MAX_SERIES = 1000
RESOURCES = {
    "requests": {"cpu": "50m", "memory": "64Mi"},
    "limits": {"cpu": "1", "memory": "1Gi"},
}


def plugin_block(kernel):
    lines = [
        "LoadPlugin tcpanomaly",
        "<Plugin tcpanomaly>",
        "  # Every pod's interface (host side), present and future; the node's",
        "  # own uplink is not watched (add Interface \"eth0\" to see it too).",
        f'  Interface "{POD_INTERFACES}"',
        "  # Seconds a deleted pod's interface keeps its series.",
        "  InterfaceGrace 120",
        "  # The cluster's pod network: traffic to and from pods is then",
        "  # direction in/out rather than transit. Set it to your pod CIDR.",
        '  LocalNetwork "10.244.0.0/16"',
        f"  FlowTableSize {FLOW_TABLE_SIZE}",
        f"  BufferSize {BUFFER_MIB}",
        f"  MaxSeries {MAX_SERIES}",
        "  TopPeers 10",
    ]
    if kernel:
        lines += ["  # Packets and bytes counted in the kernel (tc eBPF); the capture",
                  "  # then takes TCP only. Needs CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN.",
                  "  KernelCounters true"]
    lines.append("</Plugin>")
    return "\n".join(lines)


def collectd_conf(kernel):
    return "\n".join([
        "# collectd in the tcpanomaly DaemonSet: the tcpanomaly plugin, served",
        "# to Prometheus by write_prometheus. Values: README \"collectd\".",
        "FQDNLookup false",
        "Interval 10",
        "LoadPlugin logfile",
        "<Plugin logfile>",
        "  LogLevel info",
        '  File "stdout"',
        "  Timestamp true",
        "</Plugin>",
        "LoadPlugin write_prometheus",
        "<Plugin write_prometheus>",
        f'  Port "{METRICS_PORT}"',
        "</Plugin>",
        plugin_block(kernel),
        "",
    ])


TELEGRAF_CONF = "\n".join([
    "# Telegraf in the tcpanomaly DaemonSet: the tcpanomaly binary through",
    "# inputs.execd, served to Prometheus by outputs.prometheus_client.",
    "[agent]",
    '  interval = "10s"',
    "  omit_hostname = false",
    "[[inputs.execd]]",
    '  command = ["/usr/bin/tcpanomaly", "--interface", "' + POD_INTERFACES + '",',
    '             "--local-net", "10.244.0.0/16", "--flow-table-size", "' + str(FLOW_TABLE_SIZE) + '",',
    '             "--buffer-size", "' + str(BUFFER_MIB) + '", "--max-series", "' + str(MAX_SERIES) + '",',
    '             "--top-peers", "10", "--signal", "STDIN"]',
    '  signal = "STDIN"',
    '  restart_delay = "10s"',
    '  data_format = "influx"',
    "[[outputs.prometheus_client]]",
    f'  listen = ":{METRICS_PORT}"',
    "  metric_version = 2",
    "",
])


def labels(agent):
    return {"app.kubernetes.io/name": "tcpanomaly", "app.kubernetes.io/component": agent,
            "app.kubernetes.io/version": VERSION}


def capabilities(kernel):
    add = ["NET_RAW"] + (["BPF", "PERFMON", "NET_ADMIN"] if kernel else [])
    return {"drop": ["ALL"], "add": add}


def daemonset(agent, image, command, config_path, kernel):
    name = f"tcpanomaly-{agent}"
    selector = {"app.kubernetes.io/name": "tcpanomaly", "app.kubernetes.io/component": agent}
    container = {
        "name": agent,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        "ports": [{"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}],
        "resources": RESOURCES,
        # The metrics endpoint answers once the agent runs its plugin.
        "livenessProbe": {"httpGet": {"path": "/metrics", "port": METRICS_PORT}, "initialDelaySeconds": 20,
                          "periodSeconds": 30, "timeoutSeconds": 5, "failureThreshold": 3},
        "readinessProbe": {"httpGet": {"path": "/metrics", "port": METRICS_PORT}, "periodSeconds": 10},
        # Root inside the container (collectd's plugins run in its process),
        # but only the capabilities capture needs: no privileged mode.
        "securityContext": {"privileged": False, "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True, "runAsUser": 0,
                            "capabilities": capabilities(kernel)},
        "volumeMounts": [{"name": "config", "mountPath": config_path, "readOnly": True},
                         {"name": "tmp", "mountPath": "/tmp"}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels(agent)},
        "spec": {
            "selector": {"matchLabels": selector},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}},
            "template": {
                "metadata": {"labels": labels(agent),
                             "annotations": {"prometheus.io/scrape": "true",
                                             "prometheus.io/port": str(METRICS_PORT),
                                             "prometheus.io/path": "/metrics"}},
                "spec": {
                    "serviceAccountName": "tcpanomaly",
                    "automountServiceAccountToken": False,
                    # Pods' interfaces live in the node's network namespace.
                    "hostNetwork": True,
                    "dnsPolicy": "ClusterFirstWithHostNet",
                    # Every node, tainted ones (control plane, NoExecute) too.
                    "tolerations": [{"operator": "Exists"}],
                    "terminationGracePeriodSeconds": 30,
                    "containers": [container],
                    "volumes": [{"name": "config", "configMap": {"name": name}},
                                {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}}],
                },
            },
        },
    }


def manifests(agent, kernel):
    name = f"tcpanomaly-{agent}"
    if agent == "collectd":
        image = f"localhost/tcpanomaly-collectd:{VERSION}"
        command = ["/usr/sbin/collectd", "-f", "-C", "/etc/tcpanomaly/collectd.conf"]
        config_path, data = "/etc/tcpanomaly", {"collectd.conf": collectd_conf(kernel)}
    else:
        image = f"localhost/tcpanomaly-telegraf:{VERSION}"
        command = ["telegraf", "--config", "/etc/telegraf/telegraf.conf"]
        config_path, data = "/etc/telegraf", {"telegraf.conf": TELEGRAF_CONF}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": "tcpanomaly", "namespace": NAMESPACE}, "automountServiceAccountToken": False},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NAMESPACE,
                                                               "labels": labels(agent)}, "data": data},
        daemonset(agent, image, command, config_path, kernel),
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels(agent),
                      "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": str(METRICS_PORT)}},
         "spec": {"clusterIP": "None", "selector": {"app.kubernetes.io/name": "tcpanomaly",
                                                    "app.kubernetes.io/component": agent},
                  "ports": [{"name": "metrics", "port": METRICS_PORT, "targetPort": METRICS_PORT}]}},
    ]


class Literal(str):
    """A multi-line string written as a YAML block (|)."""


def literal(dumper, value):
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")


def write(path, header, docs):
    yaml.add_representer(Literal, literal)
    for d in docs:
        if d["kind"] == "ConfigMap":
            d["data"] = {k: Literal(v) for k, v in d["data"].items()}
    with open(path, "w") as f:
        f.write(header)
        f.write(yaml.dump_all(docs, sort_keys=False, default_flow_style=False, width=120))


FILES = {
    "tcpanomaly-collectd.yaml": ("collectd", False, "capture only: CAP_NET_RAW"),
    "tcpanomaly-collectd-kernel.yaml": ("collectd", True,
                                        "with kernel counters: CAP_NET_RAW, CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN"),
    "tcpanomaly-telegraf.yaml": ("telegraf", False, "Telegraf variant, capture only: CAP_NET_RAW"),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for file, (agent, kernel, what) in FILES.items():
        header = (f"# tcpanomaly {VERSION} on every node ({agent}; {what}).\n"
                  "# Generated by packaging/kubernetes/generate.py: edit that, not this.\n"
                  "# See README \"Kubernetes\" for the image and how to load it.\n")
        write(os.path.join(out, file), header, manifests(agent, kernel))


if __name__ == "__main__":
    main()
