#include <cmath>
#include <cstdio>
#include <string>

#include "flow/local_networks.hpp"
#include "tcpanomaly/config.hpp"

namespace tcpanomaly {
namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

void require_range(const char* key, double value, double lo, double hi) {
  if (!(value >= lo && value <= hi) || !std::isfinite(value))
    throw ConfigError(key, number(value) + " is out of range, accepted: " + number(lo) + " .. " +
                               number(hi));
}

}  // namespace

void validate(const EngineConfig& c) {
  const auto& cap = c.capture;
  const auto& a = c.analysis;
  if (cap.interfaces.empty() && cap.read_file.empty())
    throw ConfigError("interface", "none given, accepted: an interface name, \"any\", or a capture file to read");
  for (const auto& i : cap.interfaces)
    if (i.empty()) throw ConfigError("interface", "empty name, accepted: an interface name or \"any\"");
  require_range("snaplen", cap.snaplen, 64, 262144);
  require_range("buffer_size", cap.buffer_size_mb, 1, 4096);
  require_range("timeout", cap.timeout_ms, 1, 10000);
  for (const auto& n : a.local_networks) {
    Prefix p;
    if (!parse_prefix(n, p))
      throw ConfigError("local_network", "\"" + n + "\" is not a CIDR, accepted: e.g. 10.0.0.0/8 or 2001:db8::/32");
  }
  require_range("top_peers", a.top_peers, 0, 1000);
  require_range("peer_prefix_v4", a.peer_prefix_v4, 0, 32);
  require_range("peer_prefix_v6", a.peer_prefix_v6, 0, 128);
  // The interface block and the three direction blocks always exist.
  require_range("max_series", a.max_series, 4, 1000000);
  require_range("flow_table_size", a.flow_table_size, 1, 1u << 26);
  require_range("syn_timeout", a.syn_timeout_s, 0.001, 86400);
  require_range("established_timeout", a.established_timeout_s, 0.001, 31536000);
  require_range("closed_timeout", a.closed_timeout_s, 0.001, 86400);
}

}  // namespace tcpanomaly
