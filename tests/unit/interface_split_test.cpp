// One capture of several interfaces (libpcap's "any" as LINKTYPE_LINUX_SLL2):
// the interface index in each frame's header picks the pipeline, so each
// interface is labelled with its own name and is its own observation point.
#include <catch2/catch.hpp>

#include "decode/decoder.hpp"
#include "engine/interface_split.hpp"
#include "support/tcp_harness.hpp"

using namespace tcpanomaly;
using namespace tcpanomaly::test;

namespace {

// The Ethernet frame of `s` as an SLL2 frame that crossed interface `ifindex`.
Bytes sll2(const Seg& s, std::uint32_t ifindex) {
  const Bytes eth = tcp_frame(s);
  Bytes out(20, 0);
  put16(out, 0, 0x0800);
  out[4] = static_cast<std::uint8_t>(ifindex >> 24);
  out[5] = static_cast<std::uint8_t>(ifindex >> 16);
  out[6] = static_cast<std::uint8_t>(ifindex >> 8);
  out[7] = static_cast<std::uint8_t>(ifindex);
  out[9] = 1;   // ARPHRD_ETHER
  out[13] = 6;  // address length
  out.insert(out.end(), eth.begin() + 14, eth.end());
  return out;
}

Seg seg(bool from_a, double ms, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::uint32_t len = 0) {
  Seg s;
  s.from_a = from_a;
  s.ms = ms;
  s.seq = seq;
  s.ack = ack;
  s.flags = flags;
  s.len = len;
  return s;
}

std::uint64_t on(const Snapshot& s, const std::string& interface, Slot slot) {
  std::uint64_t t = 0;
  for (const auto& b : s.blocks)
    if (b.labels.interface == interface) t += b[slot];
  return t;
}

}  // namespace

TEST_CASE("the decoder reads an SLL2 frame's interface index", "[split][decode]") {
  const Bytes f = sll2(seg(true, 0, kIsnA, 0, kSyn), 7);
  DecodedPacket p;
  REQUIRE(decode(linktype::linux_sll2, f.data(), f.size(), static_cast<std::uint32_t>(f.size()), p) ==
          DecodeResult::ok);
  CHECK(p.ifindex == 7);
  CHECK(sll2_ifindex(f.data(), f.size()) == 7);
  CHECK(sll2_ifindex(f.data(), 7) == 0);  // cut before the index
}

TEST_CASE("any: a forwarded connection is analysed once per interface it crossed", "[split]") {
  LocalNetworks none;
  AnalysisConfig config;
  InterfaceSplit split("any", config, none, [](std::uint32_t i) { return "veth" + std::to_string(i); });
  split.set_link_type(linktype::linux_sll2);
  const FrameSink sink = split.sink();
  auto both = [&sink](const Seg& s) {  // in on interface 3, out on interface 4
    for (std::uint32_t ifindex : {3u, 4u}) {
      const Bytes f = sll2(s, ifindex);
      sink(ms_to_ns(s.ms), f.data(), static_cast<std::uint32_t>(f.size()), static_cast<std::uint32_t>(f.size()));
    }
  };
  both(seg(true, 1000, kIsnA, 0, kSyn));
  both(seg(false, 1010, kIsnB, kIsnA + 1, kSyn | kAck));
  both(seg(true, 1020, kIsnA + 1, kIsnB + 1, kAck));
  both(seg(true, 1030, 1001, 5001, kAck, 100));
  // Resent, but the first copy was lost between the two interfaces: only
  // interface 4 saw both copies, so only it counts a retransmission.
  const Bytes first = sll2(seg(true, 1040, 1101, 5001, kAck, 100), 4);
  sink(ms_to_ns(1040), first.data(), static_cast<std::uint32_t>(first.size()), static_cast<std::uint32_t>(first.size()));
  both(seg(true, 1400, 1101, 5001, kAck, 100));
  const Bytes stub(6, 0);  // too short to name an interface
  sink(ms_to_ns(1500), stub.data(), 6, 6);

  Snapshot s;
  split.snapshot_into(s);
  CHECK(on(s, "veth3", Slot::tcp_segments) == 5);
  CHECK(on(s, "veth4", Slot::tcp_segments) == 6);
  CHECK(on(s, "veth3", Slot::connections_opened) == 1);  // each interface its own connection
  CHECK(on(s, "veth4", Slot::connections_opened) == 1);
  CHECK(on(s, "veth3", Slot::retransmissions) == 0);
  CHECK(on(s, "veth4", Slot::retransmissions) == 1);
  CHECK(on(s, "veth3", Slot::flows_active) == 1);
  CHECK(on(s, "any", Slot::err_truncated) == 1);
  CHECK(on(s, "any", Slot::tcp_segments) == 0);
}

TEST_CASE("a capture of one interface is not split", "[split]") {
  LocalNetworks none;
  AnalysisConfig config;
  InterfaceSplit split("eth0", config, none, [](std::uint32_t) -> std::string { FAIL("no names asked"); return ""; });
  split.set_link_type(linktype::ethernet);
  const Bytes f = tcp_frame(seg(true, 1000, kIsnA, 0, kSyn));
  split.sink()(ms_to_ns(1000), f.data(), static_cast<std::uint32_t>(f.size()), static_cast<std::uint32_t>(f.size()));
  Snapshot s;
  split.snapshot_into(s);
  CHECK(on(s, "eth0", Slot::syn) == 1);
}
