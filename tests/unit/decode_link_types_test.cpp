// Decoder: every supported link type, VLAN stacks, non-IP frames, and every
// field of a TCP segment carrying all the options we read.
#include <catch2/catch.hpp>
#include <tins/tins.h>

#include <arpa/inet.h>

#include "decode/decoder.hpp"
#include "flow/local_networks.hpp"
#include "support/frames.hpp"

using namespace tcpanomaly;
using namespace tcpanomaly::test;

namespace {

DecodeResult run(int link, const Bytes& b, DecodedPacket& p) {
  return decode(link, b.data(), b.size(), static_cast<std::uint32_t>(b.size()), p);
}

IpAddress addr(const char* text) {
  Prefix p;
  REQUIRE(parse_prefix(text, p));
  return p.address;
}

// The fields of ipv4_tcp_with_options()/ipv6_tcp_with_extensions(), 10 bytes of payload.
void check_tcp_fields(const DecodedPacket& p, bool v6) {
  CHECK(p.ip_version == (v6 ? 6 : 4));
  CHECK(p.protocol == 6);
  CHECK(p.src == addr(v6 ? kAddr6A : kAddrA));
  CHECK(p.dst == addr(v6 ? kAddr6B : kAddrB));
  CHECK(p.src.is_v4_mapped() == !v6);
  CHECK_FALSE(p.fragment);
  REQUIRE(p.has_tcp);
  CHECK(p.src_port == kPortA);
  CHECK(p.dst_port == kPortB);
  CHECK(p.seq == 0x01020304u);
  CHECK(p.ack == 0x0a0b0c0du);
  CHECK(p.flags == (tcpflag::syn | tcpflag::ack));
  CHECK(p.window == 4321);
  CHECK(p.payload_length == 10);
  CHECK(p.options.mss == 1460);
  CHECK(p.options.window_scale == 7);
  CHECK(p.options.sack_permitted);
  CHECK(p.options.timestamps);
  CHECK(p.options.ts_value == 111);
  CHECK(p.options.ts_echo == 222);
  CHECK(p.options.sack_blocks == 2);
  // TCP header: 20 + MSS 4 + WS 3 + SACKOK 2 + TS 10 + SACK 18 = 57 -> 60 padded.
  // IPv4: 20 + 60 + 10. IPv6: 40 + 8 (hop-by-hop) + 8 (destination options) + 60 + 10.
  CHECK(p.ip_length == (v6 ? 126u : 90u));
}

}  // namespace

TEST_CASE("every supported link type decodes IPv4 and IPv6 TCP", "[decode]") {
  for (int link : supported_link_types()) {
    for (bool v6 : {false, true}) {
      if ((link == linktype::ipv4 && v6) || (link == linktype::ipv6 && !v6)) continue;
      INFO("link type " << link << (v6 ? " IPv6" : " IPv4"));
      const Bytes frame = wrap(link, v6 ? ipv6_tcp_with_extensions() : ipv4_tcp_with_options());
      DecodedPacket p;
      REQUIRE(run(link, frame, p) == DecodeResult::ok);
      check_tcp_fields(p, v6);
      CHECK(p.vlan == 0);
    }
  }
  CHECK(linktype_supported(linktype::linux_sll2));
  CHECK_FALSE(linktype_supported(105));  // 802.11
}

TEST_CASE("NULL accepts both byte orders of the family, LOOP only network order", "[decode]") {
  const Bytes ip = ipv4_tcp_with_options();
  Bytes swapped = ip;
  const Bytes be_family = {0, 0, 0, 2};  // a big-endian writer's AF_INET
  swapped.insert(swapped.begin(), be_family.begin(), be_family.end());
  DecodedPacket p;
  CHECK(run(linktype::null, swapped, p) == DecodeResult::ok);
  CHECK(p.has_tcp);

  // Every BSD value of AF_INET6 (Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, macOS 30).
  for (std::uint8_t family : {10, 24, 28, 30}) {
    Bytes v6 = {0, 0, 0, family};
    const Bytes pkt = ipv6_tcp_with_extensions();
    v6.insert(v6.end(), pkt.begin(), pkt.end());
    DecodedPacket q;
    CHECK(run(linktype::loop, v6, q) == DecodeResult::ok);
    CHECK(q.ip_version == 6);
  }
  // Unknown family: not IP.
  Bytes other = {0, 0, 0, 7};
  other.insert(other.end(), ip.begin(), ip.end());
  DecodedPacket r;
  CHECK(run(linktype::loop, other, r) == DecodeResult::non_ip);
}

TEST_CASE("stacked 802.1Q/802.1ad tags: the innermost VLAN id is kept", "[decode]") {
  Tins::IP ip(kAddrB, kAddrA);
  auto frame = Tins::EthernetII() / Tins::Dot1Q(100) / Tins::Dot1Q(200) / ip / Tins::TCP(kPortB, kPortA);
  const Bytes b = frame.serialize();
  DecodedPacket p;
  REQUIRE(run(linktype::ethernet, b, p) == DecodeResult::ok);
  CHECK(p.vlan == 200);
  CHECK(p.has_tcp);
  CHECK(p.src_port == kPortA);
  CHECK(p.ip_length == 40);  // Ethernet padding is not IP length

  // Nine tags are more than we follow: counted as truncated, not looped over.
  Bytes deep(14, 0);
  put16(deep, 12, 0x8100);
  for (int i = 0; i < 9; ++i) deep.insert(deep.end(), {0x00, 0x01, 0x81, 0x00});
  const Bytes pkt = ipv4_tcp_with_options();
  deep.insert(deep.end(), pkt.begin(), pkt.end());
  DecodedPacket q;
  CHECK(run(linktype::ethernet, deep, q) == DecodeResult::truncated);
}

TEST_CASE("non-IP frames are reported as non_ip, not as errors", "[decode]") {
  auto arp = Tins::EthernetII() / Tins::ARP();
  const Bytes b = arp.serialize();
  DecodedPacket p;
  CHECK(run(linktype::ethernet, b, p) == DecodeResult::non_ip);
  CHECK(p.ip_version == 0);

  Bytes sll = wrap(linktype::linux_sll, ipv4_tcp_with_options());
  put16(sll, 14, 0x0806);  // ARP protocol in the SLL header
  DecodedPacket q;
  CHECK(run(linktype::linux_sll, sll, q) == DecodeResult::non_ip);
}

TEST_CASE("TCP options cut by the snap length keep what was captured", "[decode]") {
  const Bytes frame = wrap(linktype::ethernet, ipv4_tcp_with_options(0));
  // Options start at 14 + 20 + 20 = 54: MSS (4), WS (3), SACKOK (2), TS (10), SACK (18).
  const std::size_t after_ws = 54 + 4 + 3;
  DecodedPacket p;
  REQUIRE(decode(linktype::ethernet, frame.data(), after_ws, static_cast<std::uint32_t>(frame.size()), p) ==
          DecodeResult::ok);
  CHECK(p.options.mss == 1460);
  CHECK(p.options.window_scale == 7);
  CHECK_FALSE(p.options.sack_permitted);
  CHECK_FALSE(p.options.timestamps);
  CHECK(p.payload_length == 0);  // from IP lengths
}

TEST_CASE("malformed TCP options stop parsing without failing the segment", "[decode]") {
  Tins::IP ip(kAddrB, kAddrA);
  Tins::TCP tcp(kPortB, kPortA);
  tcp.mss(1400);
  tcp.winscale(3);
  auto pdu = ip / tcp;
  Bytes b = pdu.serialize();
  // Options at 40: MSS (02 04 ..) then NOP, WS (03 03 03). Make the WS length 0xff.
  REQUIRE(b[40] == 2);
  const std::size_t ws = b[44] == 1 ? 45 : 44;
  REQUIRE(b[ws] == 3);
  b[ws + 1] = 0xff;
  DecodedPacket p;
  REQUIRE(run(linktype::raw, b, p) == DecodeResult::ok);
  CHECK(p.options.mss == 1400);
  CHECK(p.options.window_scale == -1);
  // Option length 1 (< 2) is malformed too.
  b[ws + 1] = 1;
  DecodedPacket q;
  REQUIRE(run(linktype::raw, b, q) == DecodeResult::ok);
  CHECK(q.options.window_scale == -1);
}
