#include "aggregate/aggregator.hpp"

#include <algorithm>
#include <cstring>

#include "flow/local_networks.hpp"

namespace tcpanomaly {
namespace {
// Candidates tracked per interval: bounds the memory a scan of random
// sources can take; the heaviest still surface since each interval restarts.
constexpr std::size_t kMaxCandidates = 4096;

}  // namespace

// The per-packet path counts only the packet_size buckets (pipeline.cpp,
// count_ip): a size histogram's count and sum are exactly its protocol's
// packets and bytes in the same block, summed over both IP versions. (As a
// double the sum is exact up to 2^53 bytes, as the per-packet sum was.)
void fill_packet_size_totals(SeriesBlock& b) {
  for (std::size_t proto = 0; proto < 4; ++proto) {
    const std::size_t packets = static_cast<std::size_t>(Slot::packets_tcp4) + 2 * proto;
    const std::size_t bytes = static_cast<std::size_t>(Slot::bytes_tcp4) + 2 * proto;
    HistogramData& h = b.histograms[static_cast<std::size_t>(Histogram::packet_size_tcp) + proto];
    h.count = b.counters[packets] + b.counters[packets + 1];
    h.sum = static_cast<double>(b.counters[bytes] + b.counters[bytes + 1]);
  }
}

const char* direction_name(Direction d) {
  switch (d) {
    case Direction::out: return "out";
    case Direction::in: return "in";
    default: return "transit";
  }
}

std::size_t IpAddressHash::operator()(const IpAddress& a) const {
  std::uint64_t x, y;
  std::memcpy(&x, a.bytes, 8);
  std::memcpy(&y, a.bytes + 8, 8);
  return static_cast<std::size_t>((x * 0x9E3779B97F4A7C15ull) ^ (y * 0xC2B2AE3D27D4EB4Full));
}

Aggregator::Aggregator(std::string interface, const AnalysisConfig& c)
    : interface_name_(std::move(interface)),
      top_peers_(c.top_peers),
      prefix_v4_(c.peer_prefix_v4),
      prefix_v6_(c.peer_prefix_v6),
      max_series_(c.max_series) {
  blocks_.resize(std::size_t(1 + top_peers_) * kDirections);
  interface_.labels.interface = interface_name_;
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    auto& l = blocks_[i].labels;
    l.interface = interface_name_;
    l.direction = direction_name(static_cast<Direction>(i % kDirections));
    if (top_peers_ > 0) l.peer = "other";
  }
}

IpAddress Aggregator::prefix_of(const IpAddress& a) const { return truncate(a, prefix_v4_, prefix_v6_); }

std::uint16_t Aggregator::resolve_peer(const IpAddress& remote) const {
  if (promoted_.empty()) return 0;
  const auto it = promoted_.find(prefix_of(remote));
  return it == promoted_.end() ? 0 : it->second;
}

void Aggregator::note_anomaly(const IpAddress& remote, std::uint32_t weight) {
  const IpAddress p = prefix_of(remote);
  if (promoted_.count(p)) return;
  auto it = candidates_.find(p);
  if (it != candidates_.end()) it->second += weight;
  else if (candidates_.size() < kMaxCandidates) candidates_.emplace(p, weight);
}

PeerCandidates Aggregator::take_candidates() {
  PeerCandidates out(candidates_.begin(), candidates_.end());
  candidates_.clear();
  return out;
}

void Aggregator::apply(const PeerChoice& choice, bool count_refused) {
  if (count_refused) interface_.counters[static_cast<std::size_t>(Slot::series_overflow)] += choice.refused;
  bool changed = false;
  for (const IpAddress& prefix : choice.promote) {
    if (promoted_.count(prefix) || int(promoted_.size()) >= top_peers_) continue;
    const auto index = static_cast<std::uint16_t>(promoted_.size() + 1);
    promoted_.emplace(prefix, index);
    const int bits = prefix.is_v4_mapped() ? prefix_v4_ : prefix_v6_;
    const std::string label = format_address(prefix) + "/" + std::to_string(bits);
    for (int d = 0; d < kDirections; ++d) blocks_[std::size_t(index) * kDirections + d].labels.peer = label;
    changed = true;
  }
  if (changed) ++generation_;
}

void Aggregator::append_to(Snapshot& snap) const {
  snap.blocks.push_back(interface_);
  const std::size_t used = (1 + promoted_.size()) * kDirections;
  for (std::size_t i = 0; i < used; ++i) {
    snap.blocks.push_back(blocks_[i]);
    fill_packet_size_totals(snap.blocks.back());
  }
}

}  // namespace tcpanomaly
