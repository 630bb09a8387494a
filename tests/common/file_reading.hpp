// Reading a capture file to the end with one of the two file readers, for
// the tests and the fuzzer that compare the record reader with libpcap.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "capture/packet_source.hpp"

namespace tcpanomaly::test {

struct Frame {
  std::int64_t time_ns;
  std::uint32_t captured, wire;
  std::vector<std::uint8_t> data;
  bool operator==(const Frame& o) const {
    return time_ns == o.time_ns && captured == o.captured && wire == o.wire && data == o.data;
  }
};

// Everything a reader made of a file: the frames, then how it ended.
struct Reading {
  std::vector<Frame> frames;
  std::string error;  // "" at a clean end of file
};

inline FrameSink collect_into(std::vector<Frame>& frames) {
  return {[](void* c, std::int64_t t, const std::uint8_t* d, std::uint32_t cap, std::uint32_t len) {
            static_cast<std::vector<Frame>*>(c)->push_back({t, cap, len, {d, d + cap}});
          },
          &frames};
}

inline Reading read_all(const std::string& path, FileReader reader, const std::string& filter = "") {
  Reading r;
  const FrameSink sink = collect_into(r.frames);
  try {
    auto source = open_capture_file(path, filter, reader);
    while (source->dispatch(64, sink) >= 0) {
    }
  } catch (const std::runtime_error& e) {
    r.error = e.what();
  }
  return r;
}

// The one deliberate difference between the readers (pcap_record_reader.cpp):
// a record time of 2^31 s or more, which libpcap 1.10 reads as negative, and
// so clamped to 0, in files of this machine's byte order.
inline bool same_frame(const Frame& record_reader, const Frame& libpcap) {
  constexpr std::int64_t k2038 = (std::int64_t{1} << 31) * 1'000'000'000;
  const bool same_time = record_reader.time_ns == libpcap.time_ns ||
                         (libpcap.time_ns == 0 && record_reader.time_ns >= k2038);
  return same_time && record_reader.captured == libpcap.captured && record_reader.wire == libpcap.wire &&
         record_reader.data == libpcap.data;
}

}  // namespace tcpanomaly::test
