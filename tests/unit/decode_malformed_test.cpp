// Decoder on malformed input: every DecodeResult error reason, every link
// type cut at every byte, and a few thousand garbled frames. Nothing may
// crash (run under ASan/UBSan) and every frame gets a named result.
#include <catch2/catch.hpp>
#include <tins/tins.h>

#include <array>
#include <map>
#include <memory>
#include <random>

#include "decode/decoder.hpp"
#include "engine/pipeline.hpp"
#include "support/frames.hpp"

using namespace tcpanomaly;
using namespace tcpanomaly::test;

namespace {

DecodeResult run(int link, const Bytes& b) {
  DecodedPacket p;
  return decode(link, b.data(), b.size(), static_cast<std::uint32_t>(b.size()), p);
}

bool is_named(DecodeResult r) { return static_cast<int>(r) <= static_cast<int>(DecodeResult::unsupported_linktype); }

// (link type, frame, bytes before the end of the fixed TCP header, bytes before the IP header)
struct Sample {
  int link;
  Bytes frame;
  std::size_t tcp_end;
  std::size_t ip_start;
};

std::vector<Sample> samples() {
  std::vector<Sample> out;
  for (int link : supported_link_types())
    for (bool v6 : {false, true}) {
      if ((link == linktype::ipv4 && v6) || (link == linktype::ipv6 && !v6)) continue;
      // IPv4: 20-byte header. IPv6: 40 + hop-by-hop 8 + destination options 8.
      const std::size_t ip_header = v6 ? 56 : 20;
      out.push_back({link, wrap(link, v6 ? ipv6_tcp_with_extensions() : ipv4_tcp_with_options()),
                     link_header_length(link) + ip_header + 20, link_header_length(link)});
    }
  // Stacked VLANs on Ethernet.
  auto vlan = Tins::EthernetII() / Tins::Dot1Q(7) / Tins::Dot1Q(8) / Tins::IP(kAddrB, kAddrA) / Tins::TCP(kPortB, kPortA);
  out.push_back({linktype::ethernet, vlan.serialize(), 14 + 8 + 20 + 20, 14 + 8});
  return out;
}

}  // namespace

TEST_CASE("every error reason is reported", "[decode][malformed]") {
  const Bytes v4 = ipv4_tcp_with_options();
  SECTION("truncated") {
    CHECK(run(linktype::ethernet, Bytes(10, 0)) == DecodeResult::truncated);
    CHECK(run(linktype::linux_sll2, Bytes(19, 0)) == DecodeResult::truncated);
    CHECK(run(linktype::raw, Bytes{}) == DecodeResult::truncated);
  }
  SECTION("bad IP header: IHL below 5 words, wrong version") {
    Bytes b = v4;
    b[0] = 0x44;
    CHECK(run(linktype::raw, b) == DecodeResult::bad_ip_header);
    b[0] = 0x65;  // IPv6 version behind an IPv4 ethertype
    CHECK(run(linktype::ipv4, b) == DecodeResult::bad_ip_header);
    b[0] = 0x55;  // neither 4 nor 6 on a raw link
    CHECK(run(linktype::raw, b) == DecodeResult::bad_ip_header);
    Bytes v6 = ipv6_tcp_with_extensions();
    v6[0] = 0x45;
    CHECK(run(linktype::ipv6, v6) == DecodeResult::bad_ip_header);
  }
  SECTION("IHL beyond the captured bytes") {
    Bytes b(v4.begin(), v4.begin() + 24);
    b[0] = 0x4f;  // 60-byte header, 24 captured
    CHECK(run(linktype::raw, b) == DecodeResult::truncated);
  }
  SECTION("bad IP length: total length below the header length") {
    Bytes b = v4;
    put16(b, 2, 19);
    CHECK(run(linktype::raw, b) == DecodeResult::bad_ip_length);
  }
  SECTION("bad TCP header: data offset below 5, or beyond the IP length") {
    Bytes b = v4;
    b[20 + 12] = 0x40;
    CHECK(run(linktype::raw, b) == DecodeResult::bad_tcp_header);
    b[20 + 12] = 0xf0;  // 60 bytes fit; shrink the IP length to 20 + 40
    put16(b, 2, 60);
    CHECK(run(linktype::raw, b) == DecodeResult::bad_tcp_header);
  }
  SECTION("bad IPv6 extension chain: length beyond the payload, or too long") {
    Bytes b = ipv6_tcp_with_extensions();
    b[40 + 1] = 200;  // hop-by-hop: 1608 bytes
    CHECK(run(linktype::raw, b) == DecodeResult::bad_ipv6_extension);

    Bytes chain(40, 0);
    chain[0] = 0x60;
    chain[6] = 60;  // destination options, 17 of them
    for (int i = 0; i < 17; ++i) chain.insert(chain.end(), {60, 0, 1, 4, 0, 0, 0, 0});
    chain.insert(chain.end(), 20, 0);
    put16(chain, 4, static_cast<std::uint16_t>(chain.size() - 40));
    CHECK(run(linktype::raw, chain) == DecodeResult::bad_ipv6_extension);
  }
  SECTION("unsupported link type") {
    CHECK(run(105, v4) == DecodeResult::unsupported_linktype);
    CHECK(run(-1, v4) == DecodeResult::unsupported_linktype);
  }
}

TEST_CASE("every link type cut at every byte", "[decode][malformed]") {
  for (const Sample& s : samples()) {
    const auto wire = static_cast<std::uint32_t>(s.frame.size());
    for (std::size_t n = 0; n <= s.frame.size(); ++n) {
      INFO("link " << s.link << ", " << n << " of " << wire << " bytes");
      // A copy of exactly n bytes: ASan sees any read past the cut.
      const Bytes cut(s.frame.begin(), s.frame.begin() + static_cast<std::ptrdiff_t>(n));
      // Cut by the snap length (the wire had the whole frame) ...
      DecodedPacket snap;
      const DecodeResult r = decode(s.link, cut.data(), n, wire, snap);
      // ... and a frame that really is that short.
      DecodedPacket shorter;
      const DecodeResult r2 = decode(s.link, cut.data(), n, static_cast<std::uint32_t>(n), shorter);
      CHECK(r == (n < s.tcp_end ? DecodeResult::truncated : DecodeResult::ok));
      // (Bytes past the IP packet are link padding.)
      if (n < s.tcp_end || n >= s.ip_start + snap.ip_length) {
        CHECK(r2 == r);
      } else {
        // The IP length claims bytes the wire did not carry: clamped to the
        // wire and named; where that cuts into the TCP options, the header.
        CHECK((r2 == DecodeResult::bad_ip_length || r2 == DecodeResult::bad_tcp_header));
        CHECK(shorter.has_tcp);
        CHECK(shorter.src_port == kPortA);
        CHECK(shorter.ip_length == n - s.ip_start);
      }
      if (r == DecodeResult::ok) {
        CHECK(snap.has_tcp);
        CHECK(snap.src_port == kPortA);
      }
    }
  }
}

TEST_CASE("garbled frames: no crash, always a named result", "[decode][malformed]") {
  const std::vector<Sample> base = samples();
  std::mt19937 rng(20240601);  // fixed seed: reproducible
  std::array<int, 8> seen{};
  for (int iter = 0; iter < 5000; ++iter) {
    const Sample& s = base[rng() % base.size()];
    Bytes b = s.frame;
    const int flips = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < flips; ++i) b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
    const std::size_t n = rng() % (b.size() + 1);
    b.resize(n);
    const auto wire = static_cast<std::uint32_t>(rng() % 2 ? n : n + rng() % 70000);
    const int link = rng() % 16 == 0 ? static_cast<int>(rng() % 300) : s.link;
    DecodedPacket p;
    const DecodeResult r = decode(link, b.data(), n, wire, p);
    REQUIRE(is_named(r));
    ++seen[static_cast<std::size_t>(r)];
    if (r == DecodeResult::ok && p.has_tcp) CHECK((p.ip_version == 4 || p.ip_version == 6));
  }
  CHECK(seen[static_cast<std::size_t>(DecodeResult::ok)] > 0);
  CHECK(seen[static_cast<std::size_t>(DecodeResult::truncated)] > 0);
}

TEST_CASE("the pipeline counts every malformed frame once", "[decode][malformed][pipeline]") {
  std::mt19937 rng(7);
  const std::vector<Sample> base = samples();
  LocalNetworks none;
  std::uint64_t expected_errors = 0, expected_non_ip = 0;
  std::vector<std::unique_ptr<Pipeline>> pipelines;
  std::map<int, Pipeline*> by_link;
  for (const Sample& s : base)
    if (!by_link.count(s.link)) {
      pipelines.push_back(std::make_unique<Pipeline>("fuzz", AnalysisConfig{}, none));
      pipelines.back()->set_link_type(s.link);
      by_link[s.link] = pipelines.back().get();
    }
  std::int64_t t = 1'000'000'000;
  for (int iter = 0; iter < 3000; ++iter) {
    const Sample& s = base[rng() % base.size()];
    Bytes b = s.frame;
    b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
    b.resize(rng() % (b.size() + 1));
    const auto n = static_cast<std::uint32_t>(b.size());
    DecodedPacket p;
    const DecodeResult r = decode(s.link, b.data(), n, n, p);
    if (r == DecodeResult::non_ip) ++expected_non_ip;
    else if (r != DecodeResult::ok) ++expected_errors;
    // A first fragment of a TCP segment is a decode error too (tcp_fragmented).
    else if (p.protocol == 6 && p.first_fragment) ++expected_errors;  // (a frame has one error at most)
    by_link[s.link]->on_frame(t += 1'000'000, b.data(), n, n);
  }
  Snapshot snap;
  for (auto& p : pipelines) p->snapshot_into(snap);
  CHECK(snap.total("decode_errors") == expected_errors);
  CHECK(snap.total(Slot::non_ip_frames) == expected_non_ip);
  CHECK(expected_errors > 0);
}
