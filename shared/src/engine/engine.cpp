#include "tcpanomaly/engine.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "aggregate/merge.hpp"
#include "capture/interface_pattern.hpp"
#include "capture/link_watch.hpp"
#include "capture/timestamps.hpp"
#include "engine/producer_factory.hpp"
#include "kernel/kernel_counter_producer.hpp"
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
  std::unique_ptr<KernelCounterProducer> kernel_counters;  // --kernel-counters, when on

  std::mutex tick_lock;
  std::int64_t next_tick = 0;

  // Interfaces watched because a pattern matches them, present or gone
  // (gone_since: wall clock; its series stay for the grace period).
  struct Watched {
    std::unique_ptr<FrameProducer> producer;
    std::int64_t gone_since = 0;
  };
  std::vector<InterfacePattern> patterns, excludes;
  std::map<std::string, Watched> watched;  // under producers_lock
  std::unique_ptr<LinkWatch> link_watch;

  void log(LogLevel level, const std::string& msg) {
    if (hooks.log) hooks.log(level, msg);
  }
  void adopt(ProducerSet set);
  void relist();  // producers = the configured ones + the watched ones; under producers_lock
  void start_kernel_counters();
  void link_event(const std::string& name, bool present);
  void forget_gone_interfaces(std::int64_t now);
  ClockTick clock_tick() {
    return [this](std::int64_t now, bool end) { tick(now, end); };
  }
  void tick(std::int64_t now, bool end);
  void choose_peers_everywhere();
};

void Engine::Impl::adopt(ProducerSet set) {
  std::lock_guard<std::mutex> g(producers_lock);
  owned = std::move(set);
  relist();
}

void Engine::Impl::relist() {
  producers.clear();
  for (auto& p : owned.live) producers.push_back(p.get());
  if (owned.file) producers.push_back(owned.file.get());
  if (kernel_counters) producers.push_back(kernel_counters.get());
  for (auto& [name, w] : watched) producers.push_back(w.producer.get());
}

// Before the frame producers are made: when the kernel counts IP traffic,
// they capture TCP only and leave those counters to it.
void Engine::Impl::start_kernel_counters() {
  try {
    auto p = std::make_unique<KernelCounterProducer>(config, local, hooks);
    p->start();
    kernel_counters = std::move(p);
  } catch (const std::runtime_error& e) {
    if (config.capture.kernel_counters == "on") throw std::runtime_error(std::string("kernel counters: ") + e.what());
    log(LogLevel::warning, std::string("kernel counters are off (auto), packets are counted by the capture: ") + e.what());
    return;
  }
  config.analysis.ip_counted_by_kernel = true;
  config.capture.filter = tcp_only_filter(config.capture.filter);
  log(LogLevel::info, "kernel counters on: a tc program counts every packet; the capture takes TCP only (" +
                          config.capture.filter + ")");
}

void Engine::Impl::link_event(const std::string& name, bool present) {
  const auto matches = [&name](const std::vector<InterfacePattern>& list) {
    return std::any_of(list.begin(), list.end(), [&name](const InterfacePattern& p) { return p.matches(name); });
  };
  if (!matches(patterns) || matches(excludes)) return;
  for (const auto& n : config.capture.interfaces)
    if (n == name) return;  // named as well: captured as such
  FrameProducer* to_stop = nullptr;
  {
    std::lock_guard<std::mutex> g(producers_lock);
    auto it = watched.find(name);
    if (present) {
      if (it == watched.end()) {
        it = watched.emplace(name, Watched{make_interface_producer(name, config, local, hooks, clock_tick())}).first;
        relist();
      } else if (it->second.gone_since == 0) {
        it->second.producer->retry_now();  // a change (up, say) to a link we watch already
        return;
      }
      it->second.gone_since = 0;
      it->second.producer->start();
      return;
    }
    if (it == watched.end() || it->second.gone_since != 0) return;
    to_stop = it->second.producer.get();
  }
  // Joined without the lock: its thread may be waiting for it (the clock
  // tick). Marked gone only afterwards, so no tick can forget (destroy) it
  // while it is being joined; link events all come from this one thread.
  to_stop->stop();
  {
    std::lock_guard<std::mutex> g(producers_lock);
    watched[name].gone_since = wall_clock_ns();
  }
  char grace[32];
  std::snprintf(grace, sizeof grace, "%g", config.capture.interface_grace_s);
  log(LogLevel::info, name + " is gone: its series stay " + grace + " s, or until it comes back");
}

void Engine::Impl::forget_gone_interfaces(std::int64_t now) {
  const auto grace = static_cast<std::int64_t>(config.capture.interface_grace_s * 1e9);
  std::lock_guard<std::mutex> g(producers_lock);
  bool changed = false;
  for (auto it = watched.begin(); it != watched.end();) {
    if (it->second.gone_since != 0 && now - it->second.gone_since >= grace) {
      it = watched.erase(it);  // its thread was joined when it went
      changed = true;
    } else {
      ++it;
    }
  }
  if (changed) relist();
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
  if (!offline) forget_gone_interfaces(wall_clock_ns());
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
  m.adopt(make_producers(m.config, m.local, m.hooks, m.clock_tick()));
  m.owned.file->run_here();
}

void Engine::start() {
  Impl& m = *impl_;
  const bool file = !m.config.capture.read_file.empty();
  // Live: the host's own addresses are local too (a file's are not ours).
  if (!file && m.config.analysis.detect_local_addresses) m.local.add_host_addresses();
  if (!file && m.config.capture.kernel_counters != "off") m.start_kernel_counters();
  // A file is opened here, so an unreadable one fails start() and its label
  // exists (zeros) before the first snapshot is asked for. Its snapshots
  // carry the wall clock, as live ones do (the last packet's time only
  // makes sense for run_file's single final snapshot).
  m.adopt(make_producers(m.config, m.local, m.hooks, m.clock_tick()));
  if (m.owned.file) {
    m.owned.file->start();
    return;
  }
  for (auto& p : m.owned.live) p->start();
  for (const auto& i : m.config.capture.interfaces)
    if (is_interface_pattern(i)) m.patterns.emplace_back(i);
  for (const auto& i : m.config.capture.exclude_interfaces) m.excludes.emplace_back(i);
  if (!m.patterns.empty()) {
    // Every existing interface comes first, as if it had just appeared.
    m.link_watch = std::make_unique<LinkWatch>(
        [&m](const std::string& name, bool present) { m.link_event(name, present); },
        [&m] { m.tick(wall_clock_ns(), false); });
    std::string list;
    for (const auto& p : m.patterns) list += (list.empty() ? "" : ", ") + p.text();
    m.log(LogLevel::info, "watching interfaces matching " + list);
  }
}

void Engine::stop() {
  if (!impl_) return;
  impl_->link_watch.reset();  // no new producers from here on
  if (impl_->owned.file) impl_->owned.file->stop();
  for (auto& p : impl_->owned.live) p->stop();
  for (auto& [name, w] : impl_->watched) w.producer->stop();
  if (impl_->kernel_counters) impl_->kernel_counters->stop();
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
