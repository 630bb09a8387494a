// Fuzz target: arbitrary bytes as a capture file (pcap or pcapng) through the
// offline path exactly as `tcpanomaly --read` runs it: the file reader
// (libpcap, and the record reader for classic pcap), then decode and
// analysis of whatever frames it yields. An unreadable file must come back
// as std::runtime_error, nothing else. Then the differential part: the
// record reader must yield what libpcap alone yields, frame for frame, and
// end the same way.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "common/file_reading.hpp"
#include "tcpanomaly/encode.hpp"
#include "tcpanomaly/engine.hpp"

using namespace tcpanomaly;

namespace {

using namespace tcpanomaly::test;

void compare_readers(const std::string& path) {
  const Reading fast = read_all(path, FileReader::records);
  const Reading reference = read_all(path, FileReader::libpcap);
  bool same = fast.error == reference.error && fast.frames.size() == reference.frames.size();
  for (std::size_t i = 0; same && i < fast.frames.size(); ++i) {
    same = same_frame(fast.frames[i], reference.frames[i]);
    if (!same) std::fprintf(stderr, "frame %zu differs\n", i);
  }
  if (!same) {
    std::fprintf(stderr, "record reader and libpcap disagree: \"%s\" vs \"%s\", %zu vs %zu frames\n",
                 fast.error.c_str(), reference.error.c_str(), fast.frames.size(), reference.frames.size());
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An in-memory file with a path libpcap can open.
  static const int fd = memfd_create("capture", 0);
  if (fd < 0) return 0;
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) return 0;
  EngineConfig config;
  config.capture.read_file = "/proc/self/fd/" + std::to_string(fd);
  config.analysis.flow_table_size = 64;
  config.analysis.top_peers = 2;
  try {
    Engine engine(config);
    engine.run_file();
    const Snapshot snap = engine.snapshot();
    (void)to_line_protocol(snap);
    (void)to_json(snap);
  } catch (const std::runtime_error&) {
    // a file libpcap can't read: reported to the user, fine
  }
  compare_readers(config.capture.read_file);
  return 0;
}
