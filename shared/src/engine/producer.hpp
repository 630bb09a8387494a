// The engine's seam: a producer fills snapshots. A frame pipeline on one
// capture source (frame_producer.hpp) is one kind; kernel-side producers
// (eBPF counters, TCP tracepoints) that make counters and socket events,
// not frames, are others. Several producers may report the same label sets
// (capture threads sharing an interface); the engine merges them
// (aggregate/merge.hpp) and chooses peer labels once over all of them.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "aggregate/aggregator.hpp"
#include "tcpanomaly/snapshot.hpp"

namespace tcpanomaly {

class Producer {
 public:
  virtual ~Producer() = default;

  // Live producers start their threads here and join them in stop() (idempotent).
  virtual void start() {}
  virtual void stop() {}

  // Appends its label sets; thread-safe against its own threads.
  virtual void snapshot_into(Snapshot& snap) = 0;

  // Calls `fn` with each aggregator whose peer labels the engine chooses,
  // under the producer's lock (none: a producer without peer labels).
  virtual void with_aggregators(const std::function<void(Aggregator&)>& fn) { (void)fn; }

  // The newest time it has seen (packet time for files): an offline
  // snapshot's time stamp. 0 when it has no clock of its own.
  virtual std::int64_t clock() { return 0; }
};

// The engine's peer choice: candidates pooled per interface over every
// producer, one choice made (peer_choice.hpp) and applied to each, so all
// label the same peers and the series cap holds for the merged label sets;
// refused candidates are counted once per interface.
void choose_peers_across(const std::vector<Producer*>& producers, const AnalysisConfig& config);

}  // namespace tcpanomaly
