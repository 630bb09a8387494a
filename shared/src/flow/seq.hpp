// Wrap-safe TCP sequence comparisons (RFC 1982 serial arithmetic, as in
// Wireshark's LT_SEQ/GT_SEQ): a is before b when (a - b) is negative as int32.
#pragma once

#include <cstdint>

namespace tcpanomaly::seq {
inline bool lt(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) < 0; }
inline bool le(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) <= 0; }
inline bool gt(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) > 0; }
inline bool ge(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) >= 0; }
}  // namespace tcpanomaly::seq
