#!/usr/bin/env bash
# package.sh [RELEASE [OUT_DIR]]: builds the .deb and .rpm packages from the
# Release build into OUT_DIR (default build/packages; RELEASE: the package
# release number, default 1 -- the upgrade test builds a second one).
# The rpm layout differs only in install paths: re-configuring switches them
# without recompiling anything.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
release=${1:-1}
out=$(realpath -m "${2:-$root/build/packages}")
bash "$root/scripts/build.sh" release >/dev/null
cd "$root/build"
rm -rf packages "$out"
cmake -DTCPANOMALY_PACKAGE_LAYOUT=rpm -DTCPANOMALY_PACKAGE_RELEASE="$release" . >/dev/null
cpack -G RPM >/dev/null
cmake -DTCPANOMALY_PACKAGE_LAYOUT=deb -DTCPANOMALY_PACKAGE_RELEASE="$release" . >/dev/null
cpack -G DEB >/dev/null
cmake -DTCPANOMALY_PACKAGE_RELEASE=1 . >/dev/null
[ "$out" = "$root/build/packages" ] || mv packages "$out"
ls "$out"/*.deb "$out"/*.rpm
