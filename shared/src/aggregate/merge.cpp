#include "aggregate/merge.hpp"

#include <map>
#include <tuple>

namespace tcpanomaly {

void merge_by_labels(Snapshot& snap) {
  using Key = std::tuple<const std::string&, const std::string&, const std::string&>;
  std::vector<SeriesBlock> merged;
  merged.reserve(snap.blocks.size());
  // Keys refer to the labels of blocks already in `merged`, which the
  // reserve keeps in place.
  std::map<Key, std::size_t> index;
  for (SeriesBlock& b : snap.blocks) {
    const Key key{b.labels.interface, b.labels.direction, b.labels.peer};
    const auto it = index.find(key);
    if (it == index.end()) {
      merged.push_back(std::move(b));
      const Labels& l = merged.back().labels;
      index.emplace(Key{l.interface, l.direction, l.peer}, merged.size() - 1);
      continue;
    }
    SeriesBlock& into = merged[it->second];
    for (std::size_t i = 0; i < kSlotCount; ++i) into.counters[i] += b.counters[i];
    for (std::size_t h = 0; h < kHistogramCount; ++h) into.histograms[h].merge(b.histograms[h]);
  }
  snap.blocks = std::move(merged);
}

}  // namespace tcpanomaly
