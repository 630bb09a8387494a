// Live mode: capture until stopped, printing a snapshot on each trigger.
// This is the loop Telegraf's execd input runs (see README "Telegraf").
#pragma once

#include "options.hpp"

namespace tcpanomaly::cli {

// Blocks the signals live mode acts on (SIGTERM, SIGINT, SIGHUP, SIGUSR1/2)
// and ignores SIGPIPE. Call first thing in main, before any thread starts:
// Telegraf may signal us a few milliseconds after exec.
void block_signals();
// Offline runs restore the default actions (Ctrl-C stops them).
void unblock_signals();

// Returns the process exit code.
int run_live(const Options& options);

}  // namespace tcpanomaly::cli
