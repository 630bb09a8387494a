#!/usr/bin/env python3
"""Structural lint of the shipped Grafana dashboards: the JSON is what
dashboards/generate.py writes (no hand edits drifting away), uids are unique,
panel ids unique, grid positions inside the 24-column grid and not
overlapping, every $variable used is defined (or a Grafana built-in), every
query non-empty with a unique refId, and the data source is chosen at import.

usage: lint_test.py DASHBOARD_DIR
"""
import json
import os
import re
import subprocess
import sys
import tempfile

BUILTINS = {"__rate_interval", "__interval", "__range", "timeFilter", "__all", "interval"}
VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def lint(path, problems):
    d = json.load(open(path))
    name = os.path.basename(path)
    defined = {v["name"] for v in d["templating"]["list"]}
    inputs = {i["name"] for i in d.get("__inputs", [])}
    ids, cells = set(), set()
    queries = 0
    for p in d["panels"]:
        if p["id"] in ids:
            problems.append(f"{name}: duplicate panel id {p['id']}")
        ids.add(p["id"])
        g = p["gridPos"]
        if not (g["w"] > 0 and g["h"] > 0 and g["x"] >= 0 and g["y"] >= 0 and g["x"] + g["w"] <= 24):
            problems.append(f"{name}: panel {p['title']!r} has a bad gridPos {g}")
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    problems.append(f"{name}: panel {p['title']!r} overlaps another at {x},{y}")
                    break
                cells.add((x, y))
        if p["type"] == "row":
            continue
        refs = set()
        if not p.get("targets"):
            problems.append(f"{name}: panel {p['title']!r} has no query")
        for t in p.get("targets", []):
            q = t.get("expr") or t.get("query") or ""
            queries += 1
            if not q.strip():
                problems.append(f"{name}: panel {p['title']!r} has an empty query")
            if t["refId"] in refs:
                problems.append(f"{name}: panel {p['title']!r} repeats refId {t['refId']}")
            refs.add(t["refId"])
            for v in VAR.findall(q):
                if v not in defined and v not in BUILTINS and not v.startswith("tag_") and v not in inputs:
                    problems.append(f"{name}: panel {p['title']!r} uses undefined ${v}")
            ds = t.get("datasource", p.get("datasource"))
            if not ds or ds.get("uid", "").strip("${}") not in inputs:
                problems.append(f"{name}: panel {p['title']!r} does not use the import-time data source")
    for v in d["templating"]["list"]:
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        for used in VAR.findall(q):
            if used not in defined:
                problems.append(f"{name}: variable {v['name']} uses undefined ${used}")
    print(f"{name}: {len(ids)} panels, {queries} queries, variables {sorted(defined)}")
    return d["uid"]


def main():
    folder = sys.argv[1]
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(folder, "generate.py"), tmp], check=True)
        for f in sorted(os.listdir(tmp)):
            if open(os.path.join(tmp, f)).read() != open(os.path.join(folder, f)).read():
                problems.append(f"{f} differs from generate.py's output: run dashboards/generate.py")
    uids = [lint(os.path.join(folder, f), problems) for f in sorted(os.listdir(folder)) if f.endswith(".json")]
    if len(set(uids)) != len(uids):
        problems.append(f"dashboard uids not unique: {uids}")
    for p in problems:
        print("FAIL", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
