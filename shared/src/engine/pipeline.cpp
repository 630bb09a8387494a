#include "engine/pipeline.hpp"

#include "aggregate/event_counters.hpp"

namespace tcpanomaly {
using namespace counting;
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kSweepInterval = kSecond;  // expiry granularity

std::int64_t to_ns(double seconds) { return static_cast<std::int64_t>(seconds * 1e9); }

// The end a flow's peer label names: the remote one. With both or neither
// end local (transit, loopback) the server is the one worth naming.
int peer_side(const Flow& f) {
  const bool local0 = f.local_mask & 1, local1 = f.local_mask & 2;
  if (local0 != local1) return local0 ? 1 : 0;
  return f.client_side == 2 ? 1 : 1 - f.client_side;
}

}  // namespace

Pipeline::Pipeline(std::string interface, const AnalysisConfig& config, const LocalNetworks& local)
    : config_(config),
      local_(local),
      aggregator_(std::move(interface), config),
      interface_block_{&aggregator_.interface_block()},
      flows_(config.flow_table_size, config.separate_vlans),
      timeouts_{to_ns(config.syn_timeout_s), to_ns(config.established_timeout_s), to_ns(config.closed_timeout_s)},
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
      count_segment(p, aggregator_.flow_block(0, untracked_direction(p)), config_.ip_counted_by_kernel);
      return;
    }
    // bad_ip_length: decoded with the length clamped to the wire, analysed as usual.
  }
  if (!p.has_tcp) {
    // We don't reassemble: a fragmented TCP segment is counted, not analysed.
    // (A frame gets one decode error at most: an overlong one is not counted twice.)
    if (p.protocol == 6 && p.first_fragment && r == DecodeResult::ok) count(Slot::err_tcp_fragmented);
    count_ip(p, aggregator_.flow_block(0, untracked_direction(p)), proto_index(p.protocol), config_.ip_counted_by_kernel);
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
    count_segment(p, aggregator_.flow_block(0, untracked_direction(p)), config_.ip_counted_by_kernel);
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

[[gnu::always_inline]] inline void Pipeline::apply(const Flow& fc, int side, const DecodedPacket& p, const SegmentEvents& ev) {
  Flow& f = const_cast<Flow&>(fc);
  const Direction d = direction_of(f, side);
  SeriesBlock& b = block_of(f, d);
  count_segment(p, b, config_.ip_counted_by_kernel);
  const std::uint32_t e = ev.flags;
  if (e) {
    count_segment_events(b, e);
    if (aggregator_.peers_enabled() && (e & kAnomalyEvents) && f.block == 0)
      aggregator_.note_anomaly(f.key.addr[peer_side(f)], 1);
  }
  if (ev.rtt_side >= 0) {
    SeriesBlock& rb = block_of(f, direction_of(f, ev.rtt_side));
    rb.histograms[static_cast<std::size_t>(Histogram::rtt)].observe(ev.rtt, rtt_info_);
  }
  // Connection events are labelled with the direction of the client's packets.
  if (e & kConnectionEvents) {
    const int client = f.client_side == 2 ? side : f.client_side;
    count_connection_events(block_of(f, direction_of(f, client)), ev);
  }
}

// Removes a flow, counting what its end means: an open connection that
// timed out or was evicted, and the eviction reason.
void Pipeline::finish(Flow& f, Slot eviction) {
  const int client = f.client_side == 2 ? 0 : f.client_side;
  SeriesBlock& cb = block_of(f, direction_of(f, client));
  if (f.opened && f.state != ConnState::closed)
    count_open_flow_end(cb, eviction == Slot::evicted_idle, static_cast<double>(f.last_seen - f.first_seen) / 1e9);
  count(eviction);
}

void Pipeline::finish(Flow& f, FlowEnd end) {
  switch (end) {
    case FlowEnd::idle: finish(f, Slot::evicted_idle); break;
    case FlowEnd::closed: finish(f, Slot::evicted_closed); break;
    case FlowEnd::table_full: finish(f, Slot::evicted_table_full); break;
  }
}

void Pipeline::make_room(std::int64_t now) {
  tcpanomaly::make_room(flows_, now, [this](Flow& f, FlowEnd end) { finish(f, end); });
}

void Pipeline::expire(std::int64_t now) {
  expire_idle(
      flows_, now, timeouts_,
      [this](Flow& f) {
        const int client = f.client_side == 2 ? 0 : f.client_side;
        block_of(f, direction_of(f, client)).counters[idx(Slot::connects_failed)] += 1;
      },
      [this](Flow& f, FlowEnd end) { finish(f, end); });
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

void Pipeline::promote_peers() {
  if (!aggregator_.peers_enabled()) return;
  flush();  // candidates come from analysed segments
  aggregator_.apply(choose_peers(aggregator_.take_candidates(), aggregator_.promoted_count(),
                                 aggregator_.top_peers(), aggregator_.max_series()),
                    true);
}

void Pipeline::snapshot_into(Snapshot& snap) {
  flush();
  interface_block_[Slot::flows_active] = flows_.size();
  aggregator_.append_to(snap);
}

}  // namespace tcpanomaly
