#!/usr/bin/env bash
# The README's test command: installs dependencies, builds the Release and
# the ASan+UBSan configurations, and runs every test (as root: the live tests
# create network namespaces). Every test runs in both builds (the package
# tests only against the Release packages);
# last, each libFuzzer target runs for a bounded time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup-debian.sh"
bash "$root/scripts/build.sh" release
bash "$root/scripts/build.sh" sanitize
echo "== packages (release 2 for the upgrade test, then release 1)"
bash "$root/scripts/package.sh" 2 "$root/build/packages-r2"
bash "$root/scripts/package.sh" 1
echo "== Release build: all tests"
(cd "$root/build" && ctest --output-on-failure)
echo "== ASan+UBSan build: every test but the package installs (they test the Release packages)"
(cd "$root/build-sanitize" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --output-on-failure -LE packaging)
echo "== fuzzing, 60 s per target (clang, ASan+UBSan)"
bash "$root/scripts/fuzz.sh" 60
echo "== all tests passed"
