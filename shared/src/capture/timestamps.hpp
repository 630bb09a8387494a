// Capture time stamps as the pipeline takes them: int64 nanoseconds.
#pragma once

#include <chrono>
#include <cstdint>

namespace tcpanomaly {

// A time stamp of seconds and a fraction in ns (or us, when `nanoseconds`
// is false), as one int64 of nanoseconds. A file can carry any value
// (pcapng's are 64-bit): clamped to what int64 nanoseconds hold (years
// 1970 .. 2262) instead of overflowing; a fraction of a second or more is 0.
inline std::int64_t capture_time_ns(std::int64_t seconds, std::int64_t fraction, bool nanoseconds) {
  constexpr std::int64_t kMaxSeconds = 9'000'000'000;  // < INT64_MAX / 1e9
  const std::int64_t ns = nanoseconds ? fraction : fraction * 1000;
  if (seconds < 0) return 0;
  if (seconds > kMaxSeconds) seconds = kMaxSeconds;
  return seconds * 1'000'000'000 + (ns < 0 || ns > 999'999'999 ? 0 : ns);
}

// Now, in the same units: live pipelines and snapshots take this time.
inline std::int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tcpanomaly
