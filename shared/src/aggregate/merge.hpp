// Snapshots from several producers (capture threads sharing an interface,
// kernel-side producers) name the same label sets: merged into one block
// each, so an encoder never sees a label set twice.
#pragma once

#include "tcpanomaly/snapshot.hpp"

namespace tcpanomaly {

// Blocks with equal labels become one, in the order each label set first
// appears: counters and gauges summed, histograms merged.
void merge_by_labels(Snapshot& snap);

}  // namespace tcpanomaly
