#!/usr/bin/env bash
# Installs everything tcpanomaly needs to build, test and demo on Debian 12
# (run as root). Idempotent; one apt-get update per run.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  # build
  g++ cmake ninja-build pkg-config
  # fuzzing: clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  libpcap-dev libtins-dev nlohmann-json3-dev libboost-program-options-dev catch2 collectd-dev
  # kernel-side producers: the BPF programs are compiled by clang and embedded by bpftool
  libbpf-dev bpftool
  # tests: real peers and independent oracles
  tshark wireshark-common collectd-core influxdb prometheus python3 iproute2 ethtool nftables procps curl
  libcap2-bin util-linux python3-yaml
  # live benchmark: real traffic and the reference capture (bench/live_bench.py)
  iperf3 tcpdump
  # packages: lintian for the .deb, rpm (rpmbuild) and rpmlint for the .rpm
  lintian rpm rpmlint
  # write_prometheus needs these (collectd-core only suggests them)
  libmicrohttpd12 libprotobuf-c1
  # Kubernetes: the image (debootstrap, podman FROM scratch) and its pod (podman kube play)
  debootstrap podman runc catatonit
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The Kubernetes manifest test runs npm packages: the machine's Node.js if it
# has one (CI's image carries Node 20), else Debian's.
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
