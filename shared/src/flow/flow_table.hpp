// Fixed-capacity connection table: a preallocated array of Flow records and
// an open-addressed (linear probing) index over it. Nothing is allocated per
// packet; memory is fixed at construction (see memory_bytes()).
#pragma once

#include <cstdint>
#include <vector>

#include "flow/flow.hpp"

namespace tcpanomaly {

class FlowTable {
 public:
  explicit FlowTable(std::uint32_t capacity);

  std::uint64_t hash(const FlowKey& k) const { return hash_key(k, seed_); }
  Flow* find(const FlowKey& k, std::uint64_t h);
  // Returns nullptr when the table is full.
  Flow* insert(const FlowKey& k, std::uint64_t h);
  void remove(Flow* f);

  std::uint32_t size() const { return size_; }
  std::uint32_t capacity() const { return static_cast<std::uint32_t>(flows_.size()); }
  std::size_t memory_bytes() const;

  template <class Fn>
  void for_each(Fn&& fn) {
    for (std::uint32_t i = 0; i < high_water_; ++i)
      if (flows_[i].in_use) fn(flows_[i]);
  }

 private:
  std::uint32_t index_of(const Flow* f) const { return static_cast<std::uint32_t>(f - flows_.data()); }

  std::uint64_t seed_;
  std::vector<Flow> flows_;
  std::vector<std::uint32_t> free_;       // stack of unused flow indices
  std::vector<std::uint32_t> slot_flow_;  // flow index + 1; 0 = empty slot
  std::vector<std::uint32_t> slot_tag_;   // high hash bits, to skip most key compares
  std::uint32_t mask_;
  std::uint32_t size_ = 0;
  std::uint32_t high_water_ = 0;          // flows_[high_water_..] were never used
};

}  // namespace tcpanomaly
