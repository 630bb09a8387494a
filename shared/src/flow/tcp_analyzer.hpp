// Stage 3b: TCP analysis of one segment against its connection's state.
// Classification follows Wireshark 4.0's tcp_analyze_sequence_number() rule
// by rule (see README "Matching Wireshark"), plus connection tracking.
#pragma once

#include <cstdint>

#include "decode/packet.hpp"
#include "flow/flow.hpp"

namespace tcpanomaly {

namespace event {
// Per-segment classification (Wireshark's tcp.analysis.* flags).
constexpr std::uint32_t retransmission = 1u << 0;   // generic, fast or spurious
constexpr std::uint32_t fast_retransmission = 1u << 1;
constexpr std::uint32_t spurious_retransmission = 1u << 2;
constexpr std::uint32_t out_of_order = 1u << 3;
constexpr std::uint32_t lost_segment = 1u << 4;
constexpr std::uint32_t acked_unseen = 1u << 5;
constexpr std::uint32_t duplicate_ack = 1u << 6;
constexpr std::uint32_t zero_window = 1u << 7;
constexpr std::uint32_t zero_window_probe = 1u << 8;
constexpr std::uint32_t window_full = 1u << 9;
constexpr std::uint32_t window_update = 1u << 10;
constexpr std::uint32_t keep_alive = 1u << 11;
constexpr std::uint32_t keep_alive_ack = 1u << 12;
constexpr std::uint32_t zero_window_probe_ack = 1u << 13;
constexpr std::uint32_t syn_retransmission = 1u << 14;
constexpr std::uint32_t reused_port = 1u << 15;     // pure SYN with a new ISN on a known tuple
// Not a Wireshark flag: the first zero window after a non-zero one in this
// direction, the event the kernel counts as TcpExtTCPToZeroWindowAdv.
constexpr std::uint32_t zero_window_episode = 1u << 20;
// Connection events (labelled with the connection's direction)
constexpr std::uint32_t opened = 1u << 16;
constexpr std::uint32_t refused = 1u << 17;
constexpr std::uint32_t closed_fin = 1u << 18;
constexpr std::uint32_t closed_rst = 1u << 19;
}  // namespace event

// Only `flags` and `rtt_side` are set for every segment (this is built per
// packet); each value below is written, and read, only with its marker.
struct SegmentEvents {
  std::uint32_t flags = 0;
  int rtt_side = -1;     // sender side of the timed data; -1 = no RTT sample
  double rtt;            // seconds: data RTT sample, when rtt_side >= 0
  double handshake_rtt;  // seconds, with event::opened
  double duration;       // seconds: connection lifetime, with event::closed_fin/closed_rst
};

// `side` is the sender's side in f.key. `f` must already hold the key.
// A segment sent by a local side (f.local_mask) is never out-of-order:
// nothing can reorder it before our capture point, so it is a retransmission.
void analyze_segment(Flow& f, int side, const DecodedPacket& p, SegmentEvents& ev);

// Wireshark's reused-ports rule: a pure SYN whose ISN differs from the one
// known for its direction starts a new connection on the same tuple.
// Inline: asked for every segment, and almost always answered by the flags.
inline bool starts_new_connection(const Flow& f, int side, const DecodedPacket& p) {
  const Endpoint& fwd = f.ep[side];
  return (p.flags & (tcpflag::syn | tcpflag::ack)) == tcpflag::syn && fwd.base_set && p.seq != fwd.base_seq;
}

// Resets a flow's TCP state for a new connection on the same tuple.
void reset_connection(Flow& f);

}  // namespace tcpanomaly
