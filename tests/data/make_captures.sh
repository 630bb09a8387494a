#!/usr/bin/env bash
# Recreates the captures tests/data/lab-*.pcap from real kernel TCP traffic
# between two network namespaces on this machine (run as root; takes ~30 s).
# The committed files were made with this script; the oracle test compares
# our counts with tshark on them, so re-running it only changes the inputs,
# never the expectations (those always come from tshark).
#
#   lab-loss.pcap       bulk transfers with 3% random loss (nftables) at the receiver
#   lab-refused.pcap    connects to a closed port (RST), IPv4 and IPv6
#   lab-zerowin.pcap    a receiver that stops reading: zero windows and probes
#   lab-blackhole.pcap  SYNs to a port whose packets are dropped (SYN retries)
set -euo pipefail
out=$(cd "$(dirname "$0")" && pwd)
source "$out/../lib/netns_lab.sh"
trap lab_down EXIT
lab_up

capture() {  # file, traffic command...
  local file=$1; shift
  # exec directly (not via a function) so $! is dumpcap itself
  ip netns exec "$LAB_A" dumpcap -q -P -i veth_a -s 128 -w "$file" >/dev/null 2>&1 &
  local pid=$!
  sleep 1
  "$@"
  sleep 1
  kill $pid; wait $pid 2>/dev/null || true
}

lab_drop "$LAB_B" 5001 3
lab_server 10.200.0.2 5001 sink 3 & srv=$!; sleep 0.5
capture "$out/lab-loss.pcap" lab_client 10.200.0.2 5001 3 400000 10
wait $srv || true
lab_undrop "$LAB_B"

refused() { lab_client 10.200.0.2 5999 5 10 2; lab_client fd00:200::2 5999 3 10 2; }
capture "$out/lab-refused.pcap" refused

lab_server 10.200.0.2 5002 stall 1 & srv=$!; sleep 0.5
capture "$out/lab-zerowin.pcap" lab_client 10.200.0.2 5002 1 300000 15
wait $srv || true

lab_drop "$LAB_B" 5003 100
capture "$out/lab-blackhole.pcap" lab_client 10.200.0.2 5003 2 10 4
lab_undrop "$LAB_B"
chmod 644 "$out"/lab-*.pcap
ls -l "$out"/lab-*.pcap
