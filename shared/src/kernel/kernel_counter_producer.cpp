#include "kernel/kernel_counter_producer.hpp"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "aggregate/aggregator.hpp"
#include "capture/timestamps.hpp"
#include "kernel/tc_attachment.hpp"

namespace tcpanomaly {
namespace {

inline std::size_t idx(Slot s) { return static_cast<std::size_t>(s); }

std::uint32_t without_index(const tcpa_tc_key& k) {
  return std::uint32_t(k.direction) << 16 | std::uint32_t(k.ip) << 8 | k.proto;
}

bool is_loopback(const std::string& name) {
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  ifreq req{};
  std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
  const bool loop = ioctl(s, SIOCGIFFLAGS, &req) == 0 && (req.ifr_flags & IFF_LOOPBACK);
  close(s);
  return loop;
}

// One interface label's series: its interface-scope block and one per direction.
struct LabelBlocks {
  SeriesBlock interface;
  std::array<SeriesBlock, kDirections> flows;
};

void fill(LabelBlocks& b, std::uint32_t packed, const tcpa_tc_value& v) {
  const unsigned direction = std::min(packed >> 16, 2u), ip = (packed >> 8) & 0xff, proto = packed & 0xff;
  auto& iface = b.interface.counters;
  if (ip == 0) {
    switch (proto) {
      case TCPA_FRAME_NON_IP: iface[idx(Slot::non_ip_frames)] += v.packets; break;
      case TCPA_FRAME_TRUNCATED: iface[idx(Slot::err_truncated)] += v.packets; break;
      case TCPA_FRAME_BAD_IP_HEADER: iface[idx(Slot::err_bad_ip_header)] += v.packets; break;
      case TCPA_FRAME_BAD_IPV6_EXTENSION: iface[idx(Slot::err_bad_ipv6_ext)] += v.packets; break;
      default: break;
    }
    return;
  }
  if (proto > TCPA_PROTO_OTHER) return;
  SeriesBlock& f = b.flows[direction];
  const std::size_t v6 = ip == 6 ? 1 : 0;
  f.counters[idx(Slot::packets_tcp4) + 2 * proto + v6] += v.packets;
  f.counters[idx(Slot::bytes_tcp4) + 2 * proto + v6] += v.bytes;
  f.counters[idx(Slot::ip_df)] += v.df;
  f.counters[idx(Slot::ip_fragments)] += v.fragments;
  f.counters[idx(Slot::ecn_ce)] += v.ecn_ce;
  iface[idx(Slot::err_bad_ip_length)] += v.bad_ip_length;
  HistogramData& h = f.histograms[static_cast<std::size_t>(Histogram::packet_size_tcp) + proto];
  for (int i = 0; i <= TCPA_SIZE_BOUNDS; ++i) h.buckets[std::size_t(i)] += v.size_buckets[i];
}

}  // namespace

std::string tcp_only_filter(const std::string& user_filter) {
  // A tag the driver kept in the frame needs `vlan` to be looked past (up
  // to two: QinQ); a tag it took out is invisible to the filter anyway.
  const std::string tcp = "tcp or (vlan and (tcp or (vlan and tcp)))";
  return user_filter.empty() ? tcp : "(" + user_filter + ") and (" + tcp + ")";
}

KernelCounterProducer::KernelCounterProducer(const EngineConfig& config, const LocalNetworks& local,
                                             const EngineHooks& hooks)
    : config_(config), hooks_(hooks), instance_lock_("kernel-counters") {
  for (const auto& i : config.capture.interfaces) {
    if (i == "any") any_ = true;
    else if (is_interface_pattern(i)) patterns_.emplace_back(i);
    else names_.push_back(i);
  }
  for (const auto& i : config.capture.exclude_interfaces) excludes_.emplace_back(i);
  program_.set_local_prefixes(local.prefixes());
  program_.load();
}

KernelCounterProducer::~KernelCounterProducer() { stop(); }

void KernelCounterProducer::log(LogLevel level, const std::string& msg) const {
  if (hooks_.log) hooks_.log(level, msg);
}

// The same interfaces the frame producers watch (engine.cpp).
bool KernelCounterProducer::wanted(const std::string& name, bool& by_pattern) const {
  by_pattern = false;
  if (any_ || std::find(names_.begin(), names_.end(), name) != names_.end()) return true;
  const auto matches = [&name](const std::vector<InterfacePattern>& list) {
    return std::any_of(list.begin(), list.end(), [&name](const InterfacePattern& p) { return p.matches(name); });
  };
  by_pattern = matches(patterns_) && !matches(excludes_);
  return by_pattern;
}

void KernelCounterProducer::start() {
  {
    std::lock_guard<std::mutex> g(lock_);
    if (link_watch_) return;
    // Those present now, here: a refusal (no CAP_NET_ADMIN, say) fails
    // start(), so "auto" can fall back to counting with libpcap.
    if (struct if_nameindex* list = if_nameindex()) {
      try {
        for (auto* i = list; i->if_index != 0; ++i) {
          bool by_pattern;
          if (wanted(i->if_name, by_pattern)) attach(i->if_name, by_pattern, true);
        }
      } catch (...) {
        if_freenameindex(list);
        for (auto& [name, w] : watched_) detach(w);
        throw;
      }
      if_freenameindex(list);
    }
  }
  link_watch_ = std::make_unique<LinkWatch>(
      [this](const std::string& name, bool present) { link_event(name, present); }, [] {});
}

void KernelCounterProducer::stop() {
  link_watch_.reset();
  std::lock_guard<std::mutex> g(lock_);
  for (auto& [name, w] : watched_) detach(w);
}

void KernelCounterProducer::link_event(const std::string& name, bool present) {
  bool by_pattern;
  if (!wanted(name, by_pattern)) return;
  std::lock_guard<std::mutex> g(lock_);
  if (present) {
    attach(name, by_pattern, false);
    return;
  }
  auto it = watched_.find(name);
  if (it == watched_.end() || it->second.ifindex == 0) return;
  retire(it->second);  // its filters went with it
  it->second.gone_since = wall_clock_ns();
}

void KernelCounterProducer::attach(const std::string& name, bool by_pattern, bool strict) {
  const unsigned index = if_nametoindex(name.c_str());
  if (index == 0) return;  // gone again already
  Watched& w = watched_[name];
  w.by_pattern = by_pattern;
  if (w.ifindex == int(index)) return;  // a change to one we count already
  if (w.ifindex != 0) retire(w);        // the name has a new interface
  if (watched_.size() > TCPA_TC_MAX_INTERFACES) {
    log(LogLevel::warning, "not counting " + name + " in the kernel: " + std::to_string(TCPA_TC_MAX_INTERFACES) +
                               " interfaces are counted already (the kernel map's size)");
    return;
  }
  w.egress = !is_loopback(name);
  for (TcHook hook : {TcHook::ingress, TcHook::egress})
    if (remove_stale_filter(int(index), hook))
      log(LogLevel::info, std::string("removed the tc ") + tc_hook_name(hook) + " filter an earlier tcpanomaly left on " + name);
  program_.track(index);
  try {
    attach_filter(int(index), name, TcHook::ingress, program_.fd());
    if (w.egress) attach_filter(int(index), name, TcHook::egress, program_.fd());
  } catch (const std::runtime_error& e) {
    detach_filter(int(index), TcHook::ingress, program_.id());
    program_.forget(index);
    if (strict && !dynamic_cast<const TcSlotTaken*>(&e)) throw;
    log(LogLevel::error, std::string("not counting ") + name + " in the kernel: " + e.what());
    return;
  }
  w.ifindex = int(index);
  w.gone_since = 0;
}

void KernelCounterProducer::retire(Watched& w) {
  const auto index = static_cast<std::uint32_t>(w.ifindex);
  for (const KernelCount& c : program_.read())
    if (c.key.ifindex == index) add_value(w.retired[without_index(c.key)], c.value);
  const auto overflow = program_.read_overflow();
  if (const auto it = overflow.find(index); it != overflow.end()) w.retired_overflow += it->second;
  program_.forget(index);
  w.ifindex = 0;
}

void KernelCounterProducer::detach(Watched& w) {
  if (w.ifindex == 0) return;
  detach_filter(w.ifindex, TcHook::ingress, program_.id());
  if (w.egress) detach_filter(w.ifindex, TcHook::egress, program_.id());
  retire(w);
}

void KernelCounterProducer::snapshot_into(Snapshot& snap) {
  std::lock_guard<std::mutex> g(lock_);
  const auto grace = static_cast<std::int64_t>(config_.capture.interface_grace_s * 1e9);
  const std::int64_t now = wall_clock_ns();
  for (auto it = watched_.begin(); it != watched_.end();) {
    const Watched& w = it->second;
    if (w.by_pattern && w.ifindex == 0 && w.gone_since != 0 && now - w.gone_since >= grace) it = watched_.erase(it);
    else ++it;
  }
  const bool peers = config_.analysis.top_peers > 0;
  std::map<std::string, LabelBlocks> blocks;
  std::map<std::uint32_t, LabelBlocks*> by_index;
  for (auto& [name, w] : watched_) {
    LabelBlocks& b = blocks[name];
    b.interface.labels.interface = name;
    for (int d = 0; d < kDirections; ++d) {
      b.flows[std::size_t(d)].labels = {name, direction_name(static_cast<Direction>(d)), peers ? "other" : ""};
    }
    for (const auto& [packed, v] : w.retired) fill(b, packed, v);
    b.interface.counters[idx(Slot::kernel_counter_overflow)] += w.retired_overflow;
    if (w.ifindex != 0) by_index[static_cast<std::uint32_t>(w.ifindex)] = &b;
  }
  for (const KernelCount& c : program_.read())
    if (const auto it = by_index.find(c.key.ifindex); it != by_index.end()) fill(*it->second, without_index(c.key), c.value);
  for (const auto& [index, lost] : program_.read_overflow())
    if (const auto it = by_index.find(index); it != by_index.end())
      it->second->interface.counters[idx(Slot::kernel_counter_overflow)] += lost;
  for (auto& [name, b] : blocks) {
    snap.blocks.push_back(b.interface);
    for (auto& f : b.flows) {
      fill_packet_size_totals(f);
      snap.blocks.push_back(f);
    }
  }
}

}  // namespace tcpanomaly
