// What a refusal from the kernel's bpf() or tc means to a user, and what
// fixes it: libbpf reports errno values; a user needs "needs CAP_BPF, run
// as root". libbpf's own messages are kept (the last few) so an error can
// quote the verifier or netlink's reason.
#pragma once

#include <string>

namespace tcpanomaly {

// Routes libbpf's messages into a small buffer (once per process; libbpf's
// print callback is global) instead of stderr.
void capture_libbpf_messages();
// The warnings libbpf printed since the last call, joined ("" if none).
std::string take_libbpf_messages();

// "<what> failed: <strerror>; <what to do>" for an errno value (positive or negative).
std::string explain_bpf_error(const std::string& what, int error);

}  // namespace tcpanomaly
