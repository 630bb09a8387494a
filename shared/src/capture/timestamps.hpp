// Capture time stamps as the pipeline takes them: int64 nanoseconds.
#pragma once

#include <cstdint>

namespace tcpanomaly {

// A file can carry any time stamp (pcapng's are 64-bit): clamped to what
// int64 nanoseconds hold (years 1970 .. 2262) instead of overflowing.
inline std::int64_t clamped_time_ns(std::int64_t seconds, std::int64_t nanoseconds) {
  constexpr std::int64_t kMaxSeconds = 9'000'000'000;  // < INT64_MAX / 1e9
  if (seconds < 0) return 0;
  if (seconds > kMaxSeconds) seconds = kMaxSeconds;
  if (nanoseconds < 0 || nanoseconds > 999'999'999) nanoseconds = 0;
  return seconds * 1'000'000'000 + nanoseconds;
}

}  // namespace tcpanomaly
