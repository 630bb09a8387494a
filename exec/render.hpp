// Turns a snapshot into the chosen output format (shared by offline and live).
#pragma once

#include <string>

#include "options.hpp"
#include "tcpanomaly/snapshot.hpp"

namespace tcpanomaly::cli {

// Live output is a stream: JSON then comes one object per line.
std::string render(const Snapshot& snap, Format format, bool stream);

// The settings table (names for both front ends, types, defaults, ranges) as JSON.
std::string settings_json();

}  // namespace tcpanomaly::cli
