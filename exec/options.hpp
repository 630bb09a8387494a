// Command line and config file of the tcpanomaly binary (Boost.Program_options).
#pragma once

#include <string>

#include "tcpanomaly/config.hpp"

namespace tcpanomaly::cli {

enum class Format { json, influx, table };
enum class Trigger { none, stdin_line, sighup, sigusr1, sigusr2 };

struct Options {
  EngineConfig engine;
  Format format = Format::influx;
  Trigger trigger = Trigger::none;
  double interval_s = 10;
  double duration_s = 0;  // live: stop after this long (0 = until stopped)
  // --read with an explicit --signal: analyse the file in the background and
  // answer triggers like live mode (a capture file behind Telegraf's execd).
  bool serve_file = false;
  bool show_help = false;
  bool show_version = false;
  bool list_metrics = false;
  bool list_settings = false;
  std::string help_text;
};

// The command-line spelling of a core config key ("syn_timeout" -> "--syn-timeout").
std::string option_name(const std::string& core_key);

// Throws std::runtime_error with a one-line message naming the bad option.
Options parse(int argc, char** argv);

}  // namespace tcpanomaly::cli
