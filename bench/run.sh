#!/bin/sh
# Builds the benchmark in BUILD_DIR (default: build-bench next to this
# checkout), generates the capture there if missing, and runs bench_run.
# Usage: bench/run.sh [BUILD_DIR] [bench_run options, e.g. --runs 5]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-bench}
[ $# -gt 0 ] && shift
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTCPANOMALY_TESTS=OFF
fi
ninja -C "$build" bench_gen bench_run tcpanomaly
pcap=$build/bench/bench.pcap
[ -f "$pcap" ] || "$build/bench/bench_gen" "$pcap"
exec "$build/bench/bench_run" "$@" "$pcap"
