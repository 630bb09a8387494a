// Stage 3c: expiry. Which flows the table gives up, and when: idle ones
// after their state's timeout (README "Flow expiry"), and, when the table is
// full, the lingering ones first and then the open ones idle longest. The
// rules only; what an end means for the counters is the caller's (`on_end`).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "flow/flow_table.hpp"

namespace tcpanomaly {

// Why a flow leaves the table.
enum class FlowEnd : std::uint8_t {
  idle,        // quiet longer than its state's timeout
  closed,      // closed (FIN or RST) and quiet longer than the closed timeout
  table_full,  // evicted to make room
};

struct FlowTimeouts {
  std::int64_t syn_ns, established_ns, closed_ns;
  std::int64_t of(const Flow& f) const {
    switch (f.state) {
      case ConnState::syn_sent: case ConnState::syn_received: return syn_ns;
      case ConnState::closed: return closed_ns;
      default: return established_ns;  // established, mid-stream, failed
    }
  }
};

namespace expiry_detail {
// Flows that only linger (closed, half-open, failed) and those still open.
inline bool lingering(const Flow& f) { return f.state != ConnState::established && f.state != ConnState::midstream; }
// log2 of an idle time in milliseconds: 0 below 1 ms, 10 from 512 ms, ...
inline std::size_t idle_bucket(std::int64_t idle_ns) {
  const auto ms = static_cast<std::uint64_t>(idle_ns > 0 ? idle_ns / 1'000'000 : 0);
  return ms ? static_cast<std::size_t>(64 - __builtin_clzll(ms)) : 0;
}
}  // namespace expiry_detail

// The periodic sweep. A connect fails syn_timeout after its first SYN,
// however often the client retries (`on_failed`, and the flow stays, to
// recognise further retries); every other flow quiet for its timeout ends.
template <class OnFailed, class OnEnd>
void expire_idle(FlowTable& table, std::int64_t now, const FlowTimeouts& t, OnFailed&& on_failed, OnEnd&& on_end) {
  table.for_each([&](Flow& f) {
    if (f.state == ConnState::syn_sent && now - f.first_seen >= t.syn_ns) {
      f.state = ConnState::failed;
      on_failed(f);
      return;
    }
    if (now - f.last_seen < t.of(f)) return;
    on_end(f, f.state == ConnState::closed ? FlowEnd::closed : FlowEnd::idle);
    table.remove(&f);
  });
}

// A flow seen this recently is never evicted to make room.
constexpr std::int64_t kEvictionMinIdleNs = 1'000'000'000;

// The table is full. Every lingering flow idle for kEvictionMinIdleNs goes;
// if that frees less than a 64th of the table, open connections go too, the
// longest idle first (whole powers of two of idle time). Two passes over
// the table, nothing allocated.
template <class OnEnd>
void make_room(FlowTable& table, std::int64_t now, OnEnd&& on_end) {
  using expiry_detail::idle_bucket;
  using expiry_detail::lingering;
  std::array<std::uint32_t, 65> open_by_idle{};
  std::uint32_t freed = 0;
  table.for_each([&](Flow& f) {
    const std::int64_t idle = now - f.last_seen;
    if (idle < kEvictionMinIdleNs) return;
    if (!lingering(f)) {
      ++open_by_idle[idle_bucket(idle)];
      return;
    }
    on_end(f, FlowEnd::table_full);
    table.remove(&f);
    ++freed;
  });
  const std::uint32_t wanted = std::max<std::uint32_t>(1, table.capacity() / 64);
  if (freed >= wanted) return;
  std::size_t oldest_kept = open_by_idle.size();  // open flows in buckets >= this go
  while (oldest_kept > 0 && freed < wanted) freed += open_by_idle[--oldest_kept];
  table.for_each([&](Flow& f) {
    const std::int64_t idle = now - f.last_seen;
    if (lingering(f) || idle < kEvictionMinIdleNs || idle_bucket(idle) < oldest_kept) return;
    on_end(f, FlowEnd::table_full);
    table.remove(&f);
  });
}

}  // namespace tcpanomaly
