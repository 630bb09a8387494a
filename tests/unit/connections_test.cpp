// Connection tracking through the real pipeline: handshake, refused and
// failed connects, SYN retransmissions, close by FIN/RST/timeout, the
// active gauge, port reuse, and the handshake RTT / RTT / duration
// histograms with values computed from the frame timestamps.
#include <catch2/catch.hpp>

#include "support/tcp_harness.hpp"

using namespace tcpanomaly;
using namespace tcpanomaly::test;

namespace {

// Bucket index a value falls into (bounds are inclusive upper bounds).
std::size_t bucket_of(Histogram h, double v) {
  const HistogramInfo& info = histogram_info(h);
  std::size_t i = 0;
  while (i < info.bound_count && v > info.bounds[i]) ++i;
  return i;
}

Seg segment(bool from_a, double ms, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
            std::uint16_t port) {
  Seg s;
  s.from_a = from_a;
  s.ms = ms;
  s.seq = seq;
  s.ack = ack;
  s.flags = flags;
  s.port_a = port;
  return s;
}

}  // namespace

TEST_CASE("a connection from SYN to FIN", "[connections]") {
  Harness h;
  h.handshake(1000);  // SYN 1000, SYN/ACK 1010, ACK 1020 ms
  CHECK(h.total(Slot::syn) == 1);
  CHECK(h.total(Slot::connections_opened) == 1);
  CHECK(h.total(Slot::connections_active) == 1);
  const HistogramData hs = h.histogram(Histogram::handshake_rtt);
  CHECK(hs.count == 1);
  CHECK(hs.sum == Approx(0.020));  // SYN (1000) to the third packet (1020)
  CHECK(hs.buckets[bucket_of(Histogram::handshake_rtt, 0.020)] == 1);

  h.a(1030, 1001, 5001, kAck | kPsh, 100);
  h.b(1045, 5001, 1101, kAck);        // RTT sample: 15 ms
  h.a(1100, 1101, 5001, kFin | kAck);
  CHECK(h.total(Slot::connections_active) == 1);  // one FIN is not a close
  h.b(1110, 5001, 1102, kFin | kAck);  // both FINs seen: closed at 1110
  h.a(1120, 1102, 5002, kAck);
  const Snapshot s = h.snap();
  CHECK(s.total(Slot::closed_fin) == 1);
  CHECK(s.total("connections_closed") == 1);
  CHECK(s.total(Slot::connections_active) == 0);
  CHECK(s.total(Slot::connects_failed) == 0);
  CHECK(s.total(Slot::connects_refused) == 0);
  const HistogramData rtt = s.total(Histogram::rtt);
  CHECK(rtt.count == 1);
  CHECK(rtt.sum == Approx(0.015));
  const HistogramData dur = s.total(Histogram::connection_duration);
  CHECK(dur.count == 1);
  CHECK(dur.sum == Approx(0.110));  // first packet (1000) to the close (1110)
  CHECK(dur.buckets[bucket_of(Histogram::connection_duration, 0.110)] == 1);
  CHECK(s.total(Slot::flows_active) == 1);  // lingers to absorb stragglers

  h.advance(1120 + 239000);  // closed_timeout 240 s: not yet
  CHECK(h.total(Slot::evicted_closed) == 0);
  h.advance(1120 + 241000);
  CHECK(h.total(Slot::evicted_closed) == 1);
  CHECK(h.total(Slot::flows_active) == 0);
  CHECK(h.total(Slot::closed_timeout) == 0);
}

TEST_CASE("a connection closed by RST", "[connections]") {
  Harness h;
  h.handshake(1000);
  h.a(1030, 1001, 5001, kAck, 100);
  h.b(1100, 5001, 0, kRst);
  CHECK(h.total(Slot::resets) == 1);
  CHECK(h.total(Slot::closed_rst) == 1);
  CHECK(h.total(Slot::connections_active) == 0);
  CHECK(h.histogram(Histogram::connection_duration).sum == Approx(0.100));
  CHECK(h.total(Slot::connects_refused) == 0);
}

TEST_CASE("a SYN answered by RST is a refused connect", "[connections]") {
  Harness h;
  h.a(1000, kIsnA, 0, kSyn);
  h.b(1001, 0, kIsnA + 1, kRst | kAck);
  const Snapshot s = h.snap();
  CHECK(s.total(Slot::connects_refused) == 1);
  CHECK(s.total(Slot::resets) == 1);
  CHECK(s.total(Slot::syn) == 1);
  CHECK(s.total(Slot::connections_opened) == 0);
  CHECK(s.total("connections_closed") == 0);
  CHECK(s.total(Histogram::handshake_rtt).count == 0);
  h.advance(1001 + 241000);  // closed_timeout 240 s
  CHECK(h.total(Slot::evicted_closed) == 1);
  CHECK(h.total(Slot::connects_failed) == 0);
}

TEST_CASE("SYN retransmissions, then no answer within syn_timeout", "[connections]") {
  Harness h;
  h.a(1000, kIsnA, 0, kSyn);
  h.a(2000, kIsnA, 0, kSyn);  // same ISN: same connection, a retransmission
  h.a(4000, kIsnA, 0, kSyn);
  CHECK(h.total(Slot::syn) == 3);
  CHECK(h.total(Slot::syn_retransmissions) == 2);
  CHECK(h.total(Slot::retransmissions) == 2);
  // A connect fails syn_timeout (20 s) after its FIRST SYN, retries or not.
  h.advance(20500);  // 19.5 s after the first SYN: still waiting
  CHECK(h.total(Slot::connects_failed) == 0);
  h.advance(21500);  // 20.5 s: failed
  CHECK(h.total(Slot::connects_failed) == 1);
  CHECK(h.total(Slot::flows_active) == 1);  // kept, to recognise later retries
  CHECK(h.total(Slot::evicted_idle) == 0);
  h.a(37000, kIsnA, 0, kSyn);  // a late retry: still a retransmission, not a new failure
  CHECK(h.total(Slot::syn_retransmissions) == 3);
  h.advance(37000 + 7875000 - 1000);  // then idle like an open connection (7875 s)
  CHECK(h.total(Slot::evicted_idle) == 0);
  h.advance(37000 + 7875000 + 1000);
  CHECK(h.total(Slot::connects_failed) == 1);
  CHECK(h.total(Slot::evicted_idle) == 1);
  CHECK(h.total(Slot::flows_active) == 0);
  CHECK(h.total(Slot::connections_opened) == 0);
  CHECK(h.total("connections_closed") == 0);
}

TEST_CASE("a shorter syn_timeout and later packets drive the expiry too", "[connections]") {
  AnalysisConfig cfg;
  cfg.syn_timeout_s = 2;
  Harness h({}, cfg);
  h.a(1000, kIsnA, 0, kSyn);
  Seg other = segment(true, 3500, 7, 0, kSyn, 40001);  // another connection's SYN
  h.send(other);
  CHECK(h.total(Slot::connects_failed) == 1);  // the first, 2.5 s after its SYN
}

TEST_CASE("a retried SYN: handshake RTT from the last SYN", "[connections]") {
  Harness h;
  h.a(1000, kIsnA, 0, kSyn);
  h.a(1500, kIsnA, 0, kSyn);
  h.b(1510, kIsnB, kIsnA + 1, kSyn | kAck);
  h.a(1520, kIsnA + 1, kIsnB + 1, kAck);
  CHECK(h.total(Slot::syn_retransmissions) == 1);
  CHECK(h.total(Slot::connections_opened) == 1);
  CHECK(h.histogram(Histogram::handshake_rtt).sum == Approx(0.020));
}

TEST_CASE("SYN/ACK without the third packet: not failed, not opened", "[connections]") {
  Harness h;
  h.a(1000, kIsnA, 0, kSyn);
  h.b(1010, kIsnB, kIsnA + 1, kSyn | kAck);
  h.advance(1010 + 21000);
  CHECK(h.total(Slot::connects_failed) == 0);  // the SYN was answered
  CHECK(h.total(Slot::connections_opened) == 0);
  CHECK(h.total(Slot::evicted_idle) == 1);
}

TEST_CASE("an idle open connection times out", "[connections]") {
  AnalysisConfig cfg;
  cfg.established_timeout_s = 60;
  Harness h({}, cfg);
  h.handshake(1000);
  h.advance(1020 + 59000);
  CHECK(h.total(Slot::closed_timeout) == 0);
  h.advance(1020 + 61000);
  CHECK(h.total(Slot::closed_timeout) == 1);
  CHECK(h.total(Slot::connections_active) == 0);
  CHECK(h.total(Slot::evicted_idle) == 1);
  CHECK(h.histogram(Histogram::connection_duration).sum == Approx(0.020));  // first to last packet
}

TEST_CASE("a connection picked up mid-stream is never opened", "[connections]") {
  AnalysisConfig cfg;
  cfg.established_timeout_s = 60;
  Harness h({}, cfg);
  h.a(1000, 2001, 9001, kAck, 100);
  h.b(1010, 9001, 2101, kAck);
  h.advance(70000);
  CHECK(h.total(Slot::connections_opened) == 0);
  CHECK(h.total("connections_closed") == 0);
  CHECK(h.total(Slot::evicted_idle) == 1);
}

TEST_CASE("the active gauge follows concurrent connections", "[connections]") {
  Harness h;
  for (std::uint16_t port : {40001, 40002, 40003}) {
    h.send(segment(true, 1000, kIsnA, 0, kSyn, port));
    h.send(segment(false, 1010, kIsnB, kIsnA + 1, kSyn | kAck, port));
    h.send(segment(true, 1020, kIsnA + 1, kIsnB + 1, kAck, port));
  }
  CHECK(h.total(Slot::connections_active) == 3);
  h.send(segment(true, 1100, kIsnA + 1, kIsnB + 1, kRst, 40002));
  CHECK(h.total(Slot::connections_active) == 2);
  CHECK(h.total(Slot::connections_opened) == 3);
  CHECK(h.total(Slot::flows_active) == 3);
}

TEST_CASE("a new ISN on a known tuple starts a new connection", "[connections]") {
  SECTION("after the old one closed") {
    Harness h;
    h.handshake(1000);
    h.a(1100, 1001, 5001, kFin | kAck);
    h.b(1110, 5001, 1002, kFin | kAck);
    h.a(1120, 1002, 5002, kAck);
    h.a(3000, 90000, 0, kSyn);
    h.b(3010, 70000, 90001, kSyn | kAck);
    h.a(3020, 90001, 70001, kAck);
    CHECK(h.total(Slot::evicted_closed) == 1);
    CHECK(h.total(Slot::connections_opened) == 2);
    CHECK(h.total(Slot::connections_active) == 1);
    CHECK(h.total(Slot::syn_retransmissions) == 0);
    CHECK(h.total(Slot::retransmissions) == 0);
    CHECK(h.histogram(Histogram::handshake_rtt).count == 2);
  }
  SECTION("while the old one is still open") {
    Harness h;
    h.handshake(1000);
    h.a(3000, 90000, 0, kSyn);
    CHECK(h.total(Slot::evicted_port_reuse) == 1);
    CHECK(h.total(Slot::closed_evicted) == 1);
    CHECK(h.total(Slot::connections_active) == 0);
    CHECK(h.total(Slot::syn) == 2);
    CHECK(h.total(Slot::syn_retransmissions) == 0);
  }
}

TEST_CASE("simultaneous open: both sides send a SYN", "[connections]") {
  // Wireshark's rules on this sequence: both pure SYNs count as syn; each
  // SYN/ACK repeats its sender's ISN 10 ms after the SYN (seq < nextseq, more
  // than the 3 ms out-of-order threshold since nextseq moved): a
  // retransmission each, but no *SYN* retransmission (they carry ACK). The
  // client is A (first SYN); B's SYN/ACK moves the handshake on, A's first
  // ACK without SYN completes it; the iRTT runs from the latest pure SYN
  // (B's, at 1001) to that ACK (1020): 19 ms.
  Harness h;
  h.a(1000, kIsnA, 0, kSyn);
  h.b(1001, kIsnB, 0, kSyn);
  h.a(1010, kIsnA, kIsnB + 1, kSyn | kAck);
  h.b(1011, kIsnB, kIsnA + 1, kSyn | kAck);
  h.a(1020, kIsnA + 1, kIsnB + 1, kAck | kPsh, 100);
  h.b(1030, kIsnB + 1, kIsnA + 101, kAck);
  CHECK(h.total(Slot::syn) == 2);
  CHECK(h.total(Slot::syn_retransmissions) == 0);
  CHECK(h.total(Slot::retransmissions) == 2);
  CHECK(h.total(Slot::connections_opened) == 1);
  CHECK(h.total(Slot::connections_active) == 1);
  CHECK(h.total(Slot::connects_refused) == 0);
  const HistogramData hs = h.histogram(Histogram::handshake_rtt);
  CHECK(hs.count == 1);
  CHECK(hs.sum == Approx(0.019));
}

TEST_CASE("half-closed: data keeps flowing after one side's FIN", "[connections]") {
  // A closes its side at 1100; B goes on sending 2 x 500 bytes, then closes.
  // Nothing of that is an anomaly; the connection ends with B's FIN (both
  // FINs seen) at 1400, 400 ms after its first packet.
  Harness h;
  h.handshake(1000);
  h.a(1100, 1001, 5001, kFin | kAck);
  h.b(1110, 5001, 1002, kAck);
  h.b(1200, 5001, 1002, kAck | kPsh, 500);
  h.a(1210, 1002, 5501, kAck);
  h.b(1300, 5501, 1002, kAck | kPsh, 500);
  h.a(1310, 1002, 6001, kAck);
  CHECK(h.total("connections_closed") == 0);
  CHECK(h.total(Slot::connections_active) == 1);
  h.b(1400, 6001, 1002, kFin | kAck);
  h.a(1410, 1002, 6002, kAck);
  CHECK(h.total(Slot::closed_fin) == 1);
  CHECK(h.total("connections_closed") == 1);
  CHECK(h.total(Slot::connections_active) == 0);
  CHECK(h.total(Slot::retransmissions) == 0);
  CHECK(h.total(Slot::duplicate_acks) == 0);
  CHECK(h.total(Slot::keep_alives) == 0);
  CHECK(h.total(Slot::lost_segments) == 0);
  const HistogramData d = h.histogram(Histogram::connection_duration);
  CHECK(d.count == 1);
  CHECK(d.sum == Approx(0.4));
}
