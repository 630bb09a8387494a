// The one place that turns a configuration into producers: a live
// interface or a capture file today; kernel-side producers join here.
#pragma once

#include <memory>
#include <vector>

#include "engine/frame_producer.hpp"
#include "engine/producer.hpp"
#include "flow/local_networks.hpp"
#include "tcpanomaly/config.hpp"
#include "tcpanomaly/engine.hpp"

namespace tcpanomaly {

struct ProducerSet {
  std::vector<std::unique_ptr<Producer>> live;  // named interfaces, started by Engine::start()
  std::unique_ptr<FrameProducer> file;          // config.capture.read_file, opened
};

// The producers a configuration names; interface patterns are not among
// them (the engine makes those as matching interfaces appear, with
// make_interface_producer). Throws std::runtime_error naming the file if it
// can't be read. The references must outlive the producers (the engine owns
// all of them).
ProducerSet make_producers(const EngineConfig& config, const LocalNetworks& local, const EngineHooks& hooks,
                           ClockTick tick);
std::unique_ptr<FrameProducer> make_interface_producer(const std::string& interface, const EngineConfig& config,
                                                       const LocalNetworks& local, const EngineHooks& hooks,
                                                       ClockTick tick);

}  // namespace tcpanomaly
