#!/usr/bin/env python3
"""`collectd -T -C` with the built plugin: good configs load, run and pass;
each kind of bad config makes collectd refuse to start, with a log line from
us naming the key and what it accepts.

The example snippet shipped in packaging/ must load too, and show every key
the plugin accepts.

usage: collectd_config_test.py PLUGIN_DIR CAPTURE EXAMPLE_CONF
"""
import re
import subprocess
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import collectd_harness as ch  # noqa: E402


def cases(capture):
    good = [
        ("read a file", f'ReadFile "{capture}"'),
        ("every option", f'''ReadFile "{capture}"
  ReadFileLabel "demo file"
  Filter "tcp"
  SnapLen 128
  BufferSize 8
  Promiscuous false
  CaptureTimeout 50
  LocalNetwork "10.0.0.0/8" "2001:db8::/32"
  LocalNetwork "192.0.2.1"
  HostAddresses false
  TopPeers 5
  PeerPrefixLength 16
  PeerPrefixLengthV6 48
  MaxSeries 200
  FlowTableSize 4096
  SynTimeout 5
  EstablishedTimeout 600.5
  ClosedTimeout 2'''),
        ("live on loopback", 'Interface "lo"\n  Interface "any"'),
        # An interface that is not there (yet) is logged and retried, never fatal.
        ("absent interface", 'Interface "tcpa-absent0"'),
    ]
    bad = [
        ("unknown key", 'Interfaces "lo"', 'unknown option "Interfaces", accepted: Interface, ReadFile'),
        ("wrong type: string for a number", 'Interface "lo"\n  SnapLen "big"',
         "SnapLen: expected an integer, unquoted"),
        ("wrong type: number for a string", "Interface 3", "Interface: expected a quoted string"),
        ("wrong type: bool", 'Interface "lo"\n  Promiscuous "yes"', "Promiscuous: expected true or false, unquoted"),
        ("not an integer", 'Interface "lo"\n  FlowTableSize 2.5', 'FlowTableSize: "2.5" is not an integer'),
        ("out of range", 'Interface "lo"\n  SynTimeout 0', "SynTimeout: 0 is out of range, accepted: 0.001 .. 86400"),
        ("bad CIDR", 'Interface "lo"\n  LocalNetwork "10.0.0.0/33"',
         'LocalNetwork: "10.0.0.0/33" is not a CIDR, accepted: e.g. 10.0.0.0/8'),
        ("bad filter", 'Interface "lo"\n  Filter "(("', 'Filter: "((" does not compile'),
        ("missing interface", "TopPeers 3", "Interface: none given, accepted: an interface name"),
        ("two values", 'Interface "lo"\n  SnapLen 128 256', "SnapLen: expected exactly one value"),
        ("file and interface", f'Interface "lo"\n  ReadFile "{capture}"', "ReadFile: can't be combined with an interface"),
    ]
    return good, bad


def main():
    plugin_dir, capture, example = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    good, bad = cases(capture)
    failures = 0
    # Only module_register may be visible to collectd's ~288 exports.
    nm = subprocess.run(["nm", "-D", "--defined-only", os.path.join(plugin_dir, "tcpanomaly.so")],
                        capture_output=True, text=True).stdout.split()
    exported = [w for i, w in enumerate(nm) if i % 3 == 2]
    ok = exported == ["module_register"] or set(exported) - {"module_register"} <= {"_init", "_fini"}
    print(("ok  " if ok else "FAIL"), "tcpanomaly.so exports only module_register", "" if ok else exported)
    failures += not ok
    # The shipped example: its block, on loopback instead of every interface.
    text = open(example).read()
    body = re.search(r"<Plugin tcpanomaly>\n(.*?)</Plugin>", text, re.S).group(1)
    good.append(("shipped example", body.replace('Interface "any"', 'Interface "lo"')))
    rc, out = ch.check_config(plugin_dir, '  NoSuchKey 1')
    accepted = re.search(r"accepted: (.*)", out).group(1).split(", ")
    shown = set(re.findall(r"^\s*#?(\w+) ", body, re.M))
    missing = [k for k in accepted if k not in shown]
    print(("ok  " if not missing else "FAIL"), "example shows every key", missing or "")
    failures += bool(missing)
    for name, block in good:
        rc, out = ch.check_config(plugin_dir, "  " + block)
        ok = rc == 0 and "Parsing the config file failed" not in out
        if name == "absent interface":
            ok = ok and "tcpa-absent0" in out and "retrying" in out
        print(("ok  " if ok else "FAIL"), "good:", name, "exit", rc)
        if not ok:
            print(out)
            failures += 1
    for name, block, message in bad:
        rc, out = ch.check_config(plugin_dir, "  " + block)
        ok = rc != 0 and ("tcpanomaly plugin: " + message) in out
        print(("ok  " if ok else "FAIL"), "bad:", name, "exit", rc)
        if not ok:
            print("expected:", message)
            print(out)
            failures += 1
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
