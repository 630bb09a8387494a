#!/usr/bin/env bash
# fuzz.sh [SECONDS]: builds the libFuzzer targets with clang + ASan + UBSan
# into build-fuzz/ and runs each for SECONDS (default 60) on a seed corpus
# made from the test captures. A crash leaves its input in
# build-fuzz/crashes/; copy it into tests/fuzz/regressions/<target>/ so the
# ordinary test suite replays it forever after.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
dir=$root/build-fuzz
CC=clang CXX=clang++ cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTCPANOMALY_FUZZ=ON -DTCPANOMALY_SANITIZE=ON -DTCPANOMALY_TESTS=OFF -DTCPANOMALY_BENCH=OFF >/dev/null
ninja -C "$dir" fuzz_packets fuzz_capture_file
python3 "$root/tests/fuzz/make_seeds.py" "$dir/seeds" "$root"/tests/data/*.pcap "$root"/tests/data/public/*.pcap*
rm -rf "$dir/crashes"
mkdir -p "$dir/crashes"
status=0
for target in packets capture_file; do
  corpus=$dir/corpus/$target
  mkdir -p "$corpus"
  echo "== fuzz_$target for $seconds s"
  # -rss_limit_mb: the engine's flow table is small here; anything big is a leak.
  rc=0
  "$dir/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$dir/crashes/$target-" -print_final_stats=1 \
    "$corpus" "$dir/seeds/$target" "$root/tests/fuzz/regressions/$target" > "$dir/fuzz_$target.log" 2>&1 || rc=$?
  grep -E "^(Done|stat::|SUMMARY|==[0-9]+==ERROR)|runtime error" "$dir/fuzz_$target.log" | head -20
  if [ $rc != 0 ]; then echo "fuzz_$target FAILED (exit $rc): see $dir/fuzz_$target.log"; status=1; fi
done
ls -l "$dir/crashes"
exit $status
