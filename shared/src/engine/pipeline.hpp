// One capture source's analysis chain: decode -> flow/TCP state -> aggregate.
// Owned by one capture thread; snapshot_into() must be called under the same
// lock the thread holds while it feeds frames (see engine.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "aggregate/aggregator.hpp"
#include "decode/decoder.hpp"
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
  // TCP segments are decoded at once but analysed in small batches (see
  // flush()); everything that reads the results flushes first.
  void on_frame(std::int64_t time_ns, const std::uint8_t* data, std::uint32_t captured,
                std::uint32_t wire_length);
  // Analyses the batched segments, in arrival order.
  void flush();
  // Advances the clock without a packet (idle live capture): runs expiry.
  void advance_clock(std::int64_t now_ns);
  // Capture statistics are cumulative figures from pcap_stats.
  void set_capture_stats(std::uint64_t received, std::uint64_t dropped, std::uint64_t if_dropped);
  void snapshot_into(Snapshot& snap);

  const FlowTable& flows() const { return flows_; }
  std::int64_t clock() const { return clock_; }

 private:
  void count_ip(const DecodedPacket& p, SeriesBlock& b);
  void on_tcp(const DecodedPacket& p, const FlowKey& key, std::uint64_t hash, int side);
  Flow* lookup_or_create(const DecodedPacket& p, const FlowKey& key, std::uint64_t hash);
  void apply(const Flow& f, int side, const DecodedPacket& p, const SegmentEvents& ev);
  Direction direction_of(const Flow& f, int sender_side) const;
  Direction untracked_direction(const DecodedPacket& p) const;
  SeriesBlock& block_of(Flow& f, Direction d);
  void resolve_block(Flow& f);
  void expire(std::int64_t now, bool emergency);
  void finish(Flow& f, Slot eviction);
  std::int64_t timeout_of(const Flow& f) const;
  void count(Slot s, std::uint64_t n = 1) { interface_block_[s] += n; }

  struct InterfaceCounters {
    SeriesBlock* block;
    std::uint64_t& operator[](Slot s) { return block->counters[static_cast<std::size_t>(s)]; }
  };

  // A batch of decoded segments: their flow records are fetched from memory
  // in parallel (prefetch) before any is analysed, instead of one cache miss
  // after another. Packets are still analysed strictly in order.
  static constexpr std::size_t kBatch = 16;
  struct Pending {
    DecodedPacket packet;
    FlowKey key;
    std::uint64_t hash;
    int side;
  };
  std::array<Pending, kBatch> batch_;
  std::size_t batched_ = 0;

  AnalysisConfig config_;
  const LocalNetworks& local_;
  Aggregator aggregator_;
  InterfaceCounters interface_block_;
  FlowTable flows_;
  int link_type_ = 1;
  std::int64_t clock_ = 0;
  std::int64_t next_sweep_ = 0;
  std::int64_t next_emergency_ = 0;
  std::int64_t syn_timeout_, established_timeout_, closed_timeout_;
};

}  // namespace tcpanomaly
