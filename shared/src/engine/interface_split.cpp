#include "engine/interface_split.hpp"

#include <net/if.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "decode/decoder.hpp"

namespace tcpanomaly {

InterfaceNamer host_interface_names() {
  // Shared by every producer's thread: one cache, one lock (taken only for
  // an index a split has not seen yet).
  struct Cache {
    std::mutex lock;
    std::map<std::uint32_t, std::string> names;
  };
  auto cache = std::make_shared<Cache>();
  return [cache](std::uint32_t ifindex) {
    std::lock_guard<std::mutex> g(cache->lock);
    char buf[IF_NAMESIZE] = {0};
    // Asked again on each new sighting: an index reused for a new interface gets its new name.
    if (if_indextoname(ifindex, buf)) cache->names[ifindex] = buf;
    const auto it = cache->names.find(ifindex);
    return it != cache->names.end() ? it->second : "if" + std::to_string(ifindex);
  };
}

InterfaceNamer file_interface_names(const std::string& label) {
  return [label](std::uint32_t ifindex) { return label + ":if" + std::to_string(ifindex); };
}

InterfaceSplit::InterfaceSplit(std::string name, const AnalysisConfig& config, const LocalNetworks& local,
                               InterfaceNamer namer)
    : config_(config), local_(local), namer_(std::move(namer)), source_(std::move(name), config, local) {}

void InterfaceSplit::set_link_type(int link_type) {
  link_type_ = link_type;
  split_ = link_type == linktype::linux_sll2;
  source_.set_link_type(link_type);
  for (auto& e : by_index_) e.pipeline->set_link_type(link_type);
}

FrameSink InterfaceSplit::sink() {
  if (!split_)
    return {[](void* p, std::int64_t t, const std::uint8_t* d, std::uint32_t cap, std::uint32_t len) {
              static_cast<Pipeline*>(p)->on_frame(t, d, cap, len);
            },
            &source_};
  return {[](void* s, std::int64_t t, const std::uint8_t* d, std::uint32_t cap, std::uint32_t len) {
            static_cast<InterfaceSplit*>(s)->on_frame(t, d, cap, len);
          },
          this};
}

void InterfaceSplit::on_frame(std::int64_t time_ns, const std::uint8_t* data, std::uint32_t captured,
                              std::uint32_t wire_length) {
  const std::uint32_t ifindex = sll2_ifindex(data, captured);
  if (ifindex == 0) {
    source_.on_frame(time_ns, data, captured, wire_length);  // counted there (truncated)
    return;
  }
  pipeline_of(ifindex).on_frame(time_ns, data, captured, wire_length);
}

Pipeline& InterfaceSplit::pipeline_of(std::uint32_t ifindex) {
  if (last_ && last_->ifindex == ifindex) return *last_->pipeline;
  for (auto& e : by_index_)
    if (e.ifindex == ifindex) {
      last_ = &e;
      return *e.pipeline;
    }
  // A new interface (rare): its own pipeline, flow table and label sets.
  by_index_.push_back({ifindex, std::make_unique<Pipeline>(namer_(ifindex), config_, local_)});
  Entry& e = by_index_.back();
  e.pipeline->set_link_type(link_type_);
  e.pipeline->advance_clock(clock());
  last_ = nullptr;  // the vector may have moved
  return *e.pipeline;
}

void InterfaceSplit::advance_clock(std::int64_t now_ns) {
  for_each_pipeline([now_ns](Pipeline& p) { p.advance_clock(now_ns); });
}

void InterfaceSplit::set_capture_stats(std::uint64_t received, std::uint64_t dropped, std::uint64_t if_dropped) {
  source_.set_capture_stats(received, dropped, if_dropped);
}

void InterfaceSplit::flush() {
  for_each_pipeline([](Pipeline& p) { p.flush(); });
}

void InterfaceSplit::snapshot_into(Snapshot& snap) {
  for_each_pipeline([&snap](Pipeline& p) { p.snapshot_into(snap); });
}

std::int64_t InterfaceSplit::clock() const {
  std::int64_t c = source_.clock();
  for (const auto& e : by_index_) c = std::max(c, e.pipeline->clock());
  return c;
}

}  // namespace tcpanomaly
