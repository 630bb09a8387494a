// A Pipeline fed with hand-crafted Ethernet frames between two hosts:
// A = 10.0.0.1:40000 (the client) and B = 10.0.0.2:80. Times are in
// milliseconds; sequence numbers are absolute, as on the wire.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/pipeline.hpp"
#include "support/frames.hpp"
#include "tcpanomaly/snapshot.hpp"

namespace tcpanomaly::test {

constexpr std::uint8_t kFin = tcpflag::fin, kSyn = tcpflag::syn, kRst = tcpflag::rst, kPsh = tcpflag::psh,
                       kAck = tcpflag::ack, kEce = tcpflag::ece, kCwr = tcpflag::cwr;

// ISNs used by handshake(): A's data starts at 1001, B's at 5001.
constexpr std::uint32_t kIsnA = 1000, kIsnB = 5000;

struct Seg {
  bool from_a = true;
  double ms = 0;
  std::uint32_t seq = 0, ack = 0;
  std::uint8_t flags = 0;
  std::uint32_t len = 0;       // payload bytes
  std::uint16_t win = 65535;   // raw window field
  // Options and IP details, all off by default.
  int wscale = -1;
  bool sack_permitted = false, timestamps = false;
  int sack_blocks = 0;
  std::uint8_t ecn = 0;        // IP ECN field
  bool df = false;
  bool v6 = false;
  std::uint16_t port_a = kPortA;  // to run several connections
  const char* addr_b = kAddrB;    // another IPv4 server than B
  int vlan = -1;                  // 802.1Q tag with this id; -1 = untagged
};

// One Ethernet frame carrying the segment.
Bytes tcp_frame(const Seg& s);

std::int64_t ms_to_ns(double ms);

// Sum of a slot over the blocks labelled with `peer`.
std::uint64_t in_peer(const Snapshot& s, const std::string& peer, Slot slot);

class Harness {
 public:
  explicit Harness(std::vector<std::string> local_cidrs = {}, AnalysisConfig config = {});

  // A -> B and B -> A segments.
  void a(double ms, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::uint32_t len = 0,
         std::uint16_t win = 65535);
  void b(double ms, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::uint32_t len = 0,
         std::uint16_t win = 65535);
  void send(const Seg& s);
  // A SYN (ISN 1000) at ms, B SYN/ACK (ISN 5000) at ms + 10, A ACK at ms + 20.
  void handshake(double ms = 1000);
  void frame(double ms, const Bytes& ethernet_frame);
  void advance(double ms) { pipeline_->advance_clock(ms_to_ns(ms)); }
  // a()/b()/handshake() send IPv6 (2001:db8::1 <-> 2001:db8::2) from now on.
  void use_ipv6() { v6_ = true; }

  Snapshot snap();
  std::uint64_t total(Slot s) { return snap().total(s); }
  std::uint64_t total(const char* metric) { return snap().total(metric); }
  HistogramData histogram(Histogram h) { return snap().total(h); }
  // Sum of a slot over the blocks of one direction ("out", "in", "transit").
  std::uint64_t in_direction(const char* direction, Slot s);

  Pipeline& pipeline() { return *pipeline_; }

 private:
  void send_from(bool from_a, double ms, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                 std::uint32_t len, std::uint16_t win);

  LocalNetworks local_;  // referenced by the pipeline: declared first
  std::unique_ptr<Pipeline> pipeline_;
  bool v6_ = false;
};

}  // namespace tcpanomaly::test
