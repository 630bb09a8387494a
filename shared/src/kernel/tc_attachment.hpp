// Our tc filters on one interface's clsact hooks. libbpf (1.1) attaches a
// tc program as a netlink filter, which outlives the process that made it,
// so a filter is ours by a fixed handle, priority and program name
// (tc_counters.h): a killed instance's are removed at start, ours on every
// exit, and a user's own filters (any other handle or priority, or another
// program) are never touched.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace tcpanomaly {

// attach_filter()'s refusal when a filter that is not ours holds our slot.
struct TcSlotTaken : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class TcHook { ingress, egress };
const char* tc_hook_name(TcHook hook);

// The id of the program our filter on (ifindex, hook) runs, 0 if there is
// none, or -1 if a filter that is not ours holds our handle and priority.
long query_our_filter(int ifindex, TcHook hook);

// Removes a filter of ours that an earlier instance left. True if there was one.
bool remove_stale_filter(int ifindex, TcHook hook);

// Attaches `prog_fd` (making the clsact qdisc if there is none; an existing
// one is shared, and left in place at exit). Throws std::runtime_error
// saying what was refused and how to fix it.
void attach_filter(int ifindex, const std::string& interface, TcHook hook, int prog_fd);

// Detaches our filter if it still runs `prog_id` (it is gone already when
// the interface went). Never throws.
void detach_filter(int ifindex, TcHook hook, std::uint32_t prog_id);

}  // namespace tcpanomaly
