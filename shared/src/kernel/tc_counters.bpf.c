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

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, TCPA_TC_MAX_KEYS);
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

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, TCPA_TC_MAX_INTERFACES);
  __type(key, __u32);
  __type(value, __u64);
} overflow SEC(".maps");

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86DD
#define MAX_VLAN_TAGS 8
#define MAX_IPV6_EXTENSIONS 16
#define IPPROTO_TCP_ 6

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

/* A frame that is not (well-formed) IP: kind is TCPA_FRAME_*. */
static __always_inline int count_frame(struct __sk_buff *skb, __u8 kind) {
  const struct tcpa_tc_key key = {.ifindex = skb->ifindex, .direction = TCPA_DIR_IN, .ip = 0, .proto = kind};
  struct tcpa_tc_value *v = value_of(&key);
  if (v) v->packets += 1;
  return TC_ACT_UNSPEC;
}

/* Malformed IP: the wire analysis's if its protocol byte (at `at`) says TCP. */
static __always_inline int count_malformed(struct __sk_buff *skb, __u32 at, __u8 kind) {
  __u8 protocol;
  if (bpf_skb_load_bytes(skb, at, &protocol, 1) == 0 && protocol == IPPROTO_TCP_) return TC_ACT_UNSPEC;
  return count_frame(skb, kind);
}

static __always_inline int is_local(const __u8 *addr16) {
  struct tcpa_lpm_key k = {.prefixlen = 128};
  __builtin_memcpy(k.addr, addr16, 16);
  return bpf_map_lookup_elem(&local_prefixes, &k) != 0;
}

static __always_inline __u8 direction_of(const __u8 *src16, const __u8 *dst16) {
  if (is_local(src16)) return TCPA_DIR_OUT;
  return is_local(dst16) ? TCPA_DIR_IN : TCPA_DIR_TRANSIT;
}

struct ip_facts {
  __u8 ip, protocol, ecn, df, fragment, bad_length;
  __u32 length;
  __u8 src[16], dst[16];
};

static __always_inline int count_ip(struct __sk_buff *skb, struct ip_facts *f) {
  struct tcpa_tc_key key = {.ifindex = skb->ifindex, .ip = f->ip, .proto = proto_tag(f->protocol)};
  key.direction = direction_of(f->src, f->dst);
  struct tcpa_tc_value *v = value_of(&key);
  if (!v) return TC_ACT_UNSPEC;
  v->packets += 1;
  v->bytes += f->length;
  v->df += f->df;
  v->fragments += f->fragment;
  if (key.proto != TCPA_PROTO_TCP) {
    v->ecn_ce += f->ecn == 3;
    v->bad_ip_length += f->bad_length;
  }
  v->size_buckets[size_bucket(f->length) & 7] += 1;
  return TC_ACT_UNSPEC;
}

static __always_inline void map_v4(__u8 *out16, const __u8 *a4) {
  __builtin_memset(out16, 0, 10);
  out16[10] = 0xff;
  out16[11] = 0xff;
  __builtin_memcpy(out16 + 12, a4, 4);
}

static __always_inline int ipv4(struct __sk_buff *skb, __u32 l3, struct ip_facts *f) {
  const __u32 wire = skb->len > l3 ? skb->len - l3 : 0;
  __u8 h[20];
  if (bpf_skb_load_bytes(skb, l3, h, 20) < 0) return count_malformed(skb, l3 + 9, TCPA_FRAME_TRUNCATED);
  const __u32 header = (__u32)(h[0] & 0x0f) * 4;
  if ((h[0] >> 4) != 4 || header < 20) return count_malformed(skb, l3 + 9, TCPA_FRAME_BAD_IP_HEADER);
  if (wire < header) return count_malformed(skb, l3 + 9, TCPA_FRAME_TRUNCATED);
  __u32 total = (__u32)h[2] << 8 | h[3];
  if (total == 0) total = wire;  /* TSO/GSO: length 0 */
  if (total < header) return count_malformed(skb, l3 + 9, TCPA_FRAME_BAD_IP_HEADER);
  if (total > wire) {
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
  map_v4(f->src, h + 12);
  map_v4(f->dst, h + 16);
  return count_ip(skb, f);
}

static __always_inline int ipv6(struct __sk_buff *skb, __u32 l3, struct ip_facts *f) {
  const __u32 wire = skb->len > l3 ? skb->len - l3 : 0;
  __u8 h[40];
  if (bpf_skb_load_bytes(skb, l3, h, 40) < 0) return count_malformed(skb, l3 + 6, TCPA_FRAME_TRUNCATED);
  if ((h[0] >> 4) != 6) return count_malformed(skb, l3 + 6, TCPA_FRAME_BAD_IP_HEADER);
  __u32 payload = (__u32)h[4] << 8 | h[5];
  if (payload == 0) payload = wire - 40;  /* jumbogram or GSO */
  if (payload + 40 > wire) {
    payload = wire - 40;
    f->bad_length = 1;
  }
  f->ip = 6;
  f->length = payload + 40;
  f->ecn = (h[1] >> 4) & 3;
  __builtin_memcpy(f->src, h + 8, 16);
  __builtin_memcpy(f->dst, h + 24, 16);
  __u8 next = h[6];  /* not TCP once the loop runs: the capture does not take these */
  __u32 at = l3 + 40, remaining = payload;
  int i;
  for (i = 0; i < MAX_IPV6_EXTENSIONS && is_ipv6_extension(next); i++) {
    __u8 e[4];
    if (bpf_skb_load_bytes(skb, at, e, 4) < 0 || skb->len < at + 8)
      return count_frame(skb, TCPA_FRAME_TRUNCATED);
    __u32 len;
    int later_fragment = 0;
    if (next == 44) {  /* fragment header, 8 bytes; atomic fragments are whole packets */
      len = 8;
      const __u16 off_flags = (__u16)e[2] << 8 | e[3];
      if ((off_flags & 1) || (off_flags >> 3)) {
        f->fragment = 1;
        later_fragment = (off_flags >> 3) != 0;
      }
    } else if (next == 51) {
      len = ((__u32)e[1] + 2) * 4;  /* AH counts 4-byte words */
    } else {
      len = ((__u32)e[1] + 1) * 8;
    }
    if (len > remaining) return count_frame(skb, TCPA_FRAME_BAD_IPV6_EXTENSION);
    if (skb->len < at + len) return count_frame(skb, TCPA_FRAME_TRUNCATED);
    next = e[0];
    remaining -= len;
    at += len;
    if (later_fragment) break;  /* no upper header follows */
  }
  if (i == MAX_IPV6_EXTENSIONS && is_ipv6_extension(next)) return count_frame(skb, TCPA_FRAME_BAD_IPV6_EXTENSION);
  f->protocol = next;
  return count_ip(skb, f);
}

SEC("tc")
int tcpa_count(struct __sk_buff *skb) {
  /* tc hands the program the frame from its Ethernet header on, on both
   * hooks; a VLAN tag the driver took out (skb->vlan_tci) is not in it. */
  __u16 type;
  __u32 at = 12;
  if (bpf_skb_load_bytes(skb, at, &type, 2) < 0) return count_frame(skb, TCPA_FRAME_TRUNCATED);
  type = bpf_ntohs(type);
  for (int tags = 0; tags < MAX_VLAN_TAGS && is_vlan(type); tags++) {
    at += 4;
    if (bpf_skb_load_bytes(skb, at, &type, 2) < 0) return count_frame(skb, TCPA_FRAME_TRUNCATED);
    type = bpf_ntohs(type);
  }
  if (is_vlan(type)) return count_frame(skb, TCPA_FRAME_TRUNCATED);  /* as the decoder: too many tags */
  struct ip_facts f = {};
  if (type == ETH_IPV4) return ipv4(skb, at + 2, &f);
  if (type == ETH_IPV6) return ipv6(skb, at + 2, &f);
  return count_frame(skb, TCPA_FRAME_NON_IP);
}
