// The minimal tc program the counting program's cost is measured against.
#pragma once

struct minimal_counter;

namespace tcpanomaly {

class MinimalCounter {
 public:
  MinimalCounter();
  ~MinimalCounter();
  MinimalCounter(const MinimalCounter&) = delete;
  MinimalCounter& operator=(const MinimalCounter&) = delete;
  int fd() const;

 private:
  minimal_counter* skel_;
};

}  // namespace tcpanomaly
