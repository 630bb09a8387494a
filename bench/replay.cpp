// replay: sends the frames of a capture out of an interface as fast as the
// kernel takes them (or at a fixed rate), for the thread-scaling benchmark.
// Frames cut short by the capture's snaplen (bench_gen writes headers only)
// are padded with zeros to their wire length, so the receiving side sees
// real frame sizes and IP/TCP lengths that agree with the frame.
//
//   replay IFACE FILE.pcap [--count N] [--pps RATE]
//
// Frames go through a PF_PACKET socket in batches of sendmmsg(); with
// PACKET_QDISC_BYPASS they skip the qdisc (a veth has no queue to fill).
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

double now_s() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return double(t.tv_sec) + double(t.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: replay IFACE FILE.pcap [--count N] [--pps RATE]\n");
    return 2;
  }
  std::uint64_t limit = UINT64_MAX;
  double pps = 0;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string opt = argv[i];
    if (opt == "--count") limit = std::strtoull(argv[i + 1], nullptr, 10);
    else if (opt == "--pps") pps = std::strtod(argv[i + 1], nullptr);
    else {
      std::fprintf(stderr, "replay: unknown option %s (accepted: --count, --pps)\n", argv[i]);
      return 2;
    }
  }
  // The frames are loaded first, so reading the file costs nothing while sending.
  char err[PCAP_ERRBUF_SIZE] = {0};
  pcap_t* in = pcap_open_offline(argv[2], err);
  if (!in) {
    std::fprintf(stderr, "%s\n", err);
    return 1;
  }
  std::vector<std::uint8_t> data;
  std::vector<std::pair<std::size_t, std::size_t>> frames;  // offset, length
  pcap_pkthdr* h = nullptr;
  const u_char* bytes = nullptr;
  while (frames.size() < limit && pcap_next_ex(in, &h, &bytes) == 1) {
    const std::size_t len = std::min<std::size_t>(h->len, ETH_FRAME_LEN);
    frames.emplace_back(data.size(), len);
    data.insert(data.end(), bytes, bytes + std::min<std::size_t>(h->caplen, len));
    data.resize(frames.back().first + len, 0);
  }
  pcap_close(in);

  const int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) {
    std::perror("socket(AF_PACKET)");
    return 1;
  }
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  int sndbuf = 64 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = static_cast<int>(if_nametoindex(argv[1]));
  to.sll_halen = ETH_ALEN;
  if (to.sll_ifindex == 0) {
    std::fprintf(stderr, "replay: no interface %s\n", argv[1]);
    return 1;
  }

  constexpr std::size_t kBatch = 64;
  std::vector<mmsghdr> msgs(kBatch);
  std::vector<iovec> iov(kBatch);
  const double start = now_s();
  std::uint64_t sent = 0, refused = 0;
  while (sent < frames.size()) {
    const std::size_t n = std::min(kBatch, frames.size() - sent);
    for (std::size_t i = 0; i < n; ++i) {
      const auto& [off, len] = frames[sent + i];
      iov[i] = {data.data() + off, len};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_name = &to;
      msgs[i].msg_hdr.msg_namelen = sizeof to;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int r = sendmmsg(fd, msgs.data(), static_cast<unsigned>(n), 0);
    if (r < 0) {
      if (errno == ENOBUFS || errno == EAGAIN) {
        ++refused;
        usleep(50);
        continue;
      }
      std::perror("sendmmsg");
      return 1;
    }
    sent += static_cast<std::uint64_t>(r);
    if (pps > 0) {  // pace: sleep until this many frames are due
      const double due = start + double(sent) / pps;
      while (now_s() < due) {
        const double wait = due - now_s();
        if (wait > 200e-6) usleep(static_cast<useconds_t>(wait * 1e6 / 2));
      }
    }
  }
  const double took = now_s() - start;
  std::printf("%llu frames in %.3f s (%.0f frames/s), %llu refused batches\n",
              static_cast<unsigned long long>(sent), took, double(sent) / took,
              static_cast<unsigned long long>(refused));
  close(fd);
  return 0;
}
