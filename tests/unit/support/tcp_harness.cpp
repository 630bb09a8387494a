#include "support/tcp_harness.hpp"

#include <tins/tins.h>

#include <cmath>
#include <stdexcept>

namespace tcpanomaly::test {

std::int64_t ms_to_ns(double ms) { return static_cast<std::int64_t>(std::llround(ms * 1e6)); }

Bytes tcp_frame(const Seg& s) {
  Tins::TCP tcp(s.from_a ? kPortB : s.port_a, s.from_a ? s.port_a : kPortB);  // (dst, src)
  tcp.seq(s.seq);
  tcp.ack_seq(s.ack);
  tcp.flags(s.flags);
  tcp.window(s.win);
  if (s.wscale >= 0) tcp.winscale(static_cast<std::uint8_t>(s.wscale));
  if (s.sack_permitted) tcp.sack_permitted();
  if (s.timestamps) tcp.timestamp(1000, 0);
  if (s.sack_blocks > 0) {
    std::vector<std::uint32_t> edges;
    for (int i = 0; i < s.sack_blocks; ++i) {
      edges.push_back(s.ack + 1000u * static_cast<std::uint32_t>(i + 1));
      edges.push_back(s.ack + 1000u * static_cast<std::uint32_t>(i + 1) + 100u);
    }
    tcp.sack(edges);
  }
  Tins::EthernetII eth("00:00:00:00:00:02", "00:00:00:00:00:01");
  Tins::RawPDU payload(std::string(s.len, 'd'));
  auto link = [&s, &eth](const Tins::PDU& ip_packet) {
    if (s.vlan < 0) return (eth / ip_packet).serialize();
    return (eth / Tins::Dot1Q(static_cast<Tins::small_uint<12>>(s.vlan)) / ip_packet).serialize();
  };
  if (s.v6) {
    Tins::IPv6 ip(s.from_a ? kAddr6B : kAddr6A, s.from_a ? kAddr6A : kAddr6B);
    ip.traffic_class(s.ecn);
    auto pdu = ip / tcp;
    if (s.len) pdu /= payload;
    return link(pdu);
  }
  Tins::IP ip(s.from_a ? s.addr_b : kAddrA, s.from_a ? kAddrA : s.addr_b);
  ip.tos(s.ecn);
  if (s.df) ip.flags(Tins::IP::DONT_FRAGMENT);
  auto pdu = ip / tcp;
  if (s.len) pdu /= payload;
  return link(pdu);
}

Harness::Harness(std::vector<std::string> local_cidrs, AnalysisConfig config) {
  for (const auto& c : local_cidrs) {
    Prefix p;
    if (!parse_prefix(c, p)) throw std::invalid_argument("bad test CIDR " + c);
    local_.add(p);
  }
  pipeline_ = std::make_unique<Pipeline>("eth0", config, local_);
  pipeline_->set_link_type(linktype::ethernet);
}

void Harness::a(double ms, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::uint32_t len,
                std::uint16_t win) {
  send_from(true, ms, seq, ack, flags, len, win);
}

void Harness::b(double ms, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::uint32_t len,
                std::uint16_t win) {
  send_from(false, ms, seq, ack, flags, len, win);
}

void Harness::send_from(bool from_a, double ms, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                        std::uint32_t len, std::uint16_t win) {
  Seg s;
  s.from_a = from_a;
  s.v6 = v6_;
  s.ms = ms;
  s.seq = seq;
  s.ack = ack;
  s.flags = flags;
  s.len = len;
  s.win = win;
  send(s);
}

void Harness::send(const Seg& s) { frame(s.ms, tcp_frame(s)); }

void Harness::handshake(double ms) {
  a(ms, kIsnA, 0, kSyn);
  b(ms + 10, kIsnB, kIsnA + 1, kSyn | kAck);
  a(ms + 20, kIsnA + 1, kIsnB + 1, kAck);
}

void Harness::frame(double ms, const Bytes& f) {
  // Ethernet pads short frames: the captured length is the frame's length.
  const auto n = static_cast<std::uint32_t>(f.size());
  pipeline_->on_frame(ms_to_ns(ms), f.data(), n, n);
}

std::uint64_t in_peer(const Snapshot& s, const std::string& peer, Slot slot) {
  std::uint64_t t = 0;
  for (const auto& b : s.blocks)
    if (b.labels.peer == peer) t += b[slot];
  return t;
}

Snapshot Harness::snap() {
  Snapshot s;
  pipeline_->promote_peers();  // the engine's tick, which a lone pipeline lacks
  pipeline_->snapshot_into(s);
  return s;
}

std::uint64_t Harness::in_direction(const char* direction, Slot slot) {
  const Snapshot s = snap();
  std::uint64_t t = 0;
  for (const auto& b : s.blocks)
    if (b.labels.direction == direction) t += b[slot];
  return t;
}

}  // namespace tcpanomaly::test
