#include "flow/local_networks.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <cstdlib>
#include <cstring>

namespace tcpanomaly {

bool Prefix::contains(const IpAddress& a) const {
  const int whole = length / 8, rest = length % 8;
  if (std::memcmp(a.bytes, address.bytes, whole) != 0) return false;
  if (rest == 0) return true;
  const std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a.bytes[whole] & mask) == (address.bytes[whole] & mask);
}

namespace {
void set_v4(const void* in4, IpAddress& out) {
  std::memset(out.bytes, 0, 10);
  out.bytes[10] = out.bytes[11] = 0xff;
  std::memcpy(out.bytes + 12, in4, 4);
}
}  // namespace

bool parse_prefix(const std::string& text, Prefix& out) {
  const auto slash = text.find('/');
  const std::string addr = text.substr(0, slash);
  unsigned char buf[16];
  int max_bits;
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) {
    set_v4(buf, out.address);
    max_bits = 32;
  } else if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) {
    std::memcpy(out.address.bytes, buf, 16);
    max_bits = 128;
  } else {
    return false;
  }
  int bits = max_bits;
  if (slash != std::string::npos) {
    const std::string len = text.substr(slash + 1);
    if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos)
      return false;
    bits = std::atoi(len.c_str());
    if (bits > max_bits) return false;
  }
  out.length = max_bits == 32 ? bits + 96 : bits;
  return true;
}

IpAddress truncate(const IpAddress& a, int v4_bits, int v6_bits) {
  Prefix p{a, a.is_v4_mapped() ? v4_bits + 96 : v6_bits};
  IpAddress out{};
  const int whole = p.length / 8, rest = p.length % 8;
  std::memcpy(out.bytes, a.bytes, whole);
  if (rest) out.bytes[whole] = a.bytes[whole] & static_cast<std::uint8_t>(0xff << (8 - rest));
  return out;
}

std::string format_address(const IpAddress& a) {
  char buf[INET6_ADDRSTRLEN];
  if (a.is_v4_mapped()) inet_ntop(AF_INET, a.bytes + 12, buf, sizeof buf);
  else inet_ntop(AF_INET6, a.bytes, buf, sizeof buf);
  return buf;
}

void LocalNetworks::add_host_addresses() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    Prefix p;
    if (i->ifa_addr->sa_family == AF_INET) {
      set_v4(&reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, p.address);
      p.length = 128;
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      std::memcpy(p.address.bytes, &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, 16);
      p.length = 128;
    } else {
      continue;
    }
    add(p);
  }
  freeifaddrs(list);
}

}  // namespace tcpanomaly
