#include "aggregate/peer_choice.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "aggregate/aggregator.hpp"

namespace tcpanomaly {

void pool_candidates(PeerCandidates& pool, const PeerCandidates& more) {
  if (pool.empty()) {
    pool = more;
    return;
  }
  std::unordered_map<IpAddress, std::size_t, IpAddressHash> index;
  for (std::size_t i = 0; i < pool.size(); ++i) index.emplace(pool[i].first, i);
  for (const auto& [prefix, weight] : more) {
    const auto it = index.find(prefix);
    if (it != index.end()) {
      pool[it->second].second += weight;
    } else {
      index.emplace(prefix, pool.size());
      pool.emplace_back(prefix, weight);
    }
  }
}

PeerChoice choose_peers(PeerCandidates pool, std::size_t already_promoted, int top_peers, int max_series) {
  std::sort(pool.begin(), pool.end(), [](const auto& x, const auto& y) {
    if (x.second != y.second) return x.second > y.second;
    return std::memcmp(x.first.bytes, y.first.bytes, 16) < 0;
  });
  PeerChoice choice;
  for (const auto& candidate : pool) {
    const std::size_t peers = already_promoted + choice.promote.size();
    // Label sets after promotion: the interface block + (1 + peers + 1) * directions.
    const std::size_t series_after = 1 + (peers + 2) * kDirections;
    if (int(peers) >= top_peers || series_after > std::size_t(max_series)) {
      ++choice.refused;  // stays in "other"
      continue;
    }
    choice.promote.push_back(candidate.first);
  }
  return choice;
}

}  // namespace tcpanomaly
