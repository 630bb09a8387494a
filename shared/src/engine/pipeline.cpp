#include "engine/pipeline.hpp"

#include <algorithm>

namespace tcpanomaly {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kSweepInterval = kSecond;  // expiry granularity
constexpr std::int64_t kEmergencyIdle = kSecond;  // table full: flows seen this recently stay (make_room)

std::int64_t to_ns(double seconds) { return static_cast<std::int64_t>(seconds * 1e9); }
std::size_t idx(Slot s) { return static_cast<std::size_t>(s); }

Slot decode_error_slot(DecodeResult r) {
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
int proto_index(std::uint8_t protocol) {
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

// The end a flow's peer label names: the remote one. With both or neither
// end local (transit, loopback) the server is the one worth naming.
int peer_side(const Flow& f) {
  const bool local0 = f.local_mask & 1, local1 = f.local_mask & 2;
  if (local0 != local1) return local0 ? 1 : 0;
  return f.client_side == 2 ? 1 : 1 - f.client_side;
}

// 1 if any bit of mask is set in v: flags are added as numbers, not branched on.
inline std::uint64_t bit(std::uint32_t v, std::uint32_t mask) { return (v & mask) != 0; }

}  // namespace

Pipeline::Pipeline(std::string interface, const AnalysisConfig& config, const LocalNetworks& local)
    : config_(config),
      local_(local),
      aggregator_(std::move(interface), config),
      interface_block_{&aggregator_.interface_block()},
      flows_(config.flow_table_size, config.separate_vlans),
      syn_timeout_(to_ns(config.syn_timeout_s)),
      established_timeout_(to_ns(config.established_timeout_s)),
      closed_timeout_(to_ns(config.closed_timeout_s)),
      rtt_info_(histogram_info(Histogram::rtt)) {}

void Pipeline::on_frame(std::int64_t time_ns, const std::uint8_t* data, std::uint32_t captured,
                        std::uint32_t wire_length) {
  // advance_clock()'s common case, inline: time moved on, no sweep due yet
  // (the same conditions as there: change both together).
  if (time_ns > clock_ && next_sweep_ != 0 && time_ns < next_sweep_) clock_ = time_ns;
  else advance_clock(time_ns);
  Pending& slot = ring_at(ring_head_);
  DecodedPacket& p = slot.packet;  // decoded in place, not cleared first (see decode())
  p.time_ns = time_ns;
  p.wire_length = wire_length;
  const DecodeResult r = decode(link_type_, data, captured, wire_length, p);
  if (r != DecodeResult::ok) [[unlikely]] {
    // A frame cut inside the transport header still counts as IP traffic.
    count(decode_error_slot(r));
    if (p.ip_version == 0) return;
    // Only the fixed header is known: its flags count, the analysis (which
    // needs the payload length) does not see it.
    if (r == DecodeResult::bad_tcp_header) {
      count_segment(p, aggregator_.flow_block(0, untracked_direction(p)));
      return;
    }
    // bad_ip_length: decoded with the length clamped to the wire, analysed as usual.
  }
  if (!p.has_tcp) {
    // We don't reassemble: a fragmented TCP segment is counted, not analysed.
    // (A frame gets one decode error at most: an overlong one is not counted twice.)
    if (p.protocol == 6 && p.first_fragment && r == DecodeResult::ok) count(Slot::err_tcp_fragmented);
    count_ip(p, aggregator_.flow_block(0, untracked_direction(p)));
    return;
  }
  slot.hash = flows_.key_of(p, slot.key, slot.side);
  flows_.prefetch_slot(slot.hash);
  ++ring_head_;
  const std::uint64_t waiting = ring_head_ - ring_tail_;
  if (waiting > kFlowDistance) flows_.prefetch_flow(ring_at(ring_head_ - 1 - kFlowDistance).hash);
  if (waiting > kAnalyseDistance) analyse_oldest();
}

// analyse_oldest(), lookup_or_create(), on_tcp() and apply() are forced
// inline into one another: left to itself GCC keeps them calls, ~25
// instructions of prologue and epilogue per segment.
[[gnu::always_inline]] inline void Pipeline::analyse_oldest() {
  const Pending& s = ring_at(ring_tail_);
  on_tcp(s.packet, s.key, s.hash, s.side);
  ++ring_tail_;
}

void Pipeline::flush() {
  // The newest segments' records were not prefetched yet.
  const std::uint64_t first = ring_head_ - ring_tail_ > kFlowDistance ? ring_head_ - kFlowDistance : ring_tail_;
  for (std::uint64_t n = first; n < ring_head_; ++n) flows_.prefetch_flow(ring_at(n).hash);
  while (ring_tail_ != ring_head_) analyse_oldest();
}

// Per packet: inline, and the size bucket from a table (packet_size_bucket).
inline void Pipeline::count_ip(const DecodedPacket& p, SeriesBlock& b) { count_ip(p, b, proto_index(p.protocol)); }

// `proto` = proto_index(p.protocol); TCP segments pass 0 (known at compile time).
inline void Pipeline::count_ip(const DecodedPacket& p, SeriesBlock& b, int proto) {
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

// Traffic without a flow is labelled by its sender when local, else "in"/"transit".
Direction Pipeline::untracked_direction(const DecodedPacket& p) const {
  if (local_.contains(p.src)) return Direction::out;
  return local_.contains(p.dst) ? Direction::in : Direction::transit;
}

// The sender's side local: out; else the receiver's: in; else transit.
inline Direction Pipeline::direction_of(const Flow& f, int sender_side) const {
  static constexpr Direction kByMaskAndSide[4][2] = {
      {Direction::transit, Direction::transit},
      {Direction::out, Direction::in},
      {Direction::in, Direction::out},
      {Direction::out, Direction::out},
  };
  return kByMaskAndSide[f.local_mask & 3][sender_side];
}

// The peer label set of a connection is re-resolved only when the set of
// labelled peers changed since (rare): the per-packet path is one compare.
inline SeriesBlock& Pipeline::block_of(Flow& f, Direction d) {
  if (aggregator_.peers_enabled() && f.block_generation != aggregator_.peer_generation()) resolve_block(f);
  return aggregator_.flow_block(f.block, d);
}

void Pipeline::resolve_block(Flow& f) {
  const std::uint16_t block = aggregator_.resolve_peer(f.key.addr[peer_side(f)]);
  if (block != f.block && f.opened && f.state != ConnState::closed) {
    // The gauge follows the connection to its new label set.
    const Direction cd = direction_of(f, f.client_side == 2 ? 0 : f.client_side);
    aggregator_.flow_block(f.block, cd).counters[idx(Slot::connections_active)] -= 1;
    aggregator_.flow_block(block, cd).counters[idx(Slot::connections_active)] += 1;
  }
  f.block = block;
  f.block_generation = aggregator_.peer_generation();
}

[[gnu::always_inline]] inline Flow* Pipeline::lookup_or_create(const DecodedPacket& p, const FlowKey& key, std::uint64_t h) {
  if (Flow* f = flows_.find(key, h)) return f;
  return create(p, key, h);
}

// Out of line: once per connection, not per packet.
Flow* Pipeline::create(const DecodedPacket& p, const FlowKey& key, std::uint64_t h) {
  Flow* f = flows_.insert(key, h);
  // The packet's own time, not clock_: the clock may be a few segments ahead (ring_).
  const std::int64_t now = p.time_ns;
  if (!f && now >= next_emergency_) {
    next_emergency_ = now + kSecond;
    make_room(now);
    f = flows_.insert(key, h);
  }
  if (!f) {
    count(Slot::evicted_table_full);  // this connection goes untracked
    return nullptr;
  }
  f->local_mask = static_cast<std::uint8_t>((local_.contains(key.addr[0]) ? 1 : 0) |
                                            (local_.contains(key.addr[1]) ? 2 : 0));
  return f;
}

[[gnu::always_inline]] inline void Pipeline::on_tcp(const DecodedPacket& p, const FlowKey& key, std::uint64_t hash, int side) {
  Flow* f = lookup_or_create(p, key, hash);
  if (!f) {
    // Untracked: still counted as traffic, without TCP analysis.
    count_segment(p, aggregator_.flow_block(0, untracked_direction(p)));
    return;
  }
  SegmentEvents ev;
  if (f->analysed && starts_new_connection(*f, side, p)) {
    finish(*f, f->state == ConnState::closed ? Slot::evicted_closed : Slot::evicted_port_reuse);
    reset_connection(*f);
    ev.flags |= event::reused_port;
  }
  analyze_segment(*f, side, p, ev);
  apply(*f, side, p, ev);
}

// What a segment's own header tells, tracked or not: a full flow table
// must not hide SYNs or resets (a SYN flood is when they matter most).
[[gnu::always_inline]] inline void Pipeline::count_segment(const DecodedPacket& p, SeriesBlock& b) {
  auto add = [&b](Slot s, std::uint64_t n = 1) { b.counters[idx(s)] += n; };
  count_ip(p, b, kTcp);
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

[[gnu::always_inline]] inline void Pipeline::apply(const Flow& fc, int side, const DecodedPacket& p, const SegmentEvents& ev) {
  Flow& f = const_cast<Flow&>(fc);
  const Direction d = direction_of(f, side);
  SeriesBlock& b = block_of(f, d);
  auto add = [&b](Slot s, std::uint64_t n = 1) { b.counters[idx(s)] += n; };
  count_segment(p, b);
  const std::uint32_t e = ev.flags;
  if (e) {
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
    if (aggregator_.peers_enabled() && (e & kAnomalyEvents) && f.block == 0)
      aggregator_.note_anomaly(f.key.addr[peer_side(f)], 1);
  }
  if (ev.rtt_side >= 0) {
    SeriesBlock& rb = block_of(f, direction_of(f, ev.rtt_side));
    rb.histograms[static_cast<std::size_t>(Histogram::rtt)].observe(ev.rtt, rtt_info_);
  }
  // Connection events are labelled with the direction of the client's packets.
  if (e & (event::opened | event::refused | event::closed_fin | event::closed_rst)) {
    const int client = f.client_side == 2 ? side : f.client_side;
    SeriesBlock& cb = block_of(f, direction_of(f, client));
    auto cadd = [&cb](Slot s, std::int64_t n) { cb.counters[idx(s)] += static_cast<std::uint64_t>(n); };
    if (e & event::refused) cadd(Slot::connects_refused, 1);
    if (e & event::opened) {
      cadd(Slot::connections_opened, 1);
      cadd(Slot::connections_active, 1);
      cb.histograms[static_cast<std::size_t>(Histogram::handshake_rtt)].observe(
          ev.handshake_rtt, histogram_info(Histogram::handshake_rtt));
    }
    if (e & (event::closed_fin | event::closed_rst)) {
      cadd((e & event::closed_fin) ? Slot::closed_fin : Slot::closed_rst, 1);
      cb.counters[idx(Slot::connections_active)] -= 1;
      cb.histograms[static_cast<std::size_t>(Histogram::connection_duration)].observe(
          ev.duration, histogram_info(Histogram::connection_duration));
    }
  }
}

std::int64_t Pipeline::timeout_of(const Flow& f) const {
  switch (f.state) {
    case ConnState::syn_sent: case ConnState::syn_received: return syn_timeout_;
    case ConnState::failed: return established_timeout_;
    case ConnState::closed: return closed_timeout_;
    default: return established_timeout_;
  }
}

// Removes a flow, counting what its end means: an open connection that
// timed out or was evicted, and the eviction reason.
void Pipeline::finish(Flow& f, Slot eviction) {
  const int client = f.client_side == 2 ? 0 : f.client_side;
  SeriesBlock& cb = block_of(f, direction_of(f, client));
  if (f.opened && f.state != ConnState::closed) {
    const bool timed_out = eviction == Slot::evicted_idle;
    cb.counters[idx(timed_out ? Slot::closed_timeout : Slot::closed_evicted)] += 1;
    cb.counters[idx(Slot::connections_active)] -= 1;
    cb.histograms[static_cast<std::size_t>(Histogram::connection_duration)].observe(
        static_cast<double>(f.last_seen - f.first_seen) / 1e9, histogram_info(Histogram::connection_duration));
  }
  count(eviction);
}

namespace {
// Flows that only linger (closed, half-open, failed) and those still open.
bool lingering(const Flow& f) { return f.state != ConnState::established && f.state != ConnState::midstream; }
// log2 of an idle time in milliseconds: 0 below 1 ms, 10 from 512 ms, ...
std::size_t idle_bucket(std::int64_t idle_ns) {
  const auto ms = static_cast<std::uint64_t>(idle_ns > 0 ? idle_ns / 1'000'000 : 0);
  return ms ? static_cast<std::size_t>(64 - __builtin_clzll(ms)) : 0;
}
}  // namespace

// The table is full. Every lingering flow idle for kEmergencyIdle goes; if
// that frees less than a 64th of the table, open connections go too, the
// longest idle first (whole powers of two of idle time), none seen in the
// last kEmergencyIdle. Two passes over the table, nothing allocated.
void Pipeline::make_room(std::int64_t now) {
  std::array<std::uint32_t, 65> open_by_idle{};
  std::uint32_t freed = 0;
  flows_.for_each([&](Flow& f) {
    const std::int64_t idle = now - f.last_seen;
    if (idle < kEmergencyIdle) return;
    if (!lingering(f)) {
      ++open_by_idle[idle_bucket(idle)];
      return;
    }
    finish(f, Slot::evicted_table_full);
    flows_.remove(&f);
    ++freed;
  });
  const std::uint32_t wanted = std::max<std::uint32_t>(1, flows_.capacity() / 64);
  if (freed >= wanted) return;
  std::size_t oldest_kept = open_by_idle.size();  // open flows in buckets >= this go
  while (oldest_kept > 0 && freed < wanted) freed += open_by_idle[--oldest_kept];
  flows_.for_each([&](Flow& f) {
    const std::int64_t idle = now - f.last_seen;
    if (lingering(f) || idle < kEmergencyIdle || idle_bucket(idle) < oldest_kept) return;
    finish(f, Slot::evicted_table_full);
    flows_.remove(&f);
  });
}

void Pipeline::expire(std::int64_t now) {
  flows_.for_each([&](Flow& f) {
    // A connect fails syn_timeout after its first SYN, however often the
    // client retries; the flow stays to recognise further retries.
    if (f.state == ConnState::syn_sent && now - f.first_seen >= syn_timeout_) {
      f.state = ConnState::failed;
      const int client = f.client_side == 2 ? 0 : f.client_side;
      block_of(f, direction_of(f, client)).counters[idx(Slot::connects_failed)] += 1;
      return;
    }
    if (now - f.last_seen < timeout_of(f)) return;
    finish(f, f.state == ConnState::closed ? Slot::evicted_closed : Slot::evicted_idle);
    flows_.remove(&f);
  });
}

void Pipeline::advance_clock(std::int64_t now_ns) {
  if (now_ns <= clock_) return;
  // Expiry changes the flow table: waiting segments must be analysed against the table as it was.
  if (ring_tail_ != ring_head_ && next_sweep_ && now_ns >= next_sweep_) flush();
  clock_ = now_ns;
  if (next_sweep_ == 0) next_sweep_ = clock_ + kSweepInterval;
  if (clock_ >= next_sweep_) {
    next_sweep_ = clock_ + kSweepInterval;
    expire(clock_);
  }
}

void Pipeline::set_capture_stats(std::uint64_t received, std::uint64_t dropped, std::uint64_t if_dropped) {
  interface_block_[Slot::capture_received] = received;
  interface_block_[Slot::capture_dropped] = dropped;
  interface_block_[Slot::capture_if_dropped] = if_dropped;
}

void Pipeline::snapshot_into(Snapshot& snap) {
  flush();
  if (aggregator_.peers_enabled()) aggregator_.promote_peers();
  interface_block_[Slot::flows_active] = flows_.size();
  aggregator_.append_to(snap);
}

}  // namespace tcpanomaly
