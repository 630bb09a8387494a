/* The layout the tc counting program (tc_counters.bpf.c) and its reader
 * (kernel_counters.cpp) share: C, so both compilers read the same file. */
#ifndef TCPANOMALY_TC_COUNTERS_H
#define TCPANOMALY_TC_COUNTERS_H

#ifdef __cplusplus
#include <cstdint>
typedef std::uint8_t tcpa_u8;
typedef std::uint32_t tcpa_u32;
typedef std::uint64_t tcpa_u64;
#else
typedef __u8 tcpa_u8;
typedef __u32 tcpa_u32;
typedef __u64 tcpa_u64;
#endif

/* The program's name in the kernel (15 characters at most): with the fixed
 * handle and priority below, what marks a tc filter as ours. */
#define TCPA_TC_PROG_NAME "tcpa_count"
#define TCPA_TC_HANDLE 0x7463u
#define TCPA_TC_PRIORITY 1u

/* direction: as the wire analysis labels it (by local addresses). */
enum { TCPA_DIR_OUT = 0, TCPA_DIR_IN = 1, TCPA_DIR_TRANSIT = 2 };
/* proto for ip 4 and 6: the packets/bytes catalogue tags. */
enum { TCPA_PROTO_TCP = 0, TCPA_PROTO_UDP = 1, TCPA_PROTO_ICMP = 2, TCPA_PROTO_OTHER = 3 };
/* proto for ip 0, frames that are not (well-formed) IP. */
enum {
  TCPA_FRAME_NON_IP = 0,
  TCPA_FRAME_TRUNCATED = 1,
  TCPA_FRAME_BAD_IP_HEADER = 2,
  TCPA_FRAME_BAD_IPV6_EXTENSION = 3,
};

struct tcpa_tc_key {
  tcpa_u32 ifindex;
  tcpa_u8 direction; /* TCPA_DIR_*; TCPA_DIR_IN for ip 0 */
  tcpa_u8 ip;        /* 4, 6, or 0: not IP */
  tcpa_u8 proto;     /* TCPA_PROTO_* or TCPA_FRAME_* */
  tcpa_u8 pad;
};

/* packet_size bounds (bytes): the catalogue's (metrics.hpp kPacketSizeBounds). */
#define TCPA_SIZE_BOUNDS 7
#define TCPA_SIZE_BOUND_LIST {64, 128, 256, 512, 1024, 1500, 9000}

struct tcpa_tc_value {
  /* written for every packet, together: the first cache line or two */
  tcpa_u64 packets;
  tcpa_u64 bytes; /* IP length, as the wire analysis counts it */
  tcpa_u64 size_buckets[TCPA_SIZE_BOUNDS + 1];
  /* written only when not 0 */
  tcpa_u64 df;
  tcpa_u64 fragments;
  tcpa_u64 ecn_ce;        /* not TCP: the wire analysis counts TCP's */
  tcpa_u64 bad_ip_length; /* not TCP: IP length beyond the frame (clamped) */
};

/* Local prefixes, v4 as v4-mapped IPv6: an LPM trie key. */
struct tcpa_lpm_key {
  tcpa_u32 prefixlen;
  tcpa_u8 addr[16];
};

/* A local address: a hash key. */
struct tcpa_address {
  tcpa_u8 addr[16];
};

/* The local prefixes in the short lists the program scans itself (a map
 * lookup costs a helper call): an address is local when (address ^ net) &
 * mask is 0, the words holding the address's bytes as in the packet. IPv4
 * prefixes in the v4 list, the rest in the v6 list as two 64-bit words. Up
 * to TCPA_LOCAL_LIST of each; more, and all of them go in the maps
 * (local_addresses, local_prefixes) instead. */
struct tcpa_local_net4 {
  tcpa_u32 net;
  tcpa_u32 mask;
};
struct tcpa_local_net6 {
  tcpa_u64 net[2];
  tcpa_u64 mask[2];
};
#define TCPA_LOCAL_LIST 32

/* Counting without a hash lookup: an interface whose index is below
 * TCPA_IFINDEX_SLOTS gets one of TCPA_FAST_INTERFACES slots from user space
 * (interface_slot[ifindex], 1-based; 0: none), and its counters are the
 * TCPA_KEYS_PER_SLOT entries of the per-CPU array `slot_counts` at
 * (slot - 1) * TCPA_KEYS_PER_SLOT + tcpa_slot_key(). Other interfaces count
 * in the `counts` hash. */
#define TCPA_IFINDEX_SLOTS 65536
#define TCPA_FAST_INTERFACES 128
#define TCPA_KEYS_PER_SLOT 36 /* 3 directions x (not IP, 4, 6) x 4 protos */

static inline tcpa_u32 tcpa_slot_key(tcpa_u8 direction, tcpa_u8 ip, tcpa_u8 proto) {
  return (tcpa_u32)(direction % 3) * 12 + (ip == 4 ? 4 : ip == 6 ? 8 : 0) + (proto & 3);
}

#define TCPA_TC_MAX_KEYS 16384
#define TCPA_TC_MAX_INTERFACES 4096
#define TCPA_LOCAL_PREFIXES 1024

/* Frames the program could not count because `counts` was full, per
 * interface index (the per-CPU `overflow` map). User space attaches to at
 * most TCPA_TC_MAX_INTERFACES interfaces and deletes a gone interface's keys,
 * so this stays 0 unless a key per interface (29 at most) x interfaces
 * outgrows TCPA_TC_MAX_KEYS. */

#endif
