// Stage 4a: what each analysis result adds to a label set's counters: a
// frame's IP facts, a segment's header facts, its classification events
// (tcp_analyzer.hpp), connection events and flow ends. Which block (label
// set) they go to is the pipeline's choice; these only count. All inline:
// they run per packet.
#pragma once

#include <cstdint>

#include "decode/packet.hpp"
#include "flow/tcp_analyzer.hpp"
#include "tcpanomaly/snapshot.hpp"

namespace tcpanomaly::counting {

inline std::size_t idx(Slot s) { return static_cast<std::size_t>(s); }

// 1 if any bit of mask is set in v: flags are added as numbers, not branched on.
inline std::uint64_t bit(std::uint32_t v, std::uint32_t mask) { return (v & mask) != 0; }

inline Slot decode_error_slot(DecodeResult r) {
  switch (r) {
    case DecodeResult::truncated: return Slot::err_truncated;
    case DecodeResult::bad_ip_header: return Slot::err_bad_ip_header;
    case DecodeResult::bad_ip_length: return Slot::err_bad_ip_length;
    case DecodeResult::bad_tcp_header: return Slot::err_bad_tcp_header;
    case DecodeResult::bad_ipv6_extension: return Slot::err_bad_ipv6_ext;
    case DecodeResult::unsupported_linktype: return Slot::err_unsupported_link;
    default: return Slot::non_ip_frames;
  }
}

// packets/bytes slots are laid out proto-major, ip-minor: tcp4, tcp6, udp4, ...
constexpr int kTcp = 0;
inline int proto_index(std::uint8_t protocol) {
  switch (protocol) {
    case 6: return kTcp;
    case 17: return 1;
    case 1: case 58: return 2;
    default: return 3;
  }
}

// Anomalies that weigh a peer for the top-K label.
constexpr std::uint32_t kAnomalyEvents =
    event::retransmission | event::out_of_order | event::lost_segment | event::duplicate_ack |
    event::zero_window | event::keep_alive | event::refused | event::closed_rst;

// A frame's IP facts. `proto` = proto_index(p.protocol); TCP segments pass
// kTcp (known at compile time). `in_kernel`: the tc program counts them
// (kernel_counters), all but TCP's ECN marks, which stay with the segment.
[[gnu::always_inline]] inline void count_ip(const DecodedPacket& p, SeriesBlock& b, int proto, bool in_kernel) {
  if (in_kernel) {
    b.counters[idx(Slot::ecn_ce)] += p.ecn == 3 && proto == kTcp;
    return;
  }
  const std::size_t v6 = p.ip_version == 6 ? 1 : 0;
  b.counters[idx(Slot::packets_tcp4) + 2 * proto + v6] += 1;
  b.counters[idx(Slot::bytes_tcp4) + 2 * proto + v6] += p.ip_length;
  b.counters[idx(Slot::ip_df)] += p.dont_fragment;
  b.counters[idx(Slot::ip_fragments)] += p.fragment;
  b.counters[idx(Slot::ecn_ce)] += p.ecn == 3;
  // Only the bucket: the histogram's count and sum are the packets and bytes
  // counted just above, filled in when the block is copied out (Aggregator::append_to).
  ++b.histograms[static_cast<std::size_t>(Histogram::packet_size_tcp) + proto].buckets[packet_size_bucket(p.ip_length)];
}

// What a segment's own header tells, tracked or not: a full flow table
// must not hide SYNs or resets (a SYN flood is when they matter most).
[[gnu::always_inline]] inline void count_segment(const DecodedPacket& p, SeriesBlock& b, bool ip_in_kernel) {
  auto add = [&b](Slot s, std::uint64_t n = 1) { b.counters[idx(s)] += n; };
  count_ip(p, b, kTcp, ip_in_kernel);
  add(Slot::tcp_segments);
  add(Slot::tcp_payload_bytes, p.payload_length);
  // Flag and event bits are added, not branched on: which of them a segment
  // carries is close to random from one segment to the next, and every
  // mispredicted branch costs more than the few adds.
  const std::uint8_t fl = p.flags;
  add(Slot::resets, bit(fl, tcpflag::rst));
  if (fl & tcpflag::syn) {  // rare: a well-predicted branch
    if (!(fl & tcpflag::ack)) add(Slot::syn);
    if (p.options.window_scale >= 0) add(Slot::syn_window_scale);
    if (p.options.sack_permitted) add(Slot::syn_sack_permitted);
    if (p.options.timestamps) add(Slot::syn_timestamps);
  } else {
    // On SYNs ECE/CWR negotiate ECN; elsewhere they signal congestion.
    add(Slot::ecn_ece, bit(fl, tcpflag::ece));
    add(Slot::ecn_cwr, bit(fl, tcpflag::cwr));
  }
}

// A segment's classification (Wireshark's tcp.analysis flags and ours).
[[gnu::always_inline]] inline void count_segment_events(SeriesBlock& b, std::uint32_t e) {
  auto add = [&b](Slot s, std::uint64_t n) { b.counters[idx(s)] += n; };
  add(Slot::retransmissions, bit(e, event::retransmission));
  add(Slot::fast_retransmissions, bit(e, event::fast_retransmission));
  add(Slot::spurious_retransmissions, bit(e, event::spurious_retransmission));
  add(Slot::out_of_order, bit(e, event::out_of_order));
  add(Slot::lost_segments, bit(e, event::lost_segment));
  add(Slot::acked_unseen, bit(e, event::acked_unseen));
  add(Slot::duplicate_acks, bit(e, event::duplicate_ack));
  add(Slot::zero_windows, bit(e, event::zero_window));
  add(Slot::zero_window_probes, bit(e, event::zero_window_probe));
  add(Slot::zero_window_episodes, bit(e, event::zero_window_episode));
  add(Slot::window_full, bit(e, event::window_full));
  add(Slot::window_updates, bit(e, event::window_update));
  add(Slot::keep_alives, bit(e, event::keep_alive));
  add(Slot::syn_retransmissions, bit(e, event::syn_retransmission));
}

constexpr std::uint32_t kConnectionEvents = event::opened | event::refused | event::closed_fin | event::closed_rst;

// Opened, refused and closed connections, into the client direction's block.
inline void count_connection_events(SeriesBlock& cb, const SegmentEvents& ev) {
  const std::uint32_t e = ev.flags;
  if (e & event::refused) cb.counters[idx(Slot::connects_refused)] += 1;
  if (e & event::opened) {
    cb.counters[idx(Slot::connections_opened)] += 1;
    cb.counters[idx(Slot::connections_active)] += 1;
    cb.histograms[static_cast<std::size_t>(Histogram::handshake_rtt)].observe(
        ev.handshake_rtt, histogram_info(Histogram::handshake_rtt));
  }
  if (e & (event::closed_fin | event::closed_rst)) {
    cb.counters[idx((e & event::closed_fin) ? Slot::closed_fin : Slot::closed_rst)] += 1;
    cb.counters[idx(Slot::connections_active)] -= 1;
    cb.histograms[static_cast<std::size_t>(Histogram::connection_duration)].observe(
        ev.duration, histogram_info(Histogram::connection_duration));
  }
}

// An opened connection the table gave up before it closed: timed out, or evicted.
inline void count_open_flow_end(SeriesBlock& cb, bool timed_out, double duration_s) {
  cb.counters[idx(timed_out ? Slot::closed_timeout : Slot::closed_evicted)] += 1;
  cb.counters[idx(Slot::connections_active)] -= 1;
  cb.histograms[static_cast<std::size_t>(Histogram::connection_duration)].observe(
      duration_s, histogram_info(Histogram::connection_duration));
}

}  // namespace tcpanomaly::counting
