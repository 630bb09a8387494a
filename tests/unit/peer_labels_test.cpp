// The optional peer label: the heaviest remote by anomalies gets its own
// label set at the next snapshot, the rest stays "other" (series_overflow
// counts refusals), and an open connection's active gauge follows it.
#include <catch2/catch.hpp>

#include "support/tcp_harness.hpp"

using namespace tcpanomaly;
using namespace tcpanomaly::test;

TEST_CASE("top-K peers by anomaly weight", "[labels]") {
  AnalysisConfig cfg;
  cfg.top_peers = 1;
  cfg.peer_prefix_v4 = 32;
  Harness h({}, cfg);
  h.handshake(1000);                 // A -> B, opened: active 1 under "other"
  h.a(1030, 1001, 5001, kAck, 100);
  h.a(1300, 1001, 5001, kAck, 100);  // retransmission: B weighs 1
  h.a(1600, 1001, 5001, kAck, 100);  // retransmission: B weighs 2
  Seg syn;                           // A -> C refused: C weighs 1
  syn.ms = 1100;
  syn.seq = 7;
  syn.flags = kSyn;
  syn.port_a = 40001;
  syn.addr_b = "10.0.0.3";
  h.send(syn);
  Seg rst = syn;
  rst.from_a = false;
  rst.ms = 1101;
  rst.seq = 0;
  rst.ack = 8;
  rst.flags = kRst | kAck;
  h.send(rst);

  Snapshot s = h.snap();             // promotes B; C stays in "other"
  CHECK(s.total(Slot::series_overflow) == 1);
  CHECK(s.blocks.size() == 1 + 2 * 3);  // interface + (other, B) x 3 directions
  CHECK(in_peer(s, "other", Slot::retransmissions) == 2);  // counted before promotion
  CHECK(in_peer(s, "10.0.0.2/32", Slot::tcp_segments) == 0);
  CHECK(s.total(Slot::connections_active) == 1);

  h.a(1700, 1101, 5001, kAck, 100);  // the next packet re-resolves the flow
  s = h.snap();
  CHECK(in_peer(s, "10.0.0.2/32", Slot::tcp_segments) == 1);
  CHECK(in_peer(s, "10.0.0.2/32", Slot::connections_active) == 1);
  CHECK(in_peer(s, "other", Slot::connections_active) == 0);
  CHECK(s.total(Slot::connections_active) == 1);

  h.a(1800, 1201, 5001, kFin | kAck);
  h.b(1810, 5001, 1202, kFin | kAck);
  s = h.snap();
  CHECK(in_peer(s, "10.0.0.2/32", Slot::closed_fin) == 1);
  for (const auto& b : s.blocks) CHECK(b[Slot::connections_active] == 0);  // no underflow anywhere
  CHECK(s.total(Slot::connects_refused) == 1);
}

TEST_CASE("the peer is the remote end, also when the remote end is the client", "[labels]") {
  AnalysisConfig cfg;
  cfg.top_peers = 2;
  cfg.peer_prefix_v4 = 32;
  Harness h({"10.0.0.2/32"}, cfg);   // B, the server, is this host
  h.handshake(1000);                 // remote client A -> local server B
  h.a(1030, 1001, 5001, kAck, 100);
  h.a(1300, 1001, 5001, kAck, 100);  // retransmission from A: A weighs 1
  Snapshot s = h.snap();             // promotes A
  h.a(1400, 1101, 5001, kAck, 100);  // the next packet re-resolves the flow
  s = h.snap();
  CHECK(in_peer(s, "10.0.0.1/32", Slot::tcp_segments) == 1);
  CHECK(in_peer(s, "10.0.0.2/32", Slot::tcp_segments) == 0);  // never the host itself
}
