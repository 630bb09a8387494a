// The README's metric table, generated from the catalogue so the two cannot
// drift apart (tests/integration/readme_catalogue_test.sh compares them).
#include <string>
#include <vector>

#include "tcpanomaly/encode.hpp"
#include "tcpanomaly/metrics.hpp"

namespace tcpanomaly {
namespace {

const char* kind_name(MetricKind k) {
  switch (k) {
    case MetricKind::counter: return "counter";
    case MetricKind::gauge: return "gauge";
    case MetricKind::histogram: return "histogram";
  }
  return "";
}

// "proto=tcp|udp ip=4|6": every enum tag a metric's slots or histograms use.
std::string enum_tags(std::string_view metric) {
  std::vector<std::pair<std::string, std::string>> tags;  // key, "v1|v2"
  auto add = [&](std::string_view key, std::string_view value) {
    if (key.empty()) return;
    for (auto& [k, values] : tags) {
      if (k != key) continue;
      const std::string v(value);
      if (("|" + values + "|").find("|" + v + "|") == std::string::npos) values += "|" + v;
      return;
    }
    tags.emplace_back(std::string(key), std::string(value));
  };
  for (std::size_t i = 0; i < kSlotCount; ++i) {
    const SlotInfo& s = slot_info(static_cast<Slot>(i));
    if (s.metric != metric) continue;
    for (const Tag& t : s.tags) add(t.key, t.value);
  }
  for (std::size_t h = 0; h < kHistogramCount; ++h) {
    const HistogramInfo& info = histogram_info(static_cast<Histogram>(h));
    if (info.metric == metric) add(info.tag_key, info.tag_value);
  }
  std::string out;
  for (const auto& [k, values] : tags) out += (out.empty() ? "" : " ") + k + "=" + values;
  return out;
}

std::string bounds_of(std::string_view metric) {
  for (std::size_t h = 0; h < kHistogramCount; ++h) {
    const HistogramInfo& info = histogram_info(static_cast<Histogram>(h));
    if (info.metric != metric) continue;
    std::string out;
    for (std::size_t i = 0; i < info.bound_count; ++i) out += (i ? ", " : "") + format_bound(info.bounds[i]);
    return " Buckets (le): " + out + ", +Inf.";
  }
  return "";
}

// A '|' inside a Markdown table cell must be escaped.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

}  // namespace

std::string catalogue_markdown() {
  std::string out =
      "| metric | type | unit | labels | Wireshark equivalent | meaning |\n"
      "|---|---|---|---|---|---|\n";
  std::size_t n = 0;
  const MetricInfo* all = metric_catalogue(n);
  for (std::size_t i = 0; i < n; ++i) {
    const MetricInfo& m = all[i];
    std::string labels = m.scope == MetricScope::flow ? "interface, direction, [peer]" : "interface";
    const std::string tags = enum_tags(m.name);
    if (!tags.empty()) labels += ", " + tags;
    const std::string wireshark = m.wireshark.empty() ? "—" : "`" + std::string(m.wireshark) + "`";
    out += "| `" + std::string(m.name) + "` | " + kind_name(m.kind) + " | " +
           (m.unit.empty() ? "—" : std::string(m.unit)) + " | " + cell(labels) + " | " + cell(wireshark) +
           " | " + cell(std::string(m.help) + ".") + bounds_of(m.name) + " |\n";
  }
  return out;
}

}  // namespace tcpanomaly
