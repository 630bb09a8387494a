#!/usr/bin/env bash
# The README's metric table must be exactly what the catalogue in code
# generates: names are a contract with dashboards and alerts.
# usage: readme_catalogue_test.sh TCPANOMALY_BINARY README
set -euo pipefail
bin=$1 readme=$2
documented=$(sed -n '/<!-- catalogue:begin -->/,/<!-- catalogue:end -->/p' "$readme" | sed '1d;$d')
generated=$("$bin" --list-metrics)
if [ "$documented" != "$generated" ]; then
  echo "README metric table differs from the catalogue (run scripts/update-readme-catalogue.sh):"
  diff <(echo "$documented") <(echo "$generated") || true
  exit 1
fi
echo "README catalogue: $(echo "$generated" | tail -n +3 | wc -l) metrics, identical"
