// Which remote prefixes get a peer label of their own. Every producer of an
// interface (several capture threads on one NIC, later kernel-side
// producers) pools its candidates and the engine chooses once over the
// pooled weights, so all of them label the same peers and the series cap
// holds for the merged label sets.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "decode/packet.hpp"

namespace tcpanomaly {

// A prefix and the anomalies its connections showed since the last choice.
using PeerCandidates = std::vector<std::pair<IpAddress, std::uint64_t>>;

struct PeerChoice {
  std::vector<IpAddress> promote;  // heaviest first; each gets its own label
  std::uint64_t refused = 0;       // candidates that did not fit (series_overflow)
};

// Adds `more` into `pool`, summing the weights of equal prefixes.
void pool_candidates(PeerCandidates& pool, const PeerCandidates& more);

// Heaviest first (ties: lower address), while fewer than `top_peers` are
// labelled and the interface's label sets (its interface block plus one block
// per direction for "other" and for each peer) stay within `max_series`.
PeerChoice choose_peers(PeerCandidates pool, std::size_t already_promoted, int top_peers, int max_series);

}  // namespace tcpanomaly
