// A producer made of one frame source (a live interface or a capture file)
// and the pipeline that analyses its frames (one per interface for "any"
// and SLL2 files: interface_split.hpp), on a thread of its own (or, for a
// file read offline, on the caller's).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "capture/fanout.hpp"
#include "capture/packet_source.hpp"
#include "engine/interface_split.hpp"
#include "engine/producer.hpp"
#include "tcpanomaly/engine.hpp"

namespace tcpanomaly {

// The engine's clock, told the time by the threads that feed pipelines: the
// wall clock live (after each batch), the newest packet time as a file is
// read (so peer choice follows the file), and `end` once at a file's end.
using ClockTick = std::function<void(std::int64_t now_ns, bool end)>;

class FrameProducer : public Producer {
 public:
  // A live interface, opened (and reopened with backoff) by its thread.
  // With `fanout`, one of several producers on the interface (--capture-threads).
  FrameProducer(std::string interface, const EngineConfig& config, const LocalNetworks& local,
                const EngineHooks& hooks, ClockTick tick, std::shared_ptr<FanoutGroup> fanout = nullptr);
  // An opened capture file, labelled `label`.
  FrameProducer(std::string label, std::unique_ptr<PacketSource> file, const EngineConfig& config,
                const LocalNetworks& local, const EngineHooks& hooks, ClockTick tick);
  ~FrameProducer() override;

  void start() override;  // the capture (or file-reading) thread; again after stop()
  void stop() override;
  const std::string& name() const { return name_; }
  // The interface changed (came up, say): a capture waiting to retry opening it tries now.
  void retry_now() { retry_now_.store(true); }
  // A file: reads it to the end on the calling thread.
  void run_here();

  void snapshot_into(Snapshot& snap) override;
  void with_aggregators(const std::function<void(Aggregator&)>& fn) override;
  std::int64_t clock() override;

 private:
  void log(LogLevel level, const std::string& msg) const;
  void capture_loop();
  void read_file();

  std::string name_;
  const EngineConfig& config_;
  const EngineHooks& hooks_;
  std::unique_ptr<PacketSource> file_;  // null: live
  std::shared_ptr<FanoutGroup> fanout_;  // live, several threads on one interface
  ClockTick tick_;
  std::mutex lock_;  // held while frames are fed, and by snapshots
  InterfaceSplit analysis_;
  CaptureStats stats_base_;  // carried over from closed handles
  std::atomic<bool> stopping_{false};
  std::atomic<bool> retry_now_{false};
  std::thread thread_;
};

}  // namespace tcpanomaly
