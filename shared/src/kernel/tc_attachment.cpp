#include "kernel/tc_attachment.hpp"

#include <bpf/libbpf.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "kernel/bpf_errors.hpp"
#include "kernel/tc_counters.h"

namespace tcpanomaly {
namespace {

bpf_tc_hook hook_of(int ifindex, TcHook hook) {
  bpf_tc_hook h{};
  h.sz = sizeof h;
  h.ifindex = ifindex;
  h.attach_point = hook == TcHook::ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
  return h;
}

bpf_tc_opts our_slot() {
  bpf_tc_opts o{};
  o.sz = sizeof o;
  o.handle = TCPA_TC_HANDLE;
  o.priority = TCPA_TC_PRIORITY;
  return o;
}

// The tc name of the bpf filter at our handle and priority on a hook ("" if
// none), from a netlink filter dump. libbpf names a filter after its
// program ("tcpa_count:[id]"); the dump needs no capability, where asking
// the kernel for a program by id would need CAP_SYS_ADMIN.
std::string filter_name(int ifindex, TcHook hook) {
  const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return "";
  struct {
    nlmsghdr header;
    tcmsg body;
  } dump{};
  dump.header.nlmsg_len = sizeof dump;
  dump.header.nlmsg_type = RTM_GETTFILTER;
  dump.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  dump.body.tcm_family = AF_UNSPEC;
  dump.body.tcm_ifindex = ifindex;
  dump.body.tcm_parent = TC_H_MAKE(TC_H_CLSACT, hook == TcHook::ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
  std::string name;
  if (send(fd, &dump, sizeof dump, 0) < 0) {
    close(fd);
    return "";
  }
  alignas(nlmsghdr) char buf[16384];
  for (bool done = false; !done;) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    auto len = static_cast<unsigned int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
        done = true;
        break;
      }
      if (h->nlmsg_type != RTM_NEWTFILTER) continue;
      const auto* t = static_cast<const tcmsg*>(NLMSG_DATA(h));
      if (t->tcm_handle != TCPA_TC_HANDLE || TC_H_MAJ(t->tcm_info) >> 16 != TCPA_TC_PRIORITY) continue;
      int attr_len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(tcmsg)));
      for (auto* a = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(tcmsg)));
           RTA_OK(a, attr_len); a = RTA_NEXT(a, attr_len)) {
        if (a->rta_type != TCA_OPTIONS) continue;
        int nested_len = static_cast<int>(RTA_PAYLOAD(a));
        for (auto* o = static_cast<rtattr*>(RTA_DATA(a)); RTA_OK(o, nested_len); o = RTA_NEXT(o, nested_len))
          if (o->rta_type == TCA_BPF_NAME)
            name.assign(static_cast<const char*>(RTA_DATA(o)), strnlen(static_cast<const char*>(RTA_DATA(o)), RTA_PAYLOAD(o)));
      }
    }
  }
  close(fd);
  return name;
}

bool is_our_name(const std::string& name) {
  const std::string ours = std::string(TCPA_TC_PROG_NAME) + ":";
  return name.compare(0, ours.size(), ours) == 0;
}

}  // namespace

const char* tc_hook_name(TcHook hook) { return hook == TcHook::ingress ? "ingress" : "egress"; }

long query_our_filter(int ifindex, TcHook hook) {
  bpf_tc_hook h = hook_of(ifindex, hook);
  bpf_tc_opts o = our_slot();
  if (bpf_tc_query(&h, &o) != 0) return 0;  // none (or no clsact qdisc at all)
  return is_our_name(filter_name(ifindex, hook)) ? long(o.prog_id) : -1;
}

bool remove_stale_filter(int ifindex, TcHook hook) {
  if (query_our_filter(ifindex, hook) <= 0) return false;
  bpf_tc_hook h = hook_of(ifindex, hook);
  bpf_tc_opts o = our_slot();
  return bpf_tc_detach(&h, &o) == 0;
}

void attach_filter(int ifindex, const std::string& interface, TcHook hook, int prog_fd) {
  bpf_tc_hook h = hook_of(ifindex, hook);
  const std::string where = "tc " + std::string(tc_hook_name(hook)) + " filter on " + interface;
  // The clsact qdisc carries both hooks; one already there is fine.
  const int made = bpf_tc_hook_create(&h);
  if (made != 0 && made != -EEXIST) throw std::runtime_error(explain_bpf_error("adding a clsact qdisc to " + interface, made));
  bpf_tc_opts o = our_slot();
  o.prog_fd = prog_fd;
  const int r = bpf_tc_attach(&h, &o);
  if (r == -EEXIST) {
    char slot[48];
    std::snprintf(slot, sizeof slot, "handle 0x%x priority %u", TCPA_TC_HANDLE, TCPA_TC_PRIORITY);
    throw TcSlotTaken(where + ": a filter that is not tcpanomaly's holds " + slot + " (tc filter show dev " +
                      interface + " " + tc_hook_name(hook) + "); tcpanomaly leaves it alone and does not count there");
  }
  if (r != 0) throw std::runtime_error(explain_bpf_error("attaching the " + where, r));
}

void detach_filter(int ifindex, TcHook hook, std::uint32_t prog_id) {
  // A program id is unique while the program lives: the filter in our slot
  // running ours is ours, no name check (filter dump) needed.
  bpf_tc_hook h = hook_of(ifindex, hook);
  bpf_tc_opts o = our_slot();
  if (bpf_tc_query(&h, &o) != 0 || o.prog_id != prog_id) return;
  bpf_tc_opts slot = our_slot();
  bpf_tc_detach(&h, &slot);
}

}  // namespace tcpanomaly
