#include "privileges.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace tcpanomaly::cli {
namespace {

// glibc has no wrappers for capget/capset; libcap would be a whole
// dependency for these two calls.
int capget_raw(__user_cap_header_struct* h, __user_cap_data_struct* d) {
  return static_cast<int>(syscall(SYS_capget, h, d));
}
int capset_raw(__user_cap_header_struct* h, const __user_cap_data_struct* d) {
  return static_cast<int>(syscall(SYS_capset, h, d));
}

int last_capability() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int last = CAP_LAST_CAP;
  in >> last;
  return last;
}

}  // namespace

std::string drop_privileges(bool keep_net_raw) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (capget_raw(&header, data) != 0) return std::string("capget: ") + std::strerror(errno);
  const bool have_net_raw = data[0].permitted & (1u << CAP_NET_RAW);
  std::string warning;
  // The bounding set first: shrinking it needs CAP_SETPCAP, which goes next.
  const bool can_setpcap = data[0].effective & (1u << CAP_SETPCAP);
  for (int cap = 0; can_setpcap && cap <= last_capability(); ++cap)
    if (!(keep_net_raw && cap == CAP_NET_RAW)) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  const std::uint32_t kept = keep_net_raw && have_net_raw ? (1u << CAP_NET_RAW) : 0;
  __user_cap_data_struct wanted[2]{};
  wanted[0].effective = wanted[0].permitted = kept;
  if (capset_raw(&header, wanted) != 0) warning = std::string("capset: ") + std::strerror(errno);
  // No exec'd program could regain anything (we exec none, but say so).
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (keep_net_raw && !have_net_raw && warning.empty())
    warning = "no CAP_NET_RAW: capture will fail unless the interfaces allow it (see README \"Telegraf\")";
  return warning;
}

}  // namespace tcpanomaly::cli
