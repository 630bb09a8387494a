// Config validation: a good config passes; each bad value is rejected with
// a ConfigError whose message starts with the offending key. Also CIDR
// parsing for local networks.
#include <catch2/catch.hpp>

#include "capture/interface_pattern.hpp"

#include <cmath>
#include <functional>
#include <limits>

#include "flow/local_networks.hpp"
#include "tcpanomaly/config.hpp"
#include "tcpanomaly/settings.hpp"

using namespace tcpanomaly;

namespace {

EngineConfig good() {
  EngineConfig c;
  c.capture.interfaces = {"eth0"};
  return c;
}

}  // namespace

TEST_CASE("a default config with an interface or a file is valid", "[config]") {
  CHECK_NOTHROW(validate(good()));
  EngineConfig file;
  file.capture.read_file = "capture.pcap";
  CHECK_NOTHROW(validate(file));
  EngineConfig nets = good();
  nets.analysis.local_networks = {"10.0.0.0/8", "2001:db8::/32", "192.0.2.7"};
  CHECK_NOTHROW(validate(nets));
}

TEST_CASE("each bad value names its key", "[config]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<std::pair<std::string, std::function<void(EngineConfig&)>>> cases = {
      {"interface", [](EngineConfig& c) { c.capture.interfaces.clear(); }},
      {"interface", [](EngineConfig& c) { c.capture.interfaces = {""}; }},
      {"interface", [](EngineConfig& c) { c.capture.interfaces = {"/veth(/"}; }},
      {"exclude_interface", [](EngineConfig& c) { c.capture.exclude_interfaces = {"/[z-a]/"}; }},
      {"interface_grace", [](EngineConfig& c) { c.capture.interface_grace_s = -1; }},
      {"snaplen", [](EngineConfig& c) { c.capture.snaplen = 10; }},
      {"buffer_size", [](EngineConfig& c) { c.capture.buffer_size_mb = 0; }},
      {"timeout", [](EngineConfig& c) { c.capture.timeout_ms = 0; }},
      {"local_network", [](EngineConfig& c) { c.analysis.local_networks = {"10.0.0.0/33"}; }},
      {"local_network", [](EngineConfig& c) { c.analysis.local_networks = {"not-an-address"}; }},
      {"local_network", [](EngineConfig& c) { c.analysis.local_networks = {"10.0.0.0/"}; }},
      {"top_peers", [](EngineConfig& c) { c.analysis.top_peers = -1; }},
      {"peer_prefix_v4", [](EngineConfig& c) { c.analysis.peer_prefix_v4 = 33; }},
      {"peer_prefix_v6", [](EngineConfig& c) { c.analysis.peer_prefix_v6 = 129; }},
      {"max_series", [](EngineConfig& c) { c.analysis.max_series = 3; }},
      {"flow_table_size", [](EngineConfig& c) { c.analysis.flow_table_size = 0; }},
      {"syn_timeout", [](EngineConfig& c) { c.analysis.syn_timeout_s = 0; }},
      {"syn_timeout", [nan](EngineConfig& c) { c.analysis.syn_timeout_s = nan; }},
      {"established_timeout", [](EngineConfig& c) { c.analysis.established_timeout_s = -5; }},
      {"closed_timeout", [](EngineConfig& c) { c.analysis.closed_timeout_s = 1e9; }},
  };
  for (const auto& [key, mutate] : cases) {
    EngineConfig c = good();
    mutate(c);
    INFO("expected key " << key);
    try {
      validate(c);
      FAIL("no ConfigError");
    } catch (const ConfigError& e) {
      const std::string msg = e.what();
      INFO(msg);
      CHECK(e.key == key);
      CHECK(msg.rfind(key + ": ", 0) == 0);
      CHECK(msg.find("accepted") != std::string::npos);  // says what would do
    }
  }
}

TEST_CASE("CIDR parsing and membership", "[config][local]") {
  Prefix p;
  REQUIRE(parse_prefix("10.1.0.0/16", p));
  CHECK(p.length == 96 + 16);
  Prefix a;
  REQUIRE(parse_prefix("10.1.200.3", a));
  CHECK(a.length == 128);
  CHECK(p.contains(a.address));
  REQUIRE(parse_prefix("10.2.0.1", a));
  CHECK_FALSE(p.contains(a.address));
  CHECK(format_address(a.address) == "10.2.0.1");

  Prefix v6;
  REQUIRE(parse_prefix("2001:db8:80::/41", v6));
  REQUIRE(parse_prefix("2001:db8:ff::1", a));
  CHECK(v6.contains(a.address));
  REQUIRE(parse_prefix("2001:db8:7f::1", a));
  CHECK_FALSE(v6.contains(a.address));
  CHECK(format_address(truncate(a.address, 24, 32)) == "2001:db8::");

  Prefix all;
  REQUIRE(parse_prefix("0.0.0.0/0", all));
  REQUIRE(parse_prefix("::1", a));
  CHECK_FALSE(all.contains(a.address));  // IPv4 /0 covers IPv4 only
  for (const char* bad : {"", "/8", "10.0.0.0/-1", "10.0.0.0/8x", "::/129", "10.0.0.0/0008"})
    CHECK_FALSE(parse_prefix(bad, p));

  LocalNetworks none;
  CHECK(none.empty());
  CHECK_FALSE(none.contains(a.address));
}

TEST_CASE("interface patterns: globs and /regex/, plain names are not patterns", "[config]") {
  CHECK_FALSE(is_interface_pattern("eth0"));
  CHECK_FALSE(is_interface_pattern("any"));
  CHECK_FALSE(is_interface_pattern("/"));
  CHECK(is_interface_pattern("veth*"));
  CHECK(is_interface_pattern("tap[0-9]"));
  CHECK(is_interface_pattern("/^veth/"));
  const InterfacePattern glob("veth*"), regex("/^(veth|cali)[0-9a-f]+$/"), set("tap[0-9]");
  CHECK(glob.matches("veth1a2b"));
  CHECK_FALSE(glob.matches("eth0"));
  CHECK(regex.matches("cali9f3e"));
  CHECK_FALSE(regex.matches("calix"));
  CHECK(set.matches("tap7"));
  CHECK_FALSE(set.matches("tap10"));
  CHECK_THROWS_AS(InterfacePattern("/a(/"), std::invalid_argument);
}
