#!/usr/bin/env bash
# The Kubernetes manifests: current with their generator, and valid against
# the Kubernetes API schema (validate.mjs). The npm packages are installed
# once per build directory from package-lock.json (the npm registry).
# usage: manifests_test.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1
work=$2
here=$src/tests/kubernetes
mkdir -p "$work"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 "$src/packaging/kubernetes/generate.py" "$tmp"
for f in "$tmp"/*.yaml; do
  if ! cmp -s "$f" "$src/packaging/kubernetes/$(basename "$f")"; then
    echo "FAIL: packaging/kubernetes/$(basename "$f") differs from generate.py's output; run it" >&2
    diff -u "$src/packaging/kubernetes/$(basename "$f")" "$f" | head -40 >&2
    exit 1
  fi
done

if ! cmp -s "$here/package-lock.json" "$work/package-lock.json" || [ ! -d "$work/node_modules" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$work/"
  (cd "$work" && timeout 600 npm ci --no-audit --no-fund --loglevel=error)
fi
cp "$here/validate.mjs" "$work/"
node "$work/validate.mjs" "$src"/packaging/kubernetes/*.yaml
