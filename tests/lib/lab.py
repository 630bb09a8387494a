"""Python side of the netns lab (tests/lib/netns_lab.sh): namespaces up and
down, bounded traffic, and the kernel's own TCP counters (nstat) per namespace."""
import contextlib
import json
import os
import subprocess
import tempfile
import time

LIB = os.path.dirname(os.path.abspath(__file__))
TRAFFIC = os.path.join(LIB, "traffic.py")
RELAY = os.path.join(LIB, "relay.py")


class Lab:
    """Two namespaces joined by veth_a (10.200.0.1, fd00:200::1) and veth_b (.2, ::2);
    with relay=True through a third one, self.r, where relay.py impairs the path."""

    def __init__(self, prefix, relay=False):
        # The pid keeps concurrent runs (two checkouts, a developer and CI) apart.
        pid = os.getpid()
        self.a, self.b, self.r = f"{prefix}{pid}_a", f"{prefix}{pid}_b", f"{prefix}{pid}_r"
        self.with_relay = relay
        # With a relay, the traffic and the relay all run on CPU 0, so every
        # frame is sent from one CPU and crosses each veth in the order sent
        # (see lab_one_backlog in netns_lab.sh): the relay's record is then the
        # only reordering there is. Sensors and dumpcap may run anywhere.
        self.pin = ["taskset", "-c", "0"] if relay else []
        self.logs = []  # files to remove with the lab
        self.background = []

    def sh(self, script, check=True):
        env = dict(os.environ, LAB_A=self.a, LAB_B=self.b, LAB_R=self.r)
        return subprocess.run(["bash", "-c", f'source "{LIB}/netns_lab.sh"; {script}'],
                              env=env, check=check, capture_output=True, text=True, timeout=120)

    def __enter__(self):
        self.sh("lab_up_relay" if self.with_relay else "lab_up")
        return self

    def __exit__(self, *exc):
        for p in self.background:
            with contextlib.suppress(Exception):
                p.kill()
                p.wait(5)
        for path in self.logs:
            with contextlib.suppress(OSError):
                os.unlink(path)
        self.sh("lab_down", check=False)

    def run(self, ns, *cmd, timeout=60):
        return subprocess.run(["ip", "netns", "exec", ns, *cmd], check=True,
                              capture_output=True, text=True, timeout=timeout)

    def server(self, addr, port, mode, connections):
        return self.spawn(self.b, *self.pin, "python3", TRAFFIC, "server", addr, str(port), mode,
                          str(connections))

    def client_command(self, addr, port, connections, size, timeout, ending="close"):
        return [*self.pin, "python3", TRAFFIC, "client", addr, str(port), str(connections), str(size),
                str(timeout), ending]

    def client(self, addr, port, connections, size, timeout, ending="close"):
        self.run(self.a, *self.client_command(addr, port, connections, size, timeout, ending),
                 timeout=connections * (timeout + 5) + 10)

    def start_client(self, addr, port, connections, size, timeout, ending="close"):
        """client() in the background: the Popen, killed when the lab goes down."""
        return self.spawn(self.a, *self.client_command(addr, port, connections, size, timeout, ending))

    def spawn(self, ns, *cmd, **kw):
        """A background process inside a namespace, killed when the lab goes down."""
        p = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], **kw)
        self.background.append(p)
        return p

    def nstat(self, ns):
        """Absolute kernel SNMP counters of a namespace (nstat -asz: no history file)."""
        out = self.run(ns, "nstat", "-asz").stdout
        values = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                values[parts[0]] = int(parts[1])
        return values


def delta(after, before):
    return {k: after.get(k, 0) - before.get(k, 0) for k in after}


class Sensor:
    """Our tcpanomaly binary capturing inside a namespace, snapshots on demand
    (the execd STDIN protocol, JSON format)."""

    def __init__(self, lab, ns, binary, interfaces, *extra):
        argv = [binary, "--signal", "STDIN", "--format", "json", *extra]
        for i in interfaces:
            argv += ["-i", i]
        fd, self.log_path = tempfile.mkstemp(prefix=f"{ns}-sensor-", suffix=".log")
        lab.logs.append(self.log_path)
        with os.fdopen(fd, "w") as log:
            self.proc = lab.spawn(ns, *argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        self.wait_log([f"capturing on {i}" for i in interfaces])

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, needles, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(n in self.log() for n in needles):
                return True
            time.sleep(0.1)
        return False

    def snapshot(self):
        """One snapshot of every counter, asked for on stdin (execd's protocol)."""
        self.proc.stdin.write(b"\n")
        self.proc.stdin.flush()
        return Snapshot(json.loads(self.proc.stdout.readline()))

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(10)


class Snapshot:
    def __init__(self, doc):
        self.doc = doc
        self.series = doc["series"]

    def series_of(self, interface):
        """Every TCP series of one interface: (name, labels) -> value, for
        comparing two sensors of the same traffic. Left out: the capture
        statistics (each socket has its own), non-TCP traffic and non-IP
        frames (IPv6 chatter and ARP may cross between two snapshots), and the buckets and sums of the time
        histograms (two sockets may stamp a frame a microsecond apart: their
        counts are compared)."""
        timed = ("rtt_", "handshake_rtt_", "connection_duration_")
        out = {}
        for x in self.series:
            name = x["name"]
            if (x.get("interface") != interface or name.startswith("capture_") or name == "non_ip_frames"
                    or x.get("proto") not in (None, "tcp")):
                continue
            if name.startswith(timed) and not name.endswith("_count"):
                continue
            v = x["value"]
            labels = tuple(sorted((k, str(val)) for k, val in x.items() if k not in ("value", "name")))
            out[(name, labels)] = v["count"] if isinstance(v, dict) else v
        return out

    def sum(self, name, **labels):
        """Sum of a counter over every series whose labels include `labels`."""
        total = 0
        for s in self.series:
            if s["name"] == name and all(s.get(k) == v for k, v in labels.items()):
                v = s["value"]
                total += v["count"] if isinstance(v, dict) else v
        return total


class Dumpcap:
    """A simultaneous pcapng capture for tshark, the independent reference."""

    def __init__(self, lab, ns, interface, path, *options):
        self.path = path
        self.proc = lab.spawn(ns, "dumpcap", "-q", "-i", interface, *options, "-w", path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)

    def count(self, display_filter):
        """Frames matching a Wireshark display filter (tshark 4.0's analysis,
        two-pass like the oracle test)."""
        out = subprocess.run(["tshark", "-2", "-r", self.path, "-n", "-Y", display_filter, "-T", "fields",
                              "-e", "frame.number"], check=True, capture_output=True, text=True).stdout
        return len(out.split())


class Relay:
    """relay.py bridging ra and rb in the lab's middle namespace; stats() stops
    it and returns what it forwarded, dropped, duplicated and held back."""

    def __init__(self, lab, *options):
        self.proc = lab.spawn(lab.r, *lab.pin, "python3", RELAY, "ra", "rb", *options,
                              stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("relay did not start")

    def stats(self):
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=10)
        return json.loads(out.strip().splitlines()[-1])
