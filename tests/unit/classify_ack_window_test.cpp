// Loss, ACK and window classifications through the real pipeline: lost
// segment, ACKed-unseen, duplicate ACK, zero window, zero-window probe,
// window full, window update, keep-alive, RST. Counts derived by hand from
// WIRESHARK_TCP_RULES.md (step numbers cited). handshake(1000) as in
// classify_retransmission_test.cpp: A data starts at 1001, B data at 5001.
#include <catch2/catch.hpp>

#include "support/tcp_harness.hpp"

using namespace tcpanomaly;
using namespace tcpanomaly::test;

TEST_CASE("lost segment: a hole in the sender's sequence space", "[classify]") {
  Harness h;
  h.handshake();
  h.a(1030, 1001, 5001, kAck, 100);
  h.a(1040, 1201, 5001, kAck, 100);  // 1101..1200 never captured (step 3)
  CHECK(h.total(Slot::lost_segments) == 1);
  CHECK(h.total(Slot::acked_unseen) == 0);
  // B's ACK covers the hole: A's contiguous mark (1101) is behind its nextseq
  // (1301), so the mark moves and the ACK is flagged ACKed-unseen (step 11).
  h.b(1050, 5001, 1301, kAck);
  CHECK(h.total(Slot::acked_unseen) == 1);
  CHECK(h.total(Slot::retransmissions) == 0);
  // An RST beyond nextseq is not a lost segment (step 3).
  h.a(1060, 1501, 5001, kRst | kAck);
  CHECK(h.total(Slot::lost_segments) == 1);
  CHECK(h.total(Slot::resets) == 1);
}

TEST_CASE("ACKed unseen segment is reported once per missing range", "[classify]") {
  Harness h;
  h.handshake();
  h.a(1030, 1001, 5001, kAck, 100);
  // B acknowledges 1301: A's 1101..1300 were never captured. No hole in what
  // we saw (mark 1101 == nextseq 1101): flagged only while A's dupacknum is 0,
  // which then becomes -1 (step 11).
  h.b(1040, 5001, 1301, kAck);
  h.b(1041, 5001, 1301, kAck);  // duplicate ACK (step 9), not flagged again
  h.b(1042, 5001, 1301, kAck);  // duplicate ACK
  CHECK(h.total(Slot::acked_unseen) == 1);
  CHECK(h.total(Slot::duplicate_acks) == 2);
  CHECK(h.total(Slot::lost_segments) == 0);
}

TEST_CASE("duplicate ACKs: same ack, same window, nothing new", "[classify]") {
  Harness h;
  h.handshake();
  h.a(1030, 1001, 5001, kAck, 100);
  h.b(1040, 5001, 1101, kAck);
  h.b(1050, 5001, 1101, kAck);  // dup 1
  Seg sack;                      // dup 2, with SACK blocks (ignored by the test)
  sack.from_a = false;
  sack.ms = 1060;
  sack.seq = 5001;
  sack.ack = 1101;
  sack.flags = kAck;
  sack.sack_blocks = 2;
  h.send(sack);
  h.b(1070, 5001, 1101, kAck, 0, 30000);  // window changed: a window update instead
  h.b(1080, 5001, 1101, kAck, 0, 30000);  // dup 3 (against the new window)
  h.b(1090, 5001, 1101, kFin | kAck);     // FIN: never a dup ACK
  CHECK(h.total(Slot::duplicate_acks) == 3);
  CHECK(h.total(Slot::window_updates) == 1);
  CHECK(h.total(Slot::keep_alives) == 0);
}

TEST_CASE("zero window, zero-window probes and the window update that ends it", "[classify]") {
  Harness h;
  h.handshake();
  h.b(1030, 5001, 1001, kAck, 0, 0);  // zero window (step 2)
  h.a(1040, 1001, 5001, kAck, 1);     // probe: 1 byte at nextseq, B's window 0 (step 1)
  h.b(1041, 5001, 1001, kAck, 0, 0);  // zero window again (+ ZWP ACK, not counted)
  h.a(1100, 1001, 5001, kAck, 1);     // probe again: the probe did not advance nextseq
  h.b(1101, 5001, 1001, kAck, 0, 0);  // zero window
  h.b(1200, 5001, 1001, kAck);        // window opens: window update (step 5)
  h.a(1210, 1001, 5001, kAck, 100);   // the data: not a retransmission
  h.b(1220, 5001, 1101, kAck);
  CHECK(h.total(Slot::zero_windows) == 3);
  CHECK(h.total(Slot::zero_window_probes) == 2);
  CHECK(h.total(Slot::zero_window_episodes) == 1);  // three zeros in a row: one episode
  CHECK(h.total(Slot::window_updates) == 1);
  CHECK(h.total(Slot::duplicate_acks) == 0);
  CHECK(h.total(Slot::retransmissions) == 0);
  CHECK(h.total(Slot::keep_alives) == 0);
  CHECK(h.total(Slot::lost_segments) == 0);
}

TEST_CASE("a zero window on SYN, FIN or RST is not counted", "[classify]") {
  Harness h;
  h.a(1000, kIsnA, 0, kSyn, 0, 0);
  h.b(1010, kIsnB, kIsnA + 1, kSyn | kAck, 0, 0);
  h.a(1020, kIsnA + 1, kIsnB + 1, kFin | kAck, 0, 0);
  h.b(1030, kIsnB + 1, kIsnA + 2, kRst, 0, 0);
  CHECK(h.total(Slot::zero_windows) == 0);
}

TEST_CASE("zero-window episodes: each fall to zero, FINs included, SYN and RST ignored", "[classify]") {
  Harness h;
  h.a(1000, kIsnA, 0, kSyn, 0, 0);                  // SYN with window 0: not an episode
  h.b(1010, kIsnB, kIsnA + 1, kSyn | kAck, 0, 0);
  h.a(1020, kIsnA + 1, kIsnB + 1, kAck);            // handshake done, windows open
  h.b(1030, kIsnB + 1, kIsnA + 1, kAck, 0, 0);      // B: episode 1
  h.b(1040, kIsnB + 1, kIsnA + 1, kAck, 0, 0);      // still zero
  h.b(1050, kIsnB + 1, kIsnA + 1, kAck);            // opens
  h.b(1060, kIsnB + 1, kIsnA + 1, kFin | kAck, 0, 0);  // FIN advertising zero: episode 2
  h.a(1070, kIsnA + 1, kIsnB + 2, kRst, 0, 0);      // RST with window 0: not one
  CHECK(h.total(Slot::zero_window_episodes) == 2);
  CHECK(h.total(Slot::zero_windows) == 2);          // Wireshark leaves out the FIN
}

TEST_CASE("zero-window episodes: a window already closed when the capture began is not one", "[classify]") {
  Harness h;
  h.a(1000, 1001, 5001, kAck, 100);        // mid-stream: no handshake seen
  h.b(1010, 5001, 1101, kAck, 0, 0);       // B's first segment: already zero
  h.b(1020, 5001, 1101, kAck, 0, 0);       // still zero
  h.b(1030, 5001, 1101, kAck);             // opens
  h.b(1040, 5001, 1101, kAck, 0, 0);       // falls to zero: the one episode seen
  CHECK(h.total(Slot::zero_window_episodes) == 1);
  CHECK(h.total(Slot::zero_windows) == 3);
}

TEST_CASE("Linux-style probe (0 bytes at nextseq - 1) is a keep-alive", "[classify]") {
  Harness h;
  h.handshake();
  h.a(1030, 1001, 5001, kAck, 100);
  h.b(1040, 5001, 1101, kAck, 0, 0);  // zero window
  h.a(1300, 1100, 5001, kAck);        // seq = nextseq - 1, 0 bytes (step 4)
  CHECK(h.total(Slot::keep_alives) == 1);
  CHECK(h.total(Slot::zero_window_probes) == 0);
  CHECK(h.total(Slot::zero_windows) == 1);
}

TEST_CASE("keep-alives and their ACKs", "[classify]") {
  Harness h;
  h.handshake();
  h.a(1030, 1001, 5001, kAck, 100);
  h.b(1040, 5001, 1101, kAck);
  h.a(2000, 1100, 5001, kAck);       // keep-alive: 0 bytes at nextseq - 1
  h.b(2001, 5001, 1101, kAck);       // keep-alive ACK (step 7): not a dup ACK
  h.a(3000, 1100, 5001, kAck, 1);    // keep-alive with one garbage byte
  h.b(3001, 5001, 1101, kAck);       // keep-alive ACK
  h.b(3002, 5001, 1101, kAck);       // A's last segment is still the keep-alive
  CHECK(h.total(Slot::keep_alives) == 2);
  CHECK(h.total(Slot::retransmissions) == 0);  // step 12 skips keep-alives
  CHECK(h.total(Slot::lost_segments) == 0);
  // The 3002 ACK repeats 3001 while A's last segment is still the keep-alive
  // (lastsegmentflags only change when A sends): keep-alive ACK again.
  CHECK(h.total(Slot::duplicate_acks) == 0);
}

TEST_CASE("window full: the segment ends at the receiver's right edge", "[classify]") {
  SECTION("no window scaling: raw window") {
    Harness h;
    h.a(1000, kIsnA, 0, kSyn);
    h.b(1010, kIsnB, kIsnA + 1, kSyn | kAck, 0, 300);  // B's edge: 1001 + 300
    h.a(1020, kIsnA + 1, kIsnB + 1, kAck);
    h.a(1030, 1001, 5001, kAck, 100);
    h.a(1031, 1101, 5001, kAck, 100);
    h.a(1032, 1201, 5001, kAck, 100);  // ends at 1301: full (step 6)
    h.b(1040, 5001, 1301, kAck, 0, 300);
    CHECK(h.total(Slot::window_full) == 1);
    CHECK(h.total(Slot::window_updates) == 0);
  }
  SECTION("scaled window: shift applies once the receiver sent a non-SYN ACK") {
    Harness h;
    Seg syn;
    syn.ms = 1000;
    syn.seq = kIsnA;
    syn.flags = kSyn;
    syn.wscale = 7;
    h.send(syn);
    Seg synack;
    synack.from_a = false;
    synack.ms = 1010;
    synack.seq = kIsnB;
    synack.ack = kIsnA + 1;
    synack.flags = kSyn | kAck;
    synack.wscale = 2;
    h.send(synack);
    h.a(1020, kIsnA + 1, kIsnB + 1, kAck);
    h.b(1030, 5001, 1001, kAck | kPsh, 10, 100);  // B's window: 100 << 2 = 400
    h.a(1040, 1001, 5011, kAck, 100);             // ends at 1101 = 1001 + 100 unscaled: not full
    h.a(1041, 1101, 5011, kAck, 300);             // ends at 1401 = 1001 + 400: full
    CHECK(h.total(Slot::window_full) == 1);
    CHECK(h.total(Slot::syn_window_scale) == 2);
  }
  SECTION("unknown scale (no SYN seen): never full") {
    Harness h;
    h.b(1000, 5001, 1001, kAck, 0, 100);
    h.a(1010, 1001, 5001, kAck, 100);
    CHECK(h.total(Slot::window_full) == 0);
  }
}

TEST_CASE("window update: new window, nothing else changed", "[classify]") {
  Harness h;
  h.handshake();
  h.b(1030, 5001, 1001, kAck, 0, 30000);  // window update
  h.b(1040, 5001, 1001, kAck, 0, 40000);  // window update
  h.b(1050, 5001, 1001, kAck, 0, 40000);  // duplicate ACK
  h.a(1060, 1001, 5001, kAck, 100);
  h.b(1070, 5001, 1101, kAck, 0, 50000);  // new ack value: neither
  CHECK(h.total(Slot::window_updates) == 2);
  CHECK(h.total(Slot::duplicate_acks) == 1);
}
