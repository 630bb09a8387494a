#include "engine/producer.hpp"

#include <algorithm>
#include <map>
#include <string>

namespace tcpanomaly {

void choose_peers_across(const std::vector<Producer*>& producers, const AnalysisConfig& config) {
  if (config.top_peers == 0) return;
  struct Pool {
    PeerCandidates candidates;
    std::size_t promoted = 0;
    PeerChoice choice;
    bool refused_counted = false;
  };
  std::map<std::string, Pool> pools;  // by interface
  for (Producer* p : producers)
    p->with_aggregators([&pools](Aggregator& a) {
      Pool& pool = pools[a.interface_name()];
      pool_candidates(pool.candidates, a.take_candidates());
      pool.promoted = std::max(pool.promoted, a.promoted_count());
    });
  for (auto& entry : pools) {
    Pool& pool = entry.second;
    pool.choice = choose_peers(std::move(pool.candidates), pool.promoted, config.top_peers, config.max_series);
  }
  for (Producer* p : producers)
    p->with_aggregators([&pools](Aggregator& a) {
      Pool& pool = pools[a.interface_name()];
      a.apply(pool.choice, !pool.refused_counted);
      pool.refused_counted = true;
    });
}

}  // namespace tcpanomaly
