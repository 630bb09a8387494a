#include "flow/flow_table.hpp"

#include <random>

namespace tcpanomaly {

FlowTable::FlowTable(std::uint32_t capacity) {
  if (capacity == 0) capacity = 1;
  flows_.resize(capacity);
  free_.reserve(capacity);
  for (std::uint32_t i = capacity; i-- > 0;) free_.push_back(i);
  std::uint32_t slots = 2;
  while (slots < 2ull * capacity) slots <<= 1;  // load factor <= 0.5
  slot_flow_.assign(slots, 0);
  slot_tag_.assign(slots, 0);
  mask_ = slots - 1;
  std::random_device rd;
  seed_ = std::uint64_t(rd()) << 32 | rd();
}

std::size_t FlowTable::memory_bytes() const {
  return flows_.capacity() * sizeof(Flow) + free_.capacity() * sizeof(std::uint32_t) +
         (slot_flow_.capacity() + slot_tag_.capacity()) * sizeof(std::uint32_t);
}

Flow* FlowTable::find(const FlowKey& k, std::uint64_t h) {
  const std::uint32_t tag = static_cast<std::uint32_t>(h >> 32);
  for (std::uint32_t i = static_cast<std::uint32_t>(h) & mask_;; i = (i + 1) & mask_) {
    const std::uint32_t f = slot_flow_[i];
    if (f == 0) return nullptr;
    if (slot_tag_[i] == tag && flows_[f - 1].key == k) return &flows_[f - 1];
  }
}

Flow* FlowTable::insert(const FlowKey& k, std::uint64_t h) {
  if (free_.empty()) return nullptr;
  const std::uint32_t idx = free_.back();
  free_.pop_back();
  if (idx >= high_water_) high_water_ = idx + 1;
  Flow& f = flows_[idx];
  f = Flow{};
  f.key = k;
  f.hash = static_cast<std::uint32_t>(h);
  f.in_use = true;
  std::uint32_t i = static_cast<std::uint32_t>(h) & mask_;
  while (slot_flow_[i] != 0) i = (i + 1) & mask_;
  slot_flow_[i] = idx + 1;
  slot_tag_[i] = static_cast<std::uint32_t>(h >> 32);
  ++size_;
  return &f;
}

void FlowTable::remove(Flow* f) {
  const std::uint32_t idx = index_of(f);
  std::uint32_t i = f->hash & mask_;
  while (slot_flow_[i] != idx + 1) i = (i + 1) & mask_;
  // Backward-shift deletion keeps every probe chain unbroken without tombstones.
  for (std::uint32_t j = (i + 1) & mask_; slot_flow_[j] != 0; j = (j + 1) & mask_) {
    const std::uint32_t home = flows_[slot_flow_[j] - 1].hash & mask_;
    // Move j into the hole at i if its home slot is not in (i, j] cyclically.
    if (((j - home) & mask_) >= ((j - i) & mask_)) {
      slot_flow_[i] = slot_flow_[j];
      slot_tag_[i] = slot_tag_[j];
      i = j;
    }
  }
  slot_flow_[i] = 0;
  f->in_use = false;
  free_.push_back(idx);
  --size_;
}

}  // namespace tcpanomaly
