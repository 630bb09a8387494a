// InfluxDB line protocol as Telegraf's execd input parses it: one line per
// tag set, integer fields with "i", nanosecond timestamps, no host tag.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>

#include "tcpanomaly/encode.hpp"

namespace tcpanomaly {
namespace {

std::string escape(const std::string& s, const char* special) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    for (const char* p = special; *p; ++p)
      if (c == *p) {
        out.push_back('\\');
        break;
      }
    out.push_back(c);
  }
  return out;
}

std::string format_float(double v) {
  if (!std::isfinite(v)) v = 0;  // line protocol rejects NaN/Inf
  // Shortest text that reads back as exactly the same double.
  char buf[64];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  std::string s(buf, end);
  // A bare integer literal would be read as float anyway, but keep it explicit.
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

}  // namespace

std::string escape_tag(const std::string& s) {
  // A tag value ending in a backslash has no spelling in line protocol:
  // InfluxDB 1.x and Telegraf reject it however it is escaped (a doubled
  // backslash is kept as two). Trailing backslashes are dropped, as the
  // README says; "_" stands in for a value that was only backslashes.
  std::string value = s;
  while (!value.empty() && value.back() == '\\') value.pop_back();
  if (value.empty() && !s.empty()) value = "_";
  return escape(value, ",= ");
}
std::string escape_measurement(const std::string& s) { return escape(s, ", "); }

std::string to_line_protocol(const Snapshot& snap, const std::string& measurement) {
  // Group fields by their full tag set, keeping first-seen order of lines.
  std::map<std::string, std::size_t> index;
  std::vector<std::pair<std::string, std::string>> lines;  // tag prefix, fields
  const std::string head = escape_measurement(measurement);
  for (const Sample& s : flatten(snap)) {
    std::string key = head;
    auto add_tag = [&key](const std::string& k, const std::string& v) {
      if (v.empty()) return;  // empty tag values are rejected by InfluxDB
      key += ',' + escape_tag(k) + '=' + escape_tag(v);
    };
    // Tags in lexical key order (InfluxDB's preferred order).
    std::map<std::string, std::string> tags(s.tags.begin(), s.tags.end());
    tags["interface"] = s.labels->interface;
    tags["direction"] = s.labels->direction;
    tags["peer"] = s.labels->peer;
    for (const auto& [k, v] : tags) add_tag(k, v);
    std::string field = escape_tag(s.field) + '=';
    field += s.is_float ? format_float(s.real) : std::to_string(s.integer) + 'i';
    auto it = index.find(key);
    if (it == index.end()) {
      index.emplace(key, lines.size());
      lines.emplace_back(key, field);
    } else {
      lines[it->second].second += ',' + field;
    }
  }
  std::string out;
  const std::string ts = ' ' + std::to_string(snap.time_ns) + '\n';
  for (const auto& [tags, fields] : lines) out += tags + ' ' + fields + ts;
  return out;
}

}  // namespace tcpanomaly
