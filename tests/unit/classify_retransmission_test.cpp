// Retransmission family through the real pipeline: generic, fast, spurious
// retransmissions and out-of-order, plus our local-sender rule. Expected
// counts are derived by hand from WIRESHARK_TCP_RULES.md (step numbers cited).
//
// Every sequence starts with handshake(1000): A SYN (seq 1000) at 1000 ms,
// B SYN/ACK (seq 5000, ack 1001) at 1010 ms, A ACK at 1020 ms. So the iRTT is
// 20 ms, the out-of-order threshold (step 12c) after the handshake.
#include <catch2/catch.hpp>

#include "support/tcp_harness.hpp"

using namespace tcpanomaly;
using namespace tcpanomaly::test;

TEST_CASE("clean transfer: no anomaly at all", "[classify]") {
  Harness h;
  h.handshake();
  h.a(1030, 1001, 5001, kAck | kPsh, 100);
  h.a(1031, 1101, 5001, kAck | kPsh, 100);
  h.b(1040, 5001, 1201, kAck);
  h.b(1041, 5001, 1201, kAck | kPsh, 50);
  h.a(1050, 1201, 5051, kAck);
  const Snapshot s = h.snap();
  for (Slot slot : {Slot::retransmissions, Slot::fast_retransmissions, Slot::spurious_retransmissions,
                    Slot::out_of_order, Slot::lost_segments, Slot::acked_unseen, Slot::duplicate_acks,
                    Slot::zero_windows, Slot::zero_window_probes, Slot::window_full, Slot::window_updates,
                    Slot::keep_alives, Slot::resets})
    CHECK(s.total(slot) == 0);
  CHECK(s.total(Slot::tcp_segments) == 8);
  CHECK(s.total(Slot::tcp_payload_bytes) == 250);
  CHECK(s.total(Slot::packets_tcp4) == 8);
}

TEST_CASE("retransmission: old data resent after the RTO", "[classify]") {
  Harness h;
  h.handshake();
  h.a(1030, 1001, 5001, kAck, 100);
  h.a(1040, 1101, 5001, kAck, 100);
  // seq 1001 < nextseq 1201: not advanced. B's lastack is still 1001 (not
  // spurious), no dup ACKs (not fast), 260 ms since nextseq advanced > iRTT
  // 20 ms (not out-of-order): a plain retransmission (12d).
  h.a(1300, 1001, 5001, kAck, 100);
  h.b(1310, 5001, 1201, kAck);
  CHECK(h.total(Slot::retransmissions) == 1);
  CHECK(h.total(Slot::fast_retransmissions) == 0);
  CHECK(h.total(Slot::spurious_retransmissions) == 0);
  CHECK(h.total(Slot::out_of_order) == 0);
  CHECK(h.total(Slot::lost_segments) == 0);
  CHECK(h.total(Slot::acked_unseen) == 0);
  // Karn: the timed segment (1001..1101) was resent, so B's ACK gives no sample.
  CHECK(h.histogram(Histogram::rtt).count == 0);
}

TEST_CASE("fast retransmission: after two duplicate ACKs, within 20 ms", "[classify]") {
  Harness h;
  h.handshake();
  h.a(1030, 1001, 5001, kAck, 100);
  h.a(1031, 1101, 5001, kAck, 100);  // lost after our capture point
  h.a(1032, 1201, 5001, kAck, 100);
  h.b(1040, 5001, 1101, kAck);       // new ack value
  h.b(1041, 5001, 1101, kAck);       // dup #1 (step 9)
  h.b(1042, 5001, 1101, kAck);       // dup #2
  SECTION("3 ms after the last dup ACK") {
    // not advanced, rev.dupacknum 2, seq == rev.lastack 1101, 3 ms < 20 ms.
    h.a(1045, 1101, 5001, kAck, 100);
    CHECK(h.total(Slot::fast_retransmissions) == 1);
    CHECK(h.total(Slot::retransmissions) == 1);
    CHECK(h.total(Slot::out_of_order) == 0);
  }
  SECTION("25 ms after the last dup ACK is a plain retransmission") {
    h.a(1067, 1101, 5001, kAck, 100);
    CHECK(h.total(Slot::fast_retransmissions) == 0);
    CHECK(h.total(Slot::retransmissions) == 1);
  }
  h.b(1070, 5001, 1301, kAck);
  CHECK(h.total(Slot::duplicate_acks) == 2);
  CHECK(h.total(Slot::spurious_retransmissions) == 0);
  CHECK(h.total(Slot::acked_unseen) == 0);
}

TEST_CASE("one duplicate ACK is not enough for a fast retransmission", "[classify]") {
  Harness h;
  h.handshake();
  h.a(1030, 1001, 5001, kAck, 100);
  h.a(1031, 1101, 5001, kAck, 100);
  h.b(1040, 5001, 1101, kAck);
  h.b(1041, 5001, 1101, kAck);  // dup #1 only
  h.a(1045, 1101, 5001, kAck, 100);
  CHECK(h.total(Slot::duplicate_acks) == 1);
  CHECK(h.total(Slot::fast_retransmissions) == 0);
  // 14 ms since nextseq advanced (< iRTT 20 ms), but the segment ends exactly
  // at nextseq 1201: not out-of-order (12c), so a retransmission (12d).
  CHECK(h.total(Slot::out_of_order) == 0);
  CHECK(h.total(Slot::retransmissions) == 1);
}

TEST_CASE("spurious retransmission: every byte already acknowledged", "[classify]") {
  Harness h;
  h.handshake();
  h.a(1030, 1001, 5001, kAck, 100);
  h.b(1040, 5001, 1101, kAck);
  h.a(1300, 1001, 5001, kAck, 100);  // 1001 + 100 <= B's lastack 1101 (12a)
  h.a(1400, 1051, 5001, kAck, 50);   // ends at 1101: spurious again
  CHECK(h.total(Slot::spurious_retransmissions) == 2);
  CHECK(h.total(Slot::retransmissions) == 2);
  CHECK(h.total(Slot::fast_retransmissions) == 0);
  CHECK(h.total(Slot::out_of_order) == 0);
}

TEST_CASE("out-of-order: a late segment within the iRTT", "[classify]") {
  Harness h;
  h.handshake();
  // 1101..1200 overtakes 1001..1100: a hole at 1001 (step 3, lost segment).
  h.a(1030, 1101, 5001, kAck, 100);
  // 1 ms later 1001 arrives: not advanced (1001 < 1201), 1 ms < iRTT 20 ms,
  // ends at 1101 != nextseq 1201: out-of-order (12c).
  h.a(1031, 1001, 5001, kAck, 100);
  // The contiguous mark moved to 1201 with the late segment: no ACKed-unseen.
  h.b(1040, 5001, 1201, kAck);
  CHECK(h.total(Slot::out_of_order) == 1);
  CHECK(h.total(Slot::lost_segments) == 1);
  CHECK(h.total(Slot::retransmissions) == 0);
  CHECK(h.total(Slot::acked_unseen) == 0);
}

TEST_CASE("the same classification over IPv6", "[classify]") {
  Harness h;
  h.use_ipv6();
  h.handshake();
  h.a(1030, 1101, 5001, kAck, 100);  // lost segment
  h.a(1031, 1001, 5001, kAck, 100);  // out-of-order
  h.a(1300, 1001, 5001, kAck, 100);  // retransmission
  h.b(1310, 5001, 1201, kAck);
  h.b(1311, 5001, 1201, kAck);       // duplicate ACK
  CHECK(h.total(Slot::lost_segments) == 1);
  CHECK(h.total(Slot::out_of_order) == 1);
  CHECK(h.total(Slot::retransmissions) == 1);
  CHECK(h.total(Slot::duplicate_acks) == 1);
  CHECK(h.total(Slot::packets_tcp6) == 8);
  CHECK(h.total(Slot::packets_tcp4) == 0);
  CHECK(h.total(Slot::connections_opened) == 1);
}

TEST_CASE("without an iRTT the out-of-order threshold is 3 ms", "[classify]") {
  Harness h;  // no handshake: a connection picked up mid-stream
  h.a(1000, 2001, 9001, kAck, 100);
  h.a(1001, 2201, 9001, kAck, 100);   // lost segment: 2101..2200 missing
  h.a(1003, 2101, 9001, kAck, 100);   // 2 ms later: out-of-order
  h.a(1004, 2401, 9001, kAck, 100);   // lost segment: 2301..2400 missing
  h.a(1010, 2301, 9001, kAck, 100);   // 6 ms later: retransmission
  CHECK(h.total(Slot::lost_segments) == 2);
  CHECK(h.total(Slot::out_of_order) == 1);
  CHECK(h.total(Slot::retransmissions) == 1);
}

TEST_CASE("a segment sent by a local address is a retransmission, never out-of-order", "[classify][local]") {
  SECTION("sender A is local") {
    Harness h({"10.0.0.1/32"});
    h.handshake();
    h.a(1030, 1101, 5001, kAck, 100);
    h.a(1031, 1001, 5001, kAck, 100);  // Wireshark: out-of-order; ours: retransmission
    CHECK(h.total(Slot::out_of_order) == 0);
    CHECK(h.total(Slot::retransmissions) == 1);
    CHECK(h.total(Slot::lost_segments) == 1);
    CHECK(h.in_direction("out", Slot::retransmissions) == 1);
    CHECK(h.in_direction("out", Slot::tcp_segments) == 4);  // SYN, ACK, 2 data
    CHECK(h.in_direction("in", Slot::tcp_segments) == 1);   // SYN/ACK
  }
  SECTION("receiver B is local: the rule does not apply") {
    Harness h({"10.0.0.2/32"});
    h.handshake();
    h.a(1030, 1101, 5001, kAck, 100);
    h.a(1031, 1001, 5001, kAck, 100);
    CHECK(h.total(Slot::out_of_order) == 1);
    CHECK(h.total(Slot::retransmissions) == 0);
    CHECK(h.in_direction("in", Slot::out_of_order) == 1);
  }
  SECTION("a whole local network") {
    Harness h({"10.0.0.0/24"});
    h.handshake();
    h.b(1030, 5101, 1001, kAck, 100);
    h.b(1031, 5001, 1001, kAck, 100);
    CHECK(h.total(Slot::out_of_order) == 0);
    CHECK(h.total(Slot::retransmissions) == 1);
    CHECK(h.in_direction("transit", Slot::tcp_segments) == 0);
  }
}

TEST_CASE("sequence numbers wrap around 2^32", "[classify]") {
  Harness h;
  const std::uint32_t isn = 0xffffff00u;
  h.a(1000, isn, 0, kSyn);
  h.b(1010, kIsnB, isn + 1, kSyn | kAck);
  h.a(1020, isn + 1, kIsnB + 1, kAck);
  h.a(1030, isn + 1, kIsnB + 1, kAck, 0x100);        // ends at 0x00000001
  h.a(1040, 1, kIsnB + 1, kAck, 100);                 // after the wrap
  h.b(1050, kIsnB + 1, 101, kAck);
  h.a(1300, isn + 1, kIsnB + 1, kAck, 0x100);         // resent: spurious (acked)
  CHECK(h.total(Slot::lost_segments) == 0);
  CHECK(h.total(Slot::acked_unseen) == 0);
  CHECK(h.total(Slot::spurious_retransmissions) == 1);
  CHECK(h.total(Slot::retransmissions) == 1);
}
