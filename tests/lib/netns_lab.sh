# Sourced by tests, capture generation and the demo: two network namespaces
# joined by a veth pair, with offloads off so the wire carries real MTU-sized
# segments. Only addresses inside these namespaces are ever used.
#
#   LAB_A 10.200.0.1  fd00:200::1  (veth_a)   client side
#   LAB_B 10.200.0.2  fd00:200::2  (veth_b)   server side
LAB_A=${LAB_A:-tcpa_lab_a}
LAB_B=${LAB_B:-tcpa_lab_b}
LAB_R=${LAB_R:-tcpa_lab_r}
LAB_TRAFFIC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/traffic.py"

lab_down() {
  ip netns del "$LAB_A" 2>/dev/null || true
  ip netns del "$LAB_B" 2>/dev/null || true
  ip netns del "$LAB_R" 2>/dev/null || true
}

lab_up() {
  lab_down
  ip netns add "$LAB_A"
  ip netns add "$LAB_B"
  ip link add veth_a netns "$LAB_A" type veth peer name veth_b netns "$LAB_B"
  local ns
  for ns in "$LAB_A" "$LAB_B"; do ip -n "$ns" link set lo up; done
  lab_addresses
}

# lab_up_relay: the same two ends, but joined through a third namespace
# LAB_R (veth_a - ra | relay | rb - veth_b) where tests/lib/relay.py bridges
# ra and rb in userspace and impairs what passes. LAB_R has no addresses and
# no IPv6, so its own kernel adds nothing to the wire.
lab_up_relay() {
  lab_down
  ip netns add "$LAB_A"
  ip netns add "$LAB_B"
  ip netns add "$LAB_R"
  ip netns exec "$LAB_R" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip link add veth_a netns "$LAB_A" type veth peer name ra netns "$LAB_R"
  ip link add veth_b netns "$LAB_B" type veth peer name rb netns "$LAB_R"
  local ns
  for ns in "$LAB_A" "$LAB_B" "$LAB_R"; do ip -n "$ns" link set lo up; done
  for ns in ra rb; do
    ip -n "$LAB_R" link set "$ns" up
    ip netns exec "$LAB_R" ethtool -K "$ns" tso off gso off gro off tx off rx off >/dev/null
    lab_one_backlog "$LAB_R" "$ns"
  done
  lab_addresses
}

# lab_one_backlog NS DEV: every frame DEV receives goes through CPU 0's
# backlog queue (RPS mask 1). Without it a veth hands each frame to the
# backlog of the CPU that sent it, and a sender that migrates between CPUs
# (the relay, a TCP timer) reorders frames the network never reordered:
# they look like out-of-order segments that no impairment explains.
lab_one_backlog() {
  ip netns exec "$1" sh -c "echo 1 > /sys/class/net/$2/queues/rx-0/rps_cpus"
}

lab_addresses() {
  ip -n "$LAB_A" addr add 10.200.0.1/24 dev veth_a
  ip -n "$LAB_B" addr add 10.200.0.2/24 dev veth_b
  ip -n "$LAB_A" addr add fd00:200::1/64 dev veth_a nodad
  ip -n "$LAB_B" addr add fd00:200::2/64 dev veth_b nodad
  ip -n "$LAB_A" link set veth_a up
  ip -n "$LAB_B" link set veth_b up
  ip netns exec "$LAB_A" ethtool -K veth_a tso off gso off gro off tx off >/dev/null
  ip netns exec "$LAB_B" ethtool -K veth_b tso off gso off gro off tx off >/dev/null
  lab_one_backlog "$LAB_A" veth_a
  lab_one_backlog "$LAB_B" veth_b
}

# lab_in NS CMD...: run a command inside a lab namespace.
lab_in() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# lab_drop NS PORT PERCENT: drop PERCENT% of TCP segments arriving for PORT
# (100 = black hole). lab_undrop NS removes every rule.
lab_drop() {
  local match="numgen random mod 100 < $3"
  [ "$3" -ge 100 ] && match=""
  ip netns exec "$1" nft -f - <<NFT
table inet lab { chain in { type filter hook input priority 0; tcp dport $2 $match drop; }; }
NFT
}
lab_undrop() { ip netns exec "$1" nft delete table inet lab 2>/dev/null || true; }

lab_server() { ip netns exec "$LAB_B" python3 "$LAB_TRAFFIC" server "$@"; }
lab_client() { ip netns exec "$LAB_A" python3 "$LAB_TRAFFIC" client "$@"; }
