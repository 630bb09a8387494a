#include "decode/decoder.hpp"

#include <cstring>

namespace tcpanomaly {
namespace {

// ::ffff:a.b.c.d, how IPv4 addresses are held (IpAddress is always 16 bytes).
constexpr std::uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

constexpr std::uint16_t kEtherIPv4 = 0x0800;
constexpr std::uint16_t kEtherIPv6 = 0x86DD;
constexpr std::uint16_t kEtherVlan = 0x8100;
constexpr std::uint16_t kEtherQinQ = 0x88A8;
constexpr std::uint16_t kEtherQinQOld = 0x9100;
constexpr int kMaxVlanTags = 8;
constexpr int kMaxIpv6Extensions = 16;
constexpr std::uint8_t kNopNopTimestamp[4] = {1, 1, 8, 10};

inline std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
inline std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

// A bounds-checked view of the bytes not yet consumed.
struct Cursor {
  const std::uint8_t* p;
  std::size_t captured;  // bytes available at p
  std::uint32_t wire;    // bytes that were on the wire from p on
  bool has(std::size_t n) const { return captured >= n; }
  void skip(std::size_t n) {
    p += n;
    captured -= n;
    wire = wire >= n ? wire - static_cast<std::uint32_t>(n) : 0;
  }
};

inline std::uint32_t load32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The TCP parsers and the two IP ones below are always inlined: each frame then
// costs one call (decode()) instead of one per header. Only decode()'s
// Ethernet path inlines the IP parsers; the other link types and VLAN tags
// call their out-of-line copies (decode_ipv4, decode_ipv6), so the code is
// not repeated once per link type.

// Sets every field of `o` (the packet is not cleared beforehand).
[[gnu::always_inline]] inline void parse_tcp_options(const std::uint8_t* p, std::size_t len, TcpOptions& o) {
  o = TcpOptions{};
  // Nearly every segment after the handshake carries exactly NOP NOP
  // TIMESTAMP (Linux, the BSDs, Windows with RFC 1323 on): read it directly.
  if (len == 12 && load32(p) == load32(kNopNopTimestamp)) {
    o.timestamps = true;
    o.ts_value = be32(p + 4);
    o.ts_echo = be32(p + 8);
    return;
  }
  std::size_t i = 0;
  while (i < len) {
    const std::uint8_t kind = p[i];
    if (kind == 0) return;  // end of option list
    if (kind == 1) { ++i; continue; }  // no-op padding
    if (i + 1 >= len) return;
    const std::uint8_t olen = p[i + 1];
    if (olen < 2 || i + olen > len) return;  // malformed: keep what we have
    const std::uint8_t* v = p + i + 2;
    switch (kind) {
      case 2: if (olen == 4) o.mss = be16(v); break;
      case 3: if (olen == 3) o.window_scale = v[0]; break;
      case 4: if (olen == 2) o.sack_permitted = true; break;
      case 5: o.sack_blocks = static_cast<std::uint8_t>((olen - 2) / 8); break;
      case 8:
        if (olen == 10) {
          o.timestamps = true;
          o.ts_value = be32(v);
          o.ts_echo = be32(v + 4);
        }
        break;
      default: break;
    }
    i += olen;
  }
}

[[gnu::always_inline]] inline void read_fixed_tcp_header(const std::uint8_t* h, DecodedPacket& out) {
  out.src_port = be16(h);
  out.dst_port = be16(h + 2);
  out.seq = be32(h + 4);
  out.ack = be32(h + 8);
  out.flags = h[13];
  out.window = be16(h + 14);
}

// A data offset beyond the segment: the fixed 20 bytes are still a header
// (Wireshark reads its ports and flags too), but where options end and data
// begins is unknown, so neither is taken. An offset below 5 words makes the
// flags meaningless too: the kernel drops such a segment before reading
// them, and Wireshark shows none. Out of line: the per-packet path stays as short.
[[gnu::noinline, gnu::cold]] DecodeResult fixed_tcp_header_only(const std::uint8_t* h, std::size_t header_len,
                                                               DecodedPacket& out) {
  read_fixed_tcp_header(h, out);
  if (header_len < 20) out.flags = 0;
  out.payload_length = 0;
  out.options = TcpOptions{};
  out.has_tcp = true;
  return DecodeResult::bad_tcp_header;
}

// `l4_length` = bytes of the transport segment according to the IP header.
[[gnu::always_inline]] inline DecodeResult decode_tcp(Cursor c, std::uint32_t l4_length, DecodedPacket& out) {
  if (!c.has(20)) return DecodeResult::truncated;
  const std::uint8_t* h = c.p;
  const std::size_t header_len = std::size_t(h[12] >> 4) * 4;
  if (header_len < 20 || header_len > l4_length) [[unlikely]] return fixed_tcp_header_only(h, header_len, out);
  read_fixed_tcp_header(h, out);
  out.payload_length = l4_length - static_cast<std::uint32_t>(header_len);
  // Options may be cut by the snap length: parse what was captured.
  const std::size_t options_captured = (c.captured < header_len ? c.captured : header_len) - 20;
  parse_tcp_options(h + 20, options_captured, out.options);
  out.has_tcp = true;
  return DecodeResult::ok;
}

// An IP length clamped to the wire is reported unless the transport found
// worse (a header cut short); the packet is decoded either way.
inline DecodeResult with_length_error(DecodeResult transport) {
  return transport == DecodeResult::ok ? DecodeResult::bad_ip_length : transport;
}

// An IP header whose length is beyond what was on the wire is a lie: only the
// wire's bytes existed (Wireshark: "total length exceeds packet length"). The
// per-packet parsers (kClamp false) only test for it and hand such a packet
// to their clamping twin, out of line (decode_ipv4_clamped/decode_ipv6_clamped).
DecodeResult decode_ipv4_clamped(Cursor c, DecodedPacket& out);
DecodeResult decode_ipv6_clamped(Cursor c, DecodedPacket& out);

[[gnu::always_inline]] inline DecodeResult decode_transport(Cursor c, std::uint32_t l4_length, DecodedPacket& out) {
  if (out.protocol == 6 && !out.fragment) return decode_tcp(c, l4_length, out);
  return DecodeResult::ok;  // UDP, ICMP, others and fragments: counted by protocol only
}

void map_v4(const std::uint8_t* a, IpAddress& out) {
  std::memcpy(out.bytes, kV4MappedPrefix, 12);
  std::memcpy(out.bytes + 12, a, 4);
}

template <bool kClamp = false>
[[gnu::always_inline]] inline DecodeResult parse_ipv4(Cursor c, DecodedPacket& out) {
  if (!c.has(20)) return DecodeResult::truncated;
  const std::uint8_t* h = c.p;
  if ((h[0] >> 4) != 4) return DecodeResult::bad_ip_header;
  const std::size_t header_len = std::size_t(h[0] & 0x0f) * 4;
  if (header_len < 20) return DecodeResult::bad_ip_header;
  if (!c.has(header_len)) return DecodeResult::truncated;
  std::uint32_t total = be16(h + 2);
  // TSO/LRO captures carry segments larger than 64 KiB with length 0.
  if (total == 0) total = c.wire;
  if (total < header_len) return DecodeResult::bad_ip_length;
  if (total > c.wire) [[unlikely]] {
    if constexpr (!kClamp) return decode_ipv4_clamped(c, out);
    total = c.wire < header_len ? static_cast<std::uint32_t>(header_len) : c.wire;
  }
  out.ip_version = 4;
  out.ip_length = total;
  out.ecn = h[1] & 3;
  const std::uint16_t frag = be16(h + 6);
  out.dont_fragment = frag & 0x4000;
  const bool more = frag & 0x2000;
  const std::uint16_t offset = frag & 0x1fff;
  out.fragment = more || offset != 0;
  out.first_fragment = out.fragment && offset == 0;
  out.protocol = h[9];
  map_v4(h + 12, out.src);
  map_v4(h + 16, out.dst);
  c.skip(header_len);
  const DecodeResult r = decode_transport(c, total - static_cast<std::uint32_t>(header_len), out);
  return kClamp ? with_length_error(r) : r;
}

bool is_ipv6_extension(std::uint8_t nh) {
  return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60 || nh == 135 || nh == 139 ||
         nh == 140;
}

template <bool kClamp = false>
[[gnu::always_inline]] inline DecodeResult parse_ipv6(Cursor c, DecodedPacket& out) {
  if (!c.has(40)) return DecodeResult::truncated;
  const std::uint8_t* h = c.p;
  if ((h[0] >> 4) != 6) return DecodeResult::bad_ip_header;
  std::uint32_t payload = be16(h + 4);
  if (payload == 0) payload = c.wire >= 40 ? c.wire - 40 : 0;  // jumbogram or TSO
  if (payload + 40 > c.wire) [[unlikely]] {  // as for IPv4's total length
    if constexpr (!kClamp) return decode_ipv6_clamped(c, out);
    payload = c.wire >= 40 ? c.wire - 40 : 0;
  }
  out.ip_version = 6;
  out.ip_length = payload + 40;
  out.ecn = (be16(h) >> 4) & 3;
  std::memcpy(out.src.bytes, h + 8, 16);
  std::memcpy(out.dst.bytes, h + 24, 16);
  std::uint8_t next = h[6];
  c.skip(40);
  std::uint32_t remaining = payload;
  for (int i = 0; is_ipv6_extension(next); ++i) {
    if (i == kMaxIpv6Extensions) return DecodeResult::bad_ipv6_extension;
    if (!c.has(8)) return DecodeResult::truncated;
    std::size_t len;
    if (next == 44) {  // fragment header: fixed 8 bytes
      len = 8;
      const std::uint16_t off_flags = be16(c.p + 2);
      const bool more = off_flags & 1;
      const std::uint16_t offset = off_flags >> 3;
      // An atomic fragment (offset 0, no more) is a whole packet (RFC 6946).
      if (more || offset != 0) {
        out.fragment = true;
        out.first_fragment = offset == 0;
      }
    } else if (next == 51) {
      len = (std::size_t(c.p[1]) + 2) * 4;  // AH counts 4-byte words
    } else {
      len = (std::size_t(c.p[1]) + 1) * 8;
    }
    if (len > remaining) return DecodeResult::bad_ipv6_extension;
    if (!c.has(len)) return DecodeResult::truncated;
    next = c.p[0];
    remaining -= static_cast<std::uint32_t>(len);
    c.skip(len);
    if (out.fragment && !out.first_fragment) break;  // no upper header follows
  }
  out.protocol = next;
  const DecodeResult r = decode_transport(c, remaining, out);
  return kClamp ? with_length_error(r) : r;
}

[[gnu::noinline]] DecodeResult decode_ipv4(Cursor c, DecodedPacket& out) { return parse_ipv4(c, out); }
[[gnu::noinline]] DecodeResult decode_ipv6(Cursor c, DecodedPacket& out) { return parse_ipv6(c, out); }
[[gnu::noinline, gnu::cold]] DecodeResult decode_ipv4_clamped(Cursor c, DecodedPacket& out) {
  return parse_ipv4<true>(c, out);
}
[[gnu::noinline, gnu::cold]] DecodeResult decode_ipv6_clamped(Cursor c, DecodedPacket& out) {
  return parse_ipv6<true>(c, out);
}

DecodeResult decode_by_ethertype(std::uint16_t type, Cursor c, DecodedPacket& out) {
  if (type == kEtherIPv4) return decode_ipv4(c, out);  // the common cases first
  if (type == kEtherIPv6) return decode_ipv6(c, out);
  for (int tags = 0; type == kEtherVlan || type == kEtherQinQ || type == kEtherQinQOld; ++tags) {
    if (tags == kMaxVlanTags || !c.has(4)) return DecodeResult::truncated;
    out.vlan = be16(c.p) & 0x0fff;
    type = be16(c.p + 2);
    c.skip(4);
  }
  if (type == kEtherIPv4) return decode_ipv4(c, out);
  if (type == kEtherIPv6) return decode_ipv6(c, out);
  return DecodeResult::non_ip;
}

DecodeResult decode_by_version(Cursor c, DecodedPacket& out) {
  if (!c.has(1)) return DecodeResult::truncated;
  switch (c.p[0] >> 4) {
    case 4: return decode_ipv4(c, out);
    case 6: return decode_ipv6(c, out);
    default: return DecodeResult::bad_ip_header;
  }
}

// BSD address families differ per OS for IPv6; accept them all.
DecodeResult decode_by_family(std::uint32_t family, Cursor c, DecodedPacket& out) {
  if (family == 2) return decode_ipv4(c, out);
  if (family == 10 || family == 24 || family == 28 || family == 30) return decode_ipv6(c, out);
  return DecodeResult::non_ip;
}

}  // namespace

bool IpAddress::is_v4_mapped() const {
  return std::memcmp(bytes, kV4MappedPrefix, 12) == 0;
}

std::uint32_t sll2_ifindex(const std::uint8_t* data, std::size_t captured) {
  return captured >= 8 ? be32(data + 4) : 0;
}

bool linktype_supported(int link_type) {
  switch (link_type) {
    case linktype::null: case linktype::ethernet: case linktype::raw: case linktype::dlt_raw_bsd:
    case linktype::dlt_raw_obsd: case linktype::loop: case linktype::linux_sll:
    case linktype::ipv4: case linktype::ipv6: case linktype::linux_sll2:
      return true;
    default:
      return false;
  }
}

DecodeResult decode(int link_type, const std::uint8_t* data, std::size_t captured,
                                     std::uint32_t wire_length, DecodedPacket& out) {
  // The caller does not clear `out` (this runs per packet): reset what the
  // layers below set only sometimes. TCP fields are all set when has_tcp is.
  out.vlan = 0;
  out.ip_version = 0;
  out.protocol = 0;
  out.ecn = 0;
  out.dont_fragment = out.fragment = out.first_fragment = false;
  out.ip_length = 0;
  out.has_tcp = false;
  Cursor c{data, captured, wire_length};
  // Ethernet ahead of the switch: its bounds check and table jump cost as
  // much as this test and the header skip together.
  if (link_type == linktype::ethernet) {
    if (!c.has(14)) return DecodeResult::truncated;
    const std::uint16_t type = be16(c.p + 12);
    c.skip(14);
    if (type == kEtherIPv4) return parse_ipv4(c, out);  // inline: nearly every frame
    if (type == kEtherIPv6) return parse_ipv6(c, out);
    return decode_by_ethertype(type, c, out);
  }
  switch (link_type) {
    case linktype::linux_sll:
      if (!c.has(16)) return DecodeResult::truncated;
      {
        const std::uint16_t type = be16(c.p + 14);
        c.skip(16);
        return decode_by_ethertype(type, c, out);
      }
    case linktype::linux_sll2:
      if (!c.has(20)) return DecodeResult::truncated;
      {
        const std::uint16_t type = be16(c.p);
        out.ifindex = be32(c.p + 4);
        c.skip(20);
        return decode_by_ethertype(type, c, out);
      }
    case linktype::null:
      if (!c.has(4)) return DecodeResult::truncated;
      {
        std::uint32_t family;
        std::memcpy(&family, c.p, 4);  // writer's byte order: accept both
        if (family > 0xffff) family = __builtin_bswap32(family);
        c.skip(4);
        return decode_by_family(family, c, out);
      }
    case linktype::loop:
      if (!c.has(4)) return DecodeResult::truncated;
      {
        const std::uint32_t family = be32(c.p);
        c.skip(4);
        return decode_by_family(family, c, out);
      }
    case linktype::raw: case linktype::dlt_raw_bsd: case linktype::dlt_raw_obsd:
      return decode_by_version(c, out);
    case linktype::ipv4: return decode_ipv4(c, out);
    case linktype::ipv6: return decode_ipv6(c, out);
    default: return DecodeResult::unsupported_linktype;
  }
}

}  // namespace tcpanomaly
