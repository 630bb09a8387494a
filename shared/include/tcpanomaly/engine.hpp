// The engine: capture sources feeding the analysis pipeline, one thread per
// live interface. Knows nothing of collectd or Telegraf.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "tcpanomaly/config.hpp"
#include "tcpanomaly/snapshot.hpp"

namespace tcpanomaly {

enum class LogLevel { error, warning, info, debug };
using LogSink = std::function<void(LogLevel, const std::string&)>;

struct EngineHooks {
  LogSink log;                          // called from any thread; must be thread-safe
  std::function<void()> thread_start;   // run first in every capture thread (collectd context)
};

class Engine {
 public:
  // Throws ConfigError for an invalid config.
  explicit Engine(EngineConfig config, EngineHooks hooks = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Offline: analyse config.capture.read_file to its end on the calling
  // thread. Throws std::runtime_error naming the file if it can't be read.
  void run_file();

  // Live: open every interface and start one capture thread each. An
  // interface that can't be opened is logged and retried with backoff.
  // With config.capture.read_file: opens the file (throws std::runtime_error
  // naming it if it can't be read) and analyses it on a background thread.
  void start();
  // Stops and joins every capture thread (pcap_breakloop); idempotent.
  void stop();

  // Safe to call from any thread while capturing.
  Snapshot snapshot();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tcpanomaly
