#!/usr/bin/env python3
"""Every bad option or config-file value of the tcpanomaly binary: exactly
one stderr line, "E! tcpanomaly: " + the option's name + what is wrong, a
non-zero exit, nothing on stdout, and no capture started. Good configs (a
--config file with every setting) run.

The shipped Telegraf snippet's command line runs as execd would run it, with
the shipped options file (on loopback instead of every interface).

usage: exec_config_test.py TCPANOMALY_BINARY CAPTURE TELEGRAF_SNIPPET
"""
import tomllib
import os
import subprocess
import sys
import tempfile
import time

LIVE = ["-i", "lo", "--duration", "1"]


def cases(capture, conf_dir):
    def conf(name, text):
        path = os.path.join(conf_dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    bad = [
        (["--bogus"] + LIVE, "unrecognised option '--bogus'"),
        (["--snaplen", "abc"] + LIVE, '--snaplen: "abc" is not an integer'),
        (["--snaplen", "10"] + LIVE, "--snaplen: 10 is out of range, accepted: 64 .. 262144"),
        (["--buffer-size", "0"] + LIVE, "--buffer-size: 0 is out of range, accepted: 1 .. 4096"),
        (["--timeout", "-1"] + LIVE, "--timeout: -1 is out of range"),
        (["--promiscuous=maybe"] + LIVE, '--promiscuous: "maybe" is not true or false'),
        (["--host-addresses=2"] + LIVE, '--host-addresses: "2" is not true or false'),
        (["--local-net", "10.0.0.0/33"] + LIVE, '--local-net: "10.0.0.0/33" is not a CIDR'),
        (["--local-net", "banana"] + LIVE, '--local-net: "banana" is not a CIDR'),
        (["--top-peers", "-1"] + LIVE, "--top-peers: -1 is out of range, accepted: 0 .. 1000"),
        (["--peer-prefix-v4", "33"] + LIVE, "--peer-prefix-v4: 33 is out of range, accepted: 0 .. 32"),
        (["--peer-prefix-v6", "129"] + LIVE, "--peer-prefix-v6: 129 is out of range, accepted: 0 .. 128"),
        (["--max-series", "3"] + LIVE, "--max-series: 3 is out of range, accepted: 4 .. 1000000"),
        (["--flow-table-size", "-5"] + LIVE, "--flow-table-size: -5 is out of range, accepted: 1 .. 67108864"),
        (["--syn-timeout", "0"] + LIVE, "--syn-timeout: 0 is out of range, accepted: 0.001 .. 86400"),
        (["--syn-timeout", "inf"] + LIVE, '--syn-timeout: "inf" is not a number'),
        (["--established-timeout", "x"] + LIVE, '--established-timeout: "x" is not a number'),
        (["--closed-timeout", "1e9"] + LIVE, "--closed-timeout: 1000000000 is out of range"),
        (["--format", "xml"] + LIVE, '--format: "xml" is not accepted, accepted: influx, json, table'),
        (["--signal", "SIGINT"] + LIVE, '--signal: "SIGINT" is not accepted, accepted: none, STDIN'),
        (["--interval", "0"] + LIVE, "--interval: must be between 0 and 86400 seconds"),
        (["--interval", "soon"] + LIVE, "--interval"),
        (["--duration", "-1", "-i", "lo"], "--duration: must be between 0 (no limit) and 31536000"),
        ([], "--interface: none given, accepted: an interface name"),
        (["--read", capture, "-i", "lo"], "--read: can't be combined with an interface"),
        (["--read", "/nonexistent.pcap"], "/nonexistent.pcap: No such file or directory"),
        (["--filter", "not a filter ((", "-i", "lo", "--duration", "1"],
         '--filter: "not a filter ((" does not compile: can\'t parse filter expression: syntax error'),
        (["--config", "/nonexistent.conf"] + LIVE, '--config: cannot read "/nonexistent.conf"'),
        (["--config", conf("unknown.conf", "interface = lo\nbogus-key = 1\n")], "unrecognised option 'bogus-key'"),
        (["--config", conf("badvalue.conf", "interface = lo\nsyn-timeout = never\n")],
         '--syn-timeout: "never" is not a number'),
        (["--config", conf("range.conf", "interface = lo\nsnaplen = 1\n")], "--snaplen: 1 is out of range"),
    ]
    every = "".join(f"{k} = {v}\n" for k, v in [
        ("interface", "lo"), ("filter", "tcp"), ("snaplen", "128"), ("buffer-size", "4"), ("promiscuous", "false"),
        ("timeout", "50"), ("local-net", "10.0.0.0/8"), ("local-net", "fd00::/8"), ("host-addresses", "true"),
        ("top-peers", "3"), ("peer-prefix-v4", "16"), ("peer-prefix-v6", "48"), ("max-series", "100"),
        ("flow-table-size", "1024"), ("syn-timeout", "3"), ("established-timeout", "60"), ("closed-timeout", "2"),
        ("format", "json"), ("signal", "none"), ("interval", "0.5"), ("duration", "1")])
    good = [["--config", conf("every.conf", every)], ["--read", capture, "--format", "table"]]
    return bad, good


def main():
    binary, capture, snippet = sys.argv[1], sys.argv[2], sys.argv[3]
    failures = 0
    with open(snippet, "rb") as f:
        execd = tomllib.load(f)["inputs"]["execd"][0]
    options = os.path.join(os.path.dirname(os.path.abspath(snippet)), "..", "etc", "tcpanomaly.conf")
    local = os.path.join(tempfile.mkdtemp(), "tcpanomaly.conf")
    with open(local, "w") as f:  # the shipped options file, on loopback
        f.write(open(options).read().replace("interface = any", "interface = lo"))
    cmd = [binary] + [local if a == "/etc/tcpanomaly/tcpanomaly.conf" else a for a in execd["command"][1:]]
    p = subprocess.run(cmd, input="\n", capture_output=True, text=True, timeout=30)
    ok = (execd["signal"] in execd["command"] and p.returncode == 0 and
          p.stdout.startswith("tcpanomaly,interface=lo ") and execd["data_format"] == "influx")
    print(f"{'ok  ' if ok else 'FAIL'} shipped telegraf snippet runs: {' '.join(cmd[1:])} -> {p.returncode}")
    failures += not ok
    with tempfile.TemporaryDirectory() as d:
        bad, good = cases(capture, d)
        for args, message in bad:
            t0 = time.monotonic()
            p = subprocess.run([binary] + args, capture_output=True, text=True, timeout=30)
            took = time.monotonic() - t0
            lines = p.stderr.splitlines()
            ok = (p.returncode != 0 and not p.stdout and len(lines) == 1 and lines[0].startswith("E! tcpanomaly: ")
                  and message in lines[0] and "capturing" not in p.stderr and took < 1)
            print(f"{'ok  ' if ok else 'FAIL'} {' '.join(args)[:70]:70} -> {p.returncode} {lines[:2]}")
            failures += not ok
        for args in good:
            p = subprocess.run([binary] + args, capture_output=True, text=True, timeout=30)
            ok = p.returncode == 0 and p.stdout and not any(l.startswith("E!") for l in p.stderr.splitlines())
            print(f"{'ok  ' if ok else 'FAIL'} good: {' '.join(args)[:60]} -> {p.returncode}")
            failures += not ok
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
