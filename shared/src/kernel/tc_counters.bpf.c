// SPDX-License-Identifier: GPL-2.0-only
/* The kernel-side packet and byte counters: a tc (clsact) program on ingress
 * and egress of each watched interface. It classifies a frame the way the
 * wire analysis's decoder does (shared/src/decode/decoder.cpp: Ethernet,
 * VLAN tags, IPv4, IPv6 and its extension headers) and adds it to a per-CPU
 * counter under (interface, direction, IP version, protocol). It never
 * changes or drops a packet, and returns TC_ACT_UNSPEC so the filters after
 * it (a user's own) still run.
 *
 * Malformed frames: where the fixed IP header names TCP the capture's `tcp`
 * filter takes the frame and the wire analysis counts the decode error, so
 * only the others are counted here (no frame is counted twice).
 *
 * GPL: the verifier only offers some helpers to GPL programs; none is needed
 * here, but the choice keeps it open. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "tc_counters.h"

char LICENSE[] SEC("license") = "GPL";

/* Cost: on this kind of machine a helper call (a map lookup, a
 * bpf_skb_load_bytes) costs as much as the whole of a minimal program, so
 * the common path makes none: headers are read straight from the packet,
 * local addresses are scanned in a short list, and an interface's counters
 * are an array slot (an array lookup the verifier inlines). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, TCPA_FAST_INTERFACES * TCPA_KEYS_PER_SLOT);
  __type(key, __u32);
  __type(value, struct tcpa_tc_value);
} slot_counts SEC(".maps");

/* Written by user space when it attaches to an interface (see tc_counters.h). */
__u16 interface_slot[TCPA_IFINDEX_SLOTS];

/* Interfaces without a slot. Not preallocated: a per-CPU preallocated
 * hash this size would take its full size on every CPU. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, TCPA_TC_MAX_KEYS);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct tcpa_tc_key);
  __type(value, struct tcpa_tc_value);
} counts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, TCPA_LOCAL_PREFIXES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct tcpa_lpm_key);
  __type(value, __u8);
} local_prefixes SEC(".maps");

/* When there are more than TCPA_LOCAL_LIST local prefixes: the whole ones
 * (/32, /128: the host's own addresses) in a hash, one lookup a third of an
 * LPM trie's, and the trie asked only if --local-net gave shorter ones. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, TCPA_LOCAL_PREFIXES);
  __type(key, struct tcpa_address);
  __type(value, __u8);
} local_addresses SEC(".maps");

/* Set by user space before loading (read-only: the verifier prunes on it):
 * local_prefixes holds shorter prefixes too. */
volatile const __u8 has_local_networks = 0;
/* The short lists (tc_counters.h), or, if local_in_maps, the maps. */
volatile const __u8 local_in_maps = 0;
volatile const __u32 local_v4_count = 0;
volatile const __u32 local_v6_count = 0;
volatile const struct tcpa_local_net4 local_v4[TCPA_LOCAL_LIST] = {};
volatile const struct tcpa_local_net6 local_v6[TCPA_LOCAL_LIST] = {};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, TCPA_TC_MAX_INTERFACES);
  __type(key, __u32);
  __type(value, __u64);
} overflow SEC(".maps");

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86DD
#define MAX_VLAN_TAGS 8
#define MAX_IPV6_EXTENSIONS 16  /* as the decoder (kMaxIpv6Extensions) */
#define IPPROTO_TCP_ 6
/* Rare branches laid out after the common path: fewer instruction-cache
 * lines per packet. */
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Copies len bytes at offset off of the frame into buf: straight from the
 * packet when its linear part holds them (the common case: no helper call),
 * else with bpf_skb_load_bytes (paged data). 0, or < 0 past the frame's end.
 * The offset bound keeps the verifier's view of the pointer finite. */
static __always_inline int read_bytes(struct __sk_buff *skb, __u32 off, void *buf, __u32 len) {
  void *data = (void *)(long)skb->data;
  void *end = (void *)(long)skb->data_end;
  if (!unlikely(off >= 0x4000 || data + off + len > end)) {
    /* word loads, not byte loads: the JIT's targets load unaligned words
       fine (the verifier allows it where the CPU does) */
    __builtin_memcpy(buf, (const __u64 *)(data + off), len);
    return 0;
  }
  return bpf_skb_load_bytes(skb, off, buf, len);
}

static __always_inline int is_vlan(__u16 type) { return type == 0x8100 || type == 0x88A8 || type == 0x9100; }

static __always_inline int is_ipv6_extension(__u8 nh) {
  return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60 || nh == 135 || nh == 139 || nh == 140;
}

static __always_inline __u8 proto_tag(__u8 protocol) {
  switch (protocol) {
    case 6: return TCPA_PROTO_TCP;
    case 17: return TCPA_PROTO_UDP;
    case 1: case 58: return TCPA_PROTO_ICMP;
    default: return TCPA_PROTO_OTHER;
  }
}

static __always_inline __u32 size_bucket(__u32 len) {
  const __u32 bounds[TCPA_SIZE_BOUNDS] = TCPA_SIZE_BOUND_LIST;
  __u32 b = 0;
#pragma unroll
  for (int i = 0; i < TCPA_SIZE_BOUNDS; i++) b += len > bounds[i];
  return b;
}

static __always_inline struct tcpa_tc_value *value_of(const struct tcpa_tc_key *key) {
  if (key->ifindex < TCPA_IFINDEX_SLOTS) {
    const __u32 slot = interface_slot[key->ifindex];
    if (!unlikely(slot == 0 || slot > TCPA_FAST_INTERFACES)) {
      const __u32 at = (slot - 1) * TCPA_KEYS_PER_SLOT + tcpa_slot_key(key->direction, key->ip, key->proto);
      return bpf_map_lookup_elem(&slot_counts, &at);
    }
  }
  struct tcpa_tc_value *v = bpf_map_lookup_elem(&counts, key);
  if (v) return v;
  const struct tcpa_tc_value zero = {};
  bpf_map_update_elem(&counts, key, &zero, BPF_NOEXIST);  /* another CPU may have made it */
  v = bpf_map_lookup_elem(&counts, key);
  if (!v) {  /* the map is full: counted, reported as a metric */
    __u64 *lost = bpf_map_lookup_elem(&overflow, &key->ifindex);
    if (lost) {
      *lost += 1;
    } else {
      const __u64 one = 1;
      bpf_map_update_elem(&overflow, &key->ifindex, &one, BPF_NOEXIST);
    }
  }
  return v;
}

/* A frame that is not (well-formed) IP: kind is TCPA_FRAME_*. A function
 * of its own (global: verified once) rather than a copy at each of the
 * parsers' dozen exits: the program's size is its cost too, in
 * instruction-cache misses between the packets of a live stack. */
__attribute__((noinline)) int tcpa_count_frame(struct __sk_buff *skb, __u32 kind) {
  const struct tcpa_tc_key key = {.ifindex = skb->ifindex, .direction = TCPA_DIR_IN, .ip = 0, .proto = kind & 3};
  struct tcpa_tc_value *v = value_of(&key);
  if (v) v->packets += 1;
  return TC_ACT_UNSPEC;
}

/* Malformed IP: the wire analysis's if its protocol byte (at `at`) says TCP. */
static __always_inline int count_malformed(struct __sk_buff *skb, __u32 at, __u8 kind) {
  __u8 protocol;
  if (read_bytes(skb, at, &protocol, 1) == 0 && protocol == IPPROTO_TCP_) return TC_ACT_UNSPEC;
  return tcpa_count_frame(skb, kind);
}

static __always_inline int in_maps(const struct tcpa_address *a) {
  if (bpf_map_lookup_elem(&local_addresses, a)) return 1;
  if (!has_local_networks) return 0;
  struct tcpa_lpm_key k = {.prefixlen = 128};
  __builtin_memcpy(k.addr, a->addr, 16);
  return bpf_map_lookup_elem(&local_prefixes, &k) != 0;
}

/* a: an IPv4 address as it lies in the packet. */
static __always_inline int is_local4(__u32 a) {
  if (local_in_maps) {
    struct tcpa_address m = {.addr = {[10] = 0xff, [11] = 0xff}};
    __builtin_memcpy(m.addr + 12, &a, 4);
    return in_maps(&m);
  }
#pragma clang loop unroll(disable)
  for (__u32 i = 0; i < TCPA_LOCAL_LIST && i < local_v4_count; i++)
    if (((a ^ local_v4[i].net) & local_v4[i].mask) == 0) return 1;
  return 0;
}

/* a: an IPv6 address as it lies in the packet, as two words. */
static __always_inline int is_local6(const __u64 *a) {
  if (local_in_maps) {
    struct tcpa_address m;
    __builtin_memcpy(m.addr, a, 16);
    return in_maps(&m);
  }
#pragma clang loop unroll(disable)
  for (__u32 i = 0; i < TCPA_LOCAL_LIST && i < local_v6_count; i++) {
    const volatile struct tcpa_local_net6 *n = &local_v6[i];
    if ((((a[0] ^ n->net[0]) & n->mask[0]) | ((a[1] ^ n->net[1]) & n->mask[1])) == 0) return 1;
  }
  return 0;
}

/* What the IP parsers find. */
struct ip_facts {
  __u8 ip, protocol, ecn, df, fragment, bad_length;
  __u32 length;  /* IP length */
  __u32 l4;      /* offset of the transport header */
};

/* The packets a GSO (or GRO) packet is on the wire. On egress tc runs before
 * the stack cuts a GSO packet into segments, and the capture (like the wire)
 * sees the segments: each carries the same headers and gso_size bytes of
 * payload, the last one the rest. Returns the segment count and sets their
 * total IP bytes and the first and last segment's IP length. */
static __always_inline __u32 segments(struct __sk_buff *skb, __u8 protocol, __u32 l3, __u32 l4, __u32 length,
                                      __u32 *bytes, __u32 *first, __u32 *last) {
  const __u32 gso = skb->gso_size;
  if (gso == 0 || (protocol != 6 && protocol != 17)) return 1;
  __u32 l4_header = 8;
  if (protocol == 6) {
    __u8 offset;
    if (read_bytes(skb, l4 + 12, &offset, 1) < 0) return 1;
    l4_header = (__u32)(offset >> 4) * 4;
  }
  const __u32 headers = (l4 > l3 ? l4 - l3 : 0) + l4_header;
  if (length <= headers) return 1;
  const __u32 payload = length - headers;
  if (payload > 0x1000000) return 1;  /* not a length GSO makes; also bounds the verifier's view */
  const __u32 n = (payload + gso - 1) / gso;
  *bytes = payload + n * headers;
  *first = gso + headers;
  *last = payload - (n - 1) * gso + headers;
  return n;
}

/* Counts one IP packet; addresses: its source's and destination's,
 * aligned, as in the packet. Inline: on the common path no function returns
 * (where the kernel mitigates return-stack attacks, as with SRSO's safe
 * RET on this machine's AMD CPUs, a return costs as much as a minimal
 * program), so no helper call and no BPF-to-BPF call either. */
static __always_inline int count_ip(struct __sk_buff *skb, __u32 l3, const struct ip_facts *f, const void *addresses) {
  struct tcpa_tc_key key = {.ifindex = skb->ifindex, .ip = f->ip, .proto = proto_tag(f->protocol)};
  if (f->ip == 6) {
    const __u64 *a = addresses;  /* source, destination */
    key.direction = is_local6(a) ? TCPA_DIR_OUT : is_local6(a + 2) ? TCPA_DIR_IN : TCPA_DIR_TRANSIT;
  } else {
    const __u32 *a = addresses;
    key.direction = is_local4(a[0]) ? TCPA_DIR_OUT : is_local4(a[1]) ? TCPA_DIR_IN : TCPA_DIR_TRANSIT;
  }
  struct tcpa_tc_value *v = value_of(&key);
  if (unlikely(!v)) return TC_ACT_UNSPEC;
  __u32 n = 1, bytes = f->length, first = f->length, last = f->length;
  if (unlikely(skb->gso_segs > 1) && !f->fragment)
    n = segments(skb, f->protocol, l3, f->l4, f->length, &bytes, &first, &last);
  v->packets += n;
  v->bytes += bytes;
  if (unlikely(n > 1)) v->size_buckets[size_bucket(first) & 7] += n - 1;
  v->size_buckets[size_bucket(last) & 7] += 1;
  if (f->df) v->df += n;
  if (unlikely(f->fragment)) v->fragments += 1;
  if (unlikely(f->ecn == 3 || f->bad_length) && key.proto != TCPA_PROTO_TCP) {
    if (f->ecn == 3) v->ecn_ce += n;
    if (f->bad_length) v->bad_ip_length += 1;
  }
  return TC_ACT_UNSPEC;
}

static __always_inline int ipv4(struct __sk_buff *skb, __u32 l3, struct ip_facts *f) {
  const __u32 wire = skb->len > l3 ? skb->len - l3 : 0;
  __u8 h[20] __attribute__((aligned(8)));  /* word copies, see read_bytes */
  if (unlikely(read_bytes(skb, l3, h, 20) < 0)) return count_malformed(skb, l3 + 9, TCPA_FRAME_TRUNCATED);
  const __u32 header = (__u32)(h[0] & 0x0f) * 4;
  if (unlikely((h[0] >> 4) != 4 || header < 20)) return count_malformed(skb, l3 + 9, TCPA_FRAME_BAD_IP_HEADER);
  if (unlikely(wire < header)) return count_malformed(skb, l3 + 9, TCPA_FRAME_TRUNCATED);
  __u32 total = (__u32)h[2] << 8 | h[3];
  if (unlikely(total == 0)) total = wire;  /* TSO/GSO: length 0 */
  if (unlikely(total < header)) return count_malformed(skb, l3 + 9, TCPA_FRAME_BAD_IP_HEADER);
  if (unlikely(total > wire)) {
    total = wire;
    f->bad_length = 1;
  }
  f->ip = 4;
  f->length = total;
  f->ecn = h[1] & 3;
  const __u16 frag = (__u16)h[6] << 8 | h[7];
  f->df = (frag & 0x4000) != 0;
  f->fragment = (frag & 0x2000) || (frag & 0x1fff);
  f->protocol = h[9];
  f->l4 = l3 + header;
  return count_ip(skb, l3, f, h + 12);
}

/* Walks IPv6 extension headers from `at` (the first one's type: next) to
 * the upper protocol. A function of its own (global: verified once, on its
 * own) and off the common path: with the VLAN tags' ways in, its loop
 * outgrew the verifier's budget. Returns the upper header's offset
 * (bits 0-16), its protocol (bits 17-24) and whether the packet is a
 * fragment (bit 25); or -1 when the frame was counted as malformed. */
__attribute__((noinline)) int tcpa_ipv6_extensions(struct __sk_buff *skb, __u32 at, __u32 remaining, __u32 next) {
  int fragment = 0, i;
#pragma clang loop unroll(disable)
  for (i = 0; i < MAX_IPV6_EXTENSIONS && is_ipv6_extension(next); i++) {
    __u8 e[4];
    if (at > 0x10000 || bpf_skb_load_bytes(skb, at, e, 4) < 0 || skb->len < at + 8)
      return tcpa_count_frame(skb, TCPA_FRAME_TRUNCATED), -1;
    __u32 len;
    int later_fragment = 0;
    if (next == 44) {  /* fragment header, 8 bytes; atomic fragments are whole packets */
      len = 8;
      const __u16 off_flags = (__u16)e[2] << 8 | e[3];
      if ((off_flags & 1) || (off_flags >> 3)) {
        fragment = 1;
        later_fragment = (off_flags >> 3) != 0;
      }
    } else if (next == 51) {
      len = ((__u32)e[1] + 2) * 4;  /* AH counts 4-byte words */
    } else {
      len = ((__u32)e[1] + 1) * 8;
    }
    if (len > remaining) return tcpa_count_frame(skb, TCPA_FRAME_BAD_IPV6_EXTENSION), -1;
    if (skb->len < at + len) return tcpa_count_frame(skb, TCPA_FRAME_TRUNCATED), -1;
    next = e[0];
    remaining -= len;
    at += len;
    if (later_fragment) break;  /* no upper header follows */
  }
  if (i == MAX_IPV6_EXTENSIONS && is_ipv6_extension(next)) return tcpa_count_frame(skb, TCPA_FRAME_BAD_IPV6_EXTENSION), -1;
  if (at > 0x1ffff) return tcpa_count_frame(skb, TCPA_FRAME_TRUNCATED), -1;
  return (int)(at | (next & 0xff) << 17 | (__u32)fragment << 25);
}

static __always_inline int ipv6(struct __sk_buff *skb, __u32 l3, struct ip_facts *f) {
  const __u32 wire = skb->len > l3 ? skb->len - l3 : 0;
  __u8 h[40] __attribute__((aligned(8)));
  if (unlikely(read_bytes(skb, l3, h, 40) < 0)) return count_malformed(skb, l3 + 6, TCPA_FRAME_TRUNCATED);
  if (unlikely((h[0] >> 4) != 6)) return count_malformed(skb, l3 + 6, TCPA_FRAME_BAD_IP_HEADER);
  __u32 payload = (__u32)h[4] << 8 | h[5];
  if (payload == 0) payload = wire - 40;  /* jumbogram or GSO */
  if (payload + 40 > wire) {
    payload = wire - 40;
    f->bad_length = 1;
  }
  f->ip = 6;
  f->length = payload + 40;
  f->ecn = (h[1] >> 4) & 3;
  f->protocol = h[6];  /* not TCP after extension headers: the capture does not take these */
  f->l4 = l3 + 40;
  if (unlikely(is_ipv6_extension(f->protocol))) {
    const int r = tcpa_ipv6_extensions(skb, l3 + 40, payload, f->protocol);
    if (r < 0) return TC_ACT_UNSPEC;
    f->l4 = r & 0x1ffff;
    f->protocol = (r >> 17) & 0xff;
    f->fragment = (r >> 25) & 1;
  }
  return count_ip(skb, l3, f, h + 8);
}

SEC("tc")
int tcpa_count(struct __sk_buff *skb) {
  /* tc hands the program the frame from its Ethernet header on, on both
   * hooks; a VLAN tag the driver took out (skb->vlan_tci) is not in it. */
  __u16 type;
  __u32 at = 12;
  if (unlikely(read_bytes(skb, at, &type, 2) < 0)) return tcpa_count_frame(skb, TCPA_FRAME_TRUNCATED);
  type = bpf_ntohs(type);
#pragma clang loop unroll(disable)
  for (int tags = 0; tags < MAX_VLAN_TAGS && is_vlan(type); tags++) {
    at += 4;
    /* the helper here: two ways to read would double the paths the
       verifier walks at every tag */
    if (bpf_skb_load_bytes(skb, at, &type, 2) < 0) return tcpa_count_frame(skb, TCPA_FRAME_TRUNCATED);
    type = bpf_ntohs(type);
  }
  if (is_vlan(type)) return tcpa_count_frame(skb, TCPA_FRAME_TRUNCATED);  /* as the decoder: too many tags */
  struct ip_facts f = {};
  if (type == ETH_IPV4) return ipv4(skb, at + 2, &f);
  if (type == ETH_IPV6) return ipv6(skb, at + 2, &f);
  return tcpa_count_frame(skb, TCPA_FRAME_NON_IP);
}
