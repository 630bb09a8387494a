// One kernel-counting tcpanomaly per network namespace: our tc filters are
// recognised by a fixed handle and name, so a second instance would take
// the first's for a killed one's and remove them. The lock is an abstract
// unix socket name: abstract names belong to a network namespace (the scope
// of the filters), need no file or privilege, and the kernel frees them
// when the process dies, however it dies.
#pragma once

#include <string>

namespace tcpanomaly {

class InstanceLock {
 public:
  // Throws std::runtime_error if another live process holds it.
  explicit InstanceLock(const std::string& what);
  ~InstanceLock();
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace tcpanomaly
