// One tracked TCP connection: the canonical key and the per-direction state
// that Wireshark's analysis keeps (see tcp_analyzer.cpp). Kept small and
// allocation-free: the table preallocates a fixed array of these.
#pragma once

#include <cstdint>

#include "decode/packet.hpp"

namespace tcpanomaly {

// Canonical bidirectional key: side 0 is the numerically lower (address, port).
struct FlowKey {
  IpAddress addr[2];
  std::uint16_t port[2];
  std::uint16_t vlan;
  bool operator==(const FlowKey& o) const {
    return addr[0] == o.addr[0] && addr[1] == o.addr[1] && port[0] == o.port[0] &&
           port[1] == o.port[1] && vlan == o.vlan;
  }
};

// Builds the key of a packet in place (no temporary: this runs per packet)
// and tells which side sent it.
void make_flow_key(const DecodedPacket& p, FlowKey& k, int& sender_side);
std::uint64_t hash_key(const FlowKey& k, std::uint64_t seed);

// Flags remembered about the last segment of a direction (Wireshark's
// lastsegmentflags, reduced to what later checks read).
namespace lastseg {
constexpr std::uint8_t keep_alive = 1, zero_window_probe = 2;
}

// Per-direction state. Sequence values are absolute; 0 means "unknown",
// exactly as in Wireshark, so that our checks fire on the same frames.
struct Endpoint {
  std::uint32_t base_seq = 0;         // ISN (SYN) or first seq - 1
  std::uint32_t nextseq = 0;          // highest seq + len seen (SYN/FIN count 1)
  std::uint32_t lastack = 0;          // ack field of this direction's last segment
  std::uint32_t maxseqtobeacked = 0;  // end of the contiguous range seen
  std::uint32_t window = 0xffffffffu; // raw window of the last segment; max = none yet
  std::int64_t nextseq_time = 0;      // when nextseq last advanced
  std::int64_t lastack_time = 0;      // time of this direction's last segment
  std::uint32_t rtt_end = 0;          // Karn timing: end of the timed segment
  std::int64_t rtt_start = 0;         // 0 = no timing in progress
  std::int16_t dupacknum = 0;
  std::int8_t win_scale = -1;         // -1 unknown, -2 no scaling, else shift
  std::uint8_t last_flags = 0;        // lastseg::*
  bool base_set = false;
  bool sent_non_syn_ack = false;      // an ACK without SYN went out (window_full shift)
  bool fin_seen = false;
  bool in_zero_window = false;        // last non-SYN/RST segment advertised zero
};

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

struct Flow {
  FlowKey key;
  Endpoint ep[2];
  std::int64_t first_seen = 0;
  std::int64_t last_seen = 0;
  std::int64_t last_syn_time = 0;   // most recent pure SYN (Wireshark's iRTT start)
  std::int64_t irtt = 0;            // Wireshark's initial RTT; 0 = unknown
  std::uint32_t hash = 0;
  std::uint32_t segments = 0;       // analysed so far (0 = the flow is new)
  ConnState state = ConnState::midstream;
  bool opened = false;              // counted in connections_opened (and active)
  std::uint8_t client_side = 2;     // side that sent the SYN; 2 = unknown
  std::uint8_t local_mask = 0;      // bit s set: side s is a local address
  std::uint16_t block = 0;          // aggregator block (peer) of this connection
  std::uint16_t block_generation = 0;
  bool in_use = false;
};

}  // namespace tcpanomaly
