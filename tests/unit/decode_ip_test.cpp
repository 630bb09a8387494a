// Decoder: IPv4 (options, DF, fragments, TSO length 0), IPv6 extension
// headers (fragment, atomic fragment, AH, routing), UDP, ICMP, ICMPv6.
#include <algorithm>

#include <catch2/catch.hpp>
#include <tins/tins.h>

#include "decode/decoder.hpp"
#include "support/frames.hpp"

using namespace tcpanomaly;
using namespace tcpanomaly::test;

namespace {

DecodeResult run_raw(const Bytes& b, DecodedPacket& p) {
  return decode(linktype::raw, b.data(), b.size(), static_cast<std::uint32_t>(b.size()), p);
}

// IPv6 header + hand-built extension chain + a 20-byte TCP header.
// `chain` holds the extension headers; `first` is the IPv6 next header.
Bytes ipv6_with_chain(std::uint8_t first, const Bytes& chain, std::uint32_t tcp_payload = 0) {
  Tins::TCP tcp(kPortB, kPortA);
  tcp.seq(77);
  Bytes t = tcp.serialize();
  t.resize(t.size() + tcp_payload, 'p');
  Bytes b(40 + chain.size() + t.size(), 0);  // sized once: GCC 12 misreads insert() growth
  b[0] = 0x60;
  put16(b, 4, static_cast<std::uint16_t>(chain.size() + t.size()));
  b[6] = first;
  b[7] = 64;
  b[8 + 15] = 1;   // src ::1
  b[24 + 15] = 2;  // dst ::2
  std::copy(chain.begin(), chain.end(), b.begin() + 40);
  std::copy(t.begin(), t.end(), b.begin() + 40 + static_cast<std::ptrdiff_t>(chain.size()));
  return b;
}

}  // namespace

TEST_CASE("IPv4 options shift the transport header", "[decode]") {
  Tins::IP ip(kAddrB, kAddrA);
  for (int i = 0; i < 3; ++i) ip.add_option(Tins::IP::option(Tins::IP::NOOP));
  ip.add_option(Tins::IP::option(Tins::IP::END));
  Tins::TCP tcp(kPortB, kPortA);
  tcp.seq(4242);
  auto pdu = ip / tcp / Tins::RawPDU("abcde");
  const Bytes b = pdu.serialize();
  REQUIRE((b[0] & 0x0f) == 6);  // IHL: 24 bytes
  DecodedPacket p;
  REQUIRE(run_raw(b, p) == DecodeResult::ok);
  CHECK(p.has_tcp);
  CHECK(p.seq == 4242);
  CHECK(p.src_port == kPortA);
  CHECK(p.payload_length == 5);
  CHECK(p.ip_length == 24 + 20 + 5);
  CHECK_FALSE(p.dont_fragment);
}

TEST_CASE("IPv4 DF, ECN and fragments", "[decode]") {
  SECTION("DF and CE") {
    Tins::IP ip(kAddrB, kAddrA);
    ip.flags(Tins::IP::DONT_FRAGMENT);
    ip.tos(0x03);
    auto pdu = ip / Tins::TCP(kPortB, kPortA);
    DecodedPacket p;
    REQUIRE(run_raw(pdu.serialize(), p) == DecodeResult::ok);
    CHECK(p.dont_fragment);
    CHECK(p.ecn == 3);
    CHECK_FALSE(p.fragment);
    CHECK(p.has_tcp);
  }
  SECTION("first fragment: counted as a fragment, TCP not analysed") {
    Tins::IP ip(kAddrB, kAddrA);
    ip.flags(Tins::IP::MORE_FRAGMENTS);
    auto pdu = ip / Tins::TCP(kPortB, kPortA) / Tins::RawPDU(std::string(16, 'x'));
    DecodedPacket p;
    REQUIRE(run_raw(pdu.serialize(), p) == DecodeResult::ok);
    CHECK(p.fragment);
    CHECK(p.first_fragment);
    CHECK(p.protocol == 6);
    CHECK_FALSE(p.has_tcp);
    CHECK(p.ip_length == 56);
  }
  SECTION("later fragment") {
    Tins::IP ip(kAddrB, kAddrA);
    ip.protocol(6);
    ip.fragment_offset(185);  // 1480 bytes in, last fragment
    auto pdu = ip / Tins::RawPDU(std::string(100, 'y'));
    DecodedPacket p;
    REQUIRE(run_raw(pdu.serialize(), p) == DecodeResult::ok);
    CHECK(p.fragment);
    CHECK_FALSE(p.first_fragment);
    CHECK_FALSE(p.has_tcp);
    CHECK(p.ip_length == 120);
  }
}

TEST_CASE("IPv4 total length 0 (TSO/LRO): the frame's wire length is used", "[decode]") {
  Bytes b = ipv4_tcp_with_options(0);  // 20 + 60 bytes of headers
  put16(b, 2, 0);
  const Bytes frame = wrap(linktype::ethernet, b);
  DecodedPacket p;
  // 128 bytes captured of a 30014-byte frame (snap length cut).
  REQUIRE(decode(linktype::ethernet, frame.data(), 128 < frame.size() ? 128 : frame.size(), 30014, p) ==
          DecodeResult::ok);
  CHECK(p.ip_length == 30000);
  CHECK(p.payload_length == 30000 - 80);
  CHECK(p.options.mss == 1460);

  // IPv6 payload length 0 likewise (jumbogram or TSO).
  Bytes v6 = ipv6_tcp_with_extensions(0);  // 40 + 16 + 60
  put16(v6, 4, 0);
  DecodedPacket q;
  REQUIRE(decode(linktype::raw, v6.data(), v6.size(), 20000, q) == DecodeResult::ok);
  CHECK(q.ip_length == 20000);
  CHECK(q.payload_length == 20000 - 40 - 16 - 60);
}

TEST_CASE("IPv6 fragment headers", "[decode]") {
  auto frag = [](std::uint16_t offset_words, bool more) {
    Bytes h = {6, 0, 0, 0, 0, 0, 0, 9};  // next header TCP, id 9
    put16(h, 2, static_cast<std::uint16_t>(offset_words << 3 | (more ? 1 : 0)));
    return h;
  };
  SECTION("atomic fragment (offset 0, no more) is a whole packet") {
    DecodedPacket p;
    REQUIRE(run_raw(ipv6_with_chain(44, frag(0, false), 3), p) == DecodeResult::ok);
    CHECK_FALSE(p.fragment);
    CHECK(p.has_tcp);
    CHECK(p.seq == 77);
    CHECK(p.payload_length == 3);
  }
  SECTION("first fragment") {
    DecodedPacket p;
    REQUIRE(run_raw(ipv6_with_chain(44, frag(0, true)), p) == DecodeResult::ok);
    CHECK(p.fragment);
    CHECK(p.first_fragment);
    CHECK(p.protocol == 6);
    CHECK_FALSE(p.has_tcp);
  }
  SECTION("later fragment: its bytes are not an upper-layer header") {
    DecodedPacket p;
    REQUIRE(run_raw(ipv6_with_chain(44, frag(100, false)), p) == DecodeResult::ok);
    CHECK(p.fragment);
    CHECK_FALSE(p.first_fragment);
    CHECK(p.protocol == 6);
    CHECK_FALSE(p.has_tcp);
  }
}

TEST_CASE("IPv6 routing and authentication headers are walked", "[decode]") {
  // Routing header (43): 8-byte units, length byte 1 -> 16 bytes; then AH
  // (51): 4-byte units + 2, length byte 4 -> 24 bytes; then TCP.
  Bytes chain(16, 0);
  chain[0] = 51;
  chain[1] = 1;
  Bytes ah(24, 0);
  ah[0] = 6;
  ah[1] = 4;
  chain.insert(chain.end(), ah.begin(), ah.end());
  DecodedPacket p;
  REQUIRE(run_raw(ipv6_with_chain(43, chain, 7), p) == DecodeResult::ok);
  CHECK(p.protocol == 6);
  REQUIRE(p.has_tcp);
  CHECK(p.seq == 77);
  CHECK(p.payload_length == 7);
  CHECK(p.ip_length == 40 + 40 + 20 + 7);
}

TEST_CASE("UDP, ICMP and ICMPv6 are counted by protocol only", "[decode]") {
  DecodedPacket u;
  auto udp = Tins::IP(kAddrB, kAddrA) / Tins::UDP(53, 5353) / Tins::RawPDU("query");
  REQUIRE(run_raw(udp.serialize(), u) == DecodeResult::ok);
  CHECK(u.protocol == 17);
  CHECK(u.ip_length == 20 + 8 + 5);
  CHECK_FALSE(u.has_tcp);

  DecodedPacket i;
  auto icmp = Tins::IP(kAddrB, kAddrA) / Tins::ICMP(Tins::ICMP::ECHO_REQUEST);
  REQUIRE(run_raw(icmp.serialize(), i) == DecodeResult::ok);
  CHECK(i.protocol == 1);
  CHECK(i.ip_length == 28);

  DecodedPacket i6;
  auto icmp6 = Tins::IPv6(kAddr6B, kAddr6A) / Tins::ICMPv6(Tins::ICMPv6::ECHO_REQUEST);
  REQUIRE(run_raw(icmp6.serialize(), i6) == DecodeResult::ok);
  CHECK(i6.ip_version == 6);
  CHECK(i6.protocol == 58);
  CHECK(i6.ip_length == 48);

  // A UDP datagram over an IPv6 hop-by-hop header: the protocol after the chain.
  Tins::IPv6 ip6(kAddr6B, kAddr6A);
  const std::uint8_t pad[6] = {1, 4, 0, 0, 0, 0};
  ip6.add_header(Tins::IPv6::ext_header(Tins::IPv6::HOP_BY_HOP, pad, pad + 6));
  auto u6 = ip6 / Tins::UDP(53, 5353);
  DecodedPacket q;
  REQUIRE(run_raw(u6.serialize(), q) == DecodeResult::ok);
  CHECK(q.protocol == 17);
  CHECK(q.ip_length == 40 + 8 + 8);
}
