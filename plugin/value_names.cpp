#include "value_names.hpp"

#include <algorithm>

#include "tcpanomaly/metrics.hpp"

namespace tcpanomaly::collectd_names {
namespace {

// Catalogue names that types.db already defines. "packets" there is exactly
// our shape (one DERIVE >= 0) and is reused; "bytes" there is a GAUGE, so
// byte counters go to the standard DERIVE type "total_bytes" instead.
std::string standard_type_for(const std::string& field) {
  if (field == "packets") return "packets";
  if (field == "bytes") return "total_bytes";
  return "";
}

void add_pair(std::string& out, const std::string& key, std::string value) {
  if (value.empty()) return;
  std::replace(value.begin(), value.end(), '/', '_');
  if (!out.empty()) out += ',';
  out += key + '=' + value;
}

}  // namespace

std::string type_of(const Sample& s) {
  const std::string standard = standard_type_for(s.field);
  return standard.empty() ? s.field : standard;
}

ValueType value_type_of(const Sample& s) {
  // Gauges, and histogram sums: cumulative but fractional (seconds), which
  // DERIVE (an integer) would truncate.
  return s.kind == MetricKind::gauge || s.is_float ? ValueType::gauge : ValueType::derive;
}

std::string type_instance_of(const Sample& s) {
  std::string out;
  add_pair(out, "direction", s.labels->direction);
  add_pair(out, "peer", s.labels->peer);
  for (const auto& [k, v] : s.tags) add_pair(out, k, v);
  return out;
}

std::vector<DataSetSpec> data_sets() {
  std::vector<DataSetSpec> out;
  std::size_t n = 0;
  const MetricInfo* catalogue = metric_catalogue(n);
  auto add = [&out](const std::string& field, ValueType vt) {
    const std::string standard = standard_type_for(field);
    out.push_back({standard.empty() ? field : standard, vt, standard.empty()});
  };
  for (std::size_t i = 0; i < n; ++i) {
    const std::string name(catalogue[i].name);
    switch (catalogue[i].kind) {
      case MetricKind::counter: add(name, ValueType::derive); break;
      case MetricKind::gauge: add(name, ValueType::gauge); break;
      case MetricKind::histogram:
        add(name + "_bucket", ValueType::derive);
        add(name + "_count", ValueType::derive);
        add(name + "_sum", ValueType::gauge);
        break;
    }
  }
  return out;
}

}  // namespace tcpanomaly::collectd_names
