"""Python side of the netns lab (tests/lib/netns_lab.sh): namespaces up and
down, bounded traffic, and the kernel's own TCP counters (nstat) per namespace."""
import contextlib
import os
import subprocess

LIB = os.path.dirname(os.path.abspath(__file__))
TRAFFIC = os.path.join(LIB, "traffic.py")


class Lab:
    """Two namespaces joined by veth_a (10.200.0.1, fd00:200::1) and veth_b (.2, ::2)."""

    def __init__(self, prefix):
        # The pid keeps concurrent runs (two checkouts, a developer and CI) apart.
        self.a, self.b = f"{prefix}{os.getpid()}_a", f"{prefix}{os.getpid()}_b"
        self.background = []

    def sh(self, script, check=True):
        env = dict(os.environ, LAB_A=self.a, LAB_B=self.b)
        return subprocess.run(["bash", "-c", f'source "{LIB}/netns_lab.sh"; {script}'],
                              env=env, check=check, capture_output=True, text=True, timeout=120)

    def __enter__(self):
        self.sh("lab_up")
        return self

    def __exit__(self, *exc):
        for p in self.background:
            with contextlib.suppress(Exception):
                p.kill()
                p.wait(5)
        self.sh("lab_down", check=False)

    def run(self, ns, *cmd, timeout=60):
        return subprocess.run(["ip", "netns", "exec", ns, *cmd], check=True,
                              capture_output=True, text=True, timeout=timeout)

    def server(self, addr, port, mode, connections):
        p = subprocess.Popen(["ip", "netns", "exec", self.b, "python3", TRAFFIC, "server",
                              addr, str(port), mode, str(connections)])
        self.background.append(p)
        return p

    def client(self, addr, port, connections, size, timeout):
        self.run(self.a, "python3", TRAFFIC, "client", addr, str(port), str(connections),
                 str(size), str(timeout), timeout=connections * (timeout + 5) + 10)

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
