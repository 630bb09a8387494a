// Every user-facing setting of the engine, in one table. Both front ends are
// generated from it: the binary's command-line/config-file options and the
// collectd plugin's CamelCase keys, their help texts and defaults, and the
// man pages. A setting added here appears everywhere with the same meaning.
#pragma once

#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tcpanomaly/config.hpp"

namespace tcpanomaly {

// Thrown for an invalid setting. `key` is the core's snake_case name
// (e.g. "syn_timeout") so each front end can name it in its own spelling
// (--syn-timeout, SynTimeout); `problem` says what is wrong and what is accepted.
struct ConfigError : std::exception {
  ConfigError(std::string k, std::string p)
      : key(std::move(k)), problem(std::move(p)), message(key + ": " + problem) {}
  const char* what() const noexcept override { return message.c_str(); }
  std::string key, problem, message;
};

// Throws ConfigError for the first invalid setting (missing or conflicting
// sources, bad CIDRs or filter, values out of their table ranges).
void validate(const EngineConfig& config);

enum class SettingType {
  text,       // one string
  text_list,  // repeatable string (each occurrence adds one)
  integer,
  number,     // real number
  boolean,
};

struct Setting {
  std::string_view key;       // core snake_case name, as in ConfigError::key
  std::string_view cli;       // tcpanomaly binary: --cli and "cli = value" in --config files
  std::string_view collectd;  // collectd <Plugin tcpanomaly> key
  SettingType type;
  std::string_view group;     // "capture" or "analysis" (help sections)
  std::string_view unit;      // shown in help: "ms", "MiB", "s", "CIDR", ...
  std::string_view help;
  double min = 0, max = 0;    // accepted range of integer and number settings
  // Parses `value` (a number or bool already spelt as text) into the config.
  // Throws ConfigError naming `key` and what is accepted.
  std::function<void(EngineConfig&, const std::string& value)> apply;
  // The current value as text ("" for an empty list): defaults in help.
  std::function<std::string(const EngineConfig&)> show;
  // Throws ConfigError if the value in `config` is out of range (validate()).
  std::function<void(const EngineConfig&)> check;
  // A text setting of fixed choices that also takes a boolean for its
  // "on" and "off" (collectd's unquoted `KernelCounters true`).
  bool takes_boolean = false;
};

const std::vector<Setting>& settings();
const Setting* find_setting_by_cli(std::string_view cli);
const Setting* find_setting_by_collectd(std::string_view collectd_key);
const Setting* find_setting_by_key(std::string_view key);

// "integer", "a number", "true or false", ... for error messages.
std::string describe(SettingType type);

}  // namespace tcpanomaly
