#!/usr/bin/env bash
# The README's demo: installs dependencies, builds, then watches real kernel
# TCP traffic between two throw-away network namespaces for ~20 s and prints
# what tcpanomaly saw: a bulk transfer with 2% loss, refused connects, a
# black-holed connect and a receiver that stops reading. Ends by itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup-debian.sh" >/dev/null
bash "$root/scripts/build.sh" release >/dev/null
source "$root/tests/lib/netns_lab.sh"
trap 'lab_down; kill $(jobs -p) 2>/dev/null || true' EXIT
lab_up

# An interface pattern, as on a Kubernetes node: every veth* there is (here
# veth_a), and any created later, each under its own interface label.
# Packets and bytes are counted in the kernel by a tc eBPF program (auto:
# where the kernel allows it; the capture then takes TCP only).
echo "== tcpanomaly watching every veth* interface in namespace $LAB_A for 20 s; its final snapshot follows"
lab_in "$LAB_A" "$root/build/exec/tcpanomaly" --interface 'veth*' --duration 20 --interval 60 \
  --syn-timeout 3 --kernel-counters auto --format "${DEMO_FORMAT:-table}" > /tmp/tcpanomaly-demo.out &
tcpa=$!
sleep 1

lab_drop "$LAB_B" 5003 100
lab_client 10.200.0.2 5003 1 10 2 &              # black hole: SYN retries, then a failed connect
lab_drop "$LAB_B" 5001 2
lab_server 10.200.0.2 5001 sink 4 &
sleep 0.3
lab_client 10.200.0.2 5001 4 2000000 10          # bulk with loss
lab_client 10.200.0.2 5999 5 10 2                # refused (RST)
lab_client fd00:200::2 5999 3 10 2               # refused, IPv6
lab_server 10.200.0.2 5002 stall 1 &
sleep 0.3
lab_client 10.200.0.2 5002 1 300000 12           # zero window
wait $tcpa
cat /tmp/tcpanomaly-demo.out
