// A human-readable summary for terminals: totals first, then the labelled
// values that are not zero.
#include <cstdio>

#include "tcpanomaly/encode.hpp"

namespace tcpanomaly {

std::string to_table(const Snapshot& snap) {
  std::string out = "metric                          total\n";
  std::size_t n = 0;
  const MetricInfo* catalogue = metric_catalogue(n);
  char line[256];
  for (std::size_t i = 0; i < n; ++i) {
    const MetricInfo& m = catalogue[i];
    if (m.kind == MetricKind::histogram) {
      HistogramData merged;
      for (std::size_t h = 0; h < kHistogramCount; ++h)
        if (histogram_info(static_cast<Histogram>(h)).metric == m.name)
          merged.merge(snap.total(static_cast<Histogram>(h)));
      const double mean = merged.count ? merged.sum / static_cast<double>(merged.count) : 0;
      std::snprintf(line, sizeof line, "%-30s  count=%llu mean=%g %.*s\n", std::string(m.name).c_str(),
                    static_cast<unsigned long long>(merged.count), mean, int(m.unit.size()), m.unit.data());
    } else {
      std::snprintf(line, sizeof line, "%-30s  %lld\n", std::string(m.name).c_str(),
                    static_cast<long long>(snap.total(m.name)));
    }
    out += line;
  }
  out += "\nnon-zero series\n";
  for (const Sample& s : flatten(snap)) {
    if (s.kind == MetricKind::histogram || s.integer == 0) continue;
    std::string labels = s.labels->interface;
    if (!s.labels->direction.empty()) labels += " " + s.labels->direction;
    if (!s.labels->peer.empty()) labels += " peer=" + s.labels->peer;
    for (const auto& [k, v] : s.tags) labels += " " + k + "=" + v;
    std::snprintf(line, sizeof line, "  %-28s %-36s %lld\n", s.field.c_str(), labels.c_str(),
                  static_cast<long long>(s.integer));
    out += line;
  }
  return out;
}

}  // namespace tcpanomaly
