// collectd naming of samples (plugin/value_names.cpp): the identifiers that
// write_prometheus turns into metric names, written out by hand here.
#include <catch2/catch.hpp>

#include <set>

#include "value_names.hpp"

using namespace tcpanomaly;
using namespace tcpanomaly::collectd_names;

TEST_CASE("type is the catalogue field; type_instance holds the labels", "[collectd]") {
  Labels l{"eth0", "out", ""};
  Sample retrans{&l, {}, "retransmissions", "retransmissions", MetricKind::counter};
  CHECK(type_of(retrans) == "retransmissions");
  CHECK(type_instance_of(retrans) == "direction=out");
  CHECK(value_type_of(retrans) == ValueType::derive);

  Sample packets{&l, {{"proto", "tcp"}, {"ip", "6"}}, "packets", "packets", MetricKind::counter};
  CHECK(type_of(packets) == "packets");  // types.db's own DERIVE type
  CHECK(type_instance_of(packets) == "direction=out,proto=tcp,ip=6");

  Sample bytes{&l, {{"proto", "udp"}, {"ip", "4"}}, "bytes", "bytes", MetricKind::counter};
  CHECK(type_of(bytes) == "total_bytes");  // types.db's "bytes" is a GAUGE
}

TEST_CASE("peers lose their '/', interface-scope values have no direction", "[collectd]") {
  Labels peer{"eth0", "in", "192.0.2.0/24"};
  Sample bucket{&peer, {{"le", "0.001"}}, "rtt", "rtt_bucket", MetricKind::histogram};
  CHECK(type_of(bucket) == "rtt_bucket");
  CHECK(type_instance_of(bucket) == "direction=in,peer=192.0.2.0_24,le=0.001");
  CHECK(value_type_of(bucket) == ValueType::derive);

  Sample sum{&peer, {}, "rtt", "rtt_sum", MetricKind::histogram};
  sum.is_float = true;
  CHECK(value_type_of(sum) == ValueType::gauge);  // fractional seconds

  Labels iface{"eth0", "", ""};
  Sample errors{&iface, {{"reason", "truncated"}}, "decode_errors", "decode_errors", MetricKind::counter};
  CHECK(type_instance_of(errors) == "reason=truncated");
  Sample flows{&iface, {}, "flows_active", "flows_active", MetricKind::gauge};
  CHECK(type_instance_of(flows).empty());
  CHECK(value_type_of(flows) == ValueType::gauge);
}

TEST_CASE("data sets: one per field, only non-standard ones registered", "[collectd]") {
  std::set<std::string> registered, standard;
  for (const auto& d : data_sets()) (d.register_it ? registered : standard).insert(d.type);
  CHECK(standard == std::set<std::string>{"packets", "total_bytes"});
  CHECK(registered.count("retransmissions"));
  CHECK(registered.count("handshake_rtt_bucket"));
  CHECK(registered.count("handshake_rtt_count"));
  CHECK(registered.count("handshake_rtt_sum"));
  CHECK_FALSE(registered.count("bytes"));
  for (const auto& t : registered) CHECK(t.find('-') == std::string::npos);  // '-' splits identifiers
}
