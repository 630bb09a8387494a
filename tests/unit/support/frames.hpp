// Frame crafting for the unit tests: libtins builds the IP and transport
// layers; link headers that libtins doesn't know (SLL2, NULL, LOOP, raw) are
// prepended by hand.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tcpanomaly::test {

using Bytes = std::vector<std::uint8_t>;

// Addresses and ports used by every crafted TCP frame.
inline const char* const kAddrA = "10.0.0.1";
inline const char* const kAddrB = "10.0.0.2";
inline const char* const kAddr6A = "2001:db8::1";
inline const char* const kAddr6B = "2001:db8::2";
constexpr std::uint16_t kPortA = 40000, kPortB = 80;

// IPv4 + TCP (no link header): flags SYN|ACK, seq 0x01020304, ack 0x0a0b0c0d,
// window 4321, options MSS 1460, window scale 7, SACK-permitted, timestamps
// (111, 222) and two SACK blocks; `payload` bytes of data.
Bytes ipv4_tcp_with_options(std::uint32_t payload = 10);
// IPv6 + hop-by-hop + destination options + the same TCP segment.
Bytes ipv6_tcp_with_extensions(std::uint32_t payload = 10);

// Prepends the link header of `link_type` (one of linktype::*) to an IP packet.
Bytes wrap(int link_type, const Bytes& ip_packet);
// Bytes the link header of `link_type` takes.
std::size_t link_header_length(int link_type);
// Every link type the decoder supports.
const std::vector<int>& supported_link_types();

// Writes a 16-bit big-endian value into a byte buffer.
inline void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}

}  // namespace tcpanomaly::test
