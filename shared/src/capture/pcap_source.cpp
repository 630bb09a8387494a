#include <poll.h>
#include <pcap/pcap.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <stdexcept>

#include "capture/packet_source.hpp"

namespace tcpanomaly {
namespace {

// A capture file's stdio buffer (open_capture_file says why it exists).
struct alignas(kFileBufferAlign) StdioBuffer {
  char bytes[kFileBufferBytes];
};

class PcapSource : public PacketSource {
 public:
  PcapSource(pcap_t* p, bool live, std::string name, std::unique_ptr<StdioBuffer> stdio_buffer = nullptr)
      : pcap_(p), live_(live), name_(std::move(name)), nanosecond_(false), stdio_buffer_(std::move(stdio_buffer)) {
    nanosecond_ = pcap_get_tstamp_precision(pcap_) == PCAP_TSTAMP_PRECISION_NANO;
  }
  // pcap_close() fcloses a file source's stream, which still uses
  // stdio_buffer_: members are destroyed only after this body.
  ~PcapSource() override { pcap_close(pcap_); }

  int link_type() const override { return pcap_datalink(pcap_); }

  bool wait_readable(int timeout_ms) override {
    if (!live_) return true;
    // We poll the descriptor ourselves (the handle is non-blocking) so a
    // stop request is seen within the timeout even when no packet arrives.
    pollfd pfd{pcap_get_selectable_fd(pcap_), POLLIN, 0};
    const int r = poll(&pfd, 1, timeout_ms);
    if (r <= 0) return false;  // timeout or EINTR: the caller loops
    if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
      throw std::runtime_error(name_ + ": interface went away");
    return true;
  }

  int dispatch(int max, const FrameSink& sink) override {
    Context ctx{&sink, nanosecond_};
    const int n = pcap_dispatch(pcap_, max, &PcapSource::on_packet, reinterpret_cast<u_char*>(&ctx));
    if (n == PCAP_ERROR || n == PCAP_ERROR_BREAK) {
      if (n == PCAP_ERROR) throw std::runtime_error(name_ + ": " + pcap_geterr(pcap_));
      return -1;
    }
    if (!live_ && n == 0) return -1;  // end of file
    frames_ += static_cast<std::uint64_t>(n);
    return n;
  }

  CaptureStats stats() override {
    CaptureStats s;
    if (!live_) {
      s.received = frames_;
      return s;
    }
    pcap_stat ps{};
    if (pcap_stats(pcap_, &ps) == 0) {
      s.received = ps.ps_recv;
      s.dropped = ps.ps_drop;
      s.if_dropped = ps.ps_ifdrop;
    }
    return s;
  }

 private:
  struct Context {
    const FrameSink* sink;
    bool nano;
  };
  // A file can carry any timestamp (pcapng's are 64-bit): clamp to what
  // int64 nanoseconds hold (years 1970 .. 2262) instead of overflowing.
  static std::int64_t to_ns(std::int64_t sec, std::int64_t frac, bool nano) {
    constexpr std::int64_t kMaxSeconds = 9'000'000'000;  // < INT64_MAX / 1e9
    if (sec < 0) return 0;
    if (sec > kMaxSeconds) sec = kMaxSeconds;
    if (frac < 0 || frac > 999'999'999) frac = 0;
    return sec * 1'000'000'000 + (nano ? frac : frac * 1000);
  }
  static void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    auto* ctx = reinterpret_cast<Context*>(user);
    (*ctx->sink)(to_ns(h->ts.tv_sec, h->ts.tv_usec, ctx->nano), bytes, h->caplen, h->len);
  }

  pcap_t* pcap_;
  bool live_;
  std::string name_;
  bool nanosecond_;
  std::uint64_t frames_ = 0;
  std::unique_ptr<StdioBuffer> stdio_buffer_;  // a file's stdio buffer (see open_capture_file)
};

void apply_filter(pcap_t* p, const std::string& filter, const std::string& name) {
  if (filter.empty()) return;
  bpf_program prog{};
  if (pcap_compile(p, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    const std::string err = pcap_geterr(p);
    pcap_close(p);
    throw std::runtime_error(name + ": bad filter \"" + filter + "\": " + err);
  }
  const int r = pcap_setfilter(p, &prog);
  pcap_freecode(&prog);
  if (r != 0) {
    const std::string err = pcap_geterr(p);
    pcap_close(p);
    throw std::runtime_error(name + ": " + err);
  }
}

}  // namespace

std::string filter_error(const std::string& filter) {
  if (filter.empty()) return "";
  // Compiled for Ethernet: catches syntax errors before any capture starts.
  // A filter that only fails on another link type is still reported (and
  // retried) when that interface is opened.
  pcap_t* p = pcap_open_dead(DLT_EN10MB, 65535);
  if (!p) return "";
  bpf_program prog{};
  std::string err;
  if (pcap_compile(p, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
    err = pcap_geterr(p);
  else
    pcap_freecode(&prog);
  pcap_close(p);
  return err;
}

std::unique_ptr<PacketSource> open_capture_file(const std::string& path, const std::string& filter) {
  char err[PCAP_ERRBUF_SIZE] = {0};
  FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) throw std::runtime_error(path + ": " + std::strerror(errno));
  // libpcap reads through stdio; its default 4 KiB buffer means one read()
  // per ~50 header-sized records, a third of a plain loop's time here.
  // glibc honours setvbuf's size only with a caller's buffer (given nullptr
  // it keeps the default), so the source owns one, page-aligned: the
  // kernel's copy into a buffer 16 bytes off a cache line (what malloc
  // returns) cost 3.5x the system time on this AMD EPYC.
  auto buffer = std::unique_ptr<StdioBuffer>(new StdioBuffer);  // default-init: not zeroed
  std::setvbuf(file, buffer->bytes, _IOFBF, sizeof buffer->bytes);
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_NANO, err);
  if (!p) {
    std::fclose(file);  // pcap_fopen_offline closes it only on success (pcap_close)
    // pcap usually names the file itself; don't say it twice.
    const std::string msg = err;
    throw std::runtime_error(msg.rfind(path, 0) == 0 ? msg : path + ": " + msg);
  }
  apply_filter(p, filter, path);
  return std::make_unique<PcapSource>(p, false, path, std::move(buffer));
}

std::unique_ptr<PacketSource> open_live_interface(const std::string& name, const CaptureConfig& c) {
  char err[PCAP_ERRBUF_SIZE] = {0};
  pcap_t* p = pcap_create(name.c_str(), err);
  if (!p) throw std::runtime_error(name + ": " + err);
  pcap_set_snaplen(p, c.snaplen);
  pcap_set_promisc(p, c.promiscuous ? 1 : 0);
  pcap_set_timeout(p, c.timeout_ms);
  pcap_set_buffer_size(p, c.buffer_size_mb * 1024 * 1024);
  pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);  // falls back to us if unsupported
  const int r = pcap_activate(p);
  if (r < 0) {
    std::string msg = pcap_statustostr(r);
    const std::string detail = pcap_geterr(p);
    // For some errors libpcap's detail repeats the status text: show it once.
    if (!detail.empty() && detail != msg) msg += ": " + detail;
    pcap_close(p);
    throw std::runtime_error(name + ": " + msg);
  }
  apply_filter(p, c.filter, name);
  if (pcap_setnonblock(p, 1, err) != 0) {
    pcap_close(p);
    throw std::runtime_error(name + ": " + err);
  }
  return std::make_unique<PcapSource>(p, true, name);
}

}  // namespace tcpanomaly
