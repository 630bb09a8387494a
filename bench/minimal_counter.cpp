// Loads the minimal counting program (minimal_counter.bpf.c). Its own file:
// libbpf's headers and libtins's (through pcap/bpf.h) both define bpf_insn.
#include "minimal_counter.hpp"

#include <stdexcept>

#include "minimal_counter.skel.h"

namespace tcpanomaly {

MinimalCounter::MinimalCounter() : skel_(minimal_counter__open_and_load()) {
  if (!skel_) throw std::runtime_error("loading the minimal program failed (root? CAP_BPF?)");
}

MinimalCounter::~MinimalCounter() { minimal_counter__destroy(skel_); }

int MinimalCounter::fd() const { return bpf_program__fd(skel_->progs.tcpa_minimal); }

}  // namespace tcpanomaly
