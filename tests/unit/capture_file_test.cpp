// Reading capture files: the record reader (capture/pcap_record_reader.hpp)
// against records written by hand, and against libpcap reading the same
// file: every test capture, and crafted files cut at every byte.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "capture/packet_source.hpp"
#include "capture/pcap_record_reader.hpp"
#include "common/file_reading.hpp"
#include "decode/decoder.hpp"

using namespace tcpanomaly;
using namespace tcpanomaly::test;

namespace {

using Bytes = std::vector<std::uint8_t>;

// A classic pcap file written by hand, in either byte order.
struct PcapFile {
  bool swapped = false;
  std::uint32_t magic = 0xa1b2c3d4;  // microseconds
  std::uint16_t major = 2, minor = 4;
  std::uint32_t snaplen = 65535;
  std::uint32_t link_type = 1;  // Ethernet
  Bytes bytes;

  void put32(std::uint32_t v) {
    if (swapped) v = __builtin_bswap32(v);
    const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
    bytes.insert(bytes.end(), p, p + 4);
  }
  void put16(std::uint16_t v) {
    if (swapped) v = __builtin_bswap16(v);
    const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
    bytes.insert(bytes.end(), p, p + 2);
  }
  PcapFile& header() {
    put32(magic);
    put16(major);
    put16(minor);
    put32(0);  // thiszone
    put32(0);  // sigfigs
    put32(snaplen);
    put32(link_type);
    return *this;
  }
  // `data` holds `captured` bytes: 0, 1, 2, ... from `first`.
  PcapFile& record(std::uint32_t seconds, std::uint32_t fraction, std::uint32_t captured, std::uint32_t wire,
                   std::uint8_t first = 0) {
    put32(seconds);
    put32(fraction);
    put32(captured);
    put32(wire);
    for (std::uint32_t i = 0; i < captured; ++i) bytes.push_back(static_cast<std::uint8_t>(first + i));
    return *this;
  }
};

// A file in the system's temporary directory, removed with the object.
struct TempFile {
  std::string path;
  explicit TempFile(const Bytes& content, std::size_t size = SIZE_MAX) {
    char name[] = "/tmp/tcpanomaly-capture-XXXXXX";
    const int fd = mkstemp(name);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    path = name;
    const std::size_t n = std::min(size, content.size());
    if (write(fd, content.data(), n) != static_cast<ssize_t>(n)) throw std::runtime_error("write failed");
    close(fd);
  }
  ~TempFile() { std::remove(path.c_str()); }
};

void require_same_as_libpcap(const std::string& path, const std::string& filter = "") {
  const Reading fast = read_all(path, FileReader::records, filter);
  const Reading reference = read_all(path, FileReader::libpcap, filter);
  INFO(path << " filter \"" << filter << "\"");
  REQUIRE(fast.error == reference.error);
  REQUIRE(fast.frames.size() == reference.frames.size());
  for (std::size_t i = 0; i < fast.frames.size(); ++i) {
    INFO("frame " << i);
    REQUIRE(same_frame(fast.frames[i], reference.frames[i]));
  }
}

// Six records with what a reader can get wrong: a time stamp fraction at
// both ends of its range and past both, a second past 2^31, an empty record,
// and one record longer than the snapshot length (libpcap cuts it).
PcapFile odd_file(bool swapped, bool nanoseconds) {
  PcapFile f;
  f.swapped = swapped;
  f.magic = nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4;
  f.snaplen = 96;
  f.header()
      .record(1'700'000'000, 0, 60, 60, 1)
      .record(1'700'000'001, nanoseconds ? 999'999'999 : 999'999, 54, 1514, 2)
      .record(1'700'000'002, 0xffffffff, 0, 0)           // fraction 2^32 - 1
      .record(0x80000000, 5, 20, 20, 3)                   // second 2^31 (2038-01-19)
      .record(1'700'000'003, nanoseconds ? 2'000'000'000 : 2'000'000, 40, 40, 4)
      .record(1'700'000'004, 7, 120, 1500, 5);            // longer than the snapshot
  return f;
}

}  // namespace

TEST_CASE("record reader: records written by hand, in both byte orders and time resolutions") {
  for (const bool swapped : {false, true}) {
    for (const bool nanoseconds : {false, true}) {
      PcapFile f;
      f.swapped = swapped;
      f.magic = nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4;
      f.header().record(1, 2, 3, 60, 7).record(4, 5, 0, 0).record(6, 999, 5, 1514, 9);
      const TempFile file(f.bytes);
      INFO("swapped " << swapped << " nanoseconds " << nanoseconds);
      const int fd = open(file.path.c_str(), O_RDONLY);
      REQUIRE(fd >= 0);
      const auto format = record_reader_format(f.bytes.data(), f.bytes.size(), linktype::ethernet, 65535);
      REQUIRE(format);
      CHECK(format->swapped == swapped);
      CHECK(format->nanoseconds == nanoseconds);
      PcapRecordReader reader(fd, *format, 24);
      std::vector<Frame> frames;
      const FrameSink sink = collect_into(frames);
      CHECK(reader.dispatch(2, nullptr, sink) == 2);  // at most `max`
      CHECK(reader.state() == PcapRecordReader::State::reading);
      CHECK(reader.dispatch(10, nullptr, sink) == 1);
      CHECK(reader.dispatch(10, nullptr, sink) == 0);
      CHECK(reader.state() == PcapRecordReader::State::end_of_file);
      close(fd);
      const std::int64_t unit = nanoseconds ? 1 : 1000;
      REQUIRE(frames.size() == 3);
      CHECK(frames[0] == Frame{1'000'000'000 + 2 * unit, 3, 60, {7, 8, 9}});
      CHECK(frames[1] == Frame{4'000'000'000 + 5 * unit, 0, 0, {}});
      CHECK(frames[2] == Frame{6'000'000'000 + 999 * unit, 5, 1514, {9, 10, 11, 12, 13}});
    }
  }
}

TEST_CASE("record reader: hands back the first record it does not vouch for") {
  PcapFile f;
  f.snaplen = 64;
  f.header().record(1, 0, 10, 10).record(2, 0, 65, 65).record(3, 0, 10, 10);
  const TempFile file(f.bytes);
  const int fd = open(file.path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  PcapRecordReader reader(fd, *record_reader_format(f.bytes.data(), 24, linktype::ethernet, 64), 24);
  std::vector<Frame> frames;
  CHECK(reader.dispatch(10, nullptr, collect_into(frames)) == 1);
  CHECK(reader.state() == PcapRecordReader::State::hand_off);
  CHECK(reader.offset() == 24 + 16 + 10);  // the 65-byte record, longer than the snapshot
  close(fd);
}

TEST_CASE("record reader: files it leaves to libpcap") {
  PcapFile f;
  f.header();
  const auto taken = [&](int link_type, int snapshot = 65535) {
    return record_reader_format(f.bytes.data(), f.bytes.size(), link_type, snapshot).has_value();
  };
  CHECK(taken(linktype::ethernet));
  CHECK(taken(linktype::linux_sll));
  CHECK_FALSE(taken(147));  // a link type the decoder does not read
  CHECK_FALSE(taken(linktype::ethernet, 8 << 20));  // records larger than the reader's buffer
  CHECK_FALSE(record_reader_format(f.bytes.data(), 23, linktype::ethernet, 65535));

  PcapFile swapped;
  swapped.swapped = true;
  swapped.header();
  CHECK(record_reader_format(swapped.bytes.data(), 24, linktype::ethernet, 65535));
  // libpcap rewrites CAN headers inside cooked frames of the other byte order.
  CHECK_FALSE(record_reader_format(swapped.bytes.data(), 24, linktype::linux_sll, 65535));
  CHECK_FALSE(record_reader_format(swapped.bytes.data(), 24, linktype::linux_sll2, 65535));

  PcapFile old_version;
  old_version.minor = 3;  // caplen and len may be swapped: libpcap guesses
  old_version.header();
  CHECK_FALSE(record_reader_format(old_version.bytes.data(), 24, linktype::ethernet, 65535));

  PcapFile patched;
  patched.magic = 0xa1b2cd34;  // Kuznetsov's patched format: longer record headers
  patched.header();
  CHECK_FALSE(record_reader_format(patched.bytes.data(), 24, linktype::ethernet, 65535));

  const std::uint8_t pcapng[24] = {0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a};
  CHECK_FALSE(record_reader_format(pcapng, sizeof pcapng, linktype::ethernet, 65535));
}

TEST_CASE("record reader: every test capture reads as libpcap reads it") {
  std::vector<std::string> files;
  for (const char* dir : {TCPANOMALY_TEST_DATA, TCPANOMALY_TEST_DATA "/public"})
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().extension() == ".pcap" || e.path().extension() == ".pcapng") files.push_back(e.path());
  REQUIRE(files.size() >= 10);
  for (const auto& path : files) {
    require_same_as_libpcap(path);
    require_same_as_libpcap(path, "tcp[tcpflags] & (tcp-syn|tcp-rst) != 0");  // filtered
  }
}

TEST_CASE("record reader: odd records, and the file cut at every byte, read as libpcap reads them") {
  for (const bool swapped : {false, true}) {
    for (const bool nanoseconds : {false, true}) {
      const PcapFile f = odd_file(swapped, nanoseconds);
      for (std::size_t size = 0; size <= f.bytes.size(); ++size) {
        const TempFile cut(f.bytes, size);
        INFO("swapped " << swapped << " nanoseconds " << nanoseconds << " cut at " << size);
        require_same_as_libpcap(cut.path);
        // The deliberate difference (pcap_record_reader.cpp), exactly: the
        // second 2^31 is 2038-01-19 for the reader, in either byte order;
        // libpcap 1.10 makes it negative (time 0) in this machine's order.
        const Reading fast = read_all(cut.path, FileReader::records);
        if (fast.frames.size() > 3) {
          const std::int64_t expected = (std::int64_t{1} << 31) * 1'000'000'000 + (nanoseconds ? 5 : 5'000);
          CHECK(fast.frames[3].time_ns == expected);
          CHECK(read_all(cut.path, FileReader::libpcap).frames[3].time_ns == (swapped ? expected : 0));
        }
      }
    }
  }
  // Longer than any snapshot libpcap allows: it rejects the record.
  PcapFile huge;
  huge.snaplen = 0;  // libpcap takes its maximum, 262144
  huge.header().record(1, 0, 10, 10).record(2, 0, 300000, 300000).record(3, 0, 10, 10);
  const TempFile file(huge.bytes);
  require_same_as_libpcap(file.path);
  CHECK(read_all(file.path, FileReader::records).error.find("invalid packet capture length 300000") !=
        std::string::npos);
}

TEST_CASE("record reader: a filter that matches nothing does not hold dispatch() for the whole file") {
  PcapFile f;
  f.header();
  for (std::uint32_t i = 0; i < 10; ++i) f.record(i, 0, 14, 14);  // 14 bytes: not even IP
  const TempFile file(f.bytes);
  auto source = open_capture_file(file.path, "udp", FileReader::records);
  std::vector<Frame> frames;
  const FrameSink sink = collect_into(frames);
  int calls = 0;
  while (source->dispatch(4, sink) >= 0) ++calls;
  CHECK(calls == 2);  // 4 + 4 records read, none delivered; then the last 2 and the end
  CHECK(frames.empty());
}

TEST_CASE("capture file: a filter that does not compile is named, with either reader") {
  PcapFile f;
  f.header().record(1, 0, 14, 14);
  const TempFile file(f.bytes);
  for (const FileReader reader : {FileReader::records, FileReader::libpcap}) {
    try {
      open_capture_file(file.path, "tcp and and", reader);
      FAIL("no error");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()).find("bad filter \"tcp and and\"") != std::string::npos);
    }
  }
}
