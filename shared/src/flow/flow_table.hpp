// Fixed-capacity connection table: a preallocated array of Flow records and
// an open-addressed (linear probing) index over it. Nothing is allocated per
// packet; memory is fixed at construction (see memory_bytes()).
#pragma once

#include <cstdint>
#include <vector>

#include "flow/flow.hpp"
#include "flow/huge_array.hpp"

namespace tcpanomaly {

class FlowTable {
 public:
  // `separate_vlans`: the VLAN id is part of the key (see make_flow_key).
  explicit FlowTable(std::uint32_t capacity, bool separate_vlans = false);

  std::uint64_t hash(const FlowKey& k) const { return hash_key(k, seed_); }
  // make_flow_key() with this table's seed: the key of a packet and hash(key).
  std::uint64_t key_of(const DecodedPacket& p, FlowKey& k, int& sender_side) const {
    return make_flow_key(p, k, sender_side, seed_, vlan_mask_);
  }
  // Cache warming for the pipeline's ring of waiting segments (Pipeline::on_frame): the index slot
  // first, then, once that has arrived, the record it points to. Both are
  // hints only; find() is always the real lookup.
  void prefetch_slot(std::uint64_t h) const { prefetch(&slots_[static_cast<std::uint32_t>(h) & mask_]); }
  void prefetch_flow(std::uint64_t h) const {
    const IndexSlot& slot = slots_[static_cast<std::uint32_t>(h) & mask_];
    if (slot.flow == 0 || slot.tag != static_cast<std::uint32_t>(h >> 32)) return;
    // The analysis reads the key, both endpoints and the connection state.
    const char* f = reinterpret_cast<const char*>(&flows_[slot.flow - 1]);
    for (std::size_t off = 0; off < sizeof(Flow); off += 64) prefetch(f + off);
  }
  // Inline: once per packet.
  Flow* find(const FlowKey& k, std::uint64_t h) {
    const std::uint32_t tag = static_cast<std::uint32_t>(h >> 32);
    for (std::uint32_t i = static_cast<std::uint32_t>(h) & mask_;; i = (i + 1) & mask_) {
      const IndexSlot slot = slots_[i];
      if (slot.flow == 0) return nullptr;
      if (slot.tag == tag && flows_[slot.flow - 1].key == k) return &flows_[slot.flow - 1];
    }
  }
  // Returns nullptr when the table is full.
  Flow* insert(const FlowKey& k, std::uint64_t h);
  void remove(Flow* f);

  std::uint32_t size() const { return size_; }
  std::uint32_t capacity() const { return static_cast<std::uint32_t>(flows_.size()); }
  std::size_t memory_bytes() const;

  template <class Fn>
  void for_each(Fn&& fn) {
    // Every record below high_water_ has been constructed by insert().
    for (std::uint32_t i = 0; i < high_water_; ++i)
      if (flows_[i].in_use) fn(flows_[i]);
  }

 private:
  std::uint32_t index_of(const Flow* f) const { return static_cast<std::uint32_t>(f - flows_.data()); }

  HashSeed seed_;
  std::uint16_t vlan_mask_;
  HugeArray<Flow> flows_;                 // constructed when first handed out
  std::vector<std::uint32_t> free_;       // stack of removed flow indices (below high_water_)
  // One index entry: 8 bytes, so a probe costs one cache line, not two.
  // Trivial on purpose: all-zero bytes (fresh memory) is an empty slot.
  struct IndexSlot {
    std::uint32_t flow;  // flow index + 1; 0 = empty slot
    std::uint32_t tag;   // high hash bits, to skip most key compares
  };
  HugeArray<IndexSlot> slots_;
  std::uint32_t mask_;
  std::uint32_t size_ = 0;
  std::uint32_t high_water_ = 0;          // flows_[high_water_..] were never used
};

}  // namespace tcpanomaly
