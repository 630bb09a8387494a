#!/usr/bin/env bash
# build.sh [release|sanitize]: configures and builds into build/ or build-sanitize/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-release}" in
  release)  dir=$root/build;          flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  sanitize) dir=$root/build-sanitize; flags=(-DCMAKE_BUILD_TYPE=Debug -DTCPANOMALY_SANITIZE=ON -DTCPANOMALY_BENCH=OFF) ;;
  *) echo "build.sh: unknown configuration \"$1\", accepted: release, sanitize" >&2; exit 2 ;;
esac
cmake -S "$root" -B "$dir" -G Ninja "${flags[@]}" >/dev/null
ninja -C "$dir"
