// Fuzz target: arbitrary bytes as a sequence of frames of any supported link
// type, through decode, the flow table, TCP analysis, aggregation and every
// encoder. Input: [link type selector] then repeated [gap ms][length][bytes].
// The pipeline is small (16 flows, peers and a local network on) so that
// eviction, peer promotion and the series cap are reached quickly.
#include <cstddef>
#include <cstdint>

#include "engine/pipeline.hpp"
#include "flow/local_networks.hpp"
#include "tcpanomaly/encode.hpp"

using namespace tcpanomaly;

namespace {

constexpr int kLinkTypes[] = {linktype::ethernet, linktype::linux_sll, linktype::linux_sll2, linktype::raw,
                              linktype::ipv4,     linktype::ipv6,      linktype::null,       linktype::loop,
                              linktype::dlt_raw_bsd, 147 /* unsupported */};

const LocalNetworks& local() {
  static LocalNetworks nets = [] {
    LocalNetworks n;
    Prefix p;
    parse_prefix("10.0.0.0/8", p);
    n.add(p);
    parse_prefix("2001:db8::/32", p);
    n.add(p);
    return n;
  }();
  return nets;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  AnalysisConfig config;
  config.flow_table_size = 16;
  config.top_peers = 2;
  config.max_series = 8;
  config.syn_timeout_s = 0.5;
  config.closed_timeout_s = 0.2;
  config.established_timeout_s = 2;
  Pipeline pipe("fuzz", config, local());
  pipe.set_link_type(kLinkTypes[data[0] % (sizeof kLinkTypes / sizeof kLinkTypes[0])]);
  std::int64_t now = 1'000'000'000;
  std::size_t i = 1;
  int frames = 0;
  while (i + 2 <= size) {
    now += std::int64_t(data[i]) * 10'000'000;  // 0 .. 2.55 s between frames
    const std::size_t len = data[i + 1];
    i += 2;
    const std::size_t n = len < size - i ? len : size - i;
    // The wire length may exceed what was captured (snaplen), never be less.
    pipe.on_frame(now, data + i, static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(n + (len - n)));
    i += n;
    if (++frames % 8 == 0) {  // snapshots between frames: peer promotion, flushes
      pipe.promote_peers();
      Snapshot snap;
      pipe.snapshot_into(snap);
    }
  }
  Snapshot snap;
  pipe.snapshot_into(snap);
  // The encoders cost more than the analysis; exercise them for half the inputs.
  if (data[0] & 0x80) {
    (void)to_line_protocol(snap);
    (void)to_json(snap);
    (void)to_table(snap);
  }
  return 0;
}
