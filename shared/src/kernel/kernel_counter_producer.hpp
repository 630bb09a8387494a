// The kernel-side counters as a producer (--kernel-counters): the tc
// program (tc_counter_program.hpp) on ingress and egress of every watched
// interface, attached as interfaces appear (named ones, every one for
// "any", and those a pattern matches), and its counters under the same
// labels as the wire analysis's (interface, direction, peer "other"), so
// the engine merges them into the same series. It fills the IP traffic
// entries (packets, bytes, ip_df, ip_fragments, packet_size) and the
// non-TCP frames' decode entries; the frame producers then capture TCP only
// and leave those entries to it (AnalysisConfig::ip_counted_by_kernel).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "capture/interface_pattern.hpp"
#include "capture/link_watch.hpp"
#include "engine/producer.hpp"
#include "kernel/instance_lock.hpp"
#include "kernel/tc_counter_program.hpp"
#include "tcpanomaly/config.hpp"
#include "tcpanomaly/engine.hpp"

namespace tcpanomaly {

// The capture filter that leaves the wire analysis the TCP frames (tagged
// or not) when the kernel counts the rest, inside the user's own filter.
std::string tcp_only_filter(const std::string& user_filter);

class KernelCounterProducer : public Producer {
 public:
  // Loads the program (no attachment yet). Throws std::runtime_error saying
  // what the kernel refused and how to fix it.
  KernelCounterProducer(const EngineConfig& config, const LocalNetworks& local, const EngineHooks& hooks);
  ~KernelCounterProducer() override;

  // Attaches to the watched interfaces present now, on this thread (throws
  // std::runtime_error when the kernel refuses: missing capabilities), then
  // follows interfaces as they come and go.
  void start() override;
  // Detaches every filter of ours; idempotent.
  void stop() override;
  void snapshot_into(Snapshot& snap) override;

 private:
  // Counts of one interface label, keyed (direction, ip, proto) without the index.
  using Totals = std::map<std::uint32_t, tcpa_tc_value>;
  struct Watched {
    int ifindex = 0;  // 0 while the interface is gone
    bool egress = true;  // loopback: ingress only (each packet crosses lo twice)
    bool by_pattern = false;
    std::int64_t gone_since = 0;
    Totals retired;  // counted under earlier indexes of the same name
    std::uint64_t retired_overflow = 0;
  };

  void log(LogLevel level, const std::string& msg) const;
  bool wanted(const std::string& name, bool& by_pattern) const;
  void link_event(const std::string& name, bool present);
  void attach(const std::string& name, bool by_pattern, bool strict);  // under lock_
  void retire(Watched& w);                                             // under lock_
  void detach(Watched& w);                                             // under lock_

  const EngineConfig& config_;
  const EngineHooks& hooks_;
  bool any_ = false;
  std::vector<std::string> names_;
  std::vector<InterfacePattern> patterns_, excludes_;
  InstanceLock instance_lock_;
  TcCounterProgram program_;
  std::mutex lock_;
  std::map<std::string, Watched> watched_;
  std::unique_ptr<LinkWatch> link_watch_;
};

}  // namespace tcpanomaly
