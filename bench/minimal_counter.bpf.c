// SPDX-License-Identifier: GPL-2.0-only
/* The yardstick for the tc counting program's cost (issue 21): a tc program
 * that only bumps one per-CPU counter. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} seen SEC(".maps");

SEC("tc")
int tcpa_minimal(struct __sk_buff *skb) {
  __u32 key = 0;
  __u64 *n = bpf_map_lookup_elem(&seen, &key);
  if (n) *n += 1;
  return -1; /* TC_ACT_UNSPEC */
}
