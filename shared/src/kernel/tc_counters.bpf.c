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

/* The local addresses that are whole prefixes (/32, /128: the host's own),
 * in a hash: one lookup is a third of an LPM trie's, and by default (no
 * --local-net) it is the only map asked. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, TCPA_LOCAL_PREFIXES);
  __type(key, struct tcpa_address);
  __type(value, __u8);
} local_addresses SEC(".maps");

/* Set by user space: local_prefixes holds shorter prefixes too. */
volatile const __u8 has_local_networks = 0;

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
  struct tcpa_address a;
  __builtin_memcpy(a.addr, addr16, 16);
  if (bpf_map_lookup_elem(&local_addresses, &a)) return 1;
  if (!has_local_networks) return 0;
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
  __u32 length;     /* IP length */
  __u32 l4;         /* offset of the transport header */
  __u32 l3_header;  /* IP header bytes, IPv6 extension headers included */
  __u8 src[16], dst[16];
};

/* The packets a GSO (or GRO) packet is on the wire. On egress tc runs before
 * the stack cuts a GSO packet into segments, and the capture (like the wire)
 * sees the segments: each carries the same headers and gso_size bytes of
 * payload, the last one the rest. Returns the segment count and sets their
 * total IP bytes and the first and last segment's IP length. */
static __always_inline __u32 segments(struct __sk_buff *skb, const struct ip_facts *f, __u32 *bytes, __u32 *first,
                                      __u32 *last) {
  *bytes = *first = *last = f->length;
  const __u32 gso = skb->gso_size;
  if (skb->gso_segs <= 1 || gso == 0 || f->fragment || (f->protocol != 6 && f->protocol != 17)) return 1;
  __u32 l4_header = 8;
  if (f->protocol == 6) {
    __u8 offset;
    if (bpf_skb_load_bytes(skb, f->l4 + 12, &offset, 1) < 0) return 1;
    l4_header = (__u32)(offset >> 4) * 4;
  }
  const __u32 headers = f->l3_header + l4_header;
  if (f->length <= headers) return 1;
  const __u32 payload = f->length - headers;
  if (payload > 0x1000000) return 1;  /* not a length GSO makes; also bounds the verifier's view */
  const __u32 n = (payload + gso - 1) / gso;
  *bytes = payload + n * headers;
  *first = gso + headers;
  *last = payload - (n - 1) * gso + headers;
  return n;
}

static __always_inline void map_v4(__u8 *out16, const __u8 *a4) {
  __builtin_memset(out16, 0, 10);
  out16[10] = 0xff;
  out16[11] = 0xff;
  __builtin_memcpy(out16 + 12, a4, 4);
}

/* What the IP parsers found, packed into one scalar for tcpa_count_ip(). */
#define FACT_V6 (1u << 0)
#define FACT_DF (1u << 1)
#define FACT_FRAGMENT (1u << 2)
#define FACT_BAD_LENGTH (1u << 3)
#define FACT_ECN_SHIFT 4
#define FACT_PROTOCOL_SHIFT 8

/* Counts one IP packet. A global function: the verifier checks it once, on
 * its own, rather than once for every way the parsers can reach it (VLAN
 * tags times IPv6 extension headers outgrew its budget). Its arguments are
 * scalars, so the addresses are read again from the packet. */
__attribute__((noinline)) int tcpa_count_ip(struct __sk_buff *skb, __u32 l3, __u32 l4, __u32 length, __u32 facts) {
  struct ip_facts f = {};
  f.ip = facts & FACT_V6 ? 6 : 4;
  f.protocol = facts >> FACT_PROTOCOL_SHIFT;
  f.ecn = (facts >> FACT_ECN_SHIFT) & 3;
  f.df = (facts & FACT_DF) != 0;
  f.fragment = (facts & FACT_FRAGMENT) != 0;
  f.bad_length = (facts & FACT_BAD_LENGTH) != 0;
  f.length = length;
  f.l4 = l4;
  f.l3_header = l4 > l3 ? l4 - l3 : 0;
  if (f.ip == 4) {
    __u8 a[8];
    if (bpf_skb_load_bytes(skb, l3 + 12, a, 8) < 0) return TC_ACT_UNSPEC;
    map_v4(f.src, a);
    map_v4(f.dst, a + 4);
  } else {
    if (bpf_skb_load_bytes(skb, l3 + 8, f.src, 16) < 0 || bpf_skb_load_bytes(skb, l3 + 24, f.dst, 16) < 0)
      return TC_ACT_UNSPEC;
  }
  struct tcpa_tc_key key = {.ifindex = skb->ifindex, .ip = f.ip, .proto = proto_tag(f.protocol)};
  key.direction = direction_of(f.src, f.dst);
  struct tcpa_tc_value *v = value_of(&key);
  if (!v) return TC_ACT_UNSPEC;
  __u32 bytes, first, last;
  const __u32 n = segments(skb, &f, &bytes, &first, &last);
  v->packets += n;
  v->bytes += bytes;
  v->df += f.df ? n : 0;
  v->fragments += f.fragment;
  if (key.proto != TCPA_PROTO_TCP) {
    v->ecn_ce += f.ecn == 3 ? n : 0;
    v->bad_ip_length += f.bad_length;
  }
  v->size_buckets[size_bucket(first) & 7] += n - 1;
  v->size_buckets[size_bucket(last) & 7] += 1;
  return TC_ACT_UNSPEC;
}

static __always_inline int count_ip(struct __sk_buff *skb, __u32 l3, const struct ip_facts *f) {
  const __u32 facts = (f->ip == 6 ? FACT_V6 : 0) | (f->df ? FACT_DF : 0) | (f->fragment ? FACT_FRAGMENT : 0) |
                      (f->bad_length ? FACT_BAD_LENGTH : 0) | (__u32)(f->ecn & 3) << FACT_ECN_SHIFT |
                      (__u32)f->protocol << FACT_PROTOCOL_SHIFT;
  return tcpa_count_ip(skb, l3, f->l4, f->length, facts);
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
  f->l4 = l3 + header;
  return count_ip(skb, l3, f);
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
  f->l4 = at;
  return count_ip(skb, l3, f);
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
