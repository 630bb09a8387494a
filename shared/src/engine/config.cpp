#include <stdexcept>
#include <string>

#include "capture/interface_pattern.hpp"
#include "capture/packet_source.hpp"
#include "flow/local_networks.hpp"
#include "tcpanomaly/config.hpp"
#include "tcpanomaly/settings.hpp"

namespace tcpanomaly {

void validate(const EngineConfig& c) {
  const auto& cap = c.capture;
  const auto& a = c.analysis;
  if (cap.interfaces.empty() && cap.read_file.empty())
    throw ConfigError("interface", "none given, accepted: an interface name, \"any\", or a capture file to read");
  if (!cap.interfaces.empty() && !cap.read_file.empty())
    throw ConfigError("read_file", "can't be combined with an interface, accepted: one or the other");
  for (const auto& i : cap.interfaces)
    if (i.empty()) throw ConfigError("interface", "empty name, accepted: an interface name or \"any\"");
  for (const auto* list : {&cap.interfaces, &cap.exclude_interfaces})
    for (const auto& i : *list) {
      try {
        if (is_interface_pattern(i)) (void)InterfacePattern(i);
      } catch (const std::invalid_argument& e) {
        throw ConfigError(list == &cap.interfaces ? "interface" : "exclude_interface",
                          "\"" + i + "\" is not a valid regular expression (" + e.what() +
                              "), accepted: a name, a glob such as veth*, or /regex/ (POSIX extended)");
      }
    }
  for (const auto& n : a.local_networks) {
    Prefix p;
    if (!parse_prefix(n, p))
      throw ConfigError("local_network", "\"" + n + "\" is not a CIDR, accepted: e.g. 10.0.0.0/8 or 2001:db8::/32");
  }
  const std::string bad_filter = filter_error(cap.filter);
  if (!bad_filter.empty())
    throw ConfigError("filter", "\"" + cap.filter + "\" does not compile: " + bad_filter +
                                    ", accepted: a tcpdump/pcap-filter(7) expression");
  if (!cap.read_file.empty() && cap.kernel_counters == "on")
    throw ConfigError("kernel_counters", "counts live traffic only, can't be combined with read_file; accepted: off "
                                         "or auto (which is off for a file)");
  // Ranges of numeric settings live in the settings table (settings.cpp).
  for (const Setting& s : settings()) s.check(c);
}

}  // namespace tcpanomaly
