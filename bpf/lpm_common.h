/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Pieces shared by the IPv4 (lpm4.h) and IPv6 (lpm6.h) longest-prefix-match
 * tables. Compiled both by clang -target bpf (the XDP program, tests, benches)
 * and by g++ (fpm-sink's writers Lpm4Table / Lpm6Table, tests, benches), so the
 * lookup code that runs in the kernel is the code the tests check.
 *
 * Storage: every table is a BPF_MAP_TYPE_ARRAY with BPF_F_MMAPABLE whose value
 * is one "row" of 256 u32 entries (1 KiB). Array elements are rounded up to 8
 * bytes, so single u32 values would waste half the map; a 256-entry row has no
 * padding, is exactly one tbl8 group / trie node, and makes the value region of
 * the map (what mmap() exposes, page aligned, element i at offset i * 1024) a
 * flat u32 array that userspace writes directly.
 *
 * Entry (u32):
 *   bit 31 clear: an action as defined in fpm_abi.h (0 = no route);
 *   bit 31 set:   LPM_ENTRY_NODE, bits 0-27 index the next row (tbl8 group or
 *                 trie node) in the node map.
 */
#ifndef FPM_LPM_COMMON_H
#define FPM_LPM_COMMON_H

#include <linux/types.h>

#include "fpm_abi.h"

#define LPM_ROW_SHIFT 8
#define LPM_ROW_ENTRIES (1u << LPM_ROW_SHIFT) /* 256 entries per row */
#define LPM_ENTRY_NODE 0x80000000u
#define LPM_INDEX_MASK FPM_ACT_ARG_MASK

struct lpm_row {
	__u32 e[LPM_ROW_ENTRIES];
};

#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif

#if defined(__bpf__)
/*
 * The BPF side reads entries with plain loads; the writer publishes with
 * release stores and a reader that sees a node pointer depends on it for the
 * next address, so no barrier is needed on the read side.
 */
#define LPM_LOAD(p) (*(p))
#define LPM_UNROLL _Pragma("unroll")
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/*
 * Declares one row map. Sizes are the defaults compiled into the object;
 * userspace changes the node-map size before load with
 * bpf_map__set_max_entries() (see lpm4.h / lpm6.h). Pin them from userspace
 * with bpf_map__set_pin_path() if they must survive a restart.
 */
#define LPM_ROW_MAP(name, rows)                       \
	struct {                                      \
		__uint(type, BPF_MAP_TYPE_ARRAY);     \
		__uint(map_flags, BPF_F_MMAPABLE);    \
		__uint(max_entries, rows);            \
		__type(key, __u32);                   \
		__type(value, struct lpm_row);        \
	} name SEC(".maps")

static __always_inline const __u32 *lpm_map_row(void *map, __u32 row)
{
	/* array lookup: inlined by the verifier, bounds checked, NULL past the end */
	return (const __u32 *)bpf_map_lookup_elem(map, &row);
}
#else
/* C++ (or C) userspace: the rows are flat memory (an mmap of the map). */
#define LPM_LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#if defined(__clang__)
#define LPM_UNROLL _Pragma("unroll")
#else
#define LPM_UNROLL _Pragma("GCC unroll 16")
#endif
#endif

#endif /* FPM_LPM_COMMON_H */
