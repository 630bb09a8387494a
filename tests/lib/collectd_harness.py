"""Runs the real collectd daemon with the built tcpanomaly.so and reads its
values back through write_prometheus, for the integration and live tests.

Every daemon gets its own temp dir, loopback port and config; it is stopped
(SIGTERM, then SIGKILL) however the test ends.
"""
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

COLLECTD = shutil.which("collectd") or "/usr/sbin/collectd"
STANDARD_PLUGIN_DIR = "/usr/lib/collectd"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config_text(plugin_dir, plugin_block, workdir, port, interval=1):
    """A complete collectd.conf: logfile to stdout, our plugin, write_prometheus, unixsock."""
    return f"""
Hostname "tcpanomaly-test"
BaseDir "{workdir}"
PIDFile "{workdir}/collectd.pid"
Interval {interval}
AutoLoadPlugin false
PluginDir "{STANDARD_PLUGIN_DIR}"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File STDOUT
  Timestamp false
</Plugin>
PluginDir "{plugin_dir}"
LoadPlugin tcpanomaly
<Plugin tcpanomaly>
{plugin_block}
</Plugin>
PluginDir "{STANDARD_PLUGIN_DIR}"
LoadPlugin write_prometheus
<Plugin write_prometheus>
  Host "127.0.0.1"
  Port "{port}"
</Plugin>
LoadPlugin unixsock
<Plugin unixsock>
  SocketFile "{workdir}/collectd.sock"
</Plugin>
"""


def collectd_env(plugin_dir):
    """A plugin from the ASan build needs the ASan runtime loaded before it
    (collectd itself is not instrumented): preload the one it is linked
    against. collectd's own allocations are not ours to judge, so leak
    checking is off in the daemon. libstdc++ is preloaded too: ASan finds
    the real __cxa_throw only in libraries present when it starts."""
    env = dict(os.environ)
    ldd = subprocess.run(["ldd", os.path.join(plugin_dir, "tcpanomaly.so")], capture_output=True, text=True).stdout
    libs = {name: line.split("=>")[1].split("(")[0].strip()
            for line in ldd.splitlines() if "=>" in line
            for name in ("libasan", "libstdc++") if name in line}
    if "libasan" in libs:
        env["LD_PRELOAD"] = " ".join(filter(None, [libs["libasan"], libs.get("libstdc++")]))
        env["ASAN_OPTIONS"] = "detect_leaks=0:" + env.get("ASAN_OPTIONS", "")
    return env


def check_config(plugin_dir, plugin_block):
    """collectd -T -C: really loads the plugin, runs config, init, one read, shutdown.
    Returns (exit code, output)."""
    with tempfile.TemporaryDirectory(prefix="tcpa-collectd-") as d:
        path = os.path.join(d, "collectd.conf")
        with open(path, "w") as f:
            f.write(config_text(plugin_dir, plugin_block, d, free_port()))
        p = subprocess.run([COLLECTD, "-T", "-C", path], capture_output=True, text=True, timeout=60,
                           env=collectd_env(plugin_dir))
        return p.returncode, p.stdout + p.stderr


class Daemon:
    """collectd -f in the foreground, optionally inside a network namespace."""

    def __init__(self, plugin_dir, plugin_block, netns=None, interval=1):
        self.dir = tempfile.mkdtemp(prefix="tcpa-collectd-")
        self.port = free_port() if netns is None else 9103
        self.netns = netns
        conf = os.path.join(self.dir, "collectd.conf")
        with open(conf, "w") as f:
            f.write(config_text(plugin_dir, plugin_block, self.dir, self.port, interval))
        cmd = [COLLECTD, "-f", "-C", conf]
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        self.log = open(os.path.join(self.dir, "collectd.log"), "w+")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=collectd_env(plugin_dir))

    def output(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def scrape(self):
        """{(metric, frozenset(labels)): value} of every tcpanomaly sample."""
        url = f"http://127.0.0.1:{self.port}/metrics"
        if self.netns:
            text = subprocess.run(["ip", "netns", "exec", self.netns, "curl", "-sf", url],
                                  capture_output=True, text=True, timeout=10).stdout
        else:
            with urllib.request.urlopen(url, timeout=10) as r:
                text = r.read().decode()
        return parse_prometheus(text)

    def wait_for(self, predicate, timeout=30):
        """Scrapes until predicate(samples) is true on two scrapes a read
        interval apart that are identical (a scrape can land while a read's
        ~900 values are still being dispatched); returns the samples."""
        deadline = time.monotonic() + timeout
        last, previous = {}, None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("collectd exited early:\n" + self.output())
            try:
                last = self.scrape()
                if last and predicate(last) and last == previous:
                    return last
                previous = last
            except OSError:
                pass
            time.sleep(1.1)
        raise AssertionError("timed out waiting for values; collectd said:\n" + self.output())

    def stop(self, timeout=10):
        """SIGTERM; returns seconds until the daemon exited."""
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("collectd did not stop within %s s after SIGTERM" % timeout)
        return time.monotonic() - t0

    def close(self):
        with contextlib.suppress(Exception):
            self.stop()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


LINE = re.compile(r'^(collectd_tcpanomaly_[a-z0-9_]+)\{([^}]*)\} (\S+)')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_prometheus(text):
    """Our samples as {(catalogue field, frozenset(labels)): value}, labels
    decoded back from the documented collectd naming (README "collectd")."""
    out = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        name, labels, value = m.group(1), dict(LABEL.findall(m.group(2))), float(m.group(3))
        field = name[len("collectd_tcpanomaly_"):]
        if field.endswith("_total"):
            field = field[: -len("_total")]
        if field == "total_bytes":  # types.db's "bytes" is a gauge: see README
            field = "bytes"
        tags = {"interface": labels["tcpanomaly"]}
        for pair in filter(None, labels.get("type", "").split(",")):
            k, v = pair.split("=", 1)
            tags[k] = v
        out[(field, frozenset(tags.items()))] = value
    return out


def expected_from_json(snapshot_json):
    """The same shape from `tcpanomaly --read --format json` series, with the
    one documented spelling change: '/' in a peer prefix becomes '_'."""
    out = {}
    for s in json.loads(snapshot_json)["series"]:
        tags = {k: str(v) for k, v in s.items() if k not in ("name", "value")}
        if "peer" in tags:
            tags["peer"] = tags["peer"].replace("/", "_")
        out[(s["name"], frozenset(tags.items()))] = float(s["value"])
    return out
