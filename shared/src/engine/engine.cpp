#include "tcpanomaly/engine.hpp"
#include "tcpanomaly/settings.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "capture/packet_source.hpp"
#include "engine/pipeline.hpp"

namespace tcpanomaly {
namespace {

std::int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

FrameSink sink_of(Pipeline& pipeline) {
  return {[](void* p, std::int64_t t, const std::uint8_t* d, std::uint32_t cap, std::uint32_t len) {
            static_cast<Pipeline*>(p)->on_frame(t, d, cap, len);
          },
          &pipeline};
}

// Frames handed to the pipeline per lock hold: bounds snapshot latency.
constexpr int kBatch = 512;

}  // namespace

// One capture thread's world: its source, its pipeline, and the lock a
// snapshot takes to copy the pipeline's counters.
struct CaptureWorker {
  CaptureWorker(std::string interface, const AnalysisConfig& a, const LocalNetworks& local)
      : name(std::move(interface)), pipeline(name, a, local) {}
  std::string name;
  std::mutex lock;
  Pipeline pipeline;
  CaptureStats stats_base;  // carried over from closed handles
  std::thread thread;
};

struct Engine::Impl {
  EngineConfig config;
  EngineHooks hooks;
  LocalNetworks local;
  std::vector<std::unique_ptr<CaptureWorker>> workers;
  std::atomic<bool> stopping{false};
  bool offline = false;

  void log(LogLevel level, const std::string& msg) {
    if (hooks.log) hooks.log(level, msg);
  }
  void capture_loop(CaptureWorker& w);
  CaptureWorker& add_file_worker(PacketSource& source);
  void analyse_file(PacketSource& source, CaptureWorker& w);
  void file_thread(PacketSource& source, CaptureWorker& w);

  // Guards `workers` itself (the file thread adds its worker after start()).
  std::mutex workers_lock;
  std::thread file_reader;
};

Engine::Engine(EngineConfig config, EngineHooks hooks) : impl_(std::make_unique<Impl>()) {
  validate(config);
  impl_->config = std::move(config);
  impl_->hooks = std::move(hooks);
  for (const auto& n : impl_->config.analysis.local_networks) {
    Prefix p;
    parse_prefix(n, p);
    impl_->local.add(p);
  }
}

Engine::~Engine() { stop(); }

void Engine::run_file() {
  auto& c = impl_->config.capture;
  impl_->offline = true;
  auto source = open_capture_file(c.read_file, c.filter);
  impl_->analyse_file(*source, impl_->add_file_worker(*source));
}

CaptureWorker& Engine::Impl::add_file_worker(PacketSource& source) {
  auto& c = config.capture;
  const std::string label = c.file_label.empty() ? base_name(c.read_file) : c.file_label;
  std::lock_guard<std::mutex> g(workers_lock);
  workers.push_back(std::make_unique<CaptureWorker>(label, config.analysis, local));
  workers.back()->pipeline.set_link_type(source.link_type());
  return *workers.back();
}

void Engine::Impl::analyse_file(PacketSource& source, CaptureWorker& w) {
  const FrameSink sink = sink_of(w.pipeline);
  for (;;) {
    std::lock_guard<std::mutex> g(w.lock);
    if (stopping.load() || source.dispatch(4096, sink) < 0) break;
  }
  std::lock_guard<std::mutex> g(w.lock);
  const CaptureStats s = source.stats();
  w.pipeline.set_capture_stats(s.received, s.dropped, s.if_dropped);
}

void Engine::Impl::capture_loop(CaptureWorker& w) {
  if (hooks.thread_start) hooks.thread_start();
  std::unique_ptr<PacketSource> source;
  int backoff_s = 1;
  auto next_attempt = std::chrono::steady_clock::now();
  const FrameSink sink = sink_of(w.pipeline);
  while (!stopping.load()) {
    if (!source) {
      if (std::chrono::steady_clock::now() < next_attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      try {
        source = open_live_interface(w.name, config.capture);
        std::lock_guard<std::mutex> g(w.lock);
        w.pipeline.set_link_type(source->link_type());
        log(LogLevel::info, "capturing on " + w.name);
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
      std::lock_guard<std::mutex> g(w.lock);
      const int n = ready ? source->dispatch(kBatch, sink) : 0;
      if (n == 0) w.pipeline.advance_clock(wall_clock_ns());
      const CaptureStats s = source->stats();
      w.pipeline.set_capture_stats(w.stats_base.received + s.received, w.stats_base.dropped + s.dropped,
                                   w.stats_base.if_dropped + s.if_dropped);
    } catch (const std::exception& e) {
      log(LogLevel::warning, std::string(e.what()) + "; reopening");
      const CaptureStats s = source->stats();
      w.stats_base.received += s.received;
      w.stats_base.dropped += s.dropped;
      w.stats_base.if_dropped += s.if_dropped;
      source.reset();
      next_attempt = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
  }
}

// Reading a file in the background (collectd's ReadFile, `--read --signal`):
// the file is analysed at full speed, then its counters stay as they are.
void Engine::Impl::file_thread(PacketSource& source, CaptureWorker& w) {
  if (hooks.thread_start) hooks.thread_start();
  try {
    analyse_file(source, w);
    log(LogLevel::info, "finished reading " + config.capture.read_file);
  } catch (const std::exception& e) {
    log(LogLevel::error, e.what());
  }
}

void Engine::start() {
  auto& c = impl_->config;
  if (!c.capture.read_file.empty()) {
    // Served like live counters, so snapshots carry the wall clock (the last
    // packet's time only makes sense for run_file's single final snapshot).
    // Opened here, so an unreadable file fails start() and the label exists
    // (zeros) before the first snapshot is asked for.
    std::shared_ptr<PacketSource> source = open_capture_file(c.capture.read_file, c.capture.filter);
    CaptureWorker& w = impl_->add_file_worker(*source);
    impl_->file_reader = std::thread([this, source, &w] { impl_->file_thread(*source, w); });
    return;
  }
  if (c.analysis.detect_local_addresses) impl_->local.add_host_addresses();
  for (const auto& name : c.capture.interfaces) {
    impl_->workers.push_back(std::make_unique<CaptureWorker>(name, c.analysis, impl_->local));
  }
  for (auto& w : impl_->workers) {
    CaptureWorker* wp = w.get();
    w->thread = std::thread([this, wp] {
      try {
        impl_->capture_loop(*wp);
      } catch (const std::exception& e) {
        impl_->log(LogLevel::error, wp->name + ": capture thread ended: " + e.what());
      }
    });
  }
}

void Engine::stop() {
  if (!impl_) return;
  impl_->stopping.store(true);
  if (impl_->file_reader.joinable()) impl_->file_reader.join();
  for (auto& w : impl_->workers)
    if (w->thread.joinable()) w->thread.join();
}

Snapshot Engine::snapshot() {
  Snapshot snap;
  snap.time_ns = impl_->offline ? 0 : wall_clock_ns();
  std::lock_guard<std::mutex> list(impl_->workers_lock);
  for (auto& w : impl_->workers) {
    std::lock_guard<std::mutex> g(w->lock);
    w->pipeline.snapshot_into(snap);
    if (impl_->offline) snap.time_ns = std::max(snap.time_ns, w->pipeline.clock());
  }
  return snap;
}

}  // namespace tcpanomaly
