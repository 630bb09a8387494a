#include "tcpanomaly/engine.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "aggregate/merge.hpp"
#include "capture/timestamps.hpp"
#include "aggregate/peer_choice.hpp"
#include "engine/producer_factory.hpp"
#include "tcpanomaly/settings.hpp"

namespace tcpanomaly {
namespace {

// The engine's clock ticks once a second (of the wall clock live, of packet
// time in a file): peer labels are chosen then, whenever the front end asks
// for its snapshots. (Expiry runs on each pipeline's own clock, as often.)
constexpr std::int64_t kTickNs = 1'000'000'000;

}  // namespace

struct Engine::Impl {
  EngineConfig config;
  EngineHooks hooks;
  LocalNetworks local;
  bool offline = false;

  // Every producer, the file's among them once opened. Guarded by
  // producers_lock: snapshots and ticks walk it while start() fills it.
  std::mutex producers_lock;
  std::vector<Producer*> producers;
  ProducerSet owned;

  std::mutex tick_lock;
  std::int64_t next_tick = 0;

  void log(LogLevel level, const std::string& msg) {
    if (hooks.log) hooks.log(level, msg);
  }
  void adopt(ProducerSet set);
  void tick(std::int64_t now, bool end);
  void choose_peers_everywhere();
};

void Engine::Impl::adopt(ProducerSet set) {
  std::lock_guard<std::mutex> g(producers_lock);
  owned = std::move(set);
  for (auto& p : owned.live) producers.push_back(p.get());
  if (owned.file) producers.push_back(owned.file.get());
}

void Engine::Impl::tick(std::int64_t now, bool end) {
  {
    std::lock_guard<std::mutex> g(tick_lock);
    if (!end) {
      const bool first = next_tick == 0;  // the clock's first reading starts the first interval
      if (!first && now < next_tick) return;
      next_tick = now + kTickNs;
      if (first) return;
    }
  }
  choose_peers_everywhere();
}

void Engine::Impl::choose_peers_everywhere() {
  std::lock_guard<std::mutex> g(producers_lock);
  choose_peers_across(producers, config.analysis);
}

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
  Impl& m = *impl_;
  m.offline = true;
  m.adopt(make_producers(m.config, m.local, m.hooks, [&m](std::int64_t now, bool end) { m.tick(now, end); }));
  m.owned.file->run_here();
}

void Engine::start() {
  Impl& m = *impl_;
  const bool file = !m.config.capture.read_file.empty();
  // Live: the host's own addresses are local too (a file's are not ours).
  if (!file && m.config.analysis.detect_local_addresses) m.local.add_host_addresses();
  // A file is opened here, so an unreadable one fails start() and its label
  // exists (zeros) before the first snapshot is asked for. Its snapshots
  // carry the wall clock, as live ones do (the last packet's time only
  // makes sense for run_file's single final snapshot).
  m.adopt(make_producers(m.config, m.local, m.hooks, [&m](std::int64_t now, bool end) { m.tick(now, end); }));
  if (m.owned.file) {
    m.owned.file->start();
    return;
  }
  for (auto& p : m.owned.live) p->start();
}

void Engine::stop() {
  if (!impl_) return;
  if (impl_->owned.file) impl_->owned.file->stop();
  for (auto& p : impl_->owned.live) p->stop();
}

Snapshot Engine::snapshot() {
  Snapshot snap;
  snap.time_ns = impl_->offline ? 0 : wall_clock_ns();
  {
    std::lock_guard<std::mutex> list(impl_->producers_lock);
    for (Producer* p : impl_->producers) {
      p->snapshot_into(snap);
      if (impl_->offline) snap.time_ns = std::max(snap.time_ns, p->clock());
    }
  }
  merge_by_labels(snap);
  return snap;
}

}  // namespace tcpanomaly
