// The host's network interfaces as they come and go: a rtnetlink socket
// subscribed to link notifications (RTMGRP_LINK), so a new interface is seen
// when the kernel announces it, not at the next poll. On start every
// existing interface is reported once, as if it had just appeared.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace tcpanomaly {

class LinkWatch {
 public:
  // `present`: the interface exists (new, or changed); `gone`: deleted or
  // moved to another network namespace. Called on the watch's own thread.
  using Event = std::function<void(const std::string& name, bool present)>;
  // `every_100ms` runs on the same thread between events (the engine's
  // clock, when no capture thread may be left to tell it the time).
  // Throws std::runtime_error when the netlink socket can't be opened.
  LinkWatch(Event on_event, std::function<void()> every_100ms);
  ~LinkWatch();
  LinkWatch(const LinkWatch&) = delete;
  LinkWatch& operator=(const LinkWatch&) = delete;

 private:
  void run();
  void read_messages();
  int fd_ = -1;
  Event on_event_;
  std::function<void()> every_100ms_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tcpanomaly
