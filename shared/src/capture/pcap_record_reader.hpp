// The fast path for classic pcap files, the format nearly every capture is in.
//
// libpcap reads a file's records through two stdio fread() calls each, about
// 370 instructions per record here: as much as everything after it (decode,
// analysis, counters) costs per packet. This reader walks the same records in
// large blocks read with pread(), and hands each frame on in place.
//
// libpcap still opens the file (it checks the header and names the link
// type), compiles the filter, and reads everything this reader does not
// vouch for: pcapng, pcap versions before 2.4, the patched variants, link
// types whose records libpcap rewrites. Within a file, the first record that
// is not plain (cut short by the end of the file, longer than the snapshot
// length, a read error) is handed back: libpcap reads on from that record,
// so every odd case gets libpcap's own treatment and message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "capture/packet_source.hpp"

struct bpf_program;

namespace tcpanomaly {

// The classic pcap file header; records start right after it.
constexpr std::size_t kPcapFileHeaderBytes = 24;

struct PcapFileFormat {
  bool swapped = false;        // written in the other byte order
  bool nanoseconds = false;    // record time stamps in ns (else us)
  std::uint32_t snapshot = 0;  // libpcap's snapshot length for the file (pcap_snapshot)
};

// The format of a file whose first bytes are `header` (the file
// header), if the record reader can take it; libpcap already accepted the
// file and says its link type and snapshot length.
std::optional<PcapFileFormat> record_reader_format(const std::uint8_t* header, std::size_t size, int link_type,
                                                   int snapshot);

class PcapRecordReader {
 public:
  enum class State { reading, end_of_file, hand_off };

  // `fd` stays the caller's; records start at `offset` (after the file header).
  PcapRecordReader(int fd, PcapFileFormat format, std::uint64_t offset);
  ~PcapRecordReader();

  // Reads up to `max` records and delivers those `filter` accepts (all when
  // it is null). Returns the number delivered.
  int dispatch(int max, const bpf_program* filter, const FrameSink& sink);
  State state() const { return state_; }
  // The file offset of the first record not yet read (where libpcap takes over).
  std::uint64_t offset() const { return buffer_end_offset_ - (end_ - begin_); }

 private:
  bool fill(std::size_t need);

  struct Buffer;
  int fd_;
  PcapFileFormat format_;
  std::unique_ptr<Buffer> buffer_;
  std::size_t begin_ = 0, end_ = 0;     // unread bytes in the buffer
  std::uint64_t buffer_end_offset_;      // file offset of buffer byte end_
  State state_ = State::reading;
};

}  // namespace tcpanomaly
