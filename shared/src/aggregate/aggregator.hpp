// Stage 4: aggregation. Events become counters and histograms under a
// bounded label set: interface (one aggregator per capture thread),
// direction, and an optional top-K peer with everything else in "other".
// Only its capture thread touches an aggregator; snapshots copy it under the
// pipeline's lock.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "aggregate/peer_choice.hpp"
#include "decode/packet.hpp"
#include "tcpanomaly/config.hpp"
#include "tcpanomaly/snapshot.hpp"

namespace tcpanomaly {

enum class Direction : std::uint8_t { out = 0, in = 1, transit = 2 };
constexpr int kDirections = 3;
const char* direction_name(Direction d);

struct IpAddressHash {
  std::size_t operator()(const IpAddress& a) const;
};

// A block's packet_size histograms' count and sum: its packets and bytes
// (the per-packet paths count only the buckets).
void fill_packet_size_totals(SeriesBlock& b);

class Aggregator {
 public:
  Aggregator(std::string interface, const AnalysisConfig& config);

  // Peer block 0 is "other" (or the only block when the peer label is off).
  SeriesBlock& flow_block(std::uint16_t peer, Direction d) {
    return blocks_[std::size_t(peer) * kDirections + static_cast<std::size_t>(d)];
  }
  SeriesBlock& interface_block() { return interface_; }

  bool peers_enabled() const { return top_peers_ > 0; }
  // Changes whenever the set of labelled peers changes: flows re-resolve then.
  std::uint16_t peer_generation() const { return generation_; }
  std::uint16_t resolve_peer(const IpAddress& remote) const;
  void note_anomaly(const IpAddress& remote, std::uint32_t weight);
  // The candidates noted since the last call (the engine pools them per
  // interface and chooses, peer_choice.hpp), and the choice applied. Only
  // one aggregator of an interface counts the refused candidates.
  PeerCandidates take_candidates();
  std::size_t promoted_count() const { return promoted_.size(); }
  void apply(const PeerChoice& choice, bool count_refused);
  int top_peers() const { return top_peers_; }
  int max_series() const { return max_series_; }
  const std::string& interface_name() const { return interface_name_; }

  void append_to(Snapshot& snap) const;

 private:
  IpAddress prefix_of(const IpAddress& a) const;

  std::string interface_name_;
  int top_peers_, prefix_v4_, prefix_v6_, max_series_;
  std::vector<SeriesBlock> blocks_;  // (1 + top_peers) * kDirections, preallocated
  SeriesBlock interface_;
  std::unordered_map<IpAddress, std::uint16_t, IpAddressHash> promoted_;  // prefix -> peer index
  std::unordered_map<IpAddress, std::uint64_t, IpAddressHash> candidates_;
  std::uint16_t generation_ = 1;
};

}  // namespace tcpanomaly
