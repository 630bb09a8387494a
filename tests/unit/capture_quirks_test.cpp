// What real captures do that textbook handshakes don't: one direction
// VLAN-tagged, a SYN retried after a challenge ACK and RST, a FIN
// retransmitted for minutes, a connection quiet for a quarter of an hour,
// IP lengths beyond the frame and TCP data offsets beyond the segment.
//
// Each sequence was also written to a pcap and read by tshark 4.0.17 (-2,
// default preferences, tests/integration/crafted_oracle.py runs them): the
// Wireshark counts quoted below are tshark's on the same frames.
#include <catch2/catch.hpp>

#include "support/tcp_harness.hpp"

using namespace tcpanomaly;
using namespace tcpanomaly::test;

namespace {

Seg seg(bool from_a, double ms, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::uint32_t len = 0,
        int vlan = -1) {
  Seg s;
  s.from_a = from_a;
  s.ms = ms;
  s.seq = seq;
  s.ack = ack;
  s.flags = flags;
  s.len = len;
  s.vlan = vlan;
  return s;
}

// A's frames tagged VLAN 10, B's untagged (a mirror port that sees one
// direction on a trunk): handshake, two segments, B's ACK of both, then A
// resends the first, which B had already acknowledged.
void one_sided_vlan(Harness& h) {
  h.send(seg(true, 1000, kIsnA, 0, kSyn, 0, 10));
  h.send(seg(false, 1010, kIsnB, kIsnA + 1, kSyn | kAck));
  h.send(seg(true, 1020, kIsnA + 1, kIsnB + 1, kAck, 0, 10));
  h.send(seg(true, 1030, 1001, 5001, kAck, 100, 10));
  h.send(seg(true, 1040, 1101, 5001, kAck, 100, 10));
  h.send(seg(false, 1050, 5001, 1201, kAck));
  h.send(seg(true, 1300, 1001, 5001, kAck, 100, 10));
}

}  // namespace

TEST_CASE("a VLAN tag on one direction does not split the connection", "[quirks][vlan]") {
  Harness h;
  one_sided_vlan(h);
  const Snapshot s = h.snap();
  CHECK(s.total(Slot::flows_active) == 1);
  CHECK(s.total(Slot::connections_opened) == 1);
  // tshark: one spurious retransmission (B's ACK 1201 covered it).
  CHECK(s.total(Slot::spurious_retransmissions) == 1);
  CHECK(s.total(Slot::retransmissions) == 1);
  CHECK(s.total(Slot::out_of_order) == 0);
}

TEST_CASE("separate_vlans: the VLAN id is part of the connection", "[quirks][vlan]") {
  AnalysisConfig cfg;
  cfg.separate_vlans = true;
  Harness h({}, cfg);
  one_sided_vlan(h);
  const Snapshot s = h.snap();
  // Two half-connections: ACKs never meet their data, nothing opens.
  CHECK(s.total(Slot::flows_active) == 2);
  CHECK(s.total(Slot::connections_opened) == 0);
  CHECK(s.total(Slot::spurious_retransmissions) == 0);
  CHECK(s.total(Slot::retransmissions) == 1);
}

TEST_CASE("a SYN retried after a challenge ACK and RST restarts the handshake", "[quirks][syn]") {
  Harness h;
  h.a(1000, kIsnA, 0, kSyn);
  h.b(1030, 7000, 500000, kAck);   // challenge ACK: B still holds an old connection
  h.a(1031, 500000, 0, kRst);      // A resets it (seq = that ACK): A's nextseq jumps
  h.a(4000, kIsnA, 0, kSyn);       // the same SYN again: a retransmission
  h.b(4030, 9000, kIsnA + 1, kSyn | kAck);
  h.a(4031, kIsnA + 1, 9001, kAck);
  h.a(4032, kIsnA + 1, 9001, kAck | kPsh, 100);  // not a retransmission: A started over
  Snapshot s = h.snap();
  // tshark: 1 retransmission (the SYN), 1 lost segment (the SYN/ACK, past
  // B's challenge ACK), 2 ACKed-unseen (the challenge ACK, A's ACK of 9001).
  CHECK(s.total(Slot::retransmissions) == 1);
  CHECK(s.total(Slot::syn_retransmissions) == 1);
  CHECK(s.total(Slot::lost_segments) == 1);
  CHECK(s.total(Slot::acked_unseen) == 2);
  // The reset attempt never opened; the retried handshake does, timed from the retried SYN.
  CHECK(s.total(Slot::connections_opened) == 1);
  CHECK(s.total(Slot::connections_active) == 1);
  CHECK(s.total(Histogram::handshake_rtt).count == 1);
  CHECK(s.total(Histogram::handshake_rtt).sum == Approx(0.031));
  CHECK(s.total("connections_closed") == 0);
  // Later anomalies of the new connection count (tshark: 2 retransmissions in all).
  h.a(4400, kIsnA + 1, 9001, kAck | kPsh, 100);
  CHECK(h.total(Slot::retransmissions) == 2);
  h.a(4500, kIsnA + 101, 9001, kRst | kAck);
  CHECK(h.total(Slot::closed_rst) == 1);
  CHECK(h.total(Slot::connections_active) == 0);
}

TEST_CASE("an open connection reset, then its SYN again with no answer: one close, one failed connect", "[quirks][syn]") {
  Harness h;
  h.handshake(1000);
  h.a(1030, kIsnA + 1, kIsnB + 1, kRst | kAck);
  CHECK(h.total(Slot::closed_rst) == 1);
  h.a(2000, kIsnA, 0, kSyn);  // the same SYN: the handshake starts over ...
  h.advance(2000 + 21000);    // ... and is never answered (syn_timeout 20 s)
  CHECK(h.total(Slot::connects_failed) == 1);
  h.advance(2000 + 21000 + 7876000);  // forgotten: nothing of the old connection counted again
  const Snapshot s = h.snap();
  CHECK(s.total(Slot::connections_opened) == 1);
  CHECK(s.total(Slot::connections_active) == 0);
  CHECK(s.total("connections_closed") == 1);
  CHECK(s.total(Slot::evicted_idle) == 1);
}

TEST_CASE("a repeated SYN is a retransmission however soon, and rewinds to the contiguous data", "[quirks][syn]") {
  Harness h;
  h.a(1000, kIsnA, 0, kSyn);
  h.a(1001, kIsnA + 301, 0, kAck | kPsh, 100);  // a hole before it: lost segment
  h.a(1002, kIsnA, 0, kSyn);                    // 1 ms later: not out-of-order
  h.a(1100, kIsnA + 1, 0, kAck | kPsh, 100);    // from the SYN on again: nothing
  const Snapshot s = h.snap();
  // tshark: 1 lost segment, 1 retransmission (the SYN), nothing else.
  CHECK(s.total(Slot::lost_segments) == 1);
  CHECK(s.total(Slot::retransmissions) == 1);
  CHECK(s.total(Slot::syn_retransmissions) == 1);
  CHECK(s.total(Slot::out_of_order) == 0);
}

TEST_CASE("a connect refused twice (a stack that retries after RST) is one refused connect", "[quirks][syn]") {
  Harness h;
  h.a(1000, kIsnA, 0, kSyn);
  h.b(1001, 0, kIsnA + 1, kRst | kAck);
  h.a(1500, kIsnA, 0, kSyn);
  h.b(1501, 0, kIsnA + 1, kRst | kAck);
  const Snapshot s = h.snap();
  CHECK(s.total(Slot::connects_refused) == 1);
  CHECK(s.total(Slot::syn_retransmissions) == 1);  // tshark: 1 retransmission
  CHECK(s.total(Slot::retransmissions) == 1);
  CHECK(s.total(Slot::resets) == 2);
}

TEST_CASE("a FIN retransmitted with backoff for minutes stays one connection", "[quirks][expiry]") {
  Harness h;
  h.handshake(1000);
  h.a(2000, 1001, 5001, kFin | kAck);
  h.b(2010, 5001, 1002, kFin | kAck);  // both FINs: closed. A's last ACK never comes:
  // B resends its FIN at Linux's backoff from a 200 ms RTO, capped at 120 s.
  const double backoff_ms[] = {200, 600, 1400, 3000, 6200, 12600, 25400, 51000, 102200, 204600, 324600};
  for (double t : backoff_ms) h.b(2010 + t, 5001, 1002, kFin | kAck);
  Snapshot s = h.snap();
  CHECK(s.total(Slot::retransmissions) == 11);  // tshark: 11, every one
  CHECK(s.total(Slot::flows_active) == 1);
  CHECK(s.total(Slot::closed_fin) == 1);
  CHECK(s.total("flows_evicted") == 0);
  h.advance(2010 + 324600 + 239000);  // closed_timeout 240 s after the last
  CHECK(h.total(Slot::flows_active) == 1);
  h.advance(2010 + 324600 + 241000);
  CHECK(h.total(Slot::evicted_closed) == 1);
  CHECK(h.total(Slot::flows_active) == 0);
}

TEST_CASE("a connection quiet for 15 minutes keeps its verdicts", "[quirks][expiry]") {
  Harness h;
  h.handshake(1000);
  h.a(1030, 1001, 5001, kAck | kPsh, 100);
  h.b(1040, 5001, 1101, kAck);
  // 15 minutes of silence, then a segment after a hole (1101..1200 never seen).
  h.a(901030, 1201, 5001, kAck | kPsh, 100);
  h.b(901040, 5001, 1301, kAck);
  Snapshot s = h.snap();
  CHECK(s.total(Slot::lost_segments) == 1);  // tshark: 1 lost segment, 1 ACKed-unseen
  CHECK(s.total(Slot::acked_unseen) == 1);
  CHECK(s.total(Slot::connections_active) == 1);
  CHECK(s.total(Slot::closed_timeout) == 0);
  // Forgotten only when Linux keep-alive would have given up: 7200 + 9 x 75 s.
  h.advance(901040 + 7875000 - 1000);
  CHECK(h.total(Slot::closed_timeout) == 0);
  h.advance(901040 + 7875000 + 1000);
  CHECK(h.total(Slot::closed_timeout) == 1);
  CHECK(h.total(Slot::evicted_idle) == 1);
}

TEST_CASE("an IP length beyond the frame is clamped to the frame and named", "[quirks][decode]") {
  for (bool v6 : {false, true}) {
    INFO((v6 ? "IPv6" : "IPv4"));
    Harness h;
    if (v6) h.use_ipv6();
    h.handshake(1000);
    Seg fin = seg(true, 1030, 1001, 5001, kFin | kAck, 100);
    fin.v6 = v6;
    Bytes frame = tcp_frame(fin);
    // IPv4 total length / IPv6 payload length: 29000, far past the frame.
    put16(frame, v6 ? 14 + 4 : 14 + 2, 29000);
    h.frame(1030, frame);
    h.b(1040, 5001, 1102, kFin | kAck);  // acknowledges 100 bytes and the FIN
    const Snapshot s = h.snap();
    CHECK(s.total(Slot::err_bad_ip_length) == 1);
    CHECK(s.total(Slot::tcp_payload_bytes) == 100);  // what the wire carried
    const std::uint64_t empty_segment = v6 ? 60 : 40;  // IP + TCP headers
    CHECK(s.total(v6 ? Slot::bytes_tcp6 : Slot::bytes_tcp4) == 5 * empty_segment + 100);  // five segments, 100 data bytes
    CHECK(s.total(Slot::closed_fin) == 1);  // the segment was analysed
    CHECK(s.total(Slot::acked_unseen) == 0);
  }
}

TEST_CASE("a TCP data offset beyond the segment: flags from the fixed header, nothing else", "[quirks][decode]") {
  Harness h;
  Bytes syn = tcp_frame(seg(true, 1000, kIsnA, 0, kSyn));
  syn[14 + 20 + 12] = 0xf0;  // 60-byte header in a 20-byte segment
  h.frame(1000, syn);
  Bytes rst = tcp_frame(seg(true, 1001, kIsnA, 0, kRst, 8));
  rst[14 + 20 + 12] = 0x30;  // below 5 words: no flags at all (kernel and Wireshark)
  h.frame(1001, rst);
  const Snapshot s = h.snap();
  CHECK(s.total(Slot::err_bad_tcp_header) == 2);
  CHECK(s.total(Slot::tcp_segments) == 2);
  CHECK(s.total(Slot::syn) == 1);     // tshark: 1 SYN, 0 resets
  CHECK(s.total(Slot::resets) == 0);
  CHECK(s.total(Slot::tcp_payload_bytes) == 0);
  CHECK(s.total(Slot::flows_active) == 0);  // never analysed
}
