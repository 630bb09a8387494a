#include <nlohmann/json.hpp>

#include "tcpanomaly/encode.hpp"

namespace tcpanomaly {

namespace {
nlohmann::json histogram_json(const HistogramData& d, const HistogramInfo& info) {
  nlohmann::json buckets = nlohmann::json::array();
  std::uint64_t cumulative = 0;
  for (std::size_t k = 0; k <= info.bound_count; ++k) {
    cumulative += d.buckets[k];
    buckets.push_back({{"le", k < info.bound_count ? format_bound(info.bounds[k]) : "+Inf"},
                       {"count", cumulative}});
  }
  return {{"count", d.count}, {"sum", d.sum}, {"buckets", buckets}};
}
}  // namespace

std::string to_json(const Snapshot& snap, int indent) {
  nlohmann::json totals = nlohmann::json::object();
  std::size_t n = 0;
  const MetricInfo* catalogue = metric_catalogue(n);
  for (std::size_t i = 0; i < n; ++i) {
    const MetricInfo& m = catalogue[i];
    if (m.kind != MetricKind::histogram) {
      totals[std::string(m.name)] = static_cast<std::int64_t>(snap.total(m.name));
      continue;
    }
    HistogramData merged;
    const HistogramInfo* info = nullptr;
    for (std::size_t h = 0; h < kHistogramCount; ++h) {
      const HistogramInfo& hi = histogram_info(static_cast<Histogram>(h));
      if (hi.metric != m.name) continue;
      merged.merge(snap.total(static_cast<Histogram>(h)));
      info = &hi;
    }
    if (info) totals[std::string(m.name)] = histogram_json(merged, *info);
  }

  nlohmann::json series = nlohmann::json::array();
  for (const Sample& s : flatten(snap)) {
    nlohmann::json j;
    j["interface"] = s.labels->interface;
    if (!s.labels->direction.empty()) j["direction"] = s.labels->direction;
    if (!s.labels->peer.empty()) j["peer"] = s.labels->peer;
    for (const auto& [k, v] : s.tags) j[k] = v;
    j["name"] = s.field;
    if (s.is_float) j["value"] = s.real;
    else j["value"] = s.integer;
    series.push_back(std::move(j));
  }
  nlohmann::json doc = {{"time_ns", snap.time_ns}, {"totals", totals}, {"series", series}};
  return doc.dump(indent) + "\n";
}

}  // namespace tcpanomaly
