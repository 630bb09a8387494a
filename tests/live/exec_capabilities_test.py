#!/usr/bin/env python3
"""Least privilege, live, as root: a copy of the binary holding only the file
capability cap_net_raw, run as user nobody inside a network namespace of the
test's own, captures veth_a while the test makes real TCP traffic; its
counts match the kernel's (nstat) in that namespace. Once running it holds
exactly CAP_NET_RAW (effective, permitted, bounding) and nothing else. The
same copy without the capability can't capture: it says so on stderr, keeps
retrying, and still exits 0 on stdin EOF. Run as root, it also drops
everything but CAP_NET_RAW.

usage: exec_capabilities_test.py TCPANOMALY_BINARY
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from influxd_harness import parse_lines  # noqa: E402
from checks import Checks  # noqa: E402
from lab import Lab, delta  # noqa: E402

NET_RAW = 1 << 13
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"]
checks = Checks()
expect = checks.expect


def caps(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb", "NoNewPrivs"):
                out[k] = int(v.strip(), 16 if k.startswith("Cap") else 10)
            if k == "Uid":
                out["uid"] = int(v.split()[0])
    return out


def start(lab, argv):
    # ip netns exec and setpriv both exec in place: p.pid ends up tcpanomaly.
    return subprocess.Popen(["ip", "netns", "exec", lab.a] + argv, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def main():
    binary = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="tcpa-cap-")
    os.chmod(tmp, 0o755)
    with_cap, without_cap = os.path.join(tmp, "tcpanomaly"), os.path.join(tmp, "tcpanomaly-nocap")
    for path in (with_cap, without_cap):
        shutil.copy(binary, path)
        os.chown(path, 0, 0)
        os.chmod(path, 0o755)
    subprocess.run(["setcap", "cap_net_raw+ep", with_cap], check=True)  # after chown/chmod
    print(subprocess.run(["getcap", with_cap], capture_output=True, text=True).stdout.strip())
    try:
        with Lab("tcpa_cap") as lab:
            p = start(lab, NOBODY + [with_cap, "-i", "veth_a", "--signal", "STDIN", "--format", "influx"])
            time.sleep(1)
            c = caps(p.pid)
            expect("runs as nobody", c["uid"], 65534)
            expect("CapEff = cap_net_raw only", hex(c["CapEff"]), hex(NET_RAW))
            expect("CapPrm = cap_net_raw only", hex(c["CapPrm"]), hex(NET_RAW))
            # Without CAP_SETPCAP the bounding set can't shrink; no_new_privs makes it moot.
            expect("no_new_privs set", c["NoNewPrivs"], 1)
            expect("CapInh/CapAmb empty", (c["CapInh"], c["CapAmb"]), (0, 0))
            before = lab.nstat(lab.a)
            lab.client("10.200.0.2", 5999, 4, 10, 2)
            lab.client("fd00:200::2", 5999, 2, 10, 2)
            time.sleep(0.5)
            k = delta(lab.nstat(lab.a), before)
            p.stdin.write(b"\n")
            p.stdin.flush()
            time.sleep(0.5)
            out, err = p.communicate(timeout=5)  # closes stdin: the execd stop
            values = parse_lines(out.decode())
            refused = sum(v for (f, t), v in values.items()
                          if f == "connects_refused" and ("direction", "out") in t)
            expect("exit code after stdin EOF", p.returncode, 0)
            expect("connects_refused{out} as nobody vs TcpAttemptFails", refused, k["TcpAttemptFails"])
            expect("connects_refused{out} vs traffic", refused, 6)
            expect("stderr says capturing", "I! tcpanomaly: capturing on veth_a" in err.decode(), True)

            p = start(lab, NOBODY + [without_cap, "-i", "veth_a", "--signal", "STDIN"])
            time.sleep(1.5)
            alive = p.poll() is None
            t0 = time.monotonic()
            _, err = p.communicate(timeout=5)
            took = time.monotonic() - t0
            err = err.decode()
            print("  without the capability:", err.splitlines()[0] if err else "")
            expect("without cap_net_raw: still running, retrying", alive and "retrying" in err, True)
            expect("without cap_net_raw: error names the interface", "E! tcpanomaly: veth_a:" in err, True)
            expect("without cap_net_raw: exit 0 within 1 s of stdin EOF", (p.returncode, took < 1), (0, True))

            p = start(lab, [binary, "-i", "veth_a", "--signal", "STDIN"])
            time.sleep(1)
            c = caps(p.pid)
            expect("as root: CapEff = cap_net_raw only", hex(c["CapEff"]), hex(NET_RAW))
            expect("as root: CapBnd = cap_net_raw only", hex(c["CapBnd"]), hex(NET_RAW))
            p.communicate(timeout=5)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if checks.failures else 0)


if __name__ == "__main__":
    main()
