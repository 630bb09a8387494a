// A fixed-size array in its own anonymous mapping, marked for transparent
// huge pages. The flow table's records and index are touched at random:
// with 4 KiB pages nearly every lookup also misses the TLB (a 60 MiB table
// spans 15 000 pages); 2 MiB pages cut that to a few dozen. Falls back to
// normal pages silently where THP is off.
//
// The memory starts as zero bytes and is not touched here: the kernel only
// backs pages once they are used, so a large table costs nothing until
// connections fill it, and startup does not zero 60 MiB. Elements are not
// constructed: T must be trivial (all-zero bytes is its empty value) or the
// owner placement-news an element before its first use.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>
#include <type_traits>

#include "util/prefetch.hpp"

namespace tcpanomaly {

template <class T>
class HugeArray {
  static_assert(std::is_trivially_destructible_v<T>, "elements are never destroyed one by one");
  static_assert(std::is_trivially_copyable_v<T>, "elements live in raw memory");

 public:
  explicit HugeArray(std::size_t n) : size_(n) {
    // Whole huge pages for big arrays; small ones (tests, tiny tables) stay small.
    constexpr std::size_t kHuge = 2u << 20, kPage = 4096;
    const std::size_t unit = n * sizeof(T) >= kHuge ? kHuge : kPage;
    bytes_ = (n * sizeof(T) + unit - 1) / unit * unit;
    if (bytes_ == 0) bytes_ = kPage;
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    if (unit == kHuge) madvise(p, bytes_, MADV_HUGEPAGE);
    data_ = static_cast<T*>(p);
  }
  ~HugeArray() { munmap(data_, bytes_); }
  HugeArray(const HugeArray&) = delete;
  HugeArray& operator=(const HugeArray&) = delete;

  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return bytes_; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0, bytes_ = 0;
};

}  // namespace tcpanomaly
