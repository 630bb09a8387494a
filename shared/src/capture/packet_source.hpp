// Stage 1: capture. A packet source hands raw frames to a callback. Live
// interfaces and capture files are the two implementations today; other
// sources (PACKET_FANOUT workers, an eBPF counter) can join behind the same
// interface without touching decode, flow or the front ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "tcpanomaly/config.hpp"

namespace tcpanomaly {

struct CaptureStats {
  std::uint64_t received = 0, dropped = 0, if_dropped = 0;
};

// Where frames go: a plain function and its context, not a std::function,
// so a frame costs one indirect call between libpcap and the pipeline.
struct FrameSink {
  void (*fn)(void* context, std::int64_t time_ns, const std::uint8_t* data, std::uint32_t captured,
             std::uint32_t wire_length);
  void* context;
  void operator()(std::int64_t time_ns, const std::uint8_t* data, std::uint32_t captured,
                  std::uint32_t wire_length) const {
    fn(context, time_ns, data, captured, wire_length);
  }
};

class PacketSource {
 public:
  virtual ~PacketSource() = default;
  virtual int link_type() const = 0;
  // Live sources: waits up to `timeout_ms` for frames; true when some are
  // ready. Called without the pipeline lock so snapshots never wait on an
  // idle interface. Throws std::runtime_error when the interface went away.
  // Files are always ready.
  virtual bool wait_readable(int timeout_ms) = 0;
  // Delivers the frames that are ready (at most `max`). Returns the number
  // delivered (0: none ready), -1 at end of file, and throws
  // std::runtime_error when the source failed.
  virtual int dispatch(int max, const FrameSink& sink) = 0;
  virtual CaptureStats stats() = 0;
};

// The stdio buffer libpcap reads a capture file through (open_capture_file
// says why), page-aligned. Public for the benchmark's baseline, which gives the
// plain libpcap loop the same one.
constexpr std::size_t kFileBufferBytes = 256 << 10;
constexpr std::size_t kFileBufferAlign = 4096;

// "" if the BPF filter compiles, else libpcap's message (config validation).
std::string filter_error(const std::string& filter);

// How a capture file's records are read: by the record reader where it
// can (pcap_record_reader.hpp says when), or all by libpcap (the tests
// compare the two).
enum class FileReader { records, libpcap };

// Throws std::runtime_error with pcap's message naming the file/interface.
std::unique_ptr<PacketSource> open_capture_file(const std::string& path, const std::string& filter,
                                                FileReader reader = FileReader::records);
// With `fanout`, the socket joins that group (several capture threads on one interface).
class FanoutGroup;
std::unique_ptr<PacketSource> open_live_interface(const std::string& name, const CaptureConfig& config,
                                                  std::shared_ptr<FanoutGroup> fanout = nullptr);

}  // namespace tcpanomaly
