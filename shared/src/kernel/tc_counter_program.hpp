// The tc counting program (tc_counters.bpf.c), loaded: its file descriptor
// for attaching, its local-prefix map, and its counters read and summed
// over CPUs. The object is embedded (bpftool gen skeleton): nothing to
// install, no kernel headers at run time.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "flow/local_networks.hpp"
#include "kernel/tc_counters.h"

struct tc_counters;  // the generated skeleton

namespace tcpanomaly {

struct KernelCount {
  tcpa_tc_key key;
  tcpa_tc_value value;  // summed over every CPU
};

inline void add_value(tcpa_tc_value& sum, const tcpa_tc_value& v) {
  sum.packets += v.packets;
  sum.bytes += v.bytes;
  sum.df += v.df;
  sum.fragments += v.fragments;
  sum.ecn_ce += v.ecn_ce;
  sum.bad_ip_length += v.bad_ip_length;
  for (int i = 0; i <= TCPA_SIZE_BOUNDS; ++i) sum.size_buckets[i] += v.size_buckets[i];
}

// Runs the tc program `fd` `repeat` times on a frame (BPF_PROG_TEST_RUN)
// and returns the kernel's mean run time in ns (the benchmarks'). Throws
// std::runtime_error if the kernel refuses the run.
std::uint32_t time_test_run(int fd, const std::uint8_t* frame, std::size_t length, std::uint32_t repeat);

class TcCounterProgram {
 public:
  // Opens the embedded object (nothing in the kernel yet).
  TcCounterProgram();
  ~TcCounterProgram();
  TcCounterProgram(const TcCounterProgram&) = delete;
  TcCounterProgram& operator=(const TcCounterProgram&) = delete;

  int fd() const;
  std::uint32_t id() const { return id_; }

  // Addresses in these prefixes are local (the direction label). Before
  // load(): whether any is shorter than a whole address is fixed in the
  // program (read-only data the verifier then prunes on).
  void set_local_prefixes(const std::vector<Prefix>& prefixes);
  // Loads the program into the kernel. Throws std::runtime_error saying
  // what the kernel refused and how to fix it.
  void load();

  // Runs the program once on a frame without any interface
  // (BPF_PROG_TEST_RUN; unit tests). Returns its verdict; throws
  // std::runtime_error if the kernel refuses the run.
  int test_run(const std::uint8_t* frame, std::size_t length);

  // Counts ifindex's frames from now on in an array slot (no hash lookup
  // in the kernel) while one is free and the index is small enough; the
  // others count in the hash. Call before attaching to the interface.
  void track(std::uint32_t ifindex);

  std::vector<KernelCount> read() const;
  // Frames not counted because the counter map was full, per interface index.
  std::map<std::uint32_t, std::uint64_t> read_overflow() const;
  // Deletes an interface index's counters and frees its slot (it is gone;
  // its totals were read).
  void forget(std::uint32_t ifindex);


 private:
  tc_counters* skel_ = nullptr;
  void read_slot(std::uint32_t ifindex, std::uint32_t slot, std::vector<KernelCount>& out) const;
  void zero_slot(std::uint32_t slot);

  std::vector<Prefix> prefixes_;  // stored at load()
  std::map<std::uint32_t, std::uint32_t> slots_;  // ifindex -> slot (1-based)
  std::vector<std::uint32_t> free_slots_;          // oldest freed first
  std::uint32_t id_ = 0;
  int cpus_ = 1;
};

}  // namespace tcpanomaly
