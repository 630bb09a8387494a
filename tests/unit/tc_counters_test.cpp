// The tc counting program, run for real in the kernel on hand-built frames
// (BPF_PROG_TEST_RUN: no interface needed; needs root, as CI is). Each
// expectation is worked out from the frame as built here: its IP length,
// flags and addresses.
#include <tins/tins.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <optional>

#include "decode/decoder.hpp"
#include "kernel/tc_counter_program.hpp"
#include "support/frames.hpp"

using namespace tcpanomaly;
using namespace tcpanomaly::test;

namespace {

// In a test run the frame "arrives" on the namespace's loopback device.
constexpr std::uint32_t kTestIfindex = 1;

// Each case runs in both of the program's ways of counting: `fast`, the
// interface in an array slot and the local prefixes in the program's short
// list (the common case), else the hash and the maps (more than
// TCPA_LOCAL_LIST prefixes: 40 unrelated host addresses added).
struct Runner {
  TcCounterProgram program;
  explicit Runner(bool fast) {
    Prefix local;
    REQUIRE(parse_prefix("10.0.0.0/24", local));
    Prefix local6;
    REQUIRE(parse_prefix("2001:db8::/64", local6));
    Prefix host;
    REQUIRE(parse_prefix("10.9.9.9", host));
    std::vector<Prefix> prefixes{local, local6, host};
    for (int i = 0; !fast && i < 40; ++i) {
      Prefix filler;
      REQUIRE(parse_prefix("203.0.113." + std::to_string(i + 1), filler));
      prefixes.push_back(filler);
    }
    program.set_local_prefixes(prefixes);
    program.load();
    program.forget(kTestIfindex);
    if (fast) program.track(kTestIfindex);
  }
  // Runs the program once on `frame`; returns its verdict.
  int run(const Bytes& frame) {
    try { return program.test_run(frame.data(), frame.size()); } catch (...) { FAIL("frame of " << frame.size()); }
    return 0;
  }
  std::optional<tcpa_tc_value> count(std::uint8_t direction, std::uint8_t ip, std::uint8_t proto) {
    for (const KernelCount& c : program.read())
      if (c.key.ifindex == kTestIfindex && c.key.direction == direction && c.key.ip == ip && c.key.proto == proto)
        return c.value;
    return std::nullopt;
  }
  std::size_t keys() {
    std::size_t n = 0;
    for (const KernelCount& c : program.read()) n += c.key.ifindex == kTestIfindex;
    return n;
  }
};

Bytes serialize(Tins::PDU&& pdu) { return pdu.serialize(); }

Bytes udp4(const char* src, const char* dst, std::size_t payload) {
  return serialize(Tins::EthernetII() / Tins::IP(dst, src) / Tins::UDP(53, 40000) /
                   Tins::RawPDU(std::string(payload, 'x')));
}

}  // namespace

TEST_CASE("tc counters: IPv4 UDP from a local address is out, its IP length and size bucket counted") {
  Runner r(GENERATE(true, false));
  CHECK(r.run(udp4("10.0.0.1", "192.0.2.9", 100)) == -1);  // TC_ACT_UNSPEC: the next filter runs
  const auto v = r.count(TCPA_DIR_OUT, 4, TCPA_PROTO_UDP);
  REQUIRE(v);
  CHECK(v->packets == 1);
  CHECK(v->bytes == 20 + 8 + 100);
  CHECK(v->size_buckets[1] == 1);  // (64, 128]
  CHECK(v->df == 0);
  CHECK(v->fragments == 0);
  CHECK(r.keys() == 1);
}

TEST_CASE("tc counters: direction by local prefix, as the wire analysis labels it") {
  Runner r(GENERATE(true, false));
  r.run(udp4("192.0.2.9", "10.0.0.7", 10));  // to a local address
  r.run(udp4("192.0.2.9", "198.51.100.1", 10));  // neither end local
  r.run(udp4("10.0.0.2", "10.0.0.3", 10));  // both: the sender decides
  r.run(udp4("10.9.9.9", "198.51.100.1", 10));  // a local /32 (the address hash, not the prefix trie)
  r.run(udp4("198.51.100.1", "10.9.9.9", 10));
  r.run(udp4("10.9.9.8", "198.51.100.1", 10));  // its neighbour is not local
  CHECK(r.count(TCPA_DIR_IN, 4, TCPA_PROTO_UDP)->packets == 2);
  CHECK(r.count(TCPA_DIR_TRANSIT, 4, TCPA_PROTO_UDP)->packets == 2);
  CHECK(r.count(TCPA_DIR_OUT, 4, TCPA_PROTO_UDP)->packets == 2);
}

TEST_CASE("tc counters: each protocol, IPv4 and IPv6") {
  Runner r(GENERATE(true, false));
  Tins::IP tcp_ip("10.0.0.1", "192.0.2.9");
  r.run(serialize(Tins::EthernetII() / Tins::IP("192.0.2.9", "10.0.0.1") / Tins::TCP(80, 40000)));
  r.run(serialize(Tins::EthernetII() / Tins::IP("192.0.2.9", "10.0.0.1") / Tins::ICMP()));
  Tins::IP gre = Tins::IP("192.0.2.9", "10.0.0.1") / Tins::RawPDU(std::string(4, '\0'));
  gre.protocol(47);
  r.run(serialize(Tins::EthernetII() / gre));
  r.run(serialize(Tins::EthernetII() / Tins::IPv6("2001:db8:9::1", "2001:db8::1") / Tins::ICMPv6()));
  r.run(serialize(Tins::EthernetII() / Tins::IPv6("2001:db8:9::1", "2001:db8::1") / Tins::UDP(53, 5353)));
  r.run(serialize(Tins::EthernetII() / Tins::IPv6("2001:db8:9::1", "2001:db8::1") / Tins::TCP(80, 40000)));
  CHECK(r.count(TCPA_DIR_OUT, 4, TCPA_PROTO_TCP)->bytes == 40);
  CHECK(r.count(TCPA_DIR_OUT, 4, TCPA_PROTO_ICMP)->bytes == 28);
  CHECK(r.count(TCPA_DIR_OUT, 4, TCPA_PROTO_OTHER)->bytes == 24);
  CHECK(r.count(TCPA_DIR_OUT, 6, TCPA_PROTO_ICMP)->packets == 1);
  CHECK(r.count(TCPA_DIR_OUT, 6, TCPA_PROTO_UDP)->bytes == 48);
  CHECK(r.count(TCPA_DIR_OUT, 6, TCPA_PROTO_TCP)->bytes == 60);
  CHECK(r.keys() == 6);
}

TEST_CASE("tc counters: IPv6 extension headers are walked to the upper protocol") {
  Runner r(GENERATE(true, false));
  // IPv6 + hop-by-hop + destination options + TCP (frames.hpp), from a local address.
  r.run(wrap(linktype::ethernet, ipv6_tcp_with_extensions(10)));
  const auto v = r.count(TCPA_DIR_OUT, 6, TCPA_PROTO_TCP);
  REQUIRE(v);
  CHECK(v->packets == 1);
  CHECK(v->bytes == ipv6_tcp_with_extensions(10).size());
}

TEST_CASE("tc counters: DF, IPv4 fragments and IPv6 fragment headers") {
  Runner r(GENERATE(true, false));
  Tins::IP df = Tins::IP("192.0.2.9", "10.0.0.1") / Tins::UDP(53, 40000) / Tins::RawPDU("abcd");
  df.flags(Tins::IP::DONT_FRAGMENT);
  r.run(serialize(Tins::EthernetII() / df));
  Tins::IP first = Tins::IP("192.0.2.9", "10.0.0.1") / Tins::UDP(53, 40000) / Tins::RawPDU(std::string(16, 'a'));
  first.flags(Tins::IP::MORE_FRAGMENTS);
  r.run(serialize(Tins::EthernetII() / first));
  Tins::IP later = Tins::IP("192.0.2.9", "10.0.0.1") / Tins::RawPDU(std::string(16, 'b'));
  later.protocol(17);
  later.fragment_offset(3);
  r.run(serialize(Tins::EthernetII() / later));
  const auto v4 = r.count(TCPA_DIR_OUT, 4, TCPA_PROTO_UDP);
  REQUIRE(v4);
  CHECK(v4->packets == 3);
  CHECK(v4->df == 1);
  CHECK(v4->fragments == 2);
  // IPv6: a fragment header (offset 0, more fragments), then UDP; and an
  // atomic fragment (offset 0, no more), which is a whole packet.
  for (std::uint16_t off_flags : {std::uint16_t(1), std::uint16_t(0)}) {
    Bytes ip6 = serialize(Tins::IPv6("2001:db8:9::1", "2001:db8::1") / Tins::UDP(53, 40000) / Tins::RawPDU("xyzw"));
    // Insert 8 bytes of fragment header after the fixed header.
    const Bytes frag = {17, 0, static_cast<std::uint8_t>(off_flags >> 8), static_cast<std::uint8_t>(off_flags), 0, 0, 0, 1};
    ip6.insert(ip6.begin() + 40, frag.begin(), frag.end());
    ip6[6] = 44;
    put16(ip6, 4, static_cast<std::uint16_t>(ip6.size() - 40));
    r.run(wrap(linktype::ethernet, ip6));
  }
  const auto v6 = r.count(TCPA_DIR_OUT, 6, TCPA_PROTO_UDP);
  REQUIRE(v6);
  CHECK(v6->packets == 2);
  CHECK(v6->fragments == 1);
  CHECK(v6->bytes == 2 * (40 + 8 + 8 + 4));
}

TEST_CASE("tc counters: VLAN and QinQ tags in the frame are looked past") {
  Runner r(GENERATE(true, false));
  r.run(serialize(Tins::EthernetII() / Tins::Dot1Q(100) / Tins::IP("192.0.2.9", "10.0.0.1") / Tins::UDP(1, 2)));
  Bytes qinq = serialize(Tins::EthernetII() / Tins::Dot1Q(200) / Tins::Dot1Q(100) / Tins::IP("192.0.2.9", "10.0.0.1") /
                         Tins::UDP(1, 2));
  put16(qinq, 12, 0x88A8);  // the outer tag as 802.1ad
  r.run(qinq);
  const auto v = r.count(TCPA_DIR_OUT, 4, TCPA_PROTO_UDP);
  REQUIRE(v);
  CHECK(v->packets == 2);
  CHECK(v->bytes == 2 * 28);
}

TEST_CASE("tc counters: packet sizes fall in the catalogue's buckets") {
  Runner r(GENERATE(true, false));
  // IP lengths 64, 65, 1500 and 2000: buckets (-, 64], (64, 128], (1024, 1500], (1500, 9000].
  for (std::size_t ip_length : {64u, 65u, 1500u, 2000u}) r.run(udp4("10.0.0.1", "192.0.2.9", ip_length - 28));
  const auto v = r.count(TCPA_DIR_OUT, 4, TCPA_PROTO_UDP);
  REQUIRE(v);
  CHECK(v->size_buckets[0] == 1);
  CHECK(v->size_buckets[1] == 1);
  CHECK(v->size_buckets[5] == 1);
  CHECK(v->size_buckets[6] == 1);
  CHECK(v->bytes == 64 + 65 + 1500 + 2000);
}

TEST_CASE("tc counters: ECN CE is counted for all but TCP (the capture counts TCP's)") {
  Runner r(GENERATE(true, false));
  Tins::IP udp = Tins::IP("192.0.2.9", "10.0.0.1") / Tins::UDP(1, 2);
  udp.tos(0x03);
  r.run(serialize(Tins::EthernetII() / udp));
  Tins::IP tcp = Tins::IP("192.0.2.9", "10.0.0.1") / Tins::TCP(1, 2);
  tcp.tos(0x03);
  r.run(serialize(Tins::EthernetII() / tcp));
  CHECK(r.count(TCPA_DIR_OUT, 4, TCPA_PROTO_UDP)->ecn_ce == 1);
  CHECK(r.count(TCPA_DIR_OUT, 4, TCPA_PROTO_TCP)->ecn_ce == 0);
}

TEST_CASE("tc counters: frames that are not IP, truncated or garbage are counted apart, never as packets") {
  Runner r(GENERATE(true, false));
  r.run(serialize(Tins::EthernetII() / Tins::ARP("10.0.0.2", "10.0.0.1")));
  // (A test run refuses an IPv4 frame shorter than its fixed header, so
  // truncation is made past it.) A header length of 60 bytes in a frame
  // that ends after 20: truncated.
  Bytes cut = udp4("10.0.0.1", "192.0.2.9", 0);
  cut.resize(14 + 20);
  cut[14] = 0x4f;
  r.run(cut);
  // The same cut frame naming TCP is the capture's (its `tcp` filter takes it).
  Bytes cut_tcp = cut;
  cut_tcp[14 + 9] = 6;
  r.run(cut_tcp);
  // A VLAN tag and then nothing.
  Bytes tag(16, 0);
  put16(tag, 12, 0x8100);
  r.run(tag);
  // IPv6 announcing a hop-by-hop header the frame does not hold.
  Bytes ext = serialize(Tins::EthernetII() / Tins::IPv6("2001:db8:9::1", "2001:db8::1"));
  ext.resize(14 + 40);
  ext[14 + 6] = 0;
  put16(ext, 14 + 4, 8);
  r.run(ext);
  // Version 5 and a header length below 20 bytes: bad headers.
  Bytes v5 = udp4("10.0.0.1", "192.0.2.9", 10);
  v5[14] = 0x55;
  r.run(v5);
  Bytes ihl = udp4("10.0.0.1", "192.0.2.9", 10);
  ihl[14] = 0x44;
  r.run(ihl);
  // Random bytes after an IPv6 ethertype: version 10.
  Bytes garbage(14 + 48, 0xA5);
  put16(garbage, 12, 0x86DD);
  r.run(garbage);
  CHECK(r.count(TCPA_DIR_IN, 0, TCPA_FRAME_NON_IP)->packets == 1);
  CHECK(r.count(TCPA_DIR_IN, 0, TCPA_FRAME_TRUNCATED)->packets == 3);  // cut, tag, ext
  CHECK(r.count(TCPA_DIR_IN, 0, TCPA_FRAME_BAD_IP_HEADER)->packets == 3);  // v5, ihl, garbage
  CHECK(r.keys() == 3);  // no packet counted under an IP version
}

TEST_CASE("tc counters: an IP length beyond the frame is clamped to it and counted") {
  Runner r(GENERATE(true, false));
  Bytes f = udp4("10.0.0.1", "192.0.2.9", 20);  // IP length 48
  put16(f, 14 + 2, 1000);
  r.run(f);
  const auto v = r.count(TCPA_DIR_OUT, 4, TCPA_PROTO_UDP);
  REQUIRE(v);
  CHECK(v->bytes == 48);
  CHECK(v->bad_ip_length == 1);
}

TEST_CASE("tc counters: a forgotten interface's slot comes back empty") {
  Runner r(true);
  r.run(udp4("10.0.0.1", "192.0.2.9", 100));
  REQUIRE(r.keys() == 1);
  r.program.forget(kTestIfindex);
  CHECK(r.keys() == 0);
  r.program.track(kTestIfindex);
  CHECK(r.keys() == 0);
  r.run(udp4("10.0.0.1", "192.0.2.9", 100));
  const auto v = r.count(TCPA_DIR_OUT, 4, TCPA_PROTO_UDP);
  REQUIRE(v);
  CHECK(v->packets == 1);
}
