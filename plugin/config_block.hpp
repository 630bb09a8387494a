// The <Plugin tcpanomaly> block -> the core's EngineConfig, through the
// core's settings table (the same table the tcpanomaly binary's options come
// from). Keys are CamelCase as in collectd's own plugins.
#pragma once

#include <string>

#include "tcpanomaly/config.hpp"

struct oconfig_item_s;

namespace tcpanomaly::collectd_plugin {

// Applies every child of the block to `config`. On a bad key or value,
// returns false with `error` naming the key and what it accepts.
bool apply_block(const oconfig_item_s& block, EngineConfig& config, std::string& error);

// The collectd spelling of a core key ("syn_timeout" -> "SynTimeout").
std::string key_name(const std::string& core_key);

}  // namespace tcpanomaly::collectd_plugin
