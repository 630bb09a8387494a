"""A real InfluxDB 1.x (Debian's influxd, a strict line-protocol parser) on
loopback with its data in a temp dir, for the Telegraf-side tests."""
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from checks import stop_daemon


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Influxd:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tcpa-influxd-")
        self.port = free_port()
        conf = os.path.join(self.dir, "influxd.conf")
        with open(conf, "w") as f:
            f.write(f"""reporting-disabled = true
bind-address = "127.0.0.1:{free_port()}"
[meta]
  dir = "{self.dir}/meta"
[data]
  dir = "{self.dir}/data"
  wal-dir = "{self.dir}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
""")
        self.log = open(os.path.join(self.dir, "influxd.log"), "w")
        self.proc = subprocess.Popen(["influxd", "-config", conf], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ping", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise AssertionError("influxd did not start")
                time.sleep(0.2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        stop_daemon(self.proc, self.log, self.dir)

    def query(self, q, db=None):
        params = {"q": q, "epoch": "ns"}
        if db:
            params["db"] = db
        data = urllib.parse.urlencode(params).encode()
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/query", data=data, timeout=30) as r:
            return json.loads(r.read())

    def create(self, db):
        self.query(f'CREATE DATABASE "{db}"')

    def write(self, db, body):
        """POST line protocol; returns (status, response text)."""
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/write?db={db}&precision=ns",
                                     data=body.encode(), method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def last_values(self, db, measurement="tcpanomaly"):
        """{(field, frozenset(tags)): last value} of every series and field."""
        res = self.query(f'SELECT last(*) FROM "{measurement}" GROUP BY *', db)["results"][0]
        out = {}
        for series in res.get("series", []):
            tags = frozenset((k, v) for k, v in series.get("tags", {}).items() if v != "")
            for col, val in zip(series["columns"], series["values"][0]):
                if col == "time" or val is None:
                    continue
                out[(col[len("last_"):], tags)] = float(val)
        return out


def _split(text, sep):
    """Splits on `sep` where it is not backslash-escaped."""
    parts, cur, i = [], "", 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in ",= \\":
            cur += c + text[i + 1]
            i += 2
            continue
        if c == sep:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    return parts


def _unescape(s):
    out, i = "", 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s) and s[i + 1] in ",= ":
            out += s[i + 1]
            i += 2
        else:
            out += s[i]
            i += 1
    return out


def parse_lines(text):
    """Our line protocol as {(field, frozenset(tags)): value} (no string fields)."""
    out = {}
    for line in text.splitlines():
        if not line:
            continue
        head, fields, _ts = _split(line, " ")
        tags = [_split(t, "=") for t in _split(head, ",")[1:]]
        tagset = frozenset((_unescape(k), _unescape(v)) for k, v in tags)
        for f in _split(fields, ","):
            k, v = _split(f, "=")
            out[(_unescape(k), tagset)] = float(v[:-1] if v.endswith("i") else v)
    return out
