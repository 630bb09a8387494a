// Live mode: capture until stopped, printing a snapshot on each trigger.
// This is the loop Telegraf's execd input runs (see README "Telegraf").
#pragma once

#include "options.hpp"

namespace tcpanomaly::cli {

// Returns the process exit code.
int run_live(const Options& options);

}  // namespace tcpanomaly::cli
