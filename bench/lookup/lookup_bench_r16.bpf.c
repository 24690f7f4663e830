// SPDX-License-Identifier: GPL-2.0
/*
 * The IPv6 lookup again with a 16-bit root (16-8-8-...), only to measure the
 * stride choice of bpf/lpm6.h against its alternative in the same run.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define LPM6_ROOT_BITS 16
#include "../../bpf/lpm6.h"

struct dest {
	__u8 b[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1 << 20);
	__type(key, __u32);
	__type(value, struct dest);
} dests SEC(".maps");

__u32 start;
__u32 count;
__u64 sink;
__u64 found;

struct loop_ctx {
	__u64 sink;
	__u64 found;
};

static long cb_lpm6(__u32 i, struct loop_ctx *c)
{
	__u32 k = start + i, act;
	struct dest *d = bpf_map_lookup_elem(&dests, &k);

	if (!d)
		return 1;
	act = lpm6_lookup(NULL, d->b);
	c->sink = c->sink * 31 + act;
	c->found += act != 0;
	return 0;
}

SEC("xdp")
int bench_lpm6_r16(struct xdp_md *xdp)
{
	struct loop_ctx c = {};

	bpf_loop(count, cb_lpm6, &c, 0);
	sink += c.sink;
	found += c.found;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
