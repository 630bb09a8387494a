// Interface names that stand for many: a glob ("veth*", "tap[0-9]*",
// fnmatch(3)) or, collectd's convention for plugin instances, a regular
// expression between slashes ("/^veth/", POSIX extended). Either spelling
// works in both front ends; a plain name (or "any") is not a pattern.
#pragma once

#include <regex.h>

#include <memory>
#include <string>

namespace tcpanomaly {

bool is_interface_pattern(const std::string& text);

class InterfacePattern {
 public:
  // Throws std::invalid_argument with regcomp's message for a bad regex.
  explicit InterfacePattern(std::string text);
  bool matches(const std::string& name) const;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::shared_ptr<regex_t> regex_;  // null: a glob
};

}  // namespace tcpanomaly
