#include "flow/flow_table.hpp"

#include <new>
#include <random>

namespace tcpanomaly {
namespace {

std::uint32_t index_slots_for(std::uint32_t capacity) {
  std::uint32_t slots = 2;
  while (slots < 2ull * capacity) slots <<= 1;  // load factor <= 0.5
  return slots;
}

}  // namespace

FlowTable::FlowTable(std::uint32_t capacity, bool separate_vlans)
    : vlan_mask_(separate_vlans ? 0xffff : 0),
      flows_(capacity ? capacity : 1),
      slots_(index_slots_for(capacity ? capacity : 1)) {
  capacity = static_cast<std::uint32_t>(flows_.size());
  // Room for every index, so remove() never allocates; filled only as flows
  // are removed (records never used come from high_water_), so the pages stay
  // untouched until then.
  free_.reserve(capacity);
  mask_ = static_cast<std::uint32_t>(slots_.size()) - 1;
  std::random_device rd;
  for (auto& w : seed_.w) w = std::uint64_t(rd()) << 32 | rd();
  // w[4] is the final multiplier (hash_words): odd, so the product's low half
  // is a bijection of the other operand and no input bit is lost there.
  seed_.w[4] |= 1;
}

std::size_t FlowTable::memory_bytes() const {
  return flows_.bytes() + free_.capacity() * sizeof(std::uint32_t) + slots_.bytes();
}

Flow* FlowTable::insert(const FlowKey& k, std::uint64_t h) {
  // Removed records first, most recent first; then never-used ones in order.
  std::uint32_t idx;
  if (!free_.empty()) {
    idx = free_.back();
    free_.pop_back();
  } else if (high_water_ < capacity()) {
    idx = high_water_++;
  } else {
    return nullptr;
  }
  Flow& f = *new (&flows_[idx]) Flow{};
  f.key = k;
  f.in_use = true;
  std::uint32_t i = static_cast<std::uint32_t>(h) & mask_;
  while (slots_[i].flow != 0) i = (i + 1) & mask_;
  slots_[i] = IndexSlot{idx + 1, static_cast<std::uint32_t>(h >> 32)};
  ++size_;
  return &f;
}

void FlowTable::remove(Flow* f) {
  const std::uint32_t idx = index_of(f);
  // Records keep no hash (4 more bytes would make them a fourth cache line): removal,
  // rare, recomputes it from the key.
  std::uint32_t i = static_cast<std::uint32_t>(hash(f->key)) & mask_;
  while (slots_[i].flow != idx + 1) i = (i + 1) & mask_;
  // Backward-shift deletion keeps every probe chain unbroken without tombstones.
  for (std::uint32_t j = (i + 1) & mask_; slots_[j].flow != 0; j = (j + 1) & mask_) {
    const std::uint32_t home = static_cast<std::uint32_t>(hash(flows_[slots_[j].flow - 1].key)) & mask_;
    // Move j into the hole at i if its home slot is not in (i, j] cyclically.
    if (((j - home) & mask_) >= ((j - i) & mask_)) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = IndexSlot{0, 0};
  f->in_use = false;
  free_.push_back(idx);
  --size_;
}

}  // namespace tcpanomaly
