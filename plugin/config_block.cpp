#include "config_block.hpp"

#include <cstdio>

#include "collectd_api.hpp"
#include "tcpanomaly/settings.hpp"

namespace tcpanomaly::collectd_plugin {
namespace {

// oconfig already typed the value: check it is the kind the setting takes,
// then spell it as text for the settings table's parser.
bool value_text(const Setting& s, const oconfig_value_t& v, std::string& text, std::string& error) {
  const int wanted = s.type == SettingType::boolean                                   ? OCONFIG_TYPE_BOOLEAN
                     : s.type == SettingType::integer || s.type == SettingType::number ? OCONFIG_TYPE_NUMBER
                                                                                       : OCONFIG_TYPE_STRING;
  if (v.type != wanted && !(s.takes_boolean && v.type == OCONFIG_TYPE_BOOLEAN)) {
    error = std::string(s.collectd) + ": expected " +
            (wanted == OCONFIG_TYPE_STRING ? std::string("a quoted string") : describe(s.type) + ", unquoted");
    return false;
  }
  if (v.type == OCONFIG_TYPE_BOOLEAN) {
    text = v.value.boolean ? "true" : "false";
  } else if (v.type == OCONFIG_TYPE_NUMBER) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v.value.number);
    text = buf;
  } else {
    text = v.value.string;
  }
  return true;
}

std::string accepted_keys() {
  std::string out;
  for (const Setting& s : settings()) out += (out.empty() ? "" : ", ") + std::string(s.collectd);
  return out;
}

}  // namespace

std::string key_name(const std::string& core_key) {
  const Setting* s = find_setting_by_key(core_key);
  return s ? std::string(s->collectd) : core_key;
}

bool apply_block(const oconfig_item_s& block, EngineConfig& config, std::string& error) {
  for (int i = 0; i < block.children_num; ++i) {
    const oconfig_item_t& child = block.children[i];
    const Setting* s = find_setting_by_collectd(child.key);
    if (!s) {
      error = std::string("unknown option \"") + child.key + "\", accepted: " + accepted_keys();
      return false;
    }
    if (child.children_num > 0) {
      error = std::string(s->collectd) + ": takes a value, not a block";
      return false;
    }
    const bool list = s->type == SettingType::text_list;
    if (child.values_num < 1 || (!list && child.values_num != 1)) {
      error = std::string(s->collectd) + ": expected " + (list ? "one or more values" : "exactly one value");
      return false;
    }
    for (int k = 0; k < child.values_num; ++k) {
      std::string text;
      if (!value_text(*s, child.values[k], text, error)) return false;
      try {
        s->apply(config, text);
      } catch (const ConfigError& e) {
        error = key_name(e.key) + ": " + e.problem;
        return false;
      }
    }
  }
  return true;
}

}  // namespace tcpanomaly::collectd_plugin
