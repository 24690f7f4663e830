/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * IPv6 longest-prefix match: a multibit trie with leaf pushing, strides
 * 24-8-8-...-8 (root indexed by the first 24 bits, then one 256-entry node
 * per further byte; at most 1 + 13 reads, a /48 takes 4, a /32 takes 2).
 *
 *   root:  2^24 entries = LPM6_ROOT_ROWS rows of 256
 *          (map "lpm6_root": 65536 x 1 KiB = 64 MiB, fixed size).
 *   nodes: pool of 256-entry nodes (map "lpm6_nodes", one row per node;
 *          pool size set by userspace before load:
 *          bpf_map__set_max_entries(skel->maps.lpm6_nodes, n)).
 *
 * Why 24-8-8 (numbers from bench/lookup on this 2-vCPU VM, real table of
 * 167,903 prefixes split from @ip-location-db/asn): lengths are /48 41k,
 * /32 28k, /29 10k, /44 9.8k, /47 9.6k, /40 8k, /46 6.3k, ...; only 54 are
 * shorter than /24, 11.7k longer than /48. With a 24-bit root a /29../32 is
 * 2 reads, /33../40 3, /41../48 4; a 16-bit root adds one dependent read to
 * every lookup: 84 ns (24-8) vs 115 ns (16-8) per random lookup (two runs:
 * 127 vs 139 under heavy host load), node pools 38,997 vs 39,057 nodes
 * (~38 MiB), for 64 MiB vs 256 KiB of root. 16-bit strides below the root
 * would cost 256 KiB per node (GiBs for this table). Same run: the kernel FIB
 * via bpf_fib_lookup 2.3 us, BPF_MAP_TYPE_LPM_TRIE 1.4 us.
 *
 * Where a lookup's time goes (bench/lookup, same table, destinations uniform
 * over the prefixes): 3.48 dependent reads on average (root + 2.48 nodes;
 * half the lookups take 4). The lines they touch are ~0.04 MiB of root and
 * ~10 MiB of nodes (2.2 / 2.4 / 4.5 MiB at the /32, /40, /48 levels): they
 * stay in L3, so each node read costs about an L3 hit, ~20 ns, and the
 * lookup 1.2-1.65x one random 64 MiB array read on a quiet machine (4 runs),
 * 1.9-2.9x while builds run on both CPUs and evict the nodes from the shared
 * L3 (the array read misses either way). Tried and measured slower:
 * a 64-byte compact copy of every node of at most 13 runs (91% of the nodes,
 * 2.2 MiB in all; half the node reads then hit a compact line). Still more
 * than L2, so those reads stay L3 hits and the extra branch and run count
 * cost more than the TLB misses saved: 92 vs 82 ns in the same run. Fewer
 * reads need a wider stride: 12- or 16-bit nodes (16 / 256 KiB each) cost
 * hundreds of MiB to GiBs here; a compressed wide stride (Poptrie, DXR)
 * needs its whole structure in L2 to pay off. Also slower: the first three
 * node reads without a branch (a lookup that ends early reads a dummy entry
 * and keeps its leaf), 121 vs 100 ns: a lookup runs to its last read either
 * way, the dummy reads lengthen the short ones.
 *
 * Using it from BPF: #include "lpm6.h" declares the two maps and
 *     __u32 act = lpm6_lookup(NULL, ip6h->daddr.in6_u.u6_addr8);
 * (addr may point into the packet: it is copied to the stack first).
 * Using it from C++: fill a struct lpm6_view with the mmap'ed pointers.
 */
#ifndef FPM_LPM6_H
#define FPM_LPM6_H

#include "lpm_common.h"

#ifndef LPM6_ROOT_BITS
#define LPM6_ROOT_BITS 24 /* multiple of 8, 16 or 24; benches try both */
#endif
#define LPM6_ROOT_BYTES (LPM6_ROOT_BITS / 8)
#define LPM6_ROOT_ROWS (1u << (LPM6_ROOT_BITS - LPM_ROW_SHIFT))
#define LPM6_MAX_DEPTH (16 - LPM6_ROOT_BYTES) /* node reads after the root */
#define LPM6_NODES_DEFAULT 65536 /* 64 MiB; real size set before load */

/* Userspace view of the mmap'ed maps. The BPF side ignores it (pass NULL). */
struct lpm6_view {
	const __u32 *root; /* LPM6_ROOT_ROWS * 256 entries */
	const __u32 *nodes; /* node_count * 256 entries */
	__u32 node_count;
};

#if defined(__bpf__)
LPM_ROW_MAP(lpm6_root, LPM6_ROOT_ROWS);
LPM_ROW_MAP(lpm6_nodes, LPM6_NODES_DEFAULT);
#define LPM6_ROOT_ROW(v, row) lpm_map_row(&lpm6_root, (row))
#define LPM6_NODE_ROW(v, node) lpm_map_row(&lpm6_nodes, (node))
#else
#define LPM6_ROOT_ROW(v, row) ((v)->root + ((__u64)(row) << LPM_ROW_SHIFT))
#define LPM6_NODE_ROW(v, node) \
	((node) < (v)->node_count ? (v)->nodes + ((__u64)(node) << LPM_ROW_SHIFT) : 0)
#endif

/*
 * addr: 16 bytes, network order. Returns the action (fpm_abi.h), 0 = no route.
 */
static __always_inline __u32 lpm6_lookup(const struct lpm6_view *v, const __u8 *addr)
{
	const __u32 *row;
	__u32 rowi = 0, e;
	__u8 a[16];
	int i;

	(void)v;
	__builtin_memcpy(a, addr, sizeof(a));
	for (i = 0; i < LPM6_ROOT_BYTES - 1; i++)
		rowi = rowi << 8 | a[i];
	row = LPM6_ROOT_ROW(v, rowi);
	if (!row)
		return 0;
	e = LPM_LOAD(&row[a[LPM6_ROOT_BYTES - 1]]);
	LPM_UNROLL
	for (i = LPM6_ROOT_BYTES; i < 16; i++) {
		if (e & LPM_ENTRY_NODE) {
			row = LPM6_NODE_ROW(v, e & LPM_INDEX_MASK);
			e = row ? LPM_LOAD(&row[a[i]]) : 0;
		}
	}
	return e & LPM_ENTRY_NODE ? 0 : e;
}

#endif /* FPM_LPM6_H */
