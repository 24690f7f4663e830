/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VRF tables in the fast path: the LPM answer for the ingress port's table.
 *
 * The main table (slot FPM_TABLE_SLOT_MAIN) stays in the DIR-24-8 / lpm6
 * arrays (lpm4.h, lpm6.h) and costs one predictable branch more. A VRF table
 * is a pair of BPF_MAP_TYPE_LPM_TRIE maps, one per family, reached through
 * fpm_vrf4 / fpm_vrf6[slot] (ARRAY_OF_MAPS). VRF tables are small next to an
 * Internet table, so the trie's ~1 us lookup is fine there, and each trie is
 * created by fpm-sink with its own max_entries (tables sized on their own,
 * memory taken per route, not up front).
 *
 * A slot with no trie published (no routes yet, table over the limit, or a
 * table that outgrew its trie) and FPM_TABLE_SLOT_NONE answer
 * PUNT(NO_TABLE): that port's traffic goes to the kernel, which routes it in
 * the VRF.
 *
 * Connected hosts (fpm_hosts4 / 6, lib/hosts.h) are keyed by table slot and
 * address, since address space overlaps between VRFs: a VRF's connected punt
 * finds only its own table's neighbours. Local addresses (fpm_local4 / 6)
 * hold the addresses of every VRF: a hit punts LOCAL, which the kernel then
 * handles in the right VRF, so the union is safe.
 */
#ifndef FPM_LIB_VRF_H
#define FPM_LIB_VRF_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "fpm_abi.h"
#include "lpm4.h"
#include "lpm6.h"

/*
 * Templates of the inner tries; fpm-sink creates the real ones with their own
 * sizes. Sizes, not BTF types: libbpf cannot size a key type declared in an
 * inner map template.
 */
struct fpm_vrf4_trie {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, FPM_VRF_ROUTES_DEFAULT);
	__uint(key_size, sizeof(struct fpm_vrf_key4));
	__uint(value_size, sizeof(__u32));
};

struct fpm_vrf6_trie {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, FPM_VRF_ROUTES_DEFAULT);
	__uint(key_size, sizeof(struct fpm_vrf_key6));
	__uint(value_size, sizeof(__u32));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, FPM_VRF_TABLES_DEFAULT + 1);
	__type(key, __u32);
	__array(values, struct fpm_vrf4_trie);
} fpm_vrf4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, FPM_VRF_TABLES_DEFAULT + 1);
	__type(key, __u32);
	__array(values, struct fpm_vrf6_trie);
} fpm_vrf6 SEC(".maps");

#define FPM_VRF_NO_TABLE (((__u32)FPM_ACT_PUNT << FPM_ACT_KIND_SHIFT) | FPM_REASON_NO_TABLE)

/* daddr in wire order. Returns an action (fpm_abi.h), 0 = no route. */
static __always_inline __u32 fpm_table_lookup4(__u16 table_slot, __be32 daddr)
{
	struct fpm_vrf_key4 key = { .prefixlen = 32 };
	__u32 slot = table_slot;
	const __u32 *act;
	void *trie;

	if (table_slot == FPM_TABLE_SLOT_MAIN)
		return lpm4_lookup(NULL, bpf_ntohl(daddr));
	trie = bpf_map_lookup_elem(&fpm_vrf4, &slot);
	if (!trie)
		return FPM_VRF_NO_TABLE;
	__builtin_memcpy(key.addr, &daddr, sizeof(key.addr));
	act = bpf_map_lookup_elem(trie, &key);
	return act ? *act : 0;
}

static __always_inline __u32 fpm_table_lookup6(__u16 table_slot, const struct in6_addr *daddr)
{
	struct fpm_vrf_key6 key = { .prefixlen = 128 };
	__u32 slot = table_slot;
	const __u32 *act;
	void *trie;

	if (table_slot == FPM_TABLE_SLOT_MAIN)
		return lpm6_lookup(NULL, daddr->in6_u.u6_addr8);
	trie = bpf_map_lookup_elem(&fpm_vrf6, &slot);
	if (!trie)
		return FPM_VRF_NO_TABLE;
	__builtin_memcpy(key.addr, daddr, sizeof(key.addr));
	act = bpf_map_lookup_elem(trie, &key);
	return act ? *act : 0;
}

#endif /* FPM_LIB_VRF_H */
