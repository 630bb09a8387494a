// Stage 5: encoders. A snapshot is flattened into samples (one number under
// one full tag set); every output format and front end is built from them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tcpanomaly/snapshot.hpp"

namespace tcpanomaly {

struct Sample {
  const Labels* labels;          // interface, direction, peer of its block
  std::vector<std::pair<std::string, std::string>> tags;  // enum tags, "le" for buckets
  std::string metric;            // catalogue name
  std::string field;             // metric, or metric_bucket / _count / _sum
  MetricKind kind;
  bool is_float = false;         // only histogram sums
  std::int64_t integer = 0;
  double real = 0;
};

// Every value of every block, zeros included (series must not vanish).
// Histogram buckets are cumulative, as Prometheus and collectd users expect.
std::vector<Sample> flatten(const Snapshot& snap);

std::string format_bound(double bound);  // "0.001", "+Inf"

std::string to_json(const Snapshot& snap, int indent = 2);
std::string to_line_protocol(const Snapshot& snap, const std::string& measurement = "tcpanomaly");
std::string to_table(const Snapshot& snap);

// The metric catalogue as a Markdown table (README, `tcpanomaly --list-metrics`).
std::string catalogue_markdown();

// Line protocol escaping (exposed for tests).
std::string escape_tag(const std::string& s);          // tag keys and values, field keys
std::string escape_measurement(const std::string& s);

}  // namespace tcpanomaly
