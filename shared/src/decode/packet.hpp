// The decoder's output: a flat, fixed-size summary of one frame's headers.
// Filled by decode(); no pointers into the frame survive the call.
#pragma once

#include <cstdint>
#include <cstring>

namespace tcpanomaly {

// IPv4 is stored v4-mapped (::ffff:a.b.c.d) so one key type serves both.
struct IpAddress {
  std::uint8_t bytes[16];
  bool operator==(const IpAddress& o) const { return std::memcmp(bytes, o.bytes, 16) == 0; }
  bool operator!=(const IpAddress& o) const { return !(*this == o); }
  bool is_v4_mapped() const;
};

enum class DecodeResult : std::uint8_t {
  ok,
  non_ip,                // ARP, LLDP, ...: not an error, counted as non_ip_frames
  truncated,             // a header runs past the captured bytes
  bad_ip_header,         // bad version or header length
  bad_ip_length,         // total (v4) or payload (v6) length below the header, or beyond
                         // the wire length: then clamped to it and the packet decoded
  bad_tcp_header,        // data offset below 5 words or beyond the segment: the fixed
                         // 20 bytes are decoded (has_tcp), no payload, no options
  bad_ipv6_extension,    // malformed extension header chain
  unsupported_linktype,
};

namespace tcpflag {
constexpr std::uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10, urg = 0x20,
                       ece = 0x40, cwr = 0x80;
}

struct TcpOptions {
  std::int16_t window_scale = -1;  // -1: option absent
  std::uint16_t mss = 0;
  bool sack_permitted = false;
  bool timestamps = false;
  std::uint8_t sack_blocks = 0;
  std::uint32_t ts_value = 0, ts_echo = 0;
};

struct DecodedPacket {
  std::int64_t time_ns = 0;
  std::uint32_t wire_length = 0;
  std::uint16_t vlan = 0;  // innermost VLAN id, 0 if untagged

  std::uint8_t ip_version = 0;  // 4 or 6
  std::uint8_t protocol = 0;    // upper-layer protocol number after extension headers
  std::uint8_t ecn = 0;         // the IP ECN field (3 = CE)
  bool dont_fragment = false;
  bool fragment = false;        // part of a fragmented datagram (not an atomic fragment)
  bool first_fragment = false;  // offset 0 of a fragmented datagram
  std::uint32_t ip_length = 0;  // IP packet length from the header (TSO: from the frame)
  IpAddress src{}, dst{};

  // TCP, valid when has_tcp. With DecodeResult::bad_tcp_header only the
  // fixed header's fields are (payload_length 0, options empty).
  bool has_tcp = false;
  std::uint16_t src_port = 0, dst_port = 0;
  std::uint32_t seq = 0, ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;
  std::uint32_t payload_length = 0;  // from IP lengths, not captured bytes
  TcpOptions options;

  std::uint32_t ifindex = 0;  // LINKTYPE_LINUX_SLL2 only: the interface it crossed (else not set)
};

}  // namespace tcpanomaly
