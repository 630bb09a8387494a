// Least privilege for the tcpanomaly binary. Capture needs CAP_NET_RAW and
// nothing else (promiscuous mode included); reopening an interface that came
// back needs it again later, so it is kept. The kernel-side producers need
// CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN, kept only when they are on. Reading a file
// needs none. Only the binary does this: the collectd plugin lives in
// collectd's process, whose privileges are collectd's business.
#pragma once

#include <string>

namespace tcpanomaly::cli {

// Drops every capability but CAP_NET_RAW (or all, when `keep_net_raw` is
// false) and the kernel side's (when `keep_kernel_side`) from the effective, permitted, inheritable, ambient and bounding
// sets, and sets no_new_privs. Returns "" or a warning to log (never fatal:
// an unprivileged run has nothing to drop).
std::string drop_privileges(bool keep_net_raw, bool keep_kernel_side);

}  // namespace tcpanomaly::cli
