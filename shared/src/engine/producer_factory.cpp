#include "engine/producer_factory.hpp"

#include "capture/interface_pattern.hpp"
#include "capture/packet_source.hpp"

namespace tcpanomaly {
namespace {

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

ProducerSet make_producers(const EngineConfig& config, const LocalNetworks& local, const EngineHooks& hooks,
                           ClockTick tick) {
  ProducerSet set;
  const CaptureConfig& c = config.capture;
  if (!c.read_file.empty()) {
    const std::string label = c.file_label.empty() ? base_name(c.read_file) : c.file_label;
    set.file = std::make_unique<FrameProducer>(label, open_capture_file(c.read_file, c.filter), config, local,
                                               hooks, std::move(tick));
    return set;
  }
  for (const auto& name : c.interfaces) {
    if (is_interface_pattern(name)) continue;
    if (c.capture_threads <= 1) {
      set.live.push_back(make_interface_producer(name, config, local, hooks, tick));
      continue;
    }
    // Several threads on one interface: each its own socket in one fanout
    // group, pipeline and flow table; the engine merges their label sets.
    auto group = std::make_shared<FanoutGroup>();
    for (int i = 0; i < c.capture_threads; ++i)
      set.live.push_back(std::make_unique<FrameProducer>(name, config, local, hooks, tick, group));
  }
  return set;
}

std::unique_ptr<FrameProducer> make_interface_producer(const std::string& interface, const EngineConfig& config,
                                                       const LocalNetworks& local, const EngineHooks& hooks,
                                                       ClockTick tick) {
  return std::make_unique<FrameProducer>(interface, config, local, hooks, std::move(tick));
}

}  // namespace tcpanomaly
