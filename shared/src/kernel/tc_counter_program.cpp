#include "kernel/tc_counter_program.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "kernel/bpf_errors.hpp"
#include "tc_counters.skel.h"
#include "tcpanomaly/metrics.hpp"

namespace tcpanomaly {
namespace {

constexpr std::uint32_t kBounds[TCPA_SIZE_BOUNDS] = TCPA_SIZE_BOUND_LIST;
static_assert(TCPA_SIZE_BOUNDS == kPacketSizeBoundCount, "the kernel's packet_size buckets are the catalogue's");
constexpr bool same_bounds() {
  for (std::size_t i = 0; i < kPacketSizeBoundCount; ++i)
    if (kBounds[i] != kPacketSizeBounds[i]) return false;
  return true;
}
static_assert(same_bounds(), "the kernel's packet_size bounds are the catalogue's");
static_assert(sizeof(tcpa_tc_value) % 8 == 0, "per-CPU values are laid out 8-byte aligned");

// A prefix's first `length` bits and its mask, as bytes.
void net_and_mask(const Prefix& p, std::uint8_t net[16], std::uint8_t mask[16]) {
  for (int i = 0; i < 16; ++i) {
    const int bits = std::clamp(p.length - 8 * i, 0, 8);
    mask[i] = static_cast<std::uint8_t>(0xff00u >> bits);
    net[i] = p.address.bytes[i] & mask[i];
  }
}

// The v4-mapped block ::ffff:0:0/96 holds every IPv4 address.
bool covers_ipv4(const Prefix& p) {
  static const std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  for (int i = 0; i < std::min(p.length, 96); ++i)
    if (((p.address.bytes[i / 8] ^ mapped[i / 8]) >> (7 - i % 8)) & 1) return false;
  return true;
}

}  // namespace

TcCounterProgram::TcCounterProgram() {
  capture_libbpf_messages();
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) throw std::runtime_error(explain_bpf_error("counting the possible CPUs", cpus));
  cpus_ = cpus;
  skel_ = tc_counters__open();
  if (!skel_) throw std::runtime_error(explain_bpf_error("opening the tc counting program", errno));
}

void TcCounterProgram::load() {
  const int r = tc_counters__load(skel_);
  if (r != 0) throw std::runtime_error(explain_bpf_error("loading the tc counting program into the kernel", r));
  bpf_prog_info info{};
  std::uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd(), &info, &len) == 0) id_ = info.id;
  for (std::uint32_t s = 1; s <= TCPA_FAST_INTERFACES; ++s) free_slots_.push_back(s);
  if (!skel_->rodata->local_in_maps) return;  // in the program's short lists
  const int hosts = bpf_map__fd(skel_->maps.local_addresses);
  const int networks = bpf_map__fd(skel_->maps.local_prefixes);
  const std::uint8_t one = 1;
  for (const Prefix& p : prefixes_) {
    int e;
    if (p.length == 128) {
      tcpa_address a{};
      std::memcpy(a.addr, p.address.bytes, 16);
      e = bpf_map_update_elem(hosts, &a, &one, BPF_ANY);
    } else {
      tcpa_lpm_key key{};
      key.prefixlen = static_cast<std::uint32_t>(p.length);
      std::memcpy(key.addr, p.address.bytes, 16);
      e = bpf_map_update_elem(networks, &key, &one, BPF_ANY);
    }
    if (e != 0) throw std::runtime_error(explain_bpf_error("storing a local address in the kernel", errno));
  }
}

TcCounterProgram::~TcCounterProgram() { tc_counters__destroy(skel_); }

int TcCounterProgram::fd() const { return bpf_program__fd(skel_->progs.tcpa_count); }

void TcCounterProgram::set_local_prefixes(const std::vector<Prefix>& prefixes) {
  prefixes_ = prefixes;
  bool networks = false;
  for (const Prefix& p : prefixes) networks = networks || p.length < 128;
  skel_->rodata->has_local_networks = networks ? 1 : 0;
  // The short lists: IPv4 prefixes (v4-mapped, /96 and longer) in one,
  // the rest in the other; a shorter one that holds the v4-mapped block
  // (::/0, say) makes every IPv4 address local, so the v4 list gets /0.
  std::vector<tcpa_local_net4> v4;
  std::vector<tcpa_local_net6> v6;
  for (const Prefix& p : prefixes) {
    std::uint8_t net[16], mask[16];
    net_and_mask(p, net, mask);
    if (p.length >= 96 && covers_ipv4(p)) {
      tcpa_local_net4 n{};
      std::memcpy(&n.net, net + 12, 4);
      std::memcpy(&n.mask, mask + 12, 4);
      v4.push_back(n);
      continue;
    }
    tcpa_local_net6 n{};
    std::memcpy(n.net, net, 16);
    std::memcpy(n.mask, mask, 16);
    v6.push_back(n);
    if (covers_ipv4(p)) v4.push_back(tcpa_local_net4{0, 0});
  }
  auto* ro = skel_->rodata;
  if (v4.size() > TCPA_LOCAL_LIST || v6.size() > TCPA_LOCAL_LIST) {
    ro->local_in_maps = 1;
    return;
  }
  ro->local_v4_count = static_cast<std::uint32_t>(v4.size());
  ro->local_v6_count = static_cast<std::uint32_t>(v6.size());
  for (std::size_t i = 0; i < v4.size(); ++i) std::memcpy(const_cast<tcpa_local_net4*>(&ro->local_v4[i]), &v4[i], sizeof v4[i]);
  for (std::size_t i = 0; i < v6.size(); ++i) std::memcpy(const_cast<tcpa_local_net6*>(&ro->local_v6[i]), &v6[i], sizeof v6[i]);
}

void TcCounterProgram::track(std::uint32_t ifindex) {
  if (ifindex >= TCPA_IFINDEX_SLOTS || slots_.count(ifindex) || free_slots_.empty()) return;
  const std::uint32_t slot = free_slots_.front();
  free_slots_.erase(free_slots_.begin());
  slots_[ifindex] = slot;
  skel_->bss->interface_slot[ifindex] = static_cast<std::uint16_t>(slot);
}

void TcCounterProgram::read_slot(std::uint32_t ifindex, std::uint32_t slot, std::vector<KernelCount>& out) const {
  const int map = bpf_map__fd(skel_->maps.slot_counts);
  std::vector<tcpa_tc_value> per_cpu(static_cast<std::size_t>(cpus_));
  for (std::uint8_t d = 0; d < 3; ++d)
    for (std::uint8_t ip : {0, 4, 6})
      for (std::uint8_t proto = 0; proto < 4; ++proto) {
        if (ip == 0 && d != TCPA_DIR_IN) continue;  // frames that are not IP have no direction
        const std::uint32_t at = (slot - 1) * TCPA_KEYS_PER_SLOT + tcpa_slot_key(d, ip, proto);
        if (bpf_map_lookup_elem(map, &at, per_cpu.data()) != 0) continue;
        KernelCount c{{ifindex, d, ip, proto, 0}, {}};
        for (const auto& v : per_cpu) add_value(c.value, v);
        if (c.value.packets != 0) out.push_back(c);
      }
}

void TcCounterProgram::zero_slot(std::uint32_t slot) {
  const int map = bpf_map__fd(skel_->maps.slot_counts);
  const std::vector<tcpa_tc_value> zero(static_cast<std::size_t>(cpus_));
  for (std::uint32_t k = 0; k < TCPA_KEYS_PER_SLOT; ++k) {
    const std::uint32_t at = (slot - 1) * TCPA_KEYS_PER_SLOT + k;
    bpf_map_update_elem(map, &at, zero.data(), BPF_ANY);
  }
}

int TcCounterProgram::test_run(const std::uint8_t* frame, std::size_t length) {
  bpf_test_run_opts opts{};
  opts.sz = sizeof opts;
  opts.data_in = frame;
  opts.data_size_in = static_cast<__u32>(length);
  opts.repeat = 1;
  if (bpf_prog_test_run_opts(fd(), &opts) != 0) throw std::runtime_error(std::string("BPF_PROG_TEST_RUN of the tc counting program failed: ") +
                             std::strerror(errno) + " (frames must be at least 15 bytes)");
  return static_cast<int>(opts.retval);
}

std::uint32_t time_test_run(int fd, const std::uint8_t* frame, std::size_t length, std::uint32_t repeat) {
  bpf_test_run_opts opts{};
  opts.sz = sizeof opts;
  opts.data_in = frame;
  opts.data_size_in = static_cast<__u32>(length);
  opts.repeat = repeat;
  if (bpf_prog_test_run_opts(fd, &opts) != 0)
    throw std::runtime_error(std::string("BPF_PROG_TEST_RUN failed: ") + std::strerror(errno));
  return opts.duration;
}

std::vector<KernelCount> TcCounterProgram::read() const {
  std::vector<KernelCount> out;
  for (const auto& [ifindex, slot] : slots_) read_slot(ifindex, slot, out);
  const int map = bpf_map__fd(skel_->maps.counts);
  std::vector<tcpa_tc_value> per_cpu(static_cast<std::size_t>(cpus_));
  tcpa_tc_key key{}, next{};
  const tcpa_tc_key* prev = nullptr;
  while (bpf_map_get_next_key(map, prev, &next) == 0) {
    key = next;
    prev = &key;
    if (bpf_map_lookup_elem(map, &key, per_cpu.data()) != 0) continue;  // deleted meanwhile
    KernelCount c{key, {}};
    for (const auto& v : per_cpu) add_value(c.value, v);
    out.push_back(c);
  }
  return out;
}

std::map<std::uint32_t, std::uint64_t> TcCounterProgram::read_overflow() const {
  const int map = bpf_map__fd(skel_->maps.overflow);
  std::map<std::uint32_t, std::uint64_t> out;
  std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(cpus_));
  std::uint32_t key = 0, next = 0;
  const std::uint32_t* prev = nullptr;
  while (bpf_map_get_next_key(map, prev, &next) == 0) {
    key = next;
    prev = &key;
    if (bpf_map_lookup_elem(map, &key, per_cpu.data()) != 0) continue;
    std::uint64_t sum = 0;
    for (auto v : per_cpu) sum += v;
    out[key] = sum;
  }
  return out;
}

void TcCounterProgram::forget(std::uint32_t ifindex) {
  if (const auto it = slots_.find(ifindex); it != slots_.end()) {
    skel_->bss->interface_slot[ifindex] = 0;
    zero_slot(it->second);
    free_slots_.push_back(it->second);
    slots_.erase(it);
  }
  const int map = bpf_map__fd(skel_->maps.counts);
  std::vector<tcpa_tc_key> doomed;
  tcpa_tc_key key{}, next{};
  const tcpa_tc_key* prev = nullptr;
  while (bpf_map_get_next_key(map, prev, &next) == 0) {
    key = next;
    prev = &key;
    if (key.ifindex == ifindex) doomed.push_back(key);
  }
  for (const auto& k : doomed) bpf_map_delete_elem(map, &k);
  bpf_map_delete_elem(bpf_map__fd(skel_->maps.overflow), &ifindex);
}

}  // namespace tcpanomaly
