// A frame source's analysis: one pipeline, or, for a source that saw
// several interfaces at once (libpcap's "any" device, or a file of its
// LINKTYPE_LINUX_SLL2 frames), one pipeline per interface a frame crossed,
// keyed by the interface index in its header. Each interface is then its
// own observation point: a packet forwarded from one interface to another
// is analysed once on each, with separate flow state and verdicts, and its
// series are labelled with the real interface.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "capture/packet_source.hpp"
#include "engine/pipeline.hpp"

namespace tcpanomaly {

// The label of an interface index: its name (resolved once, then kept even
// after the interface is gone).
using InterfaceNamer = std::function<std::string(std::uint32_t ifindex)>;

// Names from the running host (if_indextoname), "if<N>" for an index that
// no longer resolves when first seen.
InterfaceNamer host_interface_names();
// Names for a capture file's indexes, which belong to the host that wrote
// it: "<label>:if<N>".
InterfaceNamer file_interface_names(const std::string& label);

class InterfaceSplit {
 public:
  // `name` labels the source itself: its capture statistics, and frames
  // before the split is on or too short to name an interface.
  InterfaceSplit(std::string name, const AnalysisConfig& config, const LocalNetworks& local, InterfaceNamer namer);

  // SLL2 turns the split on; anything else feeds the one pipeline.
  void set_link_type(int link_type);
  FrameSink sink();  // where the source's frames go; changes with set_link_type

  void advance_clock(std::int64_t now_ns);
  void set_capture_stats(std::uint64_t received, std::uint64_t dropped, std::uint64_t if_dropped);
  void flush();
  void snapshot_into(Snapshot& snap);
  std::int64_t clock() const;
  template <class Fn>
  void for_each_pipeline(Fn&& fn) {
    fn(source_);
    for (auto& entry : by_index_) fn(*entry.pipeline);
  }

 private:
  void on_frame(std::int64_t time_ns, const std::uint8_t* data, std::uint32_t captured, std::uint32_t wire_length);
  Pipeline& pipeline_of(std::uint32_t ifindex);

  const AnalysisConfig& config_;
  const LocalNetworks& local_;
  InterfaceNamer namer_;
  int link_type_ = 1;
  bool split_ = false;
  Pipeline source_;
  struct Entry {
    std::uint32_t ifindex;
    std::unique_ptr<Pipeline> pipeline;
  };
  std::vector<Entry> by_index_;  // in order of first appearance
  Entry* last_ = nullptr;        // the previous frame's: consecutive frames mostly share one
};

}  // namespace tcpanomaly
