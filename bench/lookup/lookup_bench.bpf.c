// SPDX-License-Identifier: GPL-2.0
/*
 * Lookup benchmark: each program runs one lookup method over `count`
 * destinations starting at `start` in the dests map (bpf_loop, one
 * BPF_PROG_TEST_RUN per batch). XDP programs so bpf_fib_lookup can use the
 * test run's ingress_ifindex. Answers are folded into `sink` (so nothing is
 * optimised away) and counted in `found`.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

#include "../../bpf/lpm4.h"
#include "../../bpf/lpm6.h"

#define AF_INET 2
#define AF_INET6 10
#define BIG_ARRAY_ENTRIES (1u << 23) /* 8M x 8 B = 64 MiB */

struct dest {
	__u8 b[16]; /* network order; IPv4 in b[0..3] */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1 << 20);
	__type(key, __u32);
	__type(value, struct dest);
} dests SEC(".maps");

struct trie4_key {
	__u32 prefixlen;
	__u8 addr[4];
};
struct trie6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 20);
	__type(key, struct trie4_key);
	__type(value, __u32);
} trie4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 20);
	__type(key, struct trie6_key);
	__type(value, __u32);
} trie6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BIG_ARRAY_ENTRIES);
	__type(key, __u32);
	__type(value, __u64);
} big SEC(".maps");

__u32 start;
__u32 count;
__u64 sink;
__u64 found;

struct loop_ctx {
	struct xdp_md *xdp;
	__u64 sink;
	__u64 found;
};

static __always_inline const __u8 *dest_at(__u32 i)
{
	__u32 k = start + i;
	struct dest *d = bpf_map_lookup_elem(&dests, &k);

	return d ? d->b : 0;
}

static __always_inline __u32 be32_of(const __u8 *a)
{
	return (__u32)a[0] << 24 | (__u32)a[1] << 16 | (__u32)a[2] << 8 | a[3];
}

static __always_inline void fold(struct loop_ctx *c, __u64 v, int hit)
{
	c->sink = c->sink * 31 + v;
	c->found += hit;
}

static long cb_empty(__u32 i, struct loop_ctx *c)
{
	const __u8 *a = dest_at(i);

	if (a)
		fold(c, a[3], 1);
	return 0;
}

static long cb_lpm4(__u32 i, struct loop_ctx *c)
{
	const __u8 *a = dest_at(i);
	__u32 act;

	if (!a)
		return 1;
	act = lpm4_lookup(NULL, be32_of(a));
	fold(c, act, act != 0);
	return 0;
}

static long cb_lpm6(__u32 i, struct loop_ctx *c)
{
	const __u8 *a = dest_at(i);
	__u32 act;

	if (!a)
		return 1;
	act = lpm6_lookup(NULL, a);
	fold(c, act, act != 0);
	return 0;
}

static long cb_trie4(__u32 i, struct loop_ctx *c)
{
	const __u8 *a = dest_at(i);
	struct trie4_key k = { .prefixlen = 32 };
	__u32 *v;

	if (!a)
		return 1;
	__builtin_memcpy(k.addr, a, 4);
	v = bpf_map_lookup_elem(&trie4, &k);
	fold(c, v ? *v : 0, v != 0);
	return 0;
}

static long cb_trie6(__u32 i, struct loop_ctx *c)
{
	const __u8 *a = dest_at(i);
	struct trie6_key k = { .prefixlen = 128 };
	__u32 *v;

	if (!a)
		return 1;
	__builtin_memcpy(k.addr, a, 16);
	v = bpf_map_lookup_elem(&trie6, &k);
	fold(c, v ? *v : 0, v != 0);
	return 0;
}

static long cb_fib4(__u32 i, struct loop_ctx *c)
{
	const __u8 *a = dest_at(i);
	struct bpf_fib_lookup p = {};
	long rc;

	if (!a)
		return 1;
	p.family = AF_INET;
	p.l4_protocol = IPPROTO_UDP;
	p.tot_len = 100;
	p.ifindex = c->xdp->ingress_ifindex;
	__builtin_memcpy(&p.ipv4_dst, a, 4);
	p.ipv4_src = 0x010012c6; /* 198.18.0.1 (network order) */
	rc = bpf_fib_lookup(c->xdp, &p, sizeof(p), 0);
	fold(c, p.ifindex, rc == BPF_FIB_LKUP_RET_SUCCESS);
	return 0;
}

static long cb_fib6(__u32 i, struct loop_ctx *c)
{
	const __u8 *a = dest_at(i);
	struct bpf_fib_lookup p = {};
	long rc;

	if (!a)
		return 1;
	p.family = AF_INET6;
	p.l4_protocol = IPPROTO_UDP;
	p.tot_len = 100;
	p.ifindex = c->xdp->ingress_ifindex;
	__builtin_memcpy(p.ipv6_dst, a, 16);
	rc = bpf_fib_lookup(c->xdp, &p, sizeof(p), 0);
	fold(c, p.ifindex, rc == BPF_FIB_LKUP_RET_SUCCESS);
	return 0;
}

static long cb_array(__u32 i, struct loop_ctx *c)
{
	const __u8 *a = dest_at(i);
	__u32 k;
	__u64 *v;

	if (!a)
		return 1;
	k = be32_of(a) & (BIG_ARRAY_ENTRIES - 1);
	v = bpf_map_lookup_elem(&big, &k);
	fold(c, v ? *v : 0, v != 0);
	return 0;
}

#define BENCH_PROG(name, cb)                               \
	SEC("xdp")                                         \
	int name(struct xdp_md *xdp)                       \
	{                                                  \
		struct loop_ctx c = { .xdp = xdp };        \
		bpf_loop(count, cb, &c, 0);                \
		sink += c.sink;                            \
		found += c.found;                          \
		return XDP_PASS;                           \
	}

BENCH_PROG(bench_empty, cb_empty)
BENCH_PROG(bench_lpm4, cb_lpm4)
BENCH_PROG(bench_lpm6, cb_lpm6)
BENCH_PROG(bench_trie4, cb_trie4)
BENCH_PROG(bench_trie6, cb_trie6)
BENCH_PROG(bench_fib4, cb_fib4)
BENCH_PROG(bench_fib6, cb_fib6)
BENCH_PROG(bench_array, cb_array)

char LICENSE[] SEC("license") = "GPL";
