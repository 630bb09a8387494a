#include <cstring>

#include "flow/flow.hpp"

namespace tcpanomaly {

void make_flow_key(const DecodedPacket& p, FlowKey& k, int& sender_side) {
  int c = std::memcmp(p.src.bytes, p.dst.bytes, 16);
  if (c == 0) c = p.src_port < p.dst_port ? -1 : (p.src_port > p.dst_port ? 1 : 0);
  sender_side = c <= 0 ? 0 : 1;
  k.addr[sender_side] = p.src;
  k.addr[1 - sender_side] = p.dst;
  k.port[sender_side] = p.src_port;
  k.port[1 - sender_side] = p.dst_port;
  k.vlan = p.vlan;
}

std::uint64_t hash_key(const FlowKey& k, std::uint64_t seed) {
  // Multiply-xorshift over the key's words: fast, and good enough for an
  // open-addressed table whose keys an attacker can choose only partly.
  std::uint64_t words[5];
  std::memcpy(words, k.addr, 32);
  words[4] = std::uint64_t(k.port[0]) << 32 | std::uint64_t(k.port[1]) << 16 | k.vlan;
  std::uint64_t h = seed ^ 0x9E3779B97F4A7C15ull;  // per-table random seed
  for (std::uint64_t w : words) {
    h ^= w;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  return h;
}

}  // namespace tcpanomaly
