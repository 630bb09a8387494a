// Stage 2: decode. Bounds-checked parsing of link, network and transport
// headers straight from the captured bytes. Never throws, never allocates.
#pragma once

#include <cstddef>
#include <cstdint>

#include "decode/packet.hpp"

namespace tcpanomaly {

// Link types we decode (values of pcap's DLT_/LINKTYPE_ numbers).
namespace linktype {
constexpr int null = 0;         // BSD loopback, host byte order family
constexpr int ethernet = 1;
constexpr int raw = 101;        // raw IPv4/IPv6 (LINKTYPE_RAW)
constexpr int dlt_raw_bsd = 12; // DLT_RAW on most BSD-derived systems
constexpr int dlt_raw_obsd = 14;
constexpr int loop = 108;       // OpenBSD loopback, network byte order family
constexpr int linux_sll = 113;
constexpr int ipv4 = 228;
constexpr int ipv6 = 229;
constexpr int linux_sll2 = 276;
}  // namespace linktype

bool linktype_supported(int link_type);

// The interface index of a LINKTYPE_LINUX_SLL2 frame (what libpcap's "any"
// device gives), read from its header before decoding; 0 if cut short.
std::uint32_t sll2_ifindex(const std::uint8_t* data, std::size_t captured);

// Decodes one frame. `captured` bytes are available at `data`; `wire_length`
// is the original length (used when an IP header says 0, as TSO captures do).
// `out` need not be cleared first: every field the result makes valid is set
// (time_ns and wire_length are the caller's).
DecodeResult decode(int link_type, const std::uint8_t* data, std::size_t captured,
                    std::uint32_t wire_length, DecodedPacket& out);

}  // namespace tcpanomaly
