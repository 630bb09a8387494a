// One interface on several capture threads: their packet sockets join one
// PACKET_FANOUT group, and the kernel hands each frame to one of them by a
// hash of its flow (PACKET_FANOUT_HASH, with IP fragments reassembled first
// so a datagram's pieces stay together).
//
// Why the kernel's hash: it is skb_get_hash(), which for a software-computed
// hash (veth, loopback, NICs without RSS hashing) orders the two endpoints
// before hashing (flow_dissector's "consistentify"), so both directions of
// a connection reach the same thread, and each thread's flow table sees whole
// connections. A NIC that supplies its own RSS hash (Toeplitz with a
// non-symmetric key) can split the directions; there use one thread, or
// configure the NIC with a symmetric key (ethtool -X ... hkey with a
// repeating 0x6d5a pattern). An eBPF fanout program computing its own
// symmetric hash would remove that caveat (PACKET_FANOUT_EBPF).
#pragma once

#include <cstdint>
#include <mutex>

namespace tcpanomaly {

class FanoutGroup {
 public:
  // Puts the (bound, running) packet socket `fd` into the group: the first
  // member asks the kernel for a group id no other process uses
  // (PACKET_FANOUT_FLAG_UNIQUEID), the others join it. Throws
  // std::runtime_error naming what the kernel refused.
  void join(int fd);
  // A member's socket closed; the last one to leave forgets the id (the
  // kernel frees the group with it).
  void leave();

 private:
  std::mutex lock_;
  std::uint16_t id_ = 0;
  bool have_id_ = false;
  int members_ = 0;
};

}  // namespace tcpanomaly
