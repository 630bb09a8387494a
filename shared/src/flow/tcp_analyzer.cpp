#include "flow/tcp_analyzer.hpp"

#include "flow/seq.hpp"

namespace tcpanomaly {
namespace {

using namespace tcpflag;
constexpr std::int64_t kFastRetransmissionWindowNs = 20'000'000;  // Wireshark: 20 ms
constexpr std::int64_t kDefaultOutOfOrderNs = 3'000'000;          // Wireshark: 3 ms without iRTT

// The endpoints' addresses are worked out once per segment and then kept.
// Left to itself GCC recomputes f.ep[side] (base + side * 56: three
// instructions) at nearly every use rather than spend a register on it,
// about 30 instructions per segment; an empty asm that "may change" the
// pointer hides where it came from, so it can only be kept.
template <class T>
inline T& computed_once(T& object) {
  T* p = &object;
  asm("" : "+r"(p));
  return *p;
}

double seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }

// Window scale bookkeeping on SYN and SYN/ACK (Wireshark's
// verify_tcp_window_scaling): scaling is in use only if both SYNs carry it.
void note_window_scale(Endpoint& fwd, Endpoint& rev, const DecodedPacket& p) {
  if (p.options.window_scale >= 0)
    fwd.win_scale = static_cast<std::int8_t>(p.options.window_scale > 14 ? 14 : p.options.window_scale);
  const bool synack = p.flags & ack;
  if (fwd.win_scale == -1) {
    fwd.win_scale = -2;
    rev.win_scale = -2;
  } else if (synack && rev.win_scale == -2) {
    fwd.win_scale = -2;
  }
}

// Wireshark 4.0 tcp_analyze_sequence_number(), steps 1-13 (numbered as in
// ../README "Matching Wireshark"). Returns the event flags of the segment.
std::uint32_t classify(Flow& f, Endpoint& fwd, Endpoint& rev, int side, const DecodedPacket& p) {
  const std::uint32_t s = p.seq, a = p.ack, len = p.payload_length, w = p.window;
  const std::uint8_t fl = p.flags;
  const bool syn_fin_rst = fl & (syn | fin | rst);
  const std::int64_t now = p.time_ns;
  std::uint32_t ev = 0;

  if (!fwd.base_set) {
    fwd.base_seq = (fl & syn) ? s : s - 1;
    fwd.base_set = true;
  }
  if (!rev.base_set && (fl & ack)) {
    rev.base_seq = a - 1;
    rev.base_set = true;
  }

  // Episodes follow the kernel's tcp_select_window(): every segment but SYNs
  // and resets carries the window it chose, so a zero after a non-zero is one
  // transition to a zero window (FINs included, unlike Wireshark's flag).
  // A direction first seen with its window already closed (capture started
  // mid-stream) fell to zero before we looked: not counted.
  if (!(fl & (syn | rst))) {
    const bool window_seen = fwd.window != kNoWindow;
    if (w == 0 && !fwd.in_zero_window && window_seen) ev |= event::zero_window_episode;
    fwd.in_zero_window = w == 0;
  }

  // 1. Zero-window probe: skips checks 2-9 and does not advance nextseq.
  if (len == 1 && s == fwd.nextseq && rev.window == 0) {
    ev |= event::zero_window_probe;
  } else {
    // 2. Zero window (raw field; scaling is irrelevant to zero).
    if (w == 0 && !syn_fin_rst) ev |= event::zero_window;
    // 3. Previous segment not captured.
    if (fwd.nextseq && seq::gt(s, fwd.nextseq) && !(fl & rst)) ev |= event::lost_segment;
    // Checks 4-9 split by payload: 5 and 7-9 need none, 6 needs some, 4 at most one byte.
    if (len == 0) {
      if (!syn_fin_rst) {
        // 4. Keep-alive.
        if (s == fwd.nextseq - 1) ev |= event::keep_alive;
        const bool same_seq_ack = s == fwd.nextseq && a == fwd.lastack;
        // 5. Window update.
        if (w != 0 && w != fwd.window && same_seq_ack) ev |= event::window_update;
        if (w == fwd.window && same_seq_ack) {  // the same ACK state again
          if (w != 0 && (rev.last_flags & lastseg::keep_alive)) {
            ev |= event::keep_alive_ack;  // 7.
          } else if (w == 0 && (rev.last_flags & lastseg::zero_window_probe)) {
            ev |= event::zero_window_probe_ack;  // 8.
          } else if (w != 0) {
            // 9. Duplicate ACK (SACK blocks are ignored, as in Wireshark).
            fwd.dupacknum = static_cast<std::int16_t>(fwd.dupacknum < 0 ? 1 : fwd.dupacknum + 1);
            ev |= event::duplicate_ack;
          }
        }
      }
    } else if (!syn_fin_rst) {
      // 4. Keep-alive.
      if (len == 1 && s == fwd.nextseq - 1) ev |= event::keep_alive;
      // 6. Window full: the segment ends exactly at the receiver's right edge.
      if (rev.win_scale != -1) {
        const int shift = (rev.win_scale < 0 || !rev.sent_non_syn_ack) ? 0 : rev.win_scale;
        if (s + len == rev.lastack + (rev.window << shift)) ev |= event::window_full;
      }
    }
  }
  // 10. A new ack value restarts the duplicate count.
  if (a != fwd.lastack) fwd.dupacknum = 0;
  // 11. ACKed unseen segment, reported once per missing range.
  if ((fl & ack) && rev.maxseqtobeacked && seq::gt(a, rev.maxseqtobeacked)) {
    if (seq::lt(rev.maxseqtobeacked, rev.nextseq)) {
      rev.maxseqtobeacked = rev.nextseq;
      ev |= event::acked_unseen;
    } else {
      if (rev.dupacknum == 0) ev |= event::acked_unseen;
      rev.dupacknum = -1;
    }
  }
  // 12. Retransmission family; a keep-alive is never one.
  bool rewind_to_contiguous = false;
  if ((len > 0 || (fl & (syn | fin))) && !(ev & event::keep_alive)) {
    if (len > 0 && rev.lastack && seq::le(s + len, rev.lastack)) {
      ev |= event::spurious_retransmission | event::retransmission;
    } else {
      bool not_advanced = fwd.nextseq && seq::lt(s, fwd.nextseq);
      if (len > 1 && fwd.nextseq - 1 == s) not_advanced = false;  // data after a 1-byte probe
      if (not_advanced) {  // rare: the rest only for segments that did not advance
        const std::uint32_t end = s + len + ((fl & (syn | fin)) ? 1 : 0);
        const std::int64_t ooo_threshold = f.irtt ? f.irtt : kDefaultOutOfOrderNs;
        const bool sender_local = (f.local_mask >> side) & 1;
        if ((fl & (syn | ack)) == syn) {
          // A pure SYN again (same ISN: a new one started a new connection
          // before this ran) is a retransmission however soon it comes, and
          // the client is starting over: what it sent beyond the contiguous
          // range (an RST answering a challenge ACK, segments after a hole)
          // no longer bounds its sequence space. tshark 4.0 does both.
          ev |= event::retransmission;
          rewind_to_contiguous = true;
        } else if (rev.dupacknum >= 2 && rev.lastack == s && now - rev.lastack_time < kFastRetransmissionWindowNs) {
          ev |= event::fast_retransmission | event::retransmission;
        } else if (!sender_local && now - fwd.nextseq_time < ooo_threshold && fwd.nextseq != end) {
          ev |= event::out_of_order;
        } else {
          ev |= event::retransmission;
        }
      }
    }
  }
  // 13. Bookkeeping.
  const bool zwp = ev & event::zero_window_probe;
  const std::uint32_t nextseq = s + len + ((fl & (syn | fin)) ? 1 : 0);
  if (rewind_to_contiguous) [[unlikely]] {
    fwd.nextseq = fwd.maxseqtobeacked;
    fwd.nextseq_time = now;
  } else if ((seq::gt(nextseq, fwd.nextseq) || !fwd.nextseq) && !zwp) {
    fwd.nextseq = nextseq;
    fwd.nextseq_time = now;
  }
  if ((s == fwd.maxseqtobeacked || !fwd.maxseqtobeacked) && !zwp) fwd.maxseqtobeacked = fwd.nextseq;
  fwd.window = w;
  fwd.lastack = a;
  fwd.lastack_time = now;
  fwd.last_flags = static_cast<std::uint8_t>(((ev & event::keep_alive) ? lastseg::keep_alive : 0) |
                                             (zwp ? lastseg::zero_window_probe : 0));
  if ((fl & ack) && !(fl & syn)) fwd.sent_non_syn_ack = true;
  return ev;
}

// Karn's rule: time one segment per direction, never a retransmitted one.
void track_rtt(Endpoint& fwd, Endpoint& rev, int side, const DecodedPacket& p, SegmentEvents& ev) {
  const std::int64_t now = p.time_ns;
  if ((p.flags & ack) && rev.rtt_start && seq::ge(p.ack, rev.rtt_end)) {
    if (now > rev.rtt_start) {
      ev.rtt = seconds(now - rev.rtt_start);
      ev.rtt_side = 1 - side;
    }
    rev.rtt_start = 0;
  }
  if (p.payload_length == 0) return;
  const std::uint32_t resent = event::retransmission | event::out_of_order | event::zero_window_probe;
  if (ev.flags & resent) {
    if (fwd.rtt_start && seq::lt(p.seq, fwd.rtt_end)) fwd.rtt_start = 0;  // ambiguous now
  } else if (!fwd.rtt_start) {
    fwd.rtt_start = now;
    fwd.rtt_end = p.seq + p.payload_length;
  }
}

void close_connection(Flow& f, std::int64_t now, std::uint32_t kind, SegmentEvents& ev) {
  if (f.opened) {
    ev.flags |= kind;
    ev.duration = seconds(now - f.first_seen);
  }
  f.state = ConnState::closed;
}

void track_connection(Flow& f, Endpoint& fwd, int side, const DecodedPacket& p, SegmentEvents& ev) {
  const std::uint8_t fl = p.flags;
  const std::int64_t now = p.time_ns;
  const bool pure_syn = (fl & (syn | ack)) == syn;
  if (pure_syn) {
    if (!f.analysed) {
      f.state = ConnState::syn_sent;
      f.client_side = static_cast<std::uint8_t>(side);
    }
    f.last_syn_time = now;
  }
  // Wireshark's iRTT: most recent SYN to the first ACK-without-SYN, once.
  if (!f.irtt && f.last_syn_time && (fl & ack) && !(fl & syn)) f.irtt = now - f.last_syn_time;
  if (f.state == ConnState::closed) {
    // The same SYN after the connection was reset (a client answering a
    // challenge ACK with RST, then retrying): the handshake starts over and
    // its outcome counts. A refused connect stays refused: stacks that retry
    // a SYN after RST (Windows) made one connect, not several.
    if (!pure_syn || f.refused) return;
    f.state = ConnState::syn_sent;
    f.opened = false;  // the old connection's close was counted; this one opens anew
    f.client_side = static_cast<std::uint8_t>(side);
    f.first_seen = now;
    f.ep[0].fin_seen = f.ep[1].fin_seen = false;
  }

  if (fl & rst) {
    if (f.state == ConnState::syn_sent && side != f.client_side) {
      ev.flags |= event::refused;
      f.refused = true;
      f.state = ConnState::closed;
    } else {
      close_connection(f, now, event::closed_rst, ev);
    }
    return;
  }
  if ((fl & syn) && (fl & ack) && f.state == ConnState::syn_sent && side != f.client_side)
    f.state = ConnState::syn_received;
  if ((fl & ack) && !(fl & syn) && f.state == ConnState::syn_received && side == f.client_side) {
    f.state = ConnState::established;
    f.opened = true;
    ev.flags |= event::opened;
    ev.handshake_rtt = seconds(now - f.last_syn_time);
  }
  if (fl & fin) {
    fwd.fin_seen = true;
    if (f.ep[0].fin_seen && f.ep[1].fin_seen) close_connection(f, now, event::closed_fin, ev);
  }
}

}  // namespace

void reset_connection(Flow& f) {
  Flow fresh{};
  fresh.key = f.key;
  fresh.local_mask = f.local_mask;
  fresh.block = f.block;
  fresh.block_generation = f.block_generation;
  fresh.in_use = f.in_use;
  f = fresh;
}

void analyze_segment(Flow& f, int side, const DecodedPacket& p, SegmentEvents& ev) {
  if (!f.analysed) f.first_seen = p.time_ns;
  Endpoint& fwd = computed_once(f.ep[side]);
  Endpoint& rev = computed_once(f.ep[1 - side]);
  const bool is_syn = p.flags & syn;  // the SYN-only steps behind one test
  // Wireshark: a SYN/ACK with a new ISN re-bases its direction (no new stream).
  if (is_syn && (p.flags & ack) && fwd.base_set && p.seq != fwd.base_seq) fwd.base_seq = p.seq;

  ev.flags |= classify(f, fwd, rev, side, p);
  if (is_syn) {
    if (!(p.flags & ack) && (ev.flags & (event::retransmission | event::out_of_order)))
      ev.flags |= event::syn_retransmission;
    note_window_scale(fwd, rev, p);
  }
  track_rtt(fwd, rev, side, p, ev);
  track_connection(f, fwd, side, p, ev);
  f.last_seen = p.time_ns;
  f.analysed = true;
}

}  // namespace tcpanomaly
