// bench_gen: writes a large, deterministic synthetic pcap of many interleaved
// TCP connections with the anomalies tcpanomaly looks for.
//
//   bench_gen [--small] [--packets N] [--connections N] [--seed S] OUT.pcap
//
// Model (why it looks like this):
// - `connections` slots are kept open at once; each step picks a random slot
//   and plays one "turn" of its connection (1-6 packets back to back), so
//   connections interleave like on a busy link and a connection's turns are
//   ~one RTT apart. A finished connection is replaced by a new one in the
//   same slot (new client port), so the table sees churn as well.
// - Per connection: SYN / SYN-ACK / ACK with MSS, SACK-permitted, TS and
//   window scale; a 300-byte request; the server sends 1448-byte segments two
//   per turn, the client ACKs every two; FIN, FIN-ACK, ACK.
// - ~1% of data segments are lost: not written, the segments after it draw
//   one duplicate ACK each, and after the third the segment is retransmitted
//   (Wireshark: lost_segment, duplicate_ack, fast_retransmission).
// - ~0.5% of turns swap their two segments (lost_segment + out_of_order).
// - ~0.3% of ACKs close the window: zero window, a zero-window probe and its
//   ACK on the next turn, then a window update.
// - 70% IPv4, 30% IPv6. One packet per microsecond. Only headers are stored
//   (caplen = header length, len = wire length), as in a snaplen'd capture.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr std::uint32_t kMss = 1448;
constexpr std::uint16_t kWindow = 1024;  // raw; with wscale 7 = 128 KiB
constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kPsh = 0x08, kAck = 0x10;

struct Options {
  std::uint64_t packets = 5'000'000;
  std::uint32_t connections = 50'000;
  std::uint64_t seed = 1;
  std::string out;
};

struct Stats {
  std::uint64_t packets = 0, v6_packets = 0, syns = 0, handshakes = 0, data = 0;
  std::uint64_t lost = 0, reordered = 0, dupacks = 0, zero_windows = 0, closed = 0;
};

// One connection; the client (slot address) downloads from a server.
struct Conn {
  bool v6 = false;
  std::uint32_t slot = 0, server = 0;
  std::uint16_t cport = 0, sport = 443;
  std::uint32_t cseq = 0, sseq = 0;  // next sequence number of each side
  std::uint32_t rcv_nxt = 0;          // client's cumulative ACK point
  std::uint32_t acked_to = 0;         // last ACK value the client sent
  int phase = 0;                       // 0 syn, 1 synack, 2 ack+request, 3 data, 4 fin, 5 finack, 6 last ack
  std::uint32_t segs_left = 0;
  bool hole = false;                   // a lost segment awaits retransmission
  std::uint32_t hole_seq = 0, hole_end = 0, max_end = 0;
  int dupacks = 0;
  int zw = 0;                          // 1: window closed, 2: probe acked, next turn reopens
};

class Writer {
 public:
  Writer(const std::string& path, Stats& st) : st_(st) {
    f_ = std::fopen(path.c_str(), "wb");
    if (!f_) {
      std::perror(path.c_str());
      std::exit(1);
    }
    std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
    // pcap global header: microsecond magic, v2.4, snaplen 256, Ethernet.
    const std::uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 256, 1};
    std::fwrite(hdr, sizeof hdr, 1, f_);
  }
  ~Writer() { std::fclose(f_); }

  // One TCP segment; `opts` selects the option block (SYN set or TS only).
  void segment(const Conn& c, bool from_client, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
               std::uint16_t window, std::uint32_t payload) {
    std::uint8_t b[128] = {};
    std::uint8_t* p = b;
    std::memset(p, 0x02, 12);  // locally administered MACs
    p[5] = from_client ? 1 : 2;
    p[11] = from_client ? 2 : 1;
    p[12] = c.v6 ? 0x86 : 0x08;
    p[13] = c.v6 ? 0xdd : 0x00;
    p += 14;
    const bool syn = flags & kSyn;
    const std::uint32_t tcp_len = syn ? 40 : 32;  // SYN: MSS,SACKOK,TS,NOP,WS; else NOP,NOP,TS
    std::uint8_t caddr[16], saddr[16];
    address(c, true, caddr);
    address(c, false, saddr);
    if (!c.v6) {
      put16(p + 2, static_cast<std::uint16_t>(20 + tcp_len + payload));
      p[0] = 0x45;
      put16(p + 4, static_cast<std::uint16_t>(st_.packets));  // IP id
      p[6] = 0x40;  // DF
      p[8] = 64;
      p[9] = 6;
      std::memcpy(p + 12, from_client ? caddr : saddr, 4);
      std::memcpy(p + 16, from_client ? saddr : caddr, 4);
      p += 20;
    } else {
      p[0] = 0x60;
      put16(p + 4, static_cast<std::uint16_t>(tcp_len + payload));
      p[6] = 6;
      p[7] = 64;
      std::memcpy(p + 8, from_client ? caddr : saddr, 16);
      std::memcpy(p + 24, from_client ? saddr : caddr, 16);
      p += 40;
      ++st_.v6_packets;
    }
    put16(p, from_client ? c.cport : c.sport);
    put16(p + 2, from_client ? c.sport : c.cport);
    put32(p + 4, seq);
    put32(p + 8, (flags & kAck) ? ack : 0);
    p[12] = static_cast<std::uint8_t>((tcp_len / 4) << 4);
    p[13] = flags;
    put16(p + 14, window);
    std::uint8_t* o = p + 20;
    const std::uint32_t tsval = static_cast<std::uint32_t>(st_.packets / 1000);  // 1 ms ticks
    if (syn) {
      const std::uint8_t synopt[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7};
      std::memcpy(o, synopt, 20);
      put32(o + 8, tsval);
      o += 20;
    } else {
      o[0] = 1;
      o[1] = 1;
      o[2] = 8;
      o[3] = 10;
      put32(o + 4, tsval);
      put32(o + 8, tsval - 40);
      o += 12;
    }
    const std::uint32_t caplen = static_cast<std::uint32_t>(o - b);
    // Record header: one packet per microsecond from t = 1e9 s.
    const std::uint64_t us = st_.packets;
    const std::uint32_t rec[4] = {static_cast<std::uint32_t>(1'000'000'000 + us / 1'000'000),
                                  static_cast<std::uint32_t>(us % 1'000'000), caplen, caplen + payload};
    std::fwrite(rec, sizeof rec, 1, f_);
    std::fwrite(b, caplen, 1, f_);
    ++st_.packets;
  }

 private:
  static void put16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
  }
  static void put32(std::uint8_t* p, std::uint32_t v) {
    put16(p, static_cast<std::uint16_t>(v >> 16));
    put16(p + 2, static_cast<std::uint16_t>(v));
  }
  // Clients: 10.x.y.z / fd00::x:y (one per slot); servers: 192.0.2.x-ish / 2001:db8::x.
  static void address(const Conn& c, bool client, std::uint8_t* a) {
    const std::uint32_t n = client ? c.slot + 1 : c.server + 1;
    std::memset(a, 0, 16);
    if (!c.v6) {
      a[0] = client ? 10 : 172;
      a[1] = static_cast<std::uint8_t>(client ? n >> 16 : 16 + (n >> 16));
      a[2] = static_cast<std::uint8_t>(n >> 8);
      a[3] = static_cast<std::uint8_t>(n);
      return;
    }
    a[0] = client ? 0xfd : 0x20;
    a[1] = client ? 0x00 : 0x01;
    a[2] = client ? 0 : 0x0d;
    a[3] = client ? 0 : 0xb8;
    a[13] = static_cast<std::uint8_t>(n >> 16);
    a[14] = static_cast<std::uint8_t>(n >> 8);
    a[15] = static_cast<std::uint8_t>(n);
  }

  std::FILE* f_;
  Stats& st_;
};

class Generator {
 public:
  Generator(const Options& o, Writer& w, Stats& st) : o_(o), w_(w), st_(st), rng_(o.seed) {}

  void run() {
    std::vector<Conn> slots(o_.connections);
    std::vector<std::uint16_t> next_port(o_.connections, 20000);
    for (std::uint32_t i = 0; i < o_.connections; ++i) start(slots[i], i, next_port[i]);
    std::uniform_int_distribution<std::uint32_t> pick(0, o_.connections - 1);
    while (st_.packets < o_.packets) {
      const std::uint32_t i = pick(rng_);
      if (!turn(slots[i])) start(slots[i], i, next_port[i]);
    }
  }

 private:
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  void start(Conn& c, std::uint32_t slot, std::uint16_t& port) {
    c = Conn{};
    c.slot = slot;
    c.v6 = chance(0.3);
    c.server = static_cast<std::uint32_t>(rng_() % 512);
    c.cport = port++;
    if (port < 20000) port = 20000;
    c.cseq = static_cast<std::uint32_t>(rng_());
    c.sseq = static_cast<std::uint32_t>(rng_());
    c.segs_left = 4 + static_cast<std::uint32_t>(rng_() % 77);  // 4..80 data segments
  }

  void client_ack(Conn& c, std::uint32_t ack, std::uint16_t window = kWindow) {
    w_.segment(c, true, kAck, c.cseq, ack, window, 0);
    c.acked_to = ack;
  }
  void server_data(const Conn& c, std::uint32_t seq, std::uint32_t len) {
    w_.segment(c, false, kAck | kPsh, seq, c.cseq, kWindow, len);
  }

  // The client receives one segment [seq, end): cumulative ACK point or dup ACK.
  // Returns true if it sent a (dup) ACK right away.
  bool receive(Conn& c, std::uint32_t end) {
    if (!c.hole) {
      c.rcv_nxt = end;
      return false;
    }
    c.max_end = end;
    client_ack(c, c.hole_seq);  // out-of-order arrival: immediate duplicate ACK
    ++st_.dupacks;
    if (++c.dupacks >= 3) {     // fast retransmit right after the third dup ACK
      server_data(c, c.hole_seq, c.hole_end - c.hole_seq);
      c.hole = false;
      c.rcv_nxt = c.max_end;
      client_ack(c, c.rcv_nxt);
    }
    return true;
  }

  // Plays one turn; returns false when the connection is finished.
  bool turn(Conn& c) {
    switch (c.phase) {
      case 0:
        w_.segment(c, true, kSyn, c.cseq++, 0, 64240, 0);
        ++st_.syns;
        break;
      case 1:
        w_.segment(c, false, kSyn | kAck, c.sseq++, c.cseq, 65160, 0);
        break;
      case 2:
        client_ack(c, c.sseq);
        w_.segment(c, true, kAck | kPsh, c.cseq, c.sseq, kWindow, 300);
        c.cseq += 300;
        c.rcv_nxt = c.sseq;
        ++st_.handshakes;
        break;
      case 3:
        return data_turn(c);
      case 4:
        w_.segment(c, false, kFin | kAck, c.sseq++, c.cseq, kWindow, 0);
        break;
      case 5:
        w_.segment(c, true, kFin | kAck, c.cseq++, c.sseq, kWindow, 0);
        ++st_.closed;  // FIN both ways
        break;
      default:
        w_.segment(c, false, kAck, c.sseq, c.cseq, kWindow, 0);
        return false;
    }
    ++c.phase;
    return true;
  }

  bool data_turn(Conn& c) {
    if (c.zw == 1) {  // window closed: the server probes with one byte
      w_.segment(c, false, kAck, c.sseq, c.cseq, kWindow, 1);
      client_ack(c, c.rcv_nxt, 0);
      c.zw = 2;
      return true;
    }
    if (c.zw == 2) {  // the client reopens the window
      client_ack(c, c.rcv_nxt);
      c.zw = 0;
      return true;
    }
    if (c.segs_left == 0) {
      if (c.hole) {  // tail loss: retransmitted on timeout, then everything is ACKed
        server_data(c, c.hole_seq, c.hole_end - c.hole_seq);
        c.hole = false;
        c.rcv_nxt = c.max_end ? c.max_end : c.hole_end;
        client_ack(c, c.rcv_nxt);
      }
      c.phase = 4;
      return turn(c);
    }
    const std::uint32_t n = c.segs_left >= 2 ? 2 : 1;
    c.segs_left -= n;
    st_.data += n;
    bool acked = false;
    if (n == 2 && !c.hole && chance(0.005)) {  // reordering: second segment first
      const std::uint32_t s = c.sseq;
      server_data(c, s + kMss, kMss);
      client_ack(c, s);  // immediate dup ACK for the out-of-order segment
      server_data(c, s, kMss);
      c.sseq += 2 * kMss;
      c.rcv_nxt = c.sseq;
      ++st_.reordered;
      ++st_.dupacks;
    } else {
      for (std::uint32_t k = 0; k < n; ++k) {
        const std::uint32_t s = c.sseq;
        c.sseq += kMss;
        if (!c.hole && chance(0.01)) {  // lost before the capture point
          c.hole = true;
          c.hole_seq = s;
          c.hole_end = s + kMss;
          c.max_end = 0;
          c.dupacks = 0;
          ++st_.lost;
          continue;
        }
        server_data(c, s, kMss);
        acked = receive(c, s + kMss) || acked;
      }
    }
    // Delayed ACK every two segments, unless a dup ACK went out this turn or
    // there is nothing new to acknowledge (the first segment was lost).
    if (!acked && c.rcv_nxt != c.acked_to) {
      const bool close_window = !c.hole && chance(0.003);
      client_ack(c, c.rcv_nxt, close_window ? 0 : kWindow);
      if (close_window) {
        c.zw = 1;
        ++st_.zero_windows;
      }
    }
    return true;
  }

  const Options& o_;
  Writer& w_;
  Stats& st_;
  std::mt19937_64 rng_;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--small") {
      o.packets = 50'000;
      o.connections = 500;
    } else if (a == "--packets" && i + 1 < argc) {
      o.packets = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--connections" && i + 1 < argc) {
      o.connections = static_cast<std::uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (a == "--seed" && i + 1 < argc) {
      o.seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (!a.empty() && a[0] != '-' && o.out.empty()) {
      o.out = a;
    } else {
      std::fprintf(stderr, "usage: bench_gen [--small] [--packets N] [--connections N] [--seed S] OUT.pcap\n");
      return 2;
    }
  }
  if (o.out.empty() || o.connections == 0 || o.connections > 16'000'000) {
    std::fprintf(stderr, "usage: bench_gen [--small] [--packets N] [--connections N] [--seed S] OUT.pcap\n");
    return 2;
  }
  Stats st;
  {
    Writer w(o.out, st);
    Generator(o, w, st).run();
  }
  std::printf("%s: %llu packets (%llu IPv6), %u concurrent connection slots, %llu SYNs, "
              "%llu handshakes completed, %llu closed by FIN\n"
              "  data segments %llu, lost then retransmitted %llu, reordered pairs %llu, dup ACKs %llu, "
              "zero-window episodes %llu (2 zero-window ACKs + 1 probe + 1 update each)\n",
              o.out.c_str(), (unsigned long long)st.packets, (unsigned long long)st.v6_packets,
              o.connections, (unsigned long long)st.syns, (unsigned long long)st.handshakes,
              (unsigned long long)st.closed, (unsigned long long)st.data, (unsigned long long)st.lost,
              (unsigned long long)st.reordered, (unsigned long long)st.dupacks,
              (unsigned long long)st.zero_windows);
  return 0;
}
