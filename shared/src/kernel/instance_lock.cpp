#include "kernel/instance_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace tcpanomaly {
namespace {

constexpr const char* kDir = "/run/tcpanomaly";

std::string namespace_id() {
  struct stat st{};
  if (stat("/proc/self/ns/net", &st) != 0) return "unknown";
  return std::to_string(static_cast<unsigned long long>(st.st_ino));
}

}  // namespace

InstanceLock::InstanceLock(const std::string& what) {
  mkdir(kDir, 0755);  // exists already, usually
  const std::string path = std::string(kDir) + "/" + what + "-netns-" + namespace_id() + ".lock";
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw std::runtime_error("can't open " + path + ": " + std::strerror(errno) +
                             " (it makes sure one tcpanomaly per network namespace owns the kernel-side programs)");
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    close(fd_);
    fd_ = -1;
    if (e == EWOULDBLOCK)
      throw std::runtime_error("another tcpanomaly in this network namespace has the kernel-side " + what +
                               " on (it holds " + path + "): run one instance with them per host or namespace, "
                               "and turn them off in the others");
    throw std::runtime_error("can't lock " + path + ": " + std::strerror(e));
  }
}

InstanceLock::~InstanceLock() {
  if (fd_ >= 0) close(fd_);  // releases the lock; the file stays (harmless, reused)
}

}  // namespace tcpanomaly
