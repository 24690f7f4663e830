/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * IPv4 longest-prefix match, DIR-24-8 (DPDK rte_lpm / rte_fib style).
 *
 *   tbl24: one entry per /24, 2^24 entries = LPM4_TBL24_ROWS rows of 256
 *          (map "lpm4_tbl24": 65536 x 1 KiB = 64 MiB, fixed size).
 *          Row = address bits 31-16, column = bits 15-8.
 *   tbl8:  groups of 256 entries, one per /24 holding prefixes longer than /24
 *          (map "lpm4_tbl8": one row per group; the number of groups is set by
 *          userspace before load: bpf_map__set_max_entries(skel->maps.lpm4_tbl8, n)).
 *          Column = bits 7-0.
 *
 * A lookup is one or two array reads. The tables are written only by
 * fpm-sink (fpm-sink/dataplane/lpm/lpm_table.hpp) through mmap of the maps.
 *
 * Using it from BPF: #include "lpm4.h" declares the two maps (names fixed,
 * the lookup refers to them) and
 *     __u32 act = lpm4_lookup(NULL, bpf_ntohl(iph->daddr));
 * Using it from C++: fill a struct lpm4_view with the mmap'ed pointers.
 */
#ifndef FPM_LPM4_H
#define FPM_LPM4_H

#include "lpm_common.h"

#define LPM4_TBL24_ROWS (1u << 16)
#define LPM4_TBL8_GROUPS_DEFAULT 16384 /* 16 MiB; real size set before load */

/* Userspace view of the mmap'ed maps. The BPF side ignores it (pass NULL). */
struct lpm4_view {
	const __u32 *tbl24; /* LPM4_TBL24_ROWS * 256 entries */
	const __u32 *tbl8; /* tbl8_groups * 256 entries */
	__u32 tbl8_groups;
};

#if defined(__bpf__)
LPM_ROW_MAP(lpm4_tbl24, LPM4_TBL24_ROWS);
LPM_ROW_MAP(lpm4_tbl8, LPM4_TBL8_GROUPS_DEFAULT);
#define LPM4_TBL24_ROW(v, row) lpm_map_row(&lpm4_tbl24, (row))
#define LPM4_TBL8_ROW(v, grp) lpm_map_row(&lpm4_tbl8, (grp))
#else
#define LPM4_TBL24_ROW(v, row) ((v)->tbl24 + ((__u64)(row) << LPM_ROW_SHIFT))
#define LPM4_TBL8_ROW(v, grp) \
	((grp) < (v)->tbl8_groups ? (v)->tbl8 + ((__u64)(grp) << LPM_ROW_SHIFT) : 0)
#endif

/*
 * addr in host byte order. Returns the action (fpm_abi.h), 0 = no route.
 * Never returns an entry with LPM_ENTRY_NODE set.
 */
static __always_inline __u32 lpm4_lookup(const struct lpm4_view *v, __u32 addr)
{
	const __u32 *row;
	__u32 e;

	(void)v;
	row = LPM4_TBL24_ROW(v, addr >> 16);
	if (!row)
		return 0;
	e = LPM_LOAD(&row[(addr >> 8) & 0xff]);
	if (!(e & LPM_ENTRY_NODE))
		return e;
	row = LPM4_TBL8_ROW(v, e & LPM_INDEX_MASK);
	if (!row)
		return 0;
	return LPM_LOAD(&row[addr & 0xff]);
}

#endif /* FPM_LPM4_H */
