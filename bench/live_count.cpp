// live_count: the plain libpcap loop of the live benchmark. It opens an
// interface with the same capture settings tcpanomaly uses by default
// (snaplen 256, 32 MiB buffer, 100 ms timeout) and only counts frames and
// bytes, so its CPU time is what libpcap itself costs per frame: the floor
// under any analysis built on it.
//
//   live_count IFACE [SNAPLEN [BUFFER_MIB]]  runs until SIGINT/SIGTERM, then prints
//                                   "frames bytes kernel_received kernel_dropped"
#include <pcap/pcap.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

pcap_t* handle = nullptr;
struct Counts {
  std::uint64_t frames = 0, bytes = 0;
};

void on_signal(int) {
  if (handle) pcap_breakloop(handle);
}

void count(u_char* user, const pcap_pkthdr* h, const u_char*) {
  auto* c = reinterpret_cast<Counts*>(user);
  ++c->frames;
  c->bytes += h->len;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: live_count IFACE [SNAPLEN [BUFFER_MIB]]\n");
    return 2;
  }
  char err[PCAP_ERRBUF_SIZE] = {0};
  handle = pcap_create(argv[1], err);
  if (!handle) {
    std::fprintf(stderr, "%s\n", err);
    return 1;
  }
  pcap_set_snaplen(handle, argc > 2 ? std::atoi(argv[2]) : 256);
  pcap_set_buffer_size(handle, (argc > 3 ? std::atoi(argv[3]) : 32) * 1024 * 1024);
  pcap_set_timeout(handle, 100);
  if (pcap_activate(handle) < 0) {
    std::fprintf(stderr, "%s: %s\n", argv[1], pcap_geterr(handle));
    return 1;
  }
  // sigaction without SA_RESTART, so a signal also ends the poll() inside
  // pcap_loop and breakloop is seen at once.
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::fprintf(stderr, "capturing on %s\n", argv[1]);
  Counts c;
  pcap_loop(handle, -1, count, reinterpret_cast<u_char*>(&c));
  pcap_stat st{};
  pcap_stats(handle, &st);
  std::printf("%llu %llu %u %u\n", static_cast<unsigned long long>(c.frames),
              static_cast<unsigned long long>(c.bytes), st.ps_recv, st.ps_drop);
  pcap_close(handle);
  return 0;
}
