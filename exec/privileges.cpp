#include "privileges.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <vector>

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

bool has(const __user_cap_data_struct* set, int cap, std::uint32_t __user_cap_data_struct::*field) {
  return set[cap / 32].*field & (1u << (cap % 32));
}

}  // namespace

std::string drop_privileges(bool keep_net_raw, bool keep_kernel_side) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (capget_raw(&header, data) != 0) return std::string("capget: ") + std::strerror(errno);
  const bool have_net_raw = has(data, CAP_NET_RAW, &__user_cap_data_struct::permitted);
  std::vector<int> keep;
  if (keep_net_raw) keep.push_back(CAP_NET_RAW);
  // Loading the BPF programs and maps, and attaching them as tc filters
  // (also to interfaces that appear later, and detaching them at exit).
  if (keep_kernel_side) keep.insert(keep.end(), {CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN});
  const auto kept = [&keep](int cap) { return std::find(keep.begin(), keep.end(), cap) != keep.end(); };
  std::string warning;
  // The bounding set first: shrinking it needs CAP_SETPCAP, which goes next.
  const bool can_setpcap = has(data, CAP_SETPCAP, &__user_cap_data_struct::effective);
  for (int cap = 0; can_setpcap && cap <= last_capability(); ++cap)
    if (!kept(cap)) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_data_struct wanted[2]{};
  for (int cap : keep)
    if (has(data, cap, &__user_cap_data_struct::permitted)) {
      wanted[cap / 32].effective |= 1u << (cap % 32);
      wanted[cap / 32].permitted |= 1u << (cap % 32);
    }
  if (capset_raw(&header, wanted) != 0) warning = std::string("capset: ") + std::strerror(errno);
  // No exec'd program could regain anything (we exec none, but say so).
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (keep_net_raw && !have_net_raw && warning.empty())
    warning = "no CAP_NET_RAW: capture will fail unless the interfaces allow it (see README \"Telegraf\")";
  return warning;
}

}  // namespace tcpanomaly::cli
