#!/usr/bin/env bash
# Rewrites the README's metric table from the catalogue in code.
# usage: update-readme-catalogue.sh [TCPANOMALY_BINARY]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/exec/tcpanomaly}
python3 - "$root/README.md" "$("$bin" --list-metrics)" <<'PY'
import re, sys
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
new = re.sub(r"(<!-- catalogue:begin -->\n).*?(<!-- catalogue:end -->)",
             lambda m: m.group(1) + table.rstrip("\n") + "\n" + m.group(2), text, flags=re.S)
open(path, "w").write(new)
PY
