#include <cstdio>

#include "tcpanomaly/encode.hpp"

namespace tcpanomaly {

std::string format_bound(double bound) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", bound);
  return buf;
}

std::vector<Sample> flatten(const Snapshot& snap) {
  std::vector<Sample> out;
  std::size_t n_metrics = 0;
  const MetricInfo* catalogue = metric_catalogue(n_metrics);
  auto scope_of = [&](std::string_view metric) {
    for (std::size_t i = 0; i < n_metrics; ++i)
      if (catalogue[i].name == metric) return catalogue[i];
    return catalogue[0];
  };
  for (const auto& b : snap.blocks) {
    const bool interface_block = b.labels.direction.empty();
    for (std::size_t i = 0; i < kSlotCount; ++i) {
      const SlotInfo& si = slot_info(static_cast<Slot>(i));
      const MetricInfo m = scope_of(si.metric);
      if ((m.scope == MetricScope::interface) != interface_block) continue;
      Sample s{&b.labels, {}, std::string(si.metric), std::string(si.metric), m.kind};
      for (const auto& t : si.tags)
        if (!t.key.empty()) s.tags.emplace_back(std::string(t.key), std::string(t.value));
      s.integer = static_cast<std::int64_t>(b.counters[i]);
      out.push_back(std::move(s));
    }
    if (interface_block) continue;
    for (std::size_t h = 0; h < kHistogramCount; ++h) {
      const HistogramInfo& hi = histogram_info(static_cast<Histogram>(h));
      const HistogramData& d = b.histograms[h];
      std::vector<std::pair<std::string, std::string>> base;
      if (!hi.tag_key.empty()) base.emplace_back(std::string(hi.tag_key), std::string(hi.tag_value));
      const std::string name(hi.metric);
      std::uint64_t cumulative = 0;
      for (std::size_t k = 0; k <= hi.bound_count; ++k) {
        cumulative += d.buckets[k];
        Sample s{&b.labels, base, name, name + "_bucket", MetricKind::histogram};
        s.tags.emplace_back("le", k < hi.bound_count ? format_bound(hi.bounds[k]) : "+Inf");
        s.integer = static_cast<std::int64_t>(cumulative);
        out.push_back(std::move(s));
      }
      Sample count{&b.labels, base, name, name + "_count", MetricKind::histogram};
      count.integer = static_cast<std::int64_t>(d.count);
      out.push_back(std::move(count));
      Sample sum{&b.labels, base, name, name + "_sum", MetricKind::histogram};
      sum.is_float = true;
      sum.real = d.sum;
      out.push_back(std::move(sum));
    }
  }
  return out;
}

}  // namespace tcpanomaly
