// The engine's seam: producers that report the same label sets are merged
// into one block each, and peer labels are chosen once over the candidates
// of every producer of an interface. Two real pipelines on one interface
// stand for two capture threads sharing it.
#include <catch2/catch.hpp>

#include <mutex>

#include "aggregate/merge.hpp"
#include "engine/producer.hpp"
#include "support/tcp_harness.hpp"

using namespace tcpanomaly;
using namespace tcpanomaly::test;

namespace {

// A producer around a harness's pipeline (the capture thread is the test).
class HarnessProducer : public Producer {
 public:
  explicit HarnessProducer(Harness& h) : h_(h) {}
  void snapshot_into(Snapshot& snap) override { h_.pipeline().snapshot_into(snap); }
  void with_aggregators(const std::function<void(Aggregator&)>& fn) override {
    h_.pipeline().flush();
    fn(h_.pipeline().aggregator());
  }

 private:
  Harness& h_;
};

// A connection from A to `server` with `resends` retransmissions: the server weighs `resends`.
void retransmitting(Harness& h, const char* server, std::uint16_t port, int resends) {
  Seg s;
  s.addr_b = server;
  s.port_a = port;
  s.ms = 1000;
  s.seq = 1001;
  s.ack = 5001;
  s.flags = kAck;
  s.len = 100;
  h.send(s);
  for (int i = 1; i <= resends; ++i) {
    s.ms = 1000 + 300 * i;
    h.send(s);
  }
}

Snapshot merged(const std::vector<Producer*>& producers) {
  Snapshot snap;
  for (Producer* p : producers) p->snapshot_into(snap);
  merge_by_labels(snap);
  return snap;
}

}  // namespace

TEST_CASE("equal label sets merge: counters and gauges summed, histograms merged", "[producers]") {
  Harness one, two;
  one.handshake(1000);
  two.handshake(2000);
  two.a(2030, 1001, 5001, kAck | kPsh, 100);
  two.b(2045, 5001, 1101, kAck);  // an RTT sample
  HarnessProducer p1(one), p2(two);
  const Snapshot s = merged({&p1, &p2});
  CHECK(s.blocks.size() == 1 + 3);  // one interface block, one per direction
  CHECK(s.total(Slot::tcp_segments) == 8);
  CHECK(s.total(Slot::connections_active) == 2);
  CHECK(s.total(Slot::flows_active) == 2);
  CHECK(s.total(Histogram::handshake_rtt).count == 2);
  CHECK(s.total(Histogram::rtt).count == 1);
  CHECK(s.total(Histogram::packet_size_tcp).count == 8);
  CHECK(s.blocks.front().labels.direction.empty());  // the interface block first, as one producer has it
}

TEST_CASE("peer labels are chosen once over every producer of an interface", "[producers][labels]") {
  AnalysisConfig cfg;
  cfg.top_peers = 1;
  cfg.peer_prefix_v4 = 32;
  Harness one({}, cfg), two({}, cfg);
  retransmitting(one, "10.0.0.2", 40001, 2);  // B weighs 2 here ...
  retransmitting(one, "10.0.0.3", 40002, 1);  // C weighs 1 here ...
  retransmitting(two, "10.0.0.3", 40003, 2);  // ... and 2 there: 3 in all, the heaviest
  HarnessProducer p1(one), p2(two);
  choose_peers_across({&p1, &p2}, cfg);
  // Both now label C; the packets that follow go to its label on both.
  retransmitting(one, "10.0.0.3", 40004, 0);
  retransmitting(two, "10.0.0.3", 40005, 0);
  const Snapshot s = merged({&p1, &p2});
  CHECK(s.blocks.size() == 1 + 2 * 3);  // interface + (other, C) x 3 directions, once
  CHECK(in_peer(s, "10.0.0.3/32", Slot::tcp_segments) == 2);
  CHECK(in_peer(s, "10.0.0.2/32", Slot::tcp_segments) == 0);
  CHECK(s.total(Slot::series_overflow) == 1);  // B refused, counted once, not per producer
  CHECK(s.total(Slot::retransmissions) == 5);
}
