#include "kernel/instance_lock.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <stdexcept>

namespace tcpanomaly {

InstanceLock::InstanceLock(const std::string& what) {
  const std::string name = "tcpanomaly-" + what;
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("can't make the instance lock socket: ") + std::strerror(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, name.data(), std::min(name.size(), sizeof addr.sun_path - 2));  // sun_path[0] = 0: abstract
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    const int e = errno;
    close(fd_);
    fd_ = -1;
    if (e == EADDRINUSE)
      throw std::runtime_error("another tcpanomaly in this network namespace runs kernel-side programs (" + what +
                               ") already (it holds the abstract socket @" + name + ", see `ss -xlp`): run one "
                               "instance with them per host or namespace, and turn them off in the others");
    throw std::runtime_error("can't bind the instance lock @" + name + ": " + std::strerror(e));
  }
}

InstanceLock::~InstanceLock() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace tcpanomaly
