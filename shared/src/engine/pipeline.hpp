// One capture source's analysis chain: decode (decode/) -> flow table, TCP
// analysis and expiry (flow/) -> counters under labels (aggregate/). The
// pipeline only wires the stages and picks each result's label set. Owned
// by one capture thread; everything else calls it under the lock that
// thread holds while it feeds frames (frame_producer.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "aggregate/aggregator.hpp"
#include "decode/decoder.hpp"
#include "flow/expiry.hpp"
#include "flow/flow_table.hpp"
#include "flow/local_networks.hpp"
#include "flow/tcp_analyzer.hpp"
#include "tcpanomaly/config.hpp"
#include "tcpanomaly/snapshot.hpp"

namespace tcpanomaly {

class Pipeline {
 public:
  Pipeline(std::string interface, const AnalysisConfig& config, const LocalNetworks& local);

  void set_link_type(int link_type) { link_type_ = link_type; }
  // TCP segments are decoded at once but analysed a few segments later
  // (see ring_); everything that reads the results flushes first.
  void on_frame(std::int64_t time_ns, const std::uint8_t* data, std::uint32_t captured,
                std::uint32_t wire_length);
  // Analyses the waiting segments, in arrival order.
  void flush();
  // Advances the clock without a packet (idle live capture): runs expiry.
  void advance_clock(std::int64_t now_ns);
  // Capture statistics are cumulative figures from pcap_stats.
  void set_capture_stats(std::uint64_t received, std::uint64_t dropped, std::uint64_t if_dropped);
  // Appends this pipeline's label sets (the engine merges equal ones).
  void snapshot_into(Snapshot& snap);
  // Peer labels are chosen by the engine over every producer of the
  // interface (Engine's clock tick); promote_peers() is that choice for a
  // pipeline on its own (tests, benchmarks).
  Aggregator& aggregator() { return aggregator_; }
  void promote_peers();

  const FlowTable& flows() const { return flows_; }
  std::int64_t clock() const { return clock_; }

 private:
  void on_tcp(const DecodedPacket& p, const FlowKey& key, std::uint64_t hash, int side);
  Flow* lookup_or_create(const DecodedPacket& p, const FlowKey& key, std::uint64_t hash);
  Flow* create(const DecodedPacket& p, const FlowKey& key, std::uint64_t hash);
  void apply(const Flow& f, int side, const DecodedPacket& p, const SegmentEvents& ev);
  Direction direction_of(const Flow& f, int sender_side) const;
  Direction untracked_direction(const DecodedPacket& p) const;
  SeriesBlock& block_of(Flow& f, Direction d);
  void resolve_block(Flow& f);
  void expire(std::int64_t now);
  void make_room(std::int64_t now);  // the table is full (create())
  void finish(Flow& f, Slot eviction);
  void finish(Flow& f, FlowEnd end);
  void count(Slot s, std::uint64_t n = 1) { interface_block_[s] += n; }

  struct InterfaceCounters {
    SeriesBlock* block;
    std::uint64_t& operator[](Slot s) { return block->counters[static_cast<std::size_t>(s)]; }
  };

  // Decoded segments wait in a short ring before analysis, so their flow
  // records can be fetched from memory while other packets are decoded and
  // analysed (a flow record is a cache miss: the table is far larger than
  // the caches). A segment's index slot is prefetched when it is decoded;
  // kFlowDistance segments later, its flow record; kAnalyseDistance segments
  // after it arrived, it is analysed. Segments are still analysed strictly
  // in arrival order; the prefetches are hints only.
  static constexpr std::size_t kRing = 16;  // power of two
  static constexpr std::size_t kFlowDistance = 6;
  static constexpr std::size_t kAnalyseDistance = 14;
  static_assert(kFlowDistance < kAnalyseDistance && kAnalyseDistance < kRing, "ring stages");
  // Padded to a power of two (from 152 bytes): a ring index is then one
  // shift, where 152 took four instructions at each of its uses.
  struct alignas(256) Pending {
    DecodedPacket packet;
    FlowKey key;
    std::uint64_t hash;
    int side;
  };
  static_assert(sizeof(Pending) == 256, "ring slots index by shifting");
  Pending& ring_at(std::uint64_t n) { return ring_[n & (kRing - 1)]; }
  void analyse_oldest();
  std::array<Pending, kRing> ring_;
  std::uint64_t ring_head_ = 0;  // segments entered
  std::uint64_t ring_tail_ = 0;  // segments analysed

  AnalysisConfig config_;
  const LocalNetworks& local_;
  Aggregator aggregator_;
  InterfaceCounters interface_block_;
  FlowTable flows_;
  int link_type_ = 1;
  std::int64_t clock_ = 0;
  std::int64_t next_sweep_ = 0;
  std::int64_t next_emergency_ = 0;
  FlowTimeouts timeouts_;
  // Looked up once: an RTT sample comes every few segments.
  const HistogramInfo& rtt_info_;
};

}  // namespace tcpanomaly
