// Which addresses are "local" (ours): decides the direction label, and the
// rule that a segment we sent can't have been reordered before the capture.
#pragma once

#include <string>
#include <vector>

#include "decode/packet.hpp"

namespace tcpanomaly {

struct Prefix {
  IpAddress address{};  // v4 stored v4-mapped
  int length = 0;       // in bits of the 128-bit (mapped) form
  bool contains(const IpAddress& a) const;
};

// Parses "10.0.0.0/8", "2001:db8::/32" or a bare address. Returns false on error.
bool parse_prefix(const std::string& text, Prefix& out);
// Truncates an address to a prefix length given in its own family's bits.
IpAddress truncate(const IpAddress& a, int v4_bits, int v6_bits);
std::string format_address(const IpAddress& a);

class LocalNetworks {
 public:
  void add(const Prefix& p) { prefixes_.push_back(p); }
  // The host's own interface addresses (getifaddrs).
  void add_host_addresses();
  bool contains(const IpAddress& a) const {
    for (const auto& p : prefixes_)
      if (p.contains(a)) return true;
    return false;
  }
  bool empty() const { return prefixes_.empty(); }
  const std::vector<Prefix>& prefixes() const { return prefixes_; }

 private:
  std::vector<Prefix> prefixes_;
};

}  // namespace tcpanomaly
