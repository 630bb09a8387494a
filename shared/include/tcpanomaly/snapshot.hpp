// A point-in-time copy of every counter, under its labels. Produced by the
// engine, consumed by encoders and front ends; owns no pointers into the engine.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tcpanomaly/metrics.hpp"

namespace tcpanomaly {

struct HistogramData {
  std::uint64_t count = 0;
  double sum = 0;
  // Non-cumulative counts per bucket; index bound_count is the +Inf bucket.
  std::array<std::uint64_t, kMaxBuckets + 1> buckets{};

  // Inline: the RTT histogram takes a sample every few segments.
  void observe(double value, const HistogramInfo& info) {
    if (!std::isfinite(value)) return;
    // Bounds ascend, so the bucket is the number of bounds below the value:
    // a binary search of fixed length over the list padded with +Inf to
    // kMaxBuckets (catalogue.cpp), whose steps are conditional moves, not
    // branches (a compare loop with an early exit mispredicted).
    static_assert(kMaxBuckets == 16, "four steps");
    std::size_t i = 0;
    for (std::size_t step = 8; step; step >>= 1) i += info.bounds[i + step - 1] < value ? step : 0;
    ++buckets[i];
    ++count;
    sum += value;
  }
  void merge(const HistogramData& other);
};

struct Labels {
  std::string interface;
  std::string direction;  // out | in | transit; "" for interface-scope blocks
  std::string peer;       // "" when the peer label is off
};

struct SeriesBlock {
  Labels labels;
  std::array<std::uint64_t, kSlotCount> counters{};
  std::array<HistogramData, kHistogramCount> histograms{};

  std::uint64_t operator[](Slot s) const { return counters[static_cast<std::size_t>(s)]; }
};

struct Snapshot {
  std::int64_t time_ns = 0;  // wall clock (live) or last packet time (offline)
  std::vector<SeriesBlock> blocks;

  // Sum of a slot over every block.
  std::uint64_t total(Slot s) const;
  // Sum of every slot of a catalogue metric over every block and tag value.
  std::uint64_t total(std::string_view metric) const;
  HistogramData total(Histogram h) const;
};

}  // namespace tcpanomaly
