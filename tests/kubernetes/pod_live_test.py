#!/usr/bin/env python3
"""The DaemonSet's pod, run for real (root, podman, Prometheus):

  * the image is built by packaging/container/build-image.sh from the
    Release .deb (Debian packages only, FROM scratch);
  * packaging/kubernetes/tcpanomaly-collectd.yaml's pod template is played
    as a Pod with `podman kube play` (podman 4.3 plays no DaemonSet), in the
    host network, its ConfigMap mounted, with the manifest's capabilities
    only (checked: the container's effective set is CAP_NET_RAW);
  * a node in miniature: two "pods" (network namespaces) whose veths' host
    ends sit on a bridge in the host namespace, as a CNI plugin makes them,
    so the manifest's interface pattern finds them;
  * a real Prometheus scrapes the pod and evaluates the alert rules
    (dashboards/tcpanomaly-alerts-collectd.yml): non-zero TCP counters and
    RTT histograms arrive; during clean traffic no alert is even pending;
    with an nftables rule dropping 5% of one connection's segments and
    connects to a closed port, TcpRetransmissionRatioHigh and
    TcpConnectsRefused fire.

Everything it creates (namespaces, bridge, pod, Prometheus) is removed on
every exit path. usage: pod_live_test.py SOURCE_DIR DEB_DIR
"""
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import yaml

SRC, DEBS = sys.argv[1], sys.argv[2]
TAG = os.getpid() % 100000
BRIDGE, NS_A, NS_B = f"tpbr{TAG}", f"tpa{TAG}_a", f"tpa{TAG}_b"
VETH_A, VETH_B = f"vethtpa{TAG}", f"vethtpb{TAG}"  # the pattern's "veth" prefix
ADDR_A, ADDR_B = "10.244.77.1", "10.244.77.2"      # inside the manifest's LocalNetwork
POD = f"tcpanomaly-test-{TAG}"
METRICS = "http://127.0.0.1:9103/metrics"
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs"]


def sh(*cmd, check=True, timeout=120, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()[-800:]}")
    return r


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Node:
    """Two namespaces on a host bridge, like two pods on a node."""

    def __enter__(self):
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "link", "set", BRIDGE, "up")
        for ns, veth, addr in ((NS_A, VETH_A, ADDR_A), (NS_B, VETH_B, ADDR_B)):
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
            sh("ip", "link", "set", veth, "master", BRIDGE, "up")
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{addr}/24", "dev", "eth0")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
            # one captured frame is one segment
            for at in ((), ("ip", "netns", "exec", ns)):
                dev = "eth0" if at else veth
                sh(*at, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", "tx", "off", check=False)
        return self

    def __exit__(self, *exc):
        for ns in (NS_A, NS_B):
            sh("ip", "netns", "del", ns, check=False)
        sh("ip", "link", "del", BRIDGE, check=False)


def pod_manifests(tmp):
    """The manifest's ConfigMap and its DaemonSet's pod template as a Pod."""
    docs = list(yaml.safe_load_all(open(os.path.join(SRC, "packaging/kubernetes/tcpanomaly-collectd.yaml"))))
    configmap = next(d for d in docs if d["kind"] == "ConfigMap")
    daemonset = next(d for d in docs if d["kind"] == "DaemonSet")
    template = daemonset["spec"]["template"]
    spec = template["spec"]
    # The one change: podman 4.3 refuses port declarations in the host
    # network ("PortMappings can only be used with Bridge or slirp4netns"),
    # where Kubernetes takes them as documentation (hostPort = containerPort).
    for c in spec["containers"]:
        c.pop("ports", None)
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": POD, "labels": template["metadata"]["labels"]},
           "spec": spec}
    cm_path, pod_path = os.path.join(tmp, "configmap.yaml"), os.path.join(tmp, "pod.yaml")
    yaml.safe_dump(configmap, open(cm_path, "w"))
    yaml.safe_dump(pod, open(pod_path, "w"))
    return cm_path, pod_path, template["spec"]["containers"][0]


def http_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def wait_for(what, probe, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with contextlib.suppress(Exception):
            value = probe()
            if value:
                return value
        time.sleep(2)
    raise SystemExit(f"FAIL: {what} within {timeout} s")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    def __init__(self, tmp, rules):
        self.port = free_port()
        config = {"global": {"scrape_interval": "5s", "evaluation_interval": "5s"},
                  "rule_files": [rules],
                  "scrape_configs": [{"job_name": "tcpanomaly", "static_configs": [{"targets": ["127.0.0.1:9103"]}]}]}
        path = os.path.join(tmp, "prometheus.yml")
        yaml.safe_dump(config, open(path, "w"))
        self.out = open(os.path.join(tmp, "prometheus.log"), "w")
        self.proc = subprocess.Popen(["prometheus", f"--config.file={path}",
                                      f"--storage.tsdb.path={os.path.join(tmp, 'tsdb')}",
                                      f"--web.listen-address=127.0.0.1:{self.port}"],
                                     stdout=self.out, stderr=subprocess.STDOUT)
        wait_for("Prometheus ready", lambda: urllib.request.urlopen(self.url("/-/ready"), timeout=2).status == 200, 60)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def query(self, expr):
        q = urllib.parse.urlencode({"query": expr})
        return http_json(self.url(f"/api/v1/query?{q}"))["data"]["result"]

    def alerts(self):
        return http_json(self.url("/api/v1/alerts"))["data"]["alerts"]

    def stop(self):
        self.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(20)
        self.proc.kill()
        self.out.close()


def spawn(ns, *cmd):
    return subprocess.Popen(["ip", "netns", "exec", ns, *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


REFUSER = """
import socket, sys, time
end = time.time() + float(sys.argv[2])
while time.time() < end:  # bounded: one connect every 0.5 s
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((sys.argv[1], 5999))
    except OSError:
        pass
    s.close()
    time.sleep(0.5)
"""


def main():
    tmp = tempfile.mkdtemp(prefix="tcpa-pod-")
    env = dict(os.environ, CONTAINERS_CONF=os.path.join(tmp, "containers.conf"))
    # raising RLIMIT_NOFILE is refused on this kind of machine (FACTS.md)
    open(env["CONTAINERS_CONF"], "w").write("[containers]\ndefault_ulimits = []\n")
    os.environ.update(env)
    started = time.time()
    build = sh("bash", os.path.join(SRC, "packaging/container/build-image.sh"), DEBS, timeout=900)
    log(build.stdout.strip() + f" ({time.time() - started:.0f} s)")
    cm_path, pod_path, container = pod_manifests(tmp)
    background, prom, played = [], None, False
    try:
        with Node():
            sh(*PODMAN, "kube", "play", "--configmap", cm_path, pod_path, timeout=180)
            played = True
            body = wait_for("the pod's metrics endpoint", lambda: urllib.request.urlopen(METRICS, timeout=2).read(), 90)
            log(f"pod up, metrics endpoint answers ({len(body)} bytes)")
            name = f"{POD}-{container['name']}"
            caps = json.loads(sh(*PODMAN, "inspect", name).stdout)[0]["EffectiveCaps"]
            want = sorted("CAP_" + c for c in container["securityContext"]["capabilities"]["add"])
            if sorted(caps) != want:
                raise SystemExit(f"FAIL: the container runs with {caps}, the manifest grants {want}")
            log(f"capabilities as in the manifest: {caps}")
            prom = Prometheus(tmp, os.path.join(SRC, "dashboards/tcpanomaly-alerts-collectd.yml"))
            background.append(spawn(NS_B, "iperf3", "-s"))
            time.sleep(1)
            # clean: paced TCP between the two pods; no alert may even be pending
            background.append(spawn(NS_A, "iperf3", "-c", ADDR_B, "-t", "400", "-b", "20M"))
            clean_until = time.time() + 75
            while time.time() < clean_until:
                active = prom.alerts()
                if active:
                    raise SystemExit(f"FAIL: alerts during clean traffic: {active}")
                time.sleep(5)
            segments = prom.query('sum(collectd_tcpanomaly_tcp_segments_total{tcpanomaly=~"vethtp.*"})')
            rtt = prom.query('sum(collectd_tcpanomaly_rtt_count_total{tcpanomaly=~"vethtp.*"})')
            buckets = prom.query('count(collectd_tcpanomaly_rtt_bucket_total{tcpanomaly=~"vethtp.*"} > 0)')
            if not segments or float(segments[0]["value"][1]) <= 0 or not rtt or float(rtt[0]["value"][1]) <= 0 \
                    or not buckets:
                raise SystemExit(f"FAIL: Prometheus lacks TCP counters or RTT histograms: {segments} {rtt} {buckets}")
            log(f"clean: no alert; Prometheus has {float(segments[0]['value'][1]):.0f} segments,"
                f" {float(rtt[0]['value'][1]):.0f} RTT samples in {buckets[0]['value'][1]} non-empty buckets")
            # impaired: B drops 5% of the bulk connection's segments; A connects to a closed port
            sh("ip", "netns", "exec", NS_B, "nft", "add table inet tpa { chain in { type filter hook input priority 0;"
               " tcp dport 5201 meta length > 100 numgen random mod 100 < 5 counter drop; }; }")
            background.append(spawn(NS_A, "python3", "-c", REFUSER, ADDR_B, "300"))
            want_alerts = {"TcpRetransmissionRatioHigh", "TcpConnectsRefused"}
            firing = wait_for("TcpRetransmissionRatioHigh and TcpConnectsRefused firing", lambda: (
                lambda f: f if want_alerts <= f else None)({a["labels"]["alertname"] for a in prom.alerts()
                                                            if a["state"] == "firing"}), 300)
            log(f"impaired: firing {sorted(firing)}")
            dropped = sh("ip", "netns", "exec", NS_B, "nft", "list", "table", "inet", "tpa").stdout
            log("nftables rule: " + " ".join(dropped.split("counter", 1)[1].split()[:4]))
    finally:
        for p in background:
            p.kill()
            with contextlib.suppress(Exception):
                p.wait(5)
        if prom:
            prom.stop()
        if played:
            sh(*PODMAN, "kube", "down", pod_path, check=False, timeout=120)
        sh(*PODMAN, "pod", "rm", "-f", POD, check=False, timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"ok: pod played, scraped, alerts silent when clean and firing when impaired ({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
