#include "kernel/tc_counter_program.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

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

std::vector<KernelCount> TcCounterProgram::read() const {
  const int map = bpf_map__fd(skel_->maps.counts);
  std::vector<KernelCount> out;
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
