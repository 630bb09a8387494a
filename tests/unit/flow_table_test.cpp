// Flow table limits: a full table (untracked connections, eviction of
// lingering flows first, then of the open ones idle longest), idle eviction, and the open-addressed
// index itself (insert / find / backward-shift removal).
#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "flow/flow_table.hpp"
#include "support/tcp_harness.hpp"

using namespace tcpanomaly;
using namespace tcpanomaly::test;

namespace {

Seg syn_from(std::uint16_t port, double ms) {
  Seg s;
  s.ms = ms;
  s.seq = kIsnA;
  s.flags = kSyn;
  s.port_a = port;
  return s;
}

FlowKey key_of(std::uint32_t i) {
  FlowKey k{};
  k.addr[0].bytes[10] = k.addr[0].bytes[11] = 0xff;
  k.addr[0].bytes[15] = static_cast<std::uint8_t>(i);
  k.addr[0].bytes[14] = static_cast<std::uint8_t>(i >> 8);
  k.addr[1] = k.addr[0];
  k.addr[1].bytes[12] = 1;
  k.port[0] = static_cast<std::uint16_t>(i * 7);
  k.port[1] = 80;
  k.vlan = 0;
  return k;
}

}  // namespace

TEST_CASE("a full table leaves new connections untracked, counted", "[flows]") {
  AnalysisConfig cfg;
  cfg.flow_table_size = 2;
  Harness h({}, cfg);
  h.send(syn_from(40001, 1000));
  h.send(syn_from(40002, 1000));
  h.send(syn_from(40003, 1000));  // no room, nothing idle: untracked
  Snapshot s = h.snap();
  CHECK(s.total(Slot::evicted_table_full) == 1);
  CHECK(s.total(Slot::flows_active) == 2);
  CHECK(s.total(Slot::tcp_segments) == 3);  // still counted as traffic
  CHECK(s.total(Slot::packets_tcp4) == 3);
  CHECK(s.total(Slot::syn) == 3);           // header counters too (a SYN flood's SYNs)
  CHECK(s.total(Slot::syn_retransmissions) == 0);  // but no TCP analysis

  // 2 s later both half-open flows have been idle >= 1 s: a new connection
  // evicts them (emergency eviction) and is tracked.
  h.send(syn_from(40004, 3000));
  s = h.snap();
  CHECK(s.total(Slot::evicted_table_full) == 3);
  CHECK(s.total(Slot::flows_active) == 1);
  CHECK(s.total(Slot::syn) == 4);
  CHECK(s.total(Slot::connects_failed) == 0);  // evicted, not timed out
}

TEST_CASE("a full table: lingering flows go first, then open ones, longest idle first", "[flows]") {
  AnalysisConfig cfg;
  cfg.flow_table_size = 3;  // a 64th of it rounds up to one flow per eviction
  Harness h({}, cfg);
  h.handshake(1000);  // established, last seen at 1.02 s
  Seg data = syn_from(40010, 12000);
  data.flags = kAck;  // picked up mid-stream, last seen at 12 s
  data.seq = 7001;
  data.len = 10;
  h.send(data);
  h.send(syn_from(40011, 13000));  // half-open
  // 14.5 s: the half-open flow, idle 1.5 s, makes room; the open ones stay.
  h.send(syn_from(40012, 14500));
  CHECK(h.total(Slot::evicted_table_full) == 1);
  CHECK(h.total(Slot::connections_active) == 1);
  CHECK(h.total(Slot::flows_active) == 3);
  h.send(syn_from(40013, 20000));  // again a half-open one (idle 5.5 s) goes
  CHECK(h.total(Slot::evicted_table_full) == 2);
  CHECK(h.total(Slot::connections_active) == 1);
  h.send(syn_from(40013, 20900));  // its retry: seen 0.1 s before the next SYN
  // 21 s: nothing lingering is idle 1 s, so an open connection goes: the one
  // idle longest (the handshake's, 20 s, against the mid-stream one's 9 s).
  h.send(syn_from(40014, 21000));
  CHECK(h.total(Slot::evicted_table_full) == 3);
  CHECK(h.total(Slot::closed_evicted) == 1);  // an opened connection, ended by eviction
  CHECK(h.total(Slot::connections_active) == 0);
  CHECK(h.total(Slot::flows_active) == 3);
  CHECK(h.total(Slot::retransmissions) == 1);  // 40013's retry was still tracked
}

TEST_CASE("idle flows are evicted with reason idle", "[flows]") {
  AnalysisConfig cfg;
  cfg.established_timeout_s = 30;
  Harness h({}, cfg);
  h.a(1000, 2001, 9001, kAck, 10);  // mid-stream
  h.send(syn_from(40005, 1000));    // half-open: SYN and SYN/ACK
  Seg synack = syn_from(40005, 1000);
  synack.from_a = false;
  synack.seq = kIsnB;
  synack.ack = kIsnA + 1;
  synack.flags = kSyn | kAck;
  h.send(synack);
  h.advance(1000 + 20500);          // syn_timeout 20 s: only the half-open one
  CHECK(h.total(Slot::evicted_idle) == 1);
  CHECK(h.total(Slot::flows_active) == 1);
  CHECK(h.total(Slot::connects_failed) == 0);  // its SYN was answered
  h.advance(1000 + 30500);
  CHECK(h.total(Slot::evicted_idle) == 2);
  CHECK(h.total(Slot::flows_active) == 0);
  CHECK(h.total("flows_evicted") == 2);
}

TEST_CASE("flow keys are direction-independent", "[flows]") {
  Harness h;
  h.a(1000, 2001, 9001, kAck, 10);
  h.b(1001, 9001, 2011, kAck, 10);
  h.a(1002, 2011, 9011, kAck);
  CHECK(h.total(Slot::flows_active) == 1);
  Seg v6;  // same ports over IPv6: another flow
  v6.v6 = true;
  v6.ms = 1003;
  v6.flags = kAck;
  h.send(v6);
  CHECK(h.total(Slot::flows_active) == 2);
}

TEST_CASE("FlowTable: insert, find and remove keep every chain intact", "[flows]") {
  constexpr std::uint32_t kCapacity = 500;
  FlowTable table(kCapacity);
  for (std::uint32_t i = 0; i < kCapacity; ++i) {
    const FlowKey k = key_of(i);
    REQUIRE(table.insert(k, table.hash(k)) != nullptr);
  }
  CHECK(table.size() == kCapacity);
  const FlowKey extra = key_of(kCapacity);
  CHECK(table.insert(extra, table.hash(extra)) == nullptr);  // full

  std::mt19937 rng(99);
  std::set<std::uint32_t> present;
  for (std::uint32_t i = 0; i < kCapacity; ++i) present.insert(i);
  for (int round = 0; round < 2000; ++round) {
    const std::uint32_t i = rng() % (kCapacity + 100);
    const FlowKey k = key_of(i);
    Flow* f = table.find(k, table.hash(k));
    REQUIRE((f != nullptr) == (present.count(i) == 1));
    if (f) {
      CHECK(f->key == k);
      table.remove(f);
      present.erase(i);
    } else if (table.size() < kCapacity) {
      REQUIRE(table.insert(k, table.hash(k)) != nullptr);
      present.insert(i);
    }
  }
  CHECK(table.size() == present.size());
  std::size_t visited = 0;
  table.for_each([&](Flow& f) {
    ++visited;
    CHECK(f.in_use);
  });
  CHECK(visited == present.size());
}

TEST_CASE("a packet's key and hash match the stored key's hash, either direction", "[flows]") {
  // The pipeline hashes the words it compared while building the key; the
  // table rehashes stored keys on removal. Both must agree, or removal would
  // break probe chains.
  FlowTable table(16);
  std::mt19937 rng(7);
  for (int i = 0; i < 1000; ++i) {
    DecodedPacket p;
    for (auto& b : p.src.bytes) b = static_cast<std::uint8_t>(rng());
    p.dst = p.src;
    if (i % 3) p.dst.bytes[rng() % 16] ^= static_cast<std::uint8_t>(1 + rng() % 255);  // else: same address
    p.src_port = static_cast<std::uint16_t>(rng());
    p.dst_port = static_cast<std::uint16_t>(i % 5 ? rng() : p.src_port);
    p.vlan = static_cast<std::uint16_t>(rng() & 0xfff);
    FlowKey k1, k2;
    int side1 = -1, side2 = -1;
    const std::uint64_t h1 = table.key_of(p, k1, side1);
    std::swap(p.src, p.dst);
    std::swap(p.src_port, p.dst_port);
    const std::uint64_t h2 = table.key_of(p, k2, side2);
    CHECK(k1 == k2);
    CHECK(h1 == h2);
    CHECK(h1 == table.hash(k1));
    if (!(p.src == p.dst && p.src_port == p.dst_port)) CHECK(side1 != side2);
  }
}
