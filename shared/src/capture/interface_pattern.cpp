#include "capture/interface_pattern.hpp"

#include <fnmatch.h>

#include <memory>
#include <stdexcept>

namespace tcpanomaly {
namespace {
bool is_regex(const std::string& t) { return t.size() >= 2 && t.front() == '/' && t.back() == '/'; }
}  // namespace

bool is_interface_pattern(const std::string& text) {
  return is_regex(text) || text.find_first_of("*?[") != std::string::npos;
}

InterfacePattern::InterfacePattern(std::string text) : text_(std::move(text)) {
  if (!is_regex(text_)) return;
  auto compiled = std::make_unique<regex_t>();
  const std::string body = text_.substr(1, text_.size() - 2);
  if (const int rc = regcomp(compiled.get(), body.c_str(), REG_EXTENDED | REG_NOSUB); rc != 0) {
    char msg[256];
    regerror(rc, compiled.get(), msg, sizeof msg);
    throw std::invalid_argument(msg);  // nothing compiled, nothing to regfree
  }
  regex_ = std::shared_ptr<regex_t>(compiled.release(), [](regex_t* r) {
    regfree(r);
    delete r;
  });
}

bool InterfacePattern::matches(const std::string& name) const {
  if (regex_) return regexec(regex_.get(), name.c_str(), 0, nullptr, 0) == 0;
  return fnmatch(text_.c_str(), name.c_str(), 0) == 0;
}

}  // namespace tcpanomaly
