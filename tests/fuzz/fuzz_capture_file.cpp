// Fuzz target: arbitrary bytes as a capture file (pcap or pcapng) through the
// offline path exactly as `tcpanomaly --read` runs it: libpcap's file parser,
// then decode and analysis of whatever frames it yields. An unreadable file
// must come back as std::runtime_error, nothing else.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "tcpanomaly/encode.hpp"
#include "tcpanomaly/engine.hpp"

using namespace tcpanomaly;

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
  return 0;
}
