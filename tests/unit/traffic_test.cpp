// Traffic counters through the real pipeline: packets/bytes by protocol and
// IP version, DF, fragments, ECN, SYN options, decode errors by reason and
// the direction label of non-TCP traffic.
#include <catch2/catch.hpp>
#include <tins/tins.h>

#include <cmath>
#include <vector>

#include "support/tcp_harness.hpp"

using namespace tcpanomaly;
using namespace tcpanomaly::test;

namespace {

Bytes ether(Tins::PDU& ip) {
  auto frame = Tins::EthernetII() / ip;
  return frame.serialize();
}

}  // namespace

TEST_CASE("packets and bytes by protocol and IP version", "[traffic]") {
  Harness h;
  auto udp4 = Tins::IP(kAddrB, kAddrA) / Tins::UDP(53, 5353) / Tins::RawPDU(std::string(100, 'u'));
  auto udp6 = Tins::IPv6(kAddr6B, kAddr6A) / Tins::UDP(53, 5353) / Tins::RawPDU(std::string(10, 'u'));
  auto icmp4 = Tins::IP(kAddrB, kAddrA) / Tins::ICMP(Tins::ICMP::ECHO_REQUEST) / Tins::RawPDU(std::string(56, 'i'));
  auto icmp6 = Tins::IPv6(kAddr6B, kAddr6A) / Tins::ICMPv6(Tins::ICMPv6::ECHO_REQUEST);
  Tins::IP gre(kAddrB, kAddrA);
  gre.protocol(47);
  auto other4 = gre / Tins::RawPDU(std::string(4, 'g'));
  h.frame(1000, ether(udp4));
  h.frame(1001, ether(udp4));
  h.frame(1002, ether(udp6));
  h.frame(1003, ether(icmp4));
  h.frame(1004, ether(icmp6));
  h.frame(1005, ether(other4));
  h.a(1006, 1, 0, kAck, 1000);  // IPv4 TCP: 20 + 20 + 1000
  Seg v6;
  v6.v6 = true;
  v6.ms = 1007;
  v6.seq = 1;
  v6.flags = kAck;
  v6.len = 10;
  h.send(v6);                   // IPv6 TCP: 40 + 20 + 10
  const Snapshot s = h.snap();
  CHECK(s.total(Slot::packets_udp4) == 2);
  CHECK(s.total(Slot::bytes_udp4) == 2 * (20 + 8 + 100));
  CHECK(s.total(Slot::packets_udp6) == 1);
  CHECK(s.total(Slot::bytes_udp6) == 40 + 8 + 10);
  CHECK(s.total(Slot::packets_icmp4) == 1);
  CHECK(s.total(Slot::bytes_icmp4) == 20 + 8 + 56);
  CHECK(s.total(Slot::packets_icmp6) == 1);
  CHECK(s.total(Slot::bytes_icmp6) == 40 + 8);
  CHECK(s.total(Slot::packets_other4) == 1);
  CHECK(s.total(Slot::bytes_other4) == 20 + 4);
  CHECK(s.total(Slot::packets_tcp4) == 1);
  CHECK(s.total(Slot::bytes_tcp4) == 1040);
  CHECK(s.total(Slot::packets_tcp6) == 1);
  CHECK(s.total(Slot::bytes_tcp6) == 70);
  CHECK(s.total("packets") == 8);
  CHECK(s.total(Slot::tcp_segments) == 2);
  CHECK(s.total(Slot::tcp_payload_bytes) == 1010);
  // packet_size histograms: one observation per packet, by protocol.
  CHECK(s.total(Histogram::packet_size_udp).count == 3);
  CHECK(s.total(Histogram::packet_size_udp).sum == Approx(2 * 128 + 58));
  CHECK(s.total(Histogram::packet_size_tcp).count == 2);
  CHECK(s.total(Histogram::packet_size_icmp).count == 2);
  CHECK(s.total(Histogram::packet_size_other).count == 1);
  CHECK(s.total(Slot::non_ip_frames) == 0);
  CHECK(s.total("decode_errors") == 0);
}

TEST_CASE("DF, fragments and TCP fragments that can't be analysed", "[traffic]") {
  Harness h;
  Seg df;
  df.ms = 1000;
  df.seq = 1;
  df.flags = kAck;
  df.df = true;
  h.send(df);
  h.a(1001, 101, 0, kAck);  // no DF
  Tins::IP first(kAddrB, kAddrA);
  first.flags(Tins::IP::MORE_FRAGMENTS);
  auto f1 = first / Tins::TCP(kPortB, kPortA) / Tins::RawPDU(std::string(1000, 'f'));
  Tins::IP second(kAddrB, kAddrA);
  second.protocol(6);
  second.fragment_offset(128);  // 1024 bytes in
  auto f2 = second / Tins::RawPDU(std::string(500, 'f'));
  Tins::IP udp_frag(kAddrB, kAddrA);
  udp_frag.flags(Tins::IP::MORE_FRAGMENTS);
  auto f3 = udp_frag / Tins::UDP(53, 53) / Tins::RawPDU(std::string(100, 'f'));
  h.frame(1002, ether(f1));
  h.frame(1003, ether(f2));
  h.frame(1004, ether(f3));
  const Snapshot s = h.snap();
  CHECK(s.total(Slot::ip_df) == 1);
  CHECK(s.total(Slot::ip_fragments) == 3);
  CHECK(s.total(Slot::err_tcp_fragmented) == 1);  // only the first TCP fragment
  CHECK(s.total(Slot::tcp_segments) == 2);        // fragments are not segments
  CHECK(s.total(Slot::packets_tcp4) == 4);
  CHECK(s.total(Slot::packets_udp4) == 1);
}

TEST_CASE("ECN: CE marks, ECE and CWR outside the SYN negotiation", "[traffic]") {
  Harness h;
  Seg syn;
  syn.ms = 1000;
  syn.seq = kIsnA;
  syn.flags = kSyn | kEce | kCwr;  // ECN negotiation: not congestion
  h.send(syn);
  Seg synack;
  synack.from_a = false;
  synack.ms = 1010;
  synack.seq = kIsnB;
  synack.ack = kIsnA + 1;
  synack.flags = kSyn | kAck | kEce;
  h.send(synack);
  h.a(1020, kIsnA + 1, kIsnB + 1, kAck);
  Seg ce;
  ce.from_a = true;
  ce.ms = 1030;
  ce.seq = 1001;
  ce.ack = 5001;
  ce.flags = kAck;
  ce.len = 100;
  ce.ecn = 3;          // CE
  h.send(ce);
  ce.ecn = 1;          // ECT(1): not CE
  ce.ms = 1031;
  ce.seq = 1101;
  h.send(ce);
  Seg v6ce = ce;       // CE on IPv6 (traffic class)
  v6ce.v6 = true;
  v6ce.ecn = 3;
  v6ce.ms = 1032;
  h.send(v6ce);
  h.b(1040, 5001, 1101, kAck | kEce);
  h.b(1041, 5001, 1101, kAck | kEce);
  h.a(1050, 1201, 5001, kAck | kCwr, 10);
  const Snapshot s = h.snap();
  CHECK(s.total(Slot::ecn_ce) == 2);
  CHECK(s.total(Slot::ecn_ece) == 2);
  CHECK(s.total(Slot::ecn_cwr) == 1);
}

TEST_CASE("options on SYN and SYN/ACK", "[traffic]") {
  Harness h;
  Seg syn;
  syn.ms = 1000;
  syn.seq = kIsnA;
  syn.flags = kSyn;
  syn.wscale = 7;
  syn.sack_permitted = true;
  syn.timestamps = true;
  h.send(syn);
  Seg synack;
  synack.from_a = false;
  synack.ms = 1010;
  synack.seq = kIsnB;
  synack.ack = kIsnA + 1;
  synack.flags = kSyn | kAck;
  synack.wscale = 0;   // present with shift 0: still counted
  h.send(synack);
  Seg data;            // options on a non-SYN: not counted
  data.ms = 1020;
  data.seq = kIsnA + 1;
  data.ack = kIsnB + 1;
  data.flags = kAck;
  data.timestamps = true;
  h.send(data);
  const Snapshot s = h.snap();
  CHECK(s.total(Slot::syn_window_scale) == 2);
  CHECK(s.total(Slot::syn_sack_permitted) == 1);
  CHECK(s.total(Slot::syn_timestamps) == 1);
  CHECK(s.total(Slot::syn) == 1);  // SYN/ACK is not a SYN
}

TEST_CASE("decode errors and non-IP frames are counted by reason", "[traffic][malformed]") {
  Harness h;
  auto arp = Tins::EthernetII() / Tins::ARP();
  h.frame(1000, arp.serialize());
  h.frame(1001, Bytes(10, 0));                       // truncated Ethernet header
  Bytes bad_ihl = wrap(linktype::ethernet, ipv4_tcp_with_options());
  bad_ihl[14] = 0x43;
  h.frame(1002, bad_ihl);
  Bytes bad_len = wrap(linktype::ethernet, ipv4_tcp_with_options());
  put16(bad_len, 16, 12);
  h.frame(1003, bad_len);
  Bytes bad_tcp = wrap(linktype::ethernet, ipv4_tcp_with_options());
  bad_tcp[14 + 20 + 12] = 0x30;
  h.frame(1004, bad_tcp);
  Bytes bad_ext = wrap(linktype::ethernet, ipv6_tcp_with_extensions());
  bad_ext[14 + 40 + 1] = 255;
  h.frame(1005, bad_ext);
  const Snapshot s = h.snap();
  CHECK(s.total(Slot::non_ip_frames) == 1);
  CHECK(s.total(Slot::err_truncated) == 1);
  CHECK(s.total(Slot::err_bad_ip_header) == 1);
  CHECK(s.total(Slot::err_bad_ip_length) == 1);
  CHECK(s.total(Slot::err_bad_tcp_header) == 1);
  CHECK(s.total(Slot::err_bad_ipv6_ext) == 1);
  CHECK(s.total("decode_errors") == 5);
  // The bad TCP header still counts as an IPv4 TCP packet, and its fixed
  // 20 bytes as a segment (as in Wireshark).
  CHECK(s.total(Slot::packets_tcp4) == 1);
  CHECK(s.total(Slot::tcp_segments) == 1);

  Harness wrong;
  wrong.pipeline().set_link_type(105);
  wrong.a(1000, 1, 0, kAck);
  CHECK(wrong.total(Slot::err_unsupported_link) == 1);
}

TEST_CASE("non-TCP traffic is labelled by its local end", "[traffic][local]") {
  Harness h({"10.0.0.1/32"});
  auto out = Tins::IP(kAddrB, kAddrA) / Tins::UDP(53, 5353);
  auto in = Tins::IP(kAddrA, kAddrB) / Tins::UDP(5353, 53);
  auto transit = Tins::IP("192.0.2.1", "192.0.2.2") / Tins::UDP(53, 53);
  h.frame(1000, ether(out));
  h.frame(1001, ether(in));
  h.frame(1002, ether(in));
  h.frame(1003, ether(transit));
  CHECK(h.in_direction("out", Slot::packets_udp4) == 1);
  CHECK(h.in_direction("in", Slot::packets_udp4) == 2);
  CHECK(h.in_direction("transit", Slot::packets_udp4) == 1);
}

TEST_CASE("histogram buckets: the first bound not below the value, +Inf past the last", "[aggregate]") {
  // observe() finds the bucket by a branch-free binary search; check it
  // against the plain linear rule on every bound, its neighbours and more.
  for (std::size_t h = 0; h < kHistogramCount; ++h) {
    const HistogramInfo& info = histogram_info(static_cast<Histogram>(h));
    std::vector<double> values = {0.0, -1.0, 1e12};
    for (std::size_t k = 0; k < info.bound_count; ++k) {
      const double b = info.bounds[k];
      values.insert(values.end(), {b, std::nextafter(b, 0.0), std::nextafter(b, 1e300), b * 0.999, b * 1.001});
    }
    for (double v : values) {
      std::size_t expected = 0;
      while (expected < info.bound_count && v > info.bounds[expected]) ++expected;
      HistogramData d;
      d.observe(v, info);
      CHECK(d.buckets[expected] == 1);
      CHECK(d.count == 1);
    }
  }
  // The packet-size fast path agrees with the generic search.
  const HistogramInfo& size = histogram_info(Histogram::packet_size_tcp);
  for (std::uint32_t bytes = 0; bytes <= 70000; ++bytes) {
    std::size_t expected = 0;
    while (expected < size.bound_count && bytes > size.bounds[expected]) ++expected;
    if (packet_size_bucket(bytes) != expected) FAIL("packet_size_bucket(" << bytes << ")");
  }
}
