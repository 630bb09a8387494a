#include "kernel/bpf_errors.hpp"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>

namespace tcpanomaly {
namespace {

std::mutex messages_lock;
std::deque<std::string> messages;  // the newest few, warnings and errors only
constexpr std::size_t kKept = 4;

int keep_message(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[512];
  const int n = std::vsnprintf(line, sizeof line, format, args);
  std::string text(line, n > 0 ? std::min<std::size_t>(std::size_t(n), sizeof line - 1) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::lock_guard<std::mutex> g(messages_lock);
  messages.push_back(std::move(text));
  if (messages.size() > kKept) messages.pop_front();
  return n;
}

}  // namespace

void capture_libbpf_messages() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(keep_message); });
}

std::string take_libbpf_messages() {
  std::lock_guard<std::mutex> g(messages_lock);
  std::string out;
  for (const auto& m : messages) out += (out.empty() ? "" : " / ") + m;
  messages.clear();
  return out;
}

std::string explain_bpf_error(const std::string& what, int error) {
  if (error < 0) error = -error;
  std::string msg = what + " failed: " + std::strerror(error);
  switch (error) {
    case EPERM:
    case EACCES:
      msg += "; the kernel-side features need CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (run as root, or "
             "grant them: systemd AmbientCapabilities=, Kubernetes securityContext.capabilities.add); "
             "or turn the kernel-side features off";
      break;
    case ENOSYS:
    case EOPNOTSUPP:
      msg += "; this kernel was built without the BPF system call or tc BPF classifier "
             "(CONFIG_BPF_SYSCALL, CONFIG_NET_CLS_BPF, CONFIG_NET_SCH_INGRESS)";
      break;
    case EINVAL:
      msg += "; the kernel refused the program or attachment (a kernel older than 5.8, or a tc filter of "
             "another protocol at the same priority)";
      break;
    case ENOMEM:
      msg += "; the locked-memory limit is too low for the BPF maps (raise RLIMIT_MEMLOCK, "
             "LimitMEMLOCK=infinity under systemd)";
      break;
    default:
      break;
  }
  const std::string detail = take_libbpf_messages();
  if (!detail.empty()) msg += " (libbpf: " + detail + ")";
  return msg;
}

}  // namespace tcpanomaly
