// The tc counting program's run time per frame, in the kernel
// (BPF_PROG_TEST_RUN with a repeat count: no interface, no bpf_stats
// overhead), next to a minimal program that only bumps one per-CPU counter,
// on the same frames. Both of the program's ways of counting are timed:
// "slot" (an array slot per interface, local prefixes in the program's own
// short list: the usual case) and "hash" (more than TCPA_LOCAL_LIST local
// prefixes, or an interface without a slot). Needs root (CAP_BPF).
//
// usage: kernel_program_bench [REPEAT]
#include <tins/tins.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernel/tc_counter_program.hpp"
#include "minimal_counter.hpp"

using namespace tcpanomaly;

namespace {

using Bytes = std::vector<std::uint8_t>;

struct Frame {
  const char* name;
  Bytes bytes;
};

std::vector<Frame> frames() {
  const auto udp4 = [](std::size_t n) {
    return (Tins::EthernetII() / Tins::IP("10.0.0.2", "10.0.0.1") / Tins::UDP(53, 40000) /
            Tins::RawPDU(std::string(n, 'x'))).serialize();
  };
  Tins::TCP tcp(80, 40000);
  tcp.flags(Tins::TCP::ACK);
  return {
      {"udp4 256 B", udp4(256 - 28)},
      {"udp4 64 B", udp4(64 - 28)},
      {"tcp4 1500 B", (Tins::EthernetII() / Tins::IP("192.0.2.7", "10.0.0.1") / tcp /
                       Tins::RawPDU(std::string(1460, 'x'))).serialize()},
      {"udp6 256 B", (Tins::EthernetII() / Tins::IPv6("2001:db8::2", "2001:db8::1") / Tins::UDP(53, 40000) /
                      Tins::RawPDU(std::string(256 - 48, 'x'))).serialize()},
      {"vlan udp4 256 B", (Tins::EthernetII() / Tins::Dot1Q(7) / Tins::IP("10.0.0.2", "10.0.0.1") /
                           Tins::UDP(53, 40000) / Tins::RawPDU(std::string(256 - 28, 'x'))).serialize()},
  };
}

std::vector<Prefix> local_prefixes(bool many) {
  std::vector<Prefix> out;
  Prefix p;
  parse_prefix("10.0.0.1", p);
  out.push_back(p);
  parse_prefix("2001:db8::1", p);
  out.push_back(p);
  for (int i = 0; many && i < 40; ++i) {
    parse_prefix("203.0.113." + std::to_string(i + 1), p);
    out.push_back(p);
  }
  return out;
}

// The median of `rounds` timings of `repeat` runs each, ns per run.
template <typename Run>
std::uint32_t median_ns(Run run, int rounds = 7) {
  std::vector<std::uint32_t> t;
  for (int i = 0; i < rounds; ++i) t.push_back(run());
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint32_t repeat = argc > 1 ? static_cast<std::uint32_t>(std::atoi(argv[1])) : 1000000;
  try {
    TcCounterProgram slot, hash;
    slot.set_local_prefixes(local_prefixes(false));
    slot.load();
    slot.track(1);  // a test run's frame arrives on the namespace's loopback
    hash.set_local_prefixes(local_prefixes(true));
    hash.load();
    const MinimalCounter minimal;
    std::printf("BPF_PROG_TEST_RUN, %u runs per timing, median of 7 (ns per run)\n", repeat);
    std::printf("%-16s %8s %8s %8s %10s %10s\n", "frame", "minimal", "slot", "hash", "slot/min", "hash/min");
    for (const Frame& f : frames()) {
      const auto min_ns = median_ns([&] { return time_test_run(minimal.fd(), f.bytes.data(), f.bytes.size(), repeat); });
      const auto slot_ns = median_ns([&] { return time_test_run(slot.fd(), f.bytes.data(), f.bytes.size(), repeat); });
      const auto hash_ns = median_ns([&] { return time_test_run(hash.fd(), f.bytes.data(), f.bytes.size(), repeat); });
      std::printf("%-16s %8u %8u %8u %10.2f %10.2f\n", f.name, min_ns, slot_ns, hash_ns, double(slot_ns) / min_ns,
                  double(hash_ns) / min_ns);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kernel_program_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
