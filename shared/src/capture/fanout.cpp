#include "capture/fanout.hpp"

#include <linux/if_packet.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace tcpanomaly {

void FanoutGroup::join(int fd) {
  std::lock_guard<std::mutex> g(lock_);
  const std::uint32_t mode = PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG;
  std::uint32_t arg = have_id_ ? (id_ | mode << 16) : ((mode | PACKET_FANOUT_FLAG_UNIQUEID) << 16);
  if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0)
    throw std::runtime_error(std::string("PACKET_FANOUT (--capture-threads): ") + std::strerror(errno) +
                             "; the kernel needs packet fanout (Linux 4.4 or later for unique group ids)");
  if (!have_id_) {
    std::uint32_t got = 0;
    socklen_t len = sizeof got;
    if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &got, &len) != 0)
      throw std::runtime_error(std::string("PACKET_FANOUT group id: ") + std::strerror(errno));
    id_ = static_cast<std::uint16_t>(got & 0xffff);
    have_id_ = true;
  }
  ++members_;
}

void FanoutGroup::leave() {
  std::lock_guard<std::mutex> g(lock_);
  if (members_ > 0 && --members_ == 0) have_id_ = false;
}

}  // namespace tcpanomaly
