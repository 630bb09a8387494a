#include <poll.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <optional>
#include <stdexcept>

#include "capture/fanout.hpp"
#include "capture/packet_source.hpp"
#include "capture/pcap_record_reader.hpp"
#include "capture/timestamps.hpp"

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
  ~PcapSource() override {
    pcap_close(pcap_);
    pcap_freecode(&filter_);
    if (fanout_) fanout_->leave();
  }
  void member_of(std::shared_ptr<FanoutGroup> group) { fanout_ = std::move(group); }

  // A file's records are read by `records` until it hands back (see
  // pcap_record_reader.hpp); `filter`, the compiled filter it applies, is
  // the source's to free.
  void read_records_with(std::unique_ptr<PcapRecordReader> records, const bpf_program& filter) {
    records_ = std::move(records);
    filter_ = filter;
  }

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
    if (records_) {
      const int n = records_->dispatch(max, filter_.bf_insns ? &filter_ : nullptr, sink);
      frames_ += static_cast<std::uint64_t>(n);
      if (records_->state() == PcapRecordReader::State::reading || n > 0) return n;
      if (records_->state() == PcapRecordReader::State::end_of_file) return -1;
      // libpcap reads on from the record the reader handed back.
      const std::uint64_t at = records_->offset();
      records_.reset();
      if (fseeko(pcap_file(pcap_), static_cast<off_t>(at), SEEK_SET) != 0)
        throw std::runtime_error(name_ + ": " + std::strerror(errno));
    }
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
  static void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    auto* ctx = reinterpret_cast<Context*>(user);
    (*ctx->sink)(capture_time_ns(h->ts.tv_sec, h->ts.tv_usec, ctx->nano), bytes, h->caplen, h->len);
  }

  pcap_t* pcap_;
  bool live_;
  std::string name_;
  bool nanosecond_;
  std::uint64_t frames_ = 0;
  std::unique_ptr<StdioBuffer> stdio_buffer_;  // a file's stdio buffer (see open_capture_file)
  std::unique_ptr<PcapRecordReader> records_;  // a classic pcap file's fast path, until it hands back
  bpf_program filter_{};                        // its copy of the filter
  std::shared_ptr<FanoutGroup> fanout_;         // a live socket's group (left on close)
};

// Sets the filter on `p`; with `kept`, the compiled program is also
// returned there (the caller frees it), else freed.
void apply_filter(pcap_t* p, const std::string& filter, const std::string& name, bpf_program* kept = nullptr) {
  if (filter.empty()) return;
  bpf_program prog{};
  if (pcap_compile(p, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    const std::string err = pcap_geterr(p);
    pcap_close(p);
    throw std::runtime_error(name + ": bad filter \"" + filter + "\": " + err);
  }
  const int r = pcap_setfilter(p, &prog);  // installs a copy
  if (kept && r == 0) *kept = prog;
  else pcap_freecode(&prog);
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

std::unique_ptr<PacketSource> open_capture_file(const std::string& path, const std::string& filter,
                                                FileReader reader) {
  char err[PCAP_ERRBUF_SIZE] = {0};
  FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) throw std::runtime_error(path + ": " + std::strerror(errno));
  // libpcap reads pcapng files, and whatever the record reader leaves to
  // it, through stdio; its default 4 KiB buffer means one read() per ~50
  // header-sized records, a third of a plain loop's time here.
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
  // The record reader only for a regular file: libpcap must be able to seek
  // to the record it is handed back.
  std::uint8_t header[kPcapFileHeaderBytes];
  struct stat st{};
  const int fd = fileno(file);
  std::optional<PcapFileFormat> format;
  if (reader == FileReader::records && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      pread(fd, header, sizeof header, 0) == static_cast<ssize_t>(sizeof header))
    format = record_reader_format(header, sizeof header, pcap_datalink(p), pcap_snapshot(p));
  bpf_program program{};
  apply_filter(p, filter, path, format ? &program : nullptr);  // closes p if it throws
  auto source = std::make_unique<PcapSource>(p, false, path, std::move(buffer));
  if (format) source->read_records_with(std::make_unique<PcapRecordReader>(fd, *format, sizeof header), program);
  return source;
}

std::unique_ptr<PacketSource> open_live_interface(const std::string& name, const CaptureConfig& c,
                                                  std::shared_ptr<FanoutGroup> fanout) {
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
  // "any" as SLL2, whose header names the interface of each frame (SLL v1,
  // libpcap's default there, does not): the analysis splits by it.
  if (name == "any") pcap_set_datalink(p, DLT_LINUX_SLL2);  // stays SLL (one "any" series) where refused
  apply_filter(p, c.filter, name);  // compiled for the link type just set
  if (pcap_setnonblock(p, 1, err) != 0) {
    pcap_close(p);
    throw std::runtime_error(name + ": " + err);
  }
  auto source = std::make_unique<PcapSource>(p, true, name);
  if (fanout) {
    try {
      fanout->join(pcap_fileno(p));
    } catch (const std::exception& e) {
      throw std::runtime_error(name + ": " + e.what());  // the source closes p
    }
    source->member_of(std::move(fanout));
  }
  return source;
}

}  // namespace tcpanomaly
