#include "support/frames.hpp"

#include <tins/tins.h>

#include <cstring>

#include "decode/decoder.hpp"

namespace tcpanomaly::test {
namespace {

Tins::TCP options_segment() {
  Tins::TCP tcp(kPortB, kPortA);  // libtins: (destination, source)
  tcp.seq(0x01020304);
  tcp.ack_seq(0x0a0b0c0d);
  tcp.flags(Tins::TCP::SYN | Tins::TCP::ACK);
  tcp.window(4321);
  tcp.mss(1460);
  tcp.winscale(7);
  tcp.sack_permitted();
  tcp.timestamp(111, 222);
  tcp.sack({100, 200, 300, 400});
  return tcp;
}

Bytes serialized(Tins::PDU& pdu) { return pdu.serialize(); }

}  // namespace

Bytes ipv4_tcp_with_options(std::uint32_t payload) {
  Tins::IP ip(kAddrB, kAddrA);  // libtins: (destination, source)
  auto pdu = ip / options_segment();
  if (payload) pdu /= Tins::RawPDU(std::string(payload, 'x'));
  return serialized(pdu);
}

Bytes ipv6_tcp_with_extensions(std::uint32_t payload) {
  Tins::IPv6 ip(kAddr6B, kAddr6A);
  const std::uint8_t pad[6] = {1, 4, 0, 0, 0, 0};  // PadN option filling the 8-byte header
  ip.add_header(Tins::IPv6::ext_header(Tins::IPv6::HOP_BY_HOP, pad, pad + 6));
  ip.add_header(Tins::IPv6::ext_header(Tins::IPv6::DESTINATION_OPTIONS, pad, pad + 6));
  auto pdu = ip / options_segment();
  if (payload) pdu /= Tins::RawPDU(std::string(payload, 'x'));
  return serialized(pdu);
}

std::size_t link_header_length(int link_type) {
  switch (link_type) {
    case linktype::ethernet: return 14;
    case linktype::linux_sll: return 16;
    case linktype::linux_sll2: return 20;
    case linktype::null: case linktype::loop: return 4;
    default: return 0;
  }
}

const std::vector<int>& supported_link_types() {
  static const std::vector<int> types = {
      linktype::null, linktype::ethernet, linktype::raw, linktype::dlt_raw_bsd, linktype::dlt_raw_obsd,
      linktype::loop, linktype::linux_sll, linktype::ipv4, linktype::ipv6, linktype::linux_sll2};
  return types;
}

Bytes wrap(int link_type, const Bytes& ip) {
  const bool v6 = !ip.empty() && (ip[0] >> 4) == 6;
  const std::uint16_t ethertype = v6 ? 0x86DD : 0x0800;
  Bytes head;
  switch (link_type) {
    case linktype::ethernet:  // by hand: libtins pads and retypes a bare EthernetII
      head = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0, 0};
      put16(head, 12, ethertype);
      break;
    case linktype::linux_sll: {
      Tins::SLL sll;
      sll.protocol(ethertype);
      head = sll.serialize();
      head.resize(16);
      break;
    }
    case linktype::linux_sll2:
      head.assign(20, 0);  // protocol type first, then reserved, ifindex, ...
      put16(head, 0, ethertype);
      head[10] = 1;        // ARPHRD_ETHER
      head[12] = 4;        // packet type "outgoing"
      head[13] = 6;        // address length
      break;
    case linktype::null: {  // family in the writer's (here: host) byte order
      const std::uint32_t family = v6 ? 24 : 2;
      head.resize(4);
      std::memcpy(head.data(), &family, 4);
      break;
    }
    case linktype::loop:  // family in network byte order
      head = {0, 0, 0, static_cast<std::uint8_t>(v6 ? 24 : 2)};
      break;
    default:
      break;  // raw IP link types carry no header
  }
  head.insert(head.end(), ip.begin(), ip.end());
  return head;
}

}  // namespace tcpanomaly::test
