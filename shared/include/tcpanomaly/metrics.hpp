// The metric catalogue: the one table every encoder, front end, test and the
// README are generated from or checked against. Names are a stable contract
// (dashboards and alerts are built on them): add, never rename.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tcpanomaly {

enum class MetricKind : std::uint8_t { counter, gauge, histogram };

// Which label set a metric is kept under.
//  flow:      interface + direction (+ peer)  — traffic and TCP analysis
//  interface: interface only                  — self-monitoring of capture
enum class MetricScope : std::uint8_t { flow, interface };

// A counter "slot" is one (metric, extra tag) cell in a counter block. Metrics
// with an enum tag (packets by proto/ip, closed by kind, ...) own one slot per
// tag value, so the hot path increments a plain array element.
enum class Slot : std::uint16_t {
#define TCPANOMALY_SLOT(id, metric, k1, v1, k2, v2) id,
#include "tcpanomaly/slots.def"
#undef TCPANOMALY_SLOT
  count_
};
constexpr std::size_t kSlotCount = static_cast<std::size_t>(Slot::count_);

struct Tag {
  std::string_view key;  // "" when unused
  std::string_view value;
};

struct SlotInfo {
  std::string_view metric;  // catalogue name
  Tag tags[2];              // enum tags of this slot (proto/ip, kind, reason)
};

const SlotInfo& slot_info(Slot s);

struct MetricInfo {
  std::string_view name;
  MetricKind kind;
  MetricScope scope;
  std::string_view unit;        // "", "seconds", "bytes", ...
  std::string_view wireshark;   // tshark display filter counting the same frames, "" if none
  std::string_view help;
};

// Every catalogue metric, in documentation order.
const MetricInfo* metric_catalogue(std::size_t& count);
const MetricInfo* find_metric(std::string_view name);

// Histograms: fixed bucket upper bounds (inclusive, Prometheus "le").
enum class Histogram : std::uint8_t {
  handshake_rtt,
  rtt,
  connection_duration,
  packet_size_tcp,
  packet_size_udp,
  packet_size_icmp,
  packet_size_other,
  count_
};
constexpr std::size_t kHistogramCount = static_cast<std::size_t>(Histogram::count_);
constexpr std::size_t kMaxBuckets = 16;

struct HistogramInfo {
  std::string_view metric;     // catalogue name
  std::string_view tag_key;    // "proto" for packet_size
  std::string_view tag_value;
  const double* bounds;        // finite upper bounds; +Inf is implicit (the array
                               // holds kMaxBuckets entries: +Inf past bound_count)
  std::size_t bound_count;
};

const HistogramInfo& histogram_info(Histogram h);

// The packet_size bounds (bytes), here so the per-packet path can find a
// bucket by a table lookup instead of the generic double search.
inline constexpr std::uint32_t kPacketSizeBounds[] = {64, 128, 256, 512, 1024, 1500, 9000};
constexpr std::size_t kPacketSizeBoundCount = sizeof(kPacketSizeBounds) / sizeof(kPacketSizeBounds[0]);
// Index of the bucket `bytes` falls in (kPacketSizeBoundCount = +Inf): one
// table load. Every bound is a multiple of 4, so sizes in (4(q-1), 4q] share
// a bucket and q = ceil(bytes / 4) indexes a table of 2 252 bytes (the few
// lines hit per packet stay in the cache); past the last bound q is capped.
constexpr std::uint32_t kPacketSizeGrain = 4;
static_assert(kPacketSizeBounds[0] % kPacketSizeGrain == 0 && kPacketSizeBounds[1] % kPacketSizeGrain == 0 &&
                  kPacketSizeBounds[2] % kPacketSizeGrain == 0 && kPacketSizeBounds[3] % kPacketSizeGrain == 0 &&
                  kPacketSizeBounds[4] % kPacketSizeGrain == 0 && kPacketSizeBounds[5] % kPacketSizeGrain == 0 &&
                  kPacketSizeBounds[6] % kPacketSizeGrain == 0 && kPacketSizeBoundCount == 7,
              "packet_size_bucket() needs every bound a multiple of the grain");
constexpr std::uint32_t kPacketSizeSteps = kPacketSizeBounds[kPacketSizeBoundCount - 1] / kPacketSizeGrain + 1;
struct PacketSizeBuckets {
  std::uint8_t of_step[kPacketSizeSteps + 1];  // ceil(bytes / grain), capped at kPacketSizeSteps
};
constexpr PacketSizeBuckets make_packet_size_buckets() {
  PacketSizeBuckets t{};
  for (std::uint32_t q = 0; q <= kPacketSizeSteps; ++q) {
    std::uint8_t b = 0;
    while (b < kPacketSizeBoundCount && q * kPacketSizeGrain > kPacketSizeBounds[b]) ++b;
    t.of_step[q] = b;
  }
  return t;
}
inline constexpr PacketSizeBuckets kPacketSizeBucketOf = make_packet_size_buckets();
inline std::size_t packet_size_bucket(std::uint32_t bytes) {
  constexpr std::uint32_t kCap = kPacketSizeSteps * kPacketSizeGrain;  // any size past the last bound
  const std::uint32_t capped = bytes < kCap ? bytes : kCap;
  return kPacketSizeBucketOf.of_step[(capped + kPacketSizeGrain - 1) / kPacketSizeGrain];
}

}  // namespace tcpanomaly
