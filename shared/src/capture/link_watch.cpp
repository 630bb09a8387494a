#include "capture/link_watch.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace tcpanomaly {

LinkWatch::LinkWatch(Event on_event, std::function<void()> every_100ms)
    : on_event_(std::move(on_event)), every_100ms_(std::move(every_100ms)) {
  fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd_ < 0) throw std::runtime_error(std::string("netlink socket for interface patterns: ") + std::strerror(errno));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  local.nl_groups = RTMGRP_LINK;
  // Subscribed before the dump is asked for: a link that appears in between
  // is reported twice (harmless), never missed.
  if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    const int e = errno;
    close(fd_);
    throw std::runtime_error(std::string("netlink bind for interface patterns: ") + std::strerror(e));
  }
  struct {
    nlmsghdr header;
    ifinfomsg body;
  } dump{};
  dump.header.nlmsg_len = sizeof dump;
  dump.header.nlmsg_type = RTM_GETLINK;
  dump.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  dump.body.ifi_family = AF_UNSPEC;
  if (send(fd_, &dump, sizeof dump, 0) < 0) {
    const int e = errno;
    close(fd_);
    throw std::runtime_error(std::string("netlink link dump: ") + std::strerror(e));
  }
  thread_ = std::thread([this] { run(); });
}

LinkWatch::~LinkWatch() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
  close(fd_);
}

void LinkWatch::run() {
  while (!stopping_.load()) {
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, 100) > 0) read_messages();
    if (every_100ms_) every_100ms_();
  }
}

void LinkWatch::read_messages() {
  alignas(nlmsghdr) char buf[32768];
  for (;;) {
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return;  // EAGAIN: drained (ENOBUFS, an overrun, loses events: the next ones still come)
    auto len = static_cast<unsigned int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) continue;
      auto* info = static_cast<ifinfomsg*>(NLMSG_DATA(h));
      int attr_len = static_cast<int>(IFLA_PAYLOAD(h));
      for (auto* a = IFLA_RTA(info); RTA_OK(a, attr_len); a = RTA_NEXT(a, attr_len)) {
        if (a->rta_type != IFLA_IFNAME) continue;
        const auto* name = static_cast<const char*>(RTA_DATA(a));
        const std::string ifname(name, strnlen(name, RTA_PAYLOAD(a)));
        on_event_(ifname, h->nlmsg_type == RTM_NEWLINK);
        break;
      }
    }
  }
}

}  // namespace tcpanomaly
