#include "capture/pcap_record_reader.hpp"

#include <pcap/pcap.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "capture/timestamps.hpp"
#include "decode/decoder.hpp"

namespace tcpanomaly {
namespace {

// The classic pcap format (pcap-savefile(5)): the file header, then
// records of a 16-byte header (seconds, fraction, captured length, wire
// length) and the captured bytes.
constexpr std::uint32_t kMagicMicroseconds = 0xa1b2c3d4;
constexpr std::uint32_t kMagicNanoseconds = 0xa1b23c4d;
constexpr std::size_t kRecordHeaderBytes = 16;

// Large enough for any record of the link types taken (libpcap's snapshot
// limit for them is 256 KiB), and few enough reads that they cost nothing.
constexpr std::size_t kBufferBytes = 1 << 20;

std::uint32_t load32(const std::uint8_t* p, bool swapped) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return swapped ? __builtin_bswap32(v) : v;
}
std::uint16_t load16(const std::uint8_t* p, bool swapped) {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return swapped ? __builtin_bswap16(v) : v;
}

// Only the link types the decoder reads: libpcap hands their records
// through unchanged, except that it rewrites the CAN headers inside Linux
// cooked frames written in the other byte order.
bool link_type_taken(int link_type, bool swapped) {
  if (!linktype_supported(link_type)) return false;
  return !(swapped && (link_type == linktype::linux_sll || link_type == linktype::linux_sll2));
}

}  // namespace

struct alignas(4096) PcapRecordReader::Buffer {
  std::uint8_t bytes[kBufferBytes];
};

std::optional<PcapFileFormat> record_reader_format(const std::uint8_t* header, std::size_t size, int link_type,
                                                   int snapshot) {
  if (size < kPcapFileHeaderBytes || snapshot <= 0) return std::nullopt;
  PcapFileFormat f;
  std::uint32_t magic = load32(header, false);
  if (magic != kMagicMicroseconds && magic != kMagicNanoseconds) {
    magic = __builtin_bswap32(magic);
    f.swapped = true;
  }
  if (magic != kMagicMicroseconds && magic != kMagicNanoseconds) return std::nullopt;  // pcapng, patched
  // 2.4 is the only version whose length fields libpcap never swaps.
  if (load16(header + 4, f.swapped) != 2 || load16(header + 6, f.swapped) != 4) return std::nullopt;
  if (!link_type_taken(link_type, f.swapped)) return std::nullopt;
  f.nanoseconds = magic == kMagicNanoseconds;
  f.snapshot = static_cast<std::uint32_t>(snapshot);
  if (f.snapshot > kBufferBytes - kRecordHeaderBytes) return std::nullopt;
  return f;
}

PcapRecordReader::PcapRecordReader(int fd, PcapFileFormat format, std::uint64_t offset)
    : fd_(fd), format_(format), buffer_(new Buffer), buffer_end_offset_(offset) {}

PcapRecordReader::~PcapRecordReader() = default;

// Makes at least `need` unread bytes available. False: the file ends
// first, or a read failed (state_ says which).
bool PcapRecordReader::fill(std::size_t need) {
  if (begin_ > 0) {
    std::memmove(buffer_->bytes, buffer_->bytes + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  while (end_ < need) {
    const ssize_t n = pread(fd_, buffer_->bytes + end_, kBufferBytes - end_, static_cast<off_t>(buffer_end_offset_));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // A clean end is the end of a record; anything else is libpcap's to report.
      state_ = (n == 0 && end_ == 0) ? State::end_of_file : State::hand_off;
      return false;
    }
    end_ += static_cast<std::size_t>(n);
    buffer_end_offset_ += static_cast<std::uint64_t>(n);
  }
  return true;
}

int PcapRecordReader::dispatch(int max, const bpf_program* filter, const FrameSink& sink) {
  const bool swapped = format_.swapped;
  int delivered = 0;
  // At most `max` records read, accepted or not: a filter that matches
  // nothing must not hold the caller (and its pipeline lock) for the file.
  for (int read = 0; read < max && state_ == State::reading; ++read) {
    if (end_ - begin_ < kRecordHeaderBytes && !fill(kRecordHeaderBytes)) break;
    const std::uint8_t* h = buffer_->bytes + begin_;
    const std::uint32_t captured = load32(h + 8, swapped);
    if (captured > format_.snapshot) {  // libpcap cuts it, or rejects the file
      state_ = State::hand_off;
      break;
    }
    if (end_ - begin_ < kRecordHeaderBytes + captured && !fill(kRecordHeaderBytes + captured)) break;
    h = buffer_->bytes + begin_;  // fill() may have moved it
    begin_ += kRecordHeaderBytes + captured;
    // Unsigned, as pcap-savefile(5) and Wireshark have them. libpcap 1.10
    // reads them as signed in files of this machine's byte order (a second
    // past 2038 becomes one before 1970, which clamps to 0) and as unsigned
    // in the other order: the one place the two readers differ.
    const std::uint32_t seconds = load32(h, swapped);
    const std::uint32_t fraction = load32(h + 4, swapped);
    const std::uint32_t wire = load32(h + 12, swapped);
    const std::uint8_t* data = h + kRecordHeaderBytes;
    if (filter) {
      pcap_pkthdr hdr{};
      hdr.caplen = captured;
      hdr.len = wire;
      if (!pcap_offline_filter(filter, &hdr, data)) continue;
    }
    sink(capture_time_ns(seconds, fraction, format_.nanoseconds), data, captured, wire);
    ++delivered;
  }
  return delivered;
}

}  // namespace tcpanomaly
