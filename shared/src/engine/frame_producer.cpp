#include "engine/frame_producer.hpp"

#include <algorithm>
#include <chrono>

#include "capture/timestamps.hpp"

namespace tcpanomaly {
namespace {

// Frames handed to the pipeline per lock hold: bounds snapshot latency.
constexpr int kLiveBatch = 512;
constexpr int kFileBatch = 4096;

}  // namespace

FrameProducer::FrameProducer(std::string interface, const EngineConfig& config, const LocalNetworks& local,
                             const EngineHooks& hooks, ClockTick tick, std::shared_ptr<FanoutGroup> fanout)
    : name_(std::move(interface)),
      config_(config),
      hooks_(hooks),
      fanout_(std::move(fanout)),
      tick_(std::move(tick)),
      analysis_(name_, config.analysis, local, host_interface_names()) {}

FrameProducer::FrameProducer(std::string label, std::unique_ptr<PacketSource> file, const EngineConfig& config,
                             const LocalNetworks& local, const EngineHooks& hooks, ClockTick tick)
    : name_(std::move(label)),
      config_(config),
      hooks_(hooks),
      file_(std::move(file)),
      tick_(std::move(tick)),
      analysis_(name_, config.analysis, local, file_interface_names(name_)) {
  analysis_.set_link_type(file_->link_type());
}

FrameProducer::~FrameProducer() { stop(); }

void FrameProducer::log(LogLevel level, const std::string& msg) const {
  if (hooks_.log) hooks_.log(level, msg);
}

void FrameProducer::start() {
  if (thread_.joinable()) return;
  stopping_.store(false);  // started again after stop(): an interface that came back
  thread_ = std::thread([this] {
    if (hooks_.thread_start) hooks_.thread_start();
    try {
      if (file_) {
        // Reading a file in the background (collectd's ReadFile, `--read
        // --signal`): at full speed, then its counters stay as they are.
        read_file();
        log(LogLevel::info, "finished reading " + config_.capture.read_file);
      } else {
        capture_loop();
      }
    } catch (const std::exception& e) {
      log(LogLevel::error, file_ ? std::string(e.what()) : name_ + ": capture thread ended: " + e.what());
    }
  });
}

void FrameProducer::stop() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
}

void FrameProducer::run_here() { read_file(); }

void FrameProducer::read_file() {
  const FrameSink sink = analysis_.sink();
  for (;;) {
    std::int64_t now;
    {
      std::lock_guard<std::mutex> g(lock_);
      if (stopping_.load() || file_->dispatch(kFileBatch, sink) < 0) break;
      now = analysis_.clock();
    }
    if (tick_) tick_(now, false);  // without the lock: the engine's tick takes it
  }
  {
    std::lock_guard<std::mutex> g(lock_);
    const CaptureStats s = file_->stats();
    analysis_.set_capture_stats(s.received, s.dropped, s.if_dropped);
  }
  // The end of the file is the end of its last interval.
  if (tick_) tick_(0, true);
}

void FrameProducer::capture_loop() {
  std::unique_ptr<PacketSource> source;
  int backoff_s = 1;
  auto next_attempt = std::chrono::steady_clock::now();
  FrameSink sink = analysis_.sink();
  while (!stopping_.load()) {
    if (!source) {
      if (retry_now_.exchange(false)) backoff_s = 1, next_attempt = std::chrono::steady_clock::now();
      if (std::chrono::steady_clock::now() < next_attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      try {
        source = open_live_interface(name_, config_.capture, fanout_);
        std::lock_guard<std::mutex> g(lock_);
        analysis_.set_link_type(source->link_type());
        sink = analysis_.sink();
        log(LogLevel::info, "capturing on " + name_);
        backoff_s = 1;
      } catch (const std::exception& e) {
        log(LogLevel::error, std::string(e.what()) + " (retrying in " + std::to_string(backoff_s) + " s)");
        next_attempt = std::chrono::steady_clock::now() + std::chrono::seconds(backoff_s);
        backoff_s = std::min(backoff_s * 2, 60);
        continue;
      }
    }
    try {
      const bool ready = source->wait_readable(100);
      {
        std::lock_guard<std::mutex> g(lock_);
        const int n = ready ? source->dispatch(kLiveBatch, sink) : 0;
        if (n == 0) analysis_.advance_clock(wall_clock_ns());
        const CaptureStats s = source->stats();
        analysis_.set_capture_stats(stats_base_.received + s.received, stats_base_.dropped + s.dropped,
                                    stats_base_.if_dropped + s.if_dropped);
      }
      if (tick_) tick_(wall_clock_ns(), false);  // without the lock: the engine's tick takes it
    } catch (const std::exception& e) {
      log(LogLevel::warning, std::string(e.what()) + "; reopening");
      const CaptureStats s = source->stats();
      stats_base_.received += s.received;
      stats_base_.dropped += s.dropped;
      stats_base_.if_dropped += s.if_dropped;
      source.reset();
      next_attempt = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
  }
}

void FrameProducer::snapshot_into(Snapshot& snap) {
  std::lock_guard<std::mutex> g(lock_);
  analysis_.snapshot_into(snap);
}

void FrameProducer::with_aggregators(const std::function<void(Aggregator&)>& fn) {
  std::lock_guard<std::mutex> g(lock_);
  analysis_.flush();  // candidates come from analysed segments
  analysis_.for_each_pipeline([&fn](Pipeline& p) { fn(p.aggregator()); });
}

std::int64_t FrameProducer::clock() {
  std::lock_guard<std::mutex> g(lock_);
  return analysis_.clock();
}

}  // namespace tcpanomaly
