#!/usr/bin/env python3
"""Writes tcpanomaly(1) and tcpanomaly-collectd(5) from the built binary:
the first from `tcpanomaly --help`, the second from `tcpanomaly
--list-settings` (the core's settings table, which also defines the collectd
plugin's keys). Generated at build time, so they can't drift from the code.

usage: make_man.py TCPANOMALY_BINARY OUT_DIR VERSION
"""
import gzip
import json
import os
import re
import subprocess
import sys

DATE = "2026-12-01"


def roff(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return re.sub(r"^([.'])", r"\\&\1", text, flags=re.M)


def page_1(binary, version):
    help_text = subprocess.run([binary, "--help"], check=True, capture_output=True, text=True).stdout
    out = [f'.TH TCPANOMALY 1 "{DATE}" "tcpanomaly {version}" "User Commands"',
           ".SH NAME", "tcpanomaly \\- TCP health metrics from packet capture",
           ".SH SYNOPSIS",
           ".B tcpanomaly\n\\-\\-read\n.I FILE\n[\\-\\-format json|influx|table] [options]", ".br",
           ".B tcpanomaly\n\\-\\-interface\n.I IF\n[\\-\\-signal MODE] [options]",
           ".SH DESCRIPTION",
           roff("tcpanomaly watches TCP traffic with libpcap and counts what goes wrong in it: retransmissions, "
                "resets, refused and failed connects, zero windows, duplicate ACKs, out-of-order and lost segments, "
                "RTT and connection churn, classified with Wireshark's rules. Live, it prints InfluxDB line protocol "
                "for Telegraf's inputs.execd; with --read it analyses a capture file."),
           ".SH OPTIONS"]
    # Option lines of Boost.Program_options' help: "  -i [ --interface ] NAME   text", continued by indented lines.
    section = None
    for line in help_text.splitlines()[4:]:
        if re.match(r"^\S.*:$", line):
            section = line[:-1]
            out.append(f".SS {roff(section)}")
            continue
        m = re.match(r"^  (\S.*?)\s{2,}(\S.*)$", line)
        if m and (line.startswith("  -")):
            out += [".TP", f".B {roff(m.group(1).strip())}", roff(m.group(2))]
        elif re.match(r"^  -\S", line):
            out += [".TP", f".B {roff(line.strip())}"]
        elif line.strip():
            out.append(roff(line.strip()))
    out += [".SH FILES", "/etc/tcpanomaly/tcpanomaly.conf \\- options for \\-\\-config (key = value, same names)",
            ".SH EXIT STATUS", roff("0 after stdin EOF, SIGTERM or the end of --duration; 2 for a bad option "
                                    "(one line on stderr naming it)."),
            ".SH SEE ALSO", "tcpanomaly\\-collectd(5), collectd(1), telegraf(1), tshark(1)"]
    return "\n".join(out) + "\n"


def page_5(binary, version):
    settings = json.loads(subprocess.run([binary, "--list-settings"], check=True, capture_output=True,
                                         text=True).stdout)
    out = [f'.TH TCPANOMALY\\-COLLECTD 5 "{DATE}" "tcpanomaly {version}" "File Formats"',
           ".SH NAME", "tcpanomaly\\-collectd \\- configuration of the collectd plugin tcpanomaly",
           ".SH SYNOPSIS", ".nf", "LoadPlugin tcpanomaly", "<Plugin tcpanomaly>", '  Interface "eth0"',
           "</Plugin>", ".fi", ".SH DESCRIPTION",
           roff("The tcpanomaly plugin captures TCP traffic and dispatches TCP health values (retransmissions, "
                "resets, refused connects, RTT, ...) under plugin tcpanomaly, plugin instance = interface. "
                "A bad key or value stops collectd at start-up with a line naming it. The Debian package keeps "
                "the block in /etc/tcpanomaly/collectd.conf."),
           ".SH OPTIONS"]
    for s in settings:
        kind = {"a string": "\\(dqtext\\(dq", "an integer": "integer", "a number": "number",
                "true or false": "true|false"}[s["type"]]
        out += [".TP", f".BI {s['collectd']} \\  {kind}"]
        text = s["help"] + (f" ({s['unit']})" if s["unit"] and s["unit"].islower() else "")
        if s["repeatable"]:
            text += "; may be repeated"
        if s["default"]:
            text += f". Default: {s['default']}"
        if "range" in s:
            lo, hi = s["range"]
            text += f". Accepted: {lo:g} .. {hi:g}"
        text += f". Same as {s['option']} of tcpanomaly(1)."
        out.append(roff(text))
    out += [".SH SEE ALSO", "tcpanomaly(1), collectd.conf(5)"]
    return "\n".join(out) + "\n"


def main():
    binary, out_dir, version = sys.argv[1:4]
    os.makedirs(out_dir, exist_ok=True)
    for name, text in (("tcpanomaly.1", page_1(binary, version)), ("tcpanomaly-collectd.5", page_5(binary, version))):
        # Fixed mtime: reproducible builds (lintian checks the gzip header too).
        with open(os.path.join(out_dir, name + ".gz"), "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as f:
                f.write(text.encode())
        with open(os.path.join(out_dir, name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
