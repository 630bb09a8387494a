// soak: hours of traffic through the offline analysis path, in one process.
//
// The frames of the given captures (Ethernet ones) are loaded once, then
// replayed LOOPS times into one pipeline, each replay shifted in time by the
// capture's span plus a pause longer than every idle timeout, so each replay
// reuses the same addresses and ports after the old connections expired
// (connection churn and port reuse, for hours of capture time), and with all
// TCP sequence numbers shifted further each loop, so they wrap. Memory is
// sampled after every loop. It fails unless
//   * resident memory after the last loop is within 1 MiB of after the first
//     (no growth: the flow table and label sets are fixed at their caps),
//   * tracked flows never exceed the flow-table size nor label sets the cap,
//   * every counter equals LOOPS x what one replay into a fresh pipeline
//     counts (nothing lost, nothing double-counted over the hours).
//
// usage: soak [--loops N] [--flow-table-size N] CAPTURE...
#include <pcap/pcap.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "decode/decoder.hpp"
#include "engine/pipeline.hpp"
#include "flow/local_networks.hpp"
#include "tcpanomaly/snapshot.hpp"

using namespace tcpanomaly;

namespace {

struct Frame {
  std::int64_t time_ns;
  std::uint32_t wire_length;
  std::vector<std::uint8_t> bytes;
};

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 16, '\n');
  }
  return value;
}

// Offset of the TCP header in an Ethernet frame (VLAN tags, IPv4 options,
// IPv6 without extension headers), or 0 if it is not a plain TCP frame.
std::size_t tcp_offset(const std::vector<std::uint8_t>& b) {
  std::size_t off = 12;
  while (off + 2 <= b.size() && b[off] == 0x81 && b[off + 1] == 0x00) off += 4;
  if (off + 2 > b.size()) return 0;
  const unsigned type = b[off] << 8 | b[off + 1];
  off += 2;
  if (type == 0x0800 && off + 20 <= b.size() && b[off + 9] == 6) return off + (b[off] & 0x0f) * 4u;
  if (type == 0x86dd && off + 40 <= b.size() && b[off + 6] == 6) return off + 40;
  return 0;
}

// Sequence shifting must reach every TCP segment the decoder analyses, or a
// connection would see two numberings: a file with a TCP frame tcp_offset()
// can't place (extension headers, QinQ, ...) is left out of the soak.
bool shiftable(const Frame& f) {
  DecodedPacket p;
  if (decode(DLT_EN10MB, f.bytes.data(), f.bytes.size(), f.wire_length, p) != DecodeResult::ok || !p.has_tcp)
    return true;
  const std::size_t t = tcp_offset(f.bytes);
  if (!t || t + 8 > f.bytes.size()) return false;
  const std::uint32_t seq = std::uint32_t(f.bytes[t + 4]) << 24 | f.bytes[t + 5] << 16 | f.bytes[t + 6] << 8 | f.bytes[t + 7];
  return seq == p.seq;
}

bool load(const char* path, std::vector<Frame>& out, std::int64_t& cursor) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
  if (!p) return false;
  if (pcap_datalink(p) != DLT_EN10MB) {
    pcap_close(p);
    return false;
  }
  pcap_pkthdr* h;
  const u_char* d;
  std::int64_t first = -1;
  const std::int64_t base = cursor;
  const std::size_t start_index = out.size();
  while (pcap_next_ex(p, &h, &d) == 1) {
    const std::int64_t t = std::int64_t(h->ts.tv_sec) * 1'000'000'000 + h->ts.tv_usec;
    if (first < 0) first = t;
    const std::int64_t rel = t - first < 0 ? 0 : t - first;  // files one after another
    out.push_back({base + rel, h->len, std::vector<std::uint8_t>(d, d + h->caplen)});
    if (base + rel > cursor) cursor = base + rel;
  }
  pcap_close(p);
  for (std::size_t i = start_index; i < out.size(); ++i) {
    if (!shiftable(out[i])) {
      std::printf("soak: %s left out (a TCP segment the sequence shift can't reach)\n", path);
      out.resize(start_index);
      cursor = base;
      return false;
    }
  }
  cursor += 1'000'000'000;
  return true;
}

void add32(std::uint8_t* p, std::uint32_t delta) {
  const std::uint32_t v = (std::uint32_t(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3]) + delta;
  p[0] = std::uint8_t(v >> 24), p[1] = std::uint8_t(v >> 16), p[2] = std::uint8_t(v >> 8), p[3] = std::uint8_t(v);
}

// Returns the most flows tracked at once (sampled every 256 frames). Every
// TCP sequence and ack number is shifted by `seq_shift` (mod 2^32), so that
// over the loops every connection's numbers wrap around 2^32 somewhere.
std::size_t replay(Pipeline& pipe, std::vector<Frame>& frames, std::int64_t offset, std::uint32_t seq_shift) {
  std::size_t most = 0, n = 0;
  for (Frame& f : frames) {
    const std::size_t t = tcp_offset(f.bytes);
    if (t && t + 14 <= f.bytes.size() && seq_shift) {
      add32(&f.bytes[t + 4], seq_shift);
      if (f.bytes[t + 13] & 0x10) add32(&f.bytes[t + 8], seq_shift);  // ack only with ACK set
    }
    pipe.on_frame(f.time_ns + offset, f.bytes.data(), static_cast<std::uint32_t>(f.bytes.size()), f.wire_length);
    if (++n % 256 == 0) most = std::max<std::size_t>(most, pipe.flows().size());
  }
  return most;
}

}  // namespace

int main(int argc, char** argv) {
  int loops = 200;
  AnalysisConfig config;
  config.flow_table_size = 4096;
  config.top_peers = 5;  // label churn too
  config.max_series = 64;
  std::vector<Frame> frames;
  std::int64_t cursor = 1'000'000'000'000'000'000;  // 2001-09-09: any fixed epoch will do
  int files = 0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--loops") && i + 1 < argc) {
      loops = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--flow-table-size") && i + 1 < argc) {
      config.flow_table_size = static_cast<std::uint32_t>(std::atol(argv[++i]));
    } else if (load(argv[i], frames, cursor)) {
      ++files;
    }
  }
  if (frames.empty() || loops < 2) {
    std::fprintf(stderr, "usage: soak [--loops N>=2] [--flow-table-size N] CAPTURE... (Ethernet pcap)\n");
    return 2;
  }
  // Longer than every idle timeout: each replay starts with an empty table.
  const std::int64_t pause = std::int64_t(config.established_timeout_s + config.syn_timeout_s +
                                          config.closed_timeout_s + 60) * 1'000'000'000;
  // Captures are not always in time order: the span is max - min.
  std::int64_t first = frames.front().time_ns, last = first;
  for (const Frame& f : frames) first = std::min(first, f.time_ns), last = std::max(last, f.time_ns);
  const std::int64_t period = (last - first) + pause;
  LocalNetworks local;
  Prefix p;
  parse_prefix("10.200.0.1/32", p);  // the lab client: out/in directions too
  local.add(p);

  // One replay, fresh pipeline: the expected counts per loop.
  Snapshot once;
  {
    Pipeline pipe("soak", config, local);
    replay(pipe, frames, 0, 0);
    pipe.advance_clock(last + pause);
    pipe.promote_peers();
    pipe.snapshot_into(once);
  }

  Pipeline pipe("soak", config, local);
  std::vector<long> rss;
  std::size_t max_flows = 0, max_series = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < loops; ++k) {
    // Each loop shifts the (already shifted) numbers by another ~0.28 x 2^32.
    max_flows = std::max(max_flows, replay(pipe, frames, k * period, k ? 0x4786F1E5u : 0));
    pipe.advance_clock(last + k * period + pause);
    Snapshot s;
    pipe.promote_peers();  // the engine's clock tick
    pipe.snapshot_into(s);  // as an agent would, every interval
    max_series = std::max(max_series, s.blocks.size());
    rss.push_back(rss_kib());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Snapshot total;
  pipe.promote_peers();
  pipe.snapshot_into(total);

  const double packets = double(frames.size()) * loops;
  const double capture_hours = double(period) * loops / 3.6e12;
  std::printf("soak: %d files, %zu frames x %d loops = %.0f packets, %.1f hours of capture time\n", files,
              frames.size(), loops, packets, capture_hours);
  std::printf("      %.2f s, %.0f ns/packet; RSS after loop 1 %ld KiB, after loop %d %ld KiB (max %ld)\n", seconds,
              seconds * 1e9 / packets, rss.front(), loops, rss.back(), *std::max_element(rss.begin(), rss.end()));
  std::printf("      max tracked flows %zu (table %u), max label sets %zu (cap %d)\n", max_flows,
              config.flow_table_size, max_series, config.max_series);
  int failures = 0;
  if (rss.back() - rss.front() > 1024) {
    std::printf("FAIL resident memory grew by %ld KiB\n", rss.back() - rss.front());
    ++failures;
  }
  if (max_flows > config.flow_table_size || max_series > std::size_t(config.max_series)) {
    std::printf("FAIL a cap was exceeded\n");
    ++failures;
  }
  int compared = 0;
  for (std::size_t i = 0; i < kSlotCount; ++i) {
    const Slot s = static_cast<Slot>(i);
    const MetricInfo* m = find_metric(slot_info(s).metric);
    if (m->kind == MetricKind::gauge) {
      if (total.total(s) != once.total(s)) {
        std::printf("FAIL gauge %s: %llu after the soak, %llu after one replay\n", m->name.data(),
                    (unsigned long long)total.total(s), (unsigned long long)once.total(s));
        ++failures;
      }
      continue;
    }
    if (s == Slot::capture_received || s == Slot::capture_dropped || s == Slot::capture_if_dropped) continue;
    ++compared;
    const std::uint64_t want = once.total(s) * std::uint64_t(loops);
    if (total.total(s) != want) {
      std::printf("FAIL %s%s%s: %llu, expected %d x %llu = %llu\n", m->name.data(),
                  slot_info(s).tags[0].key.empty() ? "" : " ", slot_info(s).tags[0].value.data(),
                  (unsigned long long)total.total(s), loops, (unsigned long long)once.total(s),
                  (unsigned long long)want);
      ++failures;
    }
  }
  for (std::size_t h = 0; h < kHistogramCount; ++h) {
    const HistogramData a = total.total(static_cast<Histogram>(h)), b = once.total(static_cast<Histogram>(h));
    ++compared;
    if (a.count != b.count * std::uint64_t(loops)) {
      std::printf("FAIL histogram %s: count %llu, expected %d x %llu\n", histogram_info(static_cast<Histogram>(h)).metric.data(),
                  (unsigned long long)a.count, loops, (unsigned long long)b.count);
      ++failures;
    }
  }
  std::printf("      %d counters and histograms = %d x one replay: %s\n", compared, loops, failures ? "NO" : "yes");
  std::printf("      retransmissions %llu, resets %llu, connections opened %llu, flows evicted (idle) %llu\n",
              (unsigned long long)total.total(Slot::retransmissions), (unsigned long long)total.total(Slot::resets),
              (unsigned long long)total.total(Slot::connections_opened),
              (unsigned long long)total.total(Slot::evicted_idle));
  return failures ? 1 : 0;
}
