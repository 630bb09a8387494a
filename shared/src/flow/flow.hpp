// One tracked TCP connection: the canonical key and the per-direction state
// that Wireshark's analysis keeps (see tcp_analyzer.cpp). Kept small and
// allocation-free: the table preallocates a fixed array of these.
#pragma once

#include <cstdint>
#include <cstring>

#include "decode/packet.hpp"

namespace tcpanomaly {

// Canonical bidirectional key: side 0 is the numerically lower (address, port).
// 40 bytes with the explicit padding, so it compares as five 64-bit words.
struct FlowKey {
  IpAddress addr[2];
  std::uint16_t port[2];
  std::uint16_t vlan;  // 0 unless separate_vlans (make_flow_key)
  std::uint16_t pad = 0;  // always zero: part of the word compare and the hash
  bool operator==(const FlowKey& o) const {
    // Word by word, no local array: an array would make -fstack-protector-strong
    // put a canary check into every function this is inlined in.
    std::uint64_t diff = 0;
    for (std::size_t off = 0; off < 40; off += 8) diff |= word(off) ^ o.word(off);
    return diff == 0;
  }
  std::uint64_t word(std::size_t off) const {
    std::uint64_t w;
    std::memcpy(&w, reinterpret_cast<const unsigned char*>(this) + off, 8);
    return w;
  }
};
static_assert(sizeof(FlowKey) == 40, "FlowKey compares and hashes as five words");

namespace detail {
inline std::uint64_t load_be64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
inline std::uint64_t load64(const void* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
// 64x64 -> 128-bit multiply, high and low halves folded (wyhash's "mum"):
// every input bit reaches every output bit in one multiply.
inline std::uint64_t mum(std::uint64_t a, std::uint64_t b) {
  __extension__ using u128 = unsigned __int128;
  const u128 r = static_cast<u128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}
}  // namespace detail

// Per-table random words, one per key word: an attacker who picks addresses
// and ports can't aim at one probe chain (nor zero a multiplier) without them.
struct HashSeed {
  std::uint64_t w[5];
};

// Three multiplies for the key's five words: the addresses as the key holds
// them (memory order: make_flow_key has them in registers so), then ports and VLAN.
inline std::uint64_t hash_words(std::uint64_t a_hi, std::uint64_t a_lo, std::uint64_t b_hi, std::uint64_t b_lo,
                                std::uint64_t rest, const HashSeed& s) {
  using detail::mum;
  const std::uint64_t h = mum(a_hi ^ s.w[0], a_lo ^ s.w[1]) ^ mum(b_hi ^ s.w[2], b_lo ^ s.w[3]);
  return mum(h ^ rest, s.w[4]);
}

inline std::uint64_t key_rest(std::uint16_t port0, std::uint16_t port1, std::uint16_t vlan) {
  return std::uint64_t(port0) | std::uint64_t(port1) << 16 | std::uint64_t(vlan) << 32;
}

inline std::uint64_t hash_key(const FlowKey& k, const HashSeed& s) {
  using detail::load64;
  return hash_words(load64(k.addr[0].bytes), load64(k.addr[0].bytes + 8), load64(k.addr[1].bytes),
                    load64(k.addr[1].bytes + 8), key_rest(k.port[0], k.port[1], k.vlan), s);
}

// Builds the key of a packet in place (no temporary: this runs per packet),
// tells which side sent it and returns hash_key() of it, from the words it
// stores rather than re-reading the key. Inline and branch-free: which
// side is lower is a coin toss per packet, so branches on it would
// mispredict half the time.
// `vlan_mask` is 0 (the default: a VLAN tag does not split a connection, as
// in Wireshark's conversations; a mirror or trunk port often tags one
// direction only) or 0xffff (separate_vlans: the same addresses on two VLANs
// are two connections, for overlapping address spaces).
inline std::uint64_t make_flow_key(const DecodedPacket& p, FlowKey& k, int& sender_side, const HashSeed& seed,
                                   std::uint16_t vlan_mask) {
  using detail::load64;
  // memcmp order of the addresses, then the ports: big-endian words compare like bytes.
  const std::uint64_t s0 = detail::load_be64(p.src.bytes), d0 = detail::load_be64(p.dst.bytes);
  const std::uint64_t s1 = detail::load_be64(p.src.bytes + 8), d1 = detail::load_be64(p.dst.bytes + 8);
  const bool src_higher = (s0 > d0) | ((s0 == d0) & ((s1 > d1) | ((s1 == d1) & (p.src_port > p.dst_port))));
  sender_side = src_higher;
  // Every choice by src_higher is a mask select: written as `src_higher ? x : y`
  // GCC turned them into one branch, mispredicted on every other packet.
  const std::uint64_t m = 0 - static_cast<std::uint64_t>(src_higher);  // all ones: swap
  auto pick = [m](std::uint64_t keep, std::uint64_t swap) { return (keep & ~m) | (swap & m); };
  // (Named words, not a local array: see FlowKey::operator==.)
  const std::uint64_t src0 = load64(p.src.bytes), src1 = load64(p.src.bytes + 8);
  const std::uint64_t dst0 = load64(p.dst.bytes), dst1 = load64(p.dst.bytes + 8);
  const std::uint64_t lo0 = pick(src0, dst0), lo1 = pick(src1, dst1);
  const std::uint64_t hi0 = pick(dst0, src0), hi1 = pick(dst1, src1);
  std::memcpy(k.addr[0].bytes, &lo0, 8);
  std::memcpy(k.addr[0].bytes + 8, &lo1, 8);
  std::memcpy(k.addr[1].bytes, &hi0, 8);
  std::memcpy(k.addr[1].bytes + 8, &hi1, 8);
  const auto port0 = static_cast<std::uint16_t>(pick(p.src_port, p.dst_port));
  const auto port1 = static_cast<std::uint16_t>(pick(p.dst_port, p.src_port));
  k.port[0] = port0;
  k.port[1] = port1;
  const auto vlan = static_cast<std::uint16_t>(p.vlan & vlan_mask);
  k.vlan = vlan;
  k.pad = 0;
  return hash_words(lo0, lo1, hi0, hi1, key_rest(port0, port1, vlan), seed);
}

// Flags remembered about the last segment of a direction (Wireshark's
// lastsegmentflags, reduced to what later checks read).
namespace lastseg {
constexpr std::uint8_t keep_alive = 1, zero_window_probe = 2;
}

// Endpoint::window before the direction's first segment (a raw window is 16 bits).
constexpr std::uint32_t kNoWindow = 0xffffffffu;

// Per-direction state. Sequence values are absolute; 0 means "unknown",
// exactly as in Wireshark, so that our checks fire on the same frames.
// 56 bytes: the 64-bit times first, so nothing is padded.
struct Endpoint {
  std::int64_t nextseq_time = 0;      // when nextseq last advanced
  std::int64_t lastack_time = 0;      // time of this direction's last segment
  std::int64_t rtt_start = 0;         // 0 = no timing in progress
  std::uint32_t base_seq = 0;         // ISN (SYN) or first seq - 1
  std::uint32_t nextseq = 0;          // highest seq + len seen (SYN/FIN count 1)
  std::uint32_t lastack = 0;          // ack field of this direction's last segment
  std::uint32_t maxseqtobeacked = 0;  // end of the contiguous range seen
  std::uint32_t window = kNoWindow;   // raw window of the last segment
  std::uint32_t rtt_end = 0;          // Karn timing: end of the timed segment
  std::int16_t dupacknum = 0;
  std::int8_t win_scale = -1;         // -1 unknown, -2 no scaling, else shift
  std::uint8_t last_flags = 0;        // lastseg::*
  bool base_set = false;
  bool sent_non_syn_ack = false;      // an ACK without SYN went out (window_full shift)
  bool fin_seen = false;
  bool in_zero_window = false;        // last non-SYN/RST segment advertised zero
};
static_assert(sizeof(Endpoint) == 56, "no padding inside an endpoint");

enum class ConnState : std::uint8_t {
  midstream,     // first packet was not a SYN: never counted as opened
  syn_sent,      // pure SYN seen
  syn_received,  // SYN/ACK seen after a SYN
  established,   // handshake completed: counted in connections_opened
  closed,        // FIN both ways or RST: lingers to absorb stragglers
  failed,        // SYN unanswered for syn_timeout: counted once in connects_failed,
                 // then kept (idle like an open connection) so the kernel's later
                 // SYN retries, up to a minute apart, stay retransmissions of it
};

// 192 bytes, three cache lines (the table's records start 64-aligned), all
// of which a segment's analysis reads: the table is far larger than the
// caches, so each line is a memory access per packet. The four flags are
// bit-fields without default initialisers (C++17): Flow{} zeroes them.
struct Flow {
  FlowKey key;
  std::int64_t first_seen = 0;
  std::int64_t last_seen = 0;
  std::int64_t last_syn_time = 0;   // most recent pure SYN (Wireshark's iRTT start)
  std::int64_t irtt = 0;            // Wireshark's initial RTT; 0 = unknown
  Endpoint ep[2];
  ConnState state = ConnState::midstream;
  std::uint8_t client_side = 2;     // side that sent the SYN; 2 = unknown
  std::uint8_t local_mask = 0;      // bit s set: side s is a local address
  bool opened : 1;                  // counted in connections_opened (and active)
  bool analysed : 1;                // a segment was analysed (false: the flow is new)
  bool in_use : 1;                  // the record holds a flow (the table's free list has the others)
  bool refused : 1;                 // closed by the server's RST to a SYN (connects_refused)
  std::uint16_t block = 0;          // aggregator block (peer) of this connection
  std::uint16_t block_generation = 0;
};
static_assert(sizeof(Flow) == 192, "three cache lines");

}  // namespace tcpanomaly
