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
A=tcpa_lab_a B=tcpa_lab_b
cleanup() { ip netns del $A 2>/dev/null || true; ip netns del $B 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add $A; ip netns add $B
ip link add veth_a netns $A type veth peer name veth_b netns $B
for ns in $A $B; do ip -n $ns link set lo up; done
ip -n $A addr add 10.200.0.1/24 dev veth_a; ip -n $B addr add 10.200.0.2/24 dev veth_b
ip -n $A addr add fd00:200::1/64 dev veth_a nodad; ip -n $B addr add fd00:200::2/64 dev veth_b nodad
ip -n $A link set veth_a up; ip -n $B link set veth_b up
ip netns exec $A ethtool -K veth_a tso off gso off gro off tx off >/dev/null
ip netns exec $B ethtool -K veth_b tso off gso off gro off tx off >/dev/null

capture() {  # file, seconds of traffic command...
  local file=$1; shift
  ip netns exec $A dumpcap -q -P -i veth_a -s 128 -w "$file" >/dev/null 2>&1 &
  local pid=$!
  sleep 1
  "$@"
  sleep 1
  kill $pid; wait $pid 2>/dev/null || true
}

server_py='
import socket, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
mode = sys.argv[3]
s.settimeout(20)
for _ in range(int(sys.argv[4])):
    c, _ = s.accept()
    if mode == "sink":
        while c.recv(65536): pass
    else:  # stall: read nothing for a while, then drain
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        time.sleep(4)
        c.settimeout(5)
        try:
            while c.recv(65536): pass
        except OSError: pass
    c.close()
'
client_py='
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
for _ in range(int(sys.argv[3])):
    c = socket.socket(fam); c.settimeout(float(sys.argv[5]))
    try:
        c.connect((sys.argv[1], int(sys.argv[2])))
        c.sendall(b"x" * int(sys.argv[4]))
    except OSError:
        pass
    c.close()
'

# Loss: 3% of data toward the server dropped on arrival.
ip netns exec $B nft -f - <<NFT
table inet lab { chain in { type filter hook input priority 0; tcp dport 5001 numgen random mod 100 < 3 drop; }; }
NFT
ip netns exec $B python3 -c "$server_py" 10.200.0.2 5001 sink 3 &
srv=$!; sleep 0.5
capture "$out/lab-loss.pcap" ip netns exec $A python3 -c "$client_py" 10.200.0.2 5001 3 400000 10
wait $srv || true
ip netns exec $B nft delete table inet lab

capture "$out/lab-refused.pcap" bash -c "
  ip netns exec $A python3 -c '$client_py' 10.200.0.2 5999 5 10 2
  ip netns exec $A python3 -c '$client_py' fd00:200::2 5999 3 10 2"

ip netns exec $B python3 -c "$server_py" 10.200.0.2 5002 stall 1 &
srv=$!; sleep 0.5
capture "$out/lab-zerowin.pcap" ip netns exec $A python3 -c "$client_py" 10.200.0.2 5002 1 300000 15
wait $srv || true

ip netns exec $B nft -f - <<NFT
table inet lab { chain in { type filter hook input priority 0; tcp dport 5003 drop; }; }
NFT
capture "$out/lab-blackhole.pcap" ip netns exec $A python3 -c "$client_py" 10.200.0.2 5003 2 10 4
ip netns exec $B nft delete table inet lab
ls -l "$out"/lab-*.pcap
