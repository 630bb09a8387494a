// The settings table both front ends are generated from: names are unique
// per front end, values parse strictly and name their key when wrong.
#include <catch2/catch.hpp>

#include <cctype>
#include <set>

#include "tcpanomaly/settings.hpp"

using namespace tcpanomaly;

TEST_CASE("every setting has a unique key, option and collectd key", "[settings]") {
  std::set<std::string_view> keys, cli, collectd;
  for (const Setting& s : settings()) {
    CHECK(keys.insert(s.key).second);
    CHECK(cli.insert(s.cli).second);
    CHECK(collectd.insert(s.collectd).second);
    CHECK(!s.help.empty());
    CHECK(std::isupper(static_cast<unsigned char>(s.collectd[0])));
  }
  CHECK(find_setting_by_collectd("SnapLen")->key == "snaplen");
  CHECK(find_setting_by_cli("local-net")->collectd == "LocalNetwork");
  CHECK(find_setting_by_key("nope") == nullptr);
}

TEST_CASE("values parse strictly", "[settings]") {
  EngineConfig c;
  find_setting_by_key("snaplen")->apply(c, "128");
  CHECK(c.capture.snaplen == 128);
  find_setting_by_key("syn_timeout")->apply(c, "2.5");
  CHECK(c.analysis.syn_timeout_s == 2.5);
  find_setting_by_key("promiscuous")->apply(c, "yes");
  CHECK(c.capture.promiscuous);
  find_setting_by_key("interface")->apply(c, "eth0");
  find_setting_by_key("interface")->apply(c, "eth1");
  CHECK(c.capture.interfaces == std::vector<std::string>{"eth0", "eth1"});

  auto rejects = [&c](const char* key, const char* value, const char* message) {
    try {
      find_setting_by_key(key)->apply(c, value);
      FAIL("accepted " << key << " = " << value);
    } catch (const ConfigError& e) {
      CHECK(e.key == key);
      CHECK(e.problem == message);
    }
  };
  rejects("snaplen", "10x", "\"10x\" is not an integer");
  rejects("snaplen", "2.5", "\"2.5\" is not an integer");
  rejects("snaplen", "10", "10 is out of range, accepted: 64 .. 262144");
  rejects("flow_table_size", "-1", "-1 is out of range, accepted: 1 .. 67108864");
  rejects("syn_timeout", "nan", "\"nan\" is not a number");
  rejects("promiscuous", "maybe", "\"maybe\" is not true or false");
  CHECK(c.capture.snaplen == 128);  // a rejected value changes nothing
}
