// Encoders: line-protocol escaping and number formats, the JSON totals
// object, the table, flattening of histograms.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

#include "support/tcp_harness.hpp"
#include "tcpanomaly/encode.hpp"

using namespace tcpanomaly;
using namespace tcpanomaly::test;

namespace {

// A snapshot with some of everything: a completed handshake and RTT sample,
// a UDP packet, a decode error, under an interface name that needs escaping.
Snapshot sample_snapshot(const std::string& interface = "eth0") {
  static LocalNetworks local;  // outlives the pipeline below
  static bool init = [] {
    Prefix p;
    parse_prefix("10.0.0.1/32", p);
    local.add(p);
    return true;
  }();
  (void)init;
  Pipeline pipe(interface, AnalysisConfig{}, local);
  pipe.set_link_type(linktype::ethernet);
  auto feed = [&pipe](double ms, const Bytes& f) {
    pipe.on_frame(ms_to_ns(ms), f.data(), static_cast<std::uint32_t>(f.size()), static_cast<std::uint32_t>(f.size()));
  };
  Seg s;
  s.ms = 1000;
  s.seq = kIsnA;
  s.flags = kSyn;
  feed(1000, tcp_frame(s));
  s.from_a = false;
  s.seq = kIsnB;
  s.ack = kIsnA + 1;
  s.flags = kSyn | kAck;
  feed(1010, tcp_frame(s));
  s.from_a = true;
  s.seq = kIsnA + 1;
  s.ack = kIsnB + 1;
  s.flags = kAck;
  feed(1020, tcp_frame(s));
  feed(1030, Bytes(5, 0));  // truncated
  Snapshot snap;
  pipe.snapshot_into(snap);
  snap.time_ns = 1234567890123;
  return snap;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Splits on unescaped `sep`.
std::vector<std::string> split_unescaped(const std::string& s, char sep) {
  std::vector<std::string> parts(1);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      parts.back() += s.substr(i, 2);
      ++i;
    } else if (s[i] == sep) {
      parts.emplace_back();
    } else {
      parts.back() += s[i];
    }
  }
  return parts;
}

}  // namespace

TEST_CASE("line protocol escaping", "[encode]") {
  CHECK(escape_tag("plain") == "plain");
  CHECK(escape_tag("a b") == "a\\ b");
  CHECK(escape_tag("a,b") == "a\\,b");
  CHECK(escape_tag("a=b") == "a\\=b");
  CHECK(escape_tag("x y,z=w") == "x\\ y\\,z\\=w");
  CHECK(escape_tag("ends\\") == "ends");  // no spelling for a trailing backslash: dropped
  CHECK(escape_tag("a\\b\\\\") == "a\\b");
  CHECK(escape_tag("\\") == "_");
  CHECK(escape_tag("a\\,b") == "a\\\\,b");  // a backslash before a special character is kept
  CHECK(escape_measurement("tcp anomaly,x=y") == "tcp\\ anomaly\\,x=y");  // '=' is fine here
}

TEST_CASE("line protocol: one line per tag set, integers with i", "[encode]") {
  const Snapshot snap = sample_snapshot("my if,a=b");
  const std::string text = to_line_protocol(snap, "tcp anomaly");
  const auto lines = lines_of(text);
  REQUIRE_FALSE(lines.empty());
  std::set<std::string> heads;
  bool saw_opened = false, saw_rtt_sum = false;
  for (const auto& line : lines) {
    INFO(line);
    const auto parts = split_unescaped(line, ' ');
    REQUIRE(parts.size() == 3);  // measurement+tags, fields, timestamp
    CHECK(parts[2] == "1234567890123");
    CHECK(parts[0].rfind("tcp\\ anomaly,", 0) == 0);
    CHECK(parts[0].find("interface=my\\ if\\,a\\=b") != std::string::npos);
    CHECK(heads.insert(parts[0]).second);  // no tag set twice
    for (const auto& field : split_unescaped(parts[1], ',')) {
      const auto eq = field.find('=');
      REQUIRE(eq != std::string::npos);
      const std::string key = field.substr(0, eq), value = field.substr(eq + 1);
      const bool is_sum = key.size() > 4 && key.compare(key.size() - 4, 4, "_sum") == 0;
      if (is_sum) {
        CHECK(value.back() != 'i');
        CHECK(value.find_first_of(".eE") != std::string::npos);
      } else {
        REQUIRE(value.back() == 'i');
        CHECK(value.find_first_not_of("-0123456789") == value.size() - 1);
      }
      if (key == "connections_opened" && value == "1i") saw_opened = true;
      if (key == "handshake_rtt_sum" && value == "0.02") saw_rtt_sum = true;
    }
  }
  CHECK(saw_opened);
  CHECK(saw_rtt_sum);
  CHECK(text.find("direction=out") != std::string::npos);
  CHECK(text.find("reason=truncated") != std::string::npos);
  CHECK(text.find("le=+Inf") != std::string::npos);
}

TEST_CASE("JSON totals hold every catalogue metric", "[encode]") {
  const Snapshot snap = sample_snapshot();
  const auto doc = nlohmann::json::parse(to_json(snap));
  CHECK(doc["time_ns"] == 1234567890123);
  const auto& totals = doc["totals"];
  std::size_t n = 0;
  const MetricInfo* catalogue = metric_catalogue(n);
  CHECK(totals.size() == n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string name(catalogue[i].name);
    INFO(name);
    REQUIRE(totals.contains(name));
    if (catalogue[i].kind == MetricKind::histogram) {
      CHECK(totals[name].contains("count"));
      CHECK(totals[name].contains("sum"));
      const auto& buckets = totals[name]["buckets"];
      REQUIRE(!buckets.empty());
      CHECK(buckets.back()["le"] == "+Inf");
      CHECK(buckets.back()["count"] == totals[name]["count"]);  // cumulative
    } else {
      CHECK(totals[name].get<std::uint64_t>() == snap.total(catalogue[i].name));
    }
  }
  CHECK(totals["connections_opened"] == 1);
  CHECK(totals["decode_errors"] == 1);
  CHECK(totals["tcp_segments"] == 3);
  CHECK(totals["handshake_rtt"]["count"] == 1);
  CHECK(totals["packet_size"]["count"] == 3);  // all protocols merged
  CHECK(doc["series"].is_array());
}

TEST_CASE("flatten: zeros included, histogram buckets cumulative", "[encode]") {
  const Snapshot snap = sample_snapshot();
  const auto samples = flatten(snap);
  std::size_t counters = 0;
  for (const auto& s : samples) {
    if (s.kind == MetricKind::histogram) {
      if (s.field == "handshake_rtt_count") CHECK(s.integer == (s.labels->direction == "out" ? 1 : 0));
      continue;
    }
    ++counters;
  }
  // Every slot of every block, zero or not (series must not vanish); the
  // interface block holds the interface-scope metrics, the others the rest.
  std::size_t expected = 0;
  for (const auto& b : snap.blocks)
    for (std::size_t i = 0; i < kSlotCount; ++i) {
      const MetricInfo* m = find_metric(slot_info(static_cast<Slot>(i)).metric);
      if ((m->scope == MetricScope::interface) == b.labels.direction.empty()) ++expected;
    }
  CHECK(counters == expected);
  CHECK(expected > kSlotCount);
  CHECK(format_bound(0.001) == "0.001");
  CHECK(format_bound(1500) == "1500");
  const std::string table = to_table(snap);
  std::size_t n = 0;
  const MetricInfo* catalogue = metric_catalogue(n);
  for (std::size_t i = 0; i < n; ++i) CHECK(table.find(std::string(catalogue[i].name)) != std::string::npos);
}

TEST_CASE("catalogue: every slot names a catalogue metric of the right kind", "[encode][catalogue]") {
  std::set<std::string> slot_metrics;
  for (std::size_t i = 0; i < kSlotCount; ++i) {
    const SlotInfo& si = slot_info(static_cast<Slot>(i));
    const MetricInfo* m = find_metric(si.metric);
    INFO(si.metric);
    REQUIRE(m != nullptr);
    CHECK(m->kind != MetricKind::histogram);
    slot_metrics.insert(std::string(si.metric));
  }
  std::size_t n = 0;
  const MetricInfo* catalogue = metric_catalogue(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string name(catalogue[i].name);
    INFO(name);
    if (catalogue[i].kind == MetricKind::histogram) {
      bool found = false;
      for (std::size_t h = 0; h < kHistogramCount; ++h)
        found = found || histogram_info(static_cast<Histogram>(h)).metric == name;
      CHECK(found);
    } else {
      CHECK(slot_metrics.count(name) == 1);
    }
  }
  // The README / --list-metrics table lists every metric.
  const std::string md = catalogue_markdown();
  for (std::size_t i = 0; i < n; ++i) CHECK(md.find("`" + std::string(catalogue[i].name) + "`") != std::string::npos);
}
