#include "render.hpp"

#include <nlohmann/json.hpp>

#include "tcpanomaly/encode.hpp"
#include "tcpanomaly/settings.hpp"

namespace tcpanomaly::cli {

std::string render(const Snapshot& snap, Format format, bool stream) {
  switch (format) {
    case Format::json: return to_json(snap, stream ? -1 : 2);
    case Format::table: return to_table(snap);
    case Format::influx: break;
  }
  return to_line_protocol(snap);
}

std::string settings_json() {
  const EngineConfig defaults;
  nlohmann::json out = nlohmann::json::array();
  for (const Setting& s : settings()) {
    nlohmann::json j = {{"key", s.key}, {"option", "--" + std::string(s.cli)}, {"collectd", s.collectd},
                        {"type", describe(s.type)}, {"repeatable", s.type == SettingType::text_list},
                        {"group", s.group}, {"unit", s.unit}, {"help", s.help}, {"default", s.show(defaults)}};
    if (s.type == SettingType::integer || s.type == SettingType::number) j["range"] = {s.min, s.max};
    out.push_back(j);
  }
  return out.dump(2);
}

}  // namespace tcpanomaly::cli
