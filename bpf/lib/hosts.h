/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Connected hosts (fpm_hosts4 / fpm_hosts6, keyed by table slot and address):
 * a resolved neighbour on a connected subnet of the ingress port's table,
 * forwarded to directly instead of punted with reason CONNECTED.
 *
 * Looked up only when that same table's LPM answered PUNT(CONNECTED) for the
 * destination: routed traffic pays nothing, and an entry can only serve the
 * table it was written for (address space overlaps between VRFs, and a leaked
 * route's subnet in another table is the kernel's to resolve).
 */
#ifndef FPM_LIB_HOSTS_H
#define FPM_LIB_HOSTS_H

#include <linux/types.h>
#include <linux/in6.h>
#include <bpf/bpf_helpers.h>

#include "fpm_abi.h"
#include "lib/maps.h"

#define FPM_ACT_CONNECTED (((__u32)FPM_ACT_PUNT << FPM_ACT_KIND_SHIFT) | FPM_REASON_CONNECTED)

/* daddr in wire order. NULL: not a connected punt, or no entry. */
static __always_inline const struct fpm_nexthop *fpm_connected_host4(__u32 act, __u16 table_slot,
								     __be32 daddr)
{
	struct fpm_host4_key key = { .table_slot = table_slot };

	if (act != FPM_ACT_CONNECTED)
		return NULL;
	__builtin_memcpy(key.addr, &daddr, sizeof(key.addr));
	return bpf_map_lookup_elem(&fpm_hosts4, &key);
}

static __always_inline const struct fpm_nexthop *
fpm_connected_host6(__u32 act, __u16 table_slot, const struct in6_addr *daddr)
{
	struct fpm_host6_key key = { .table_slot = table_slot };

	if (act != FPM_ACT_CONNECTED)
		return NULL;
	__builtin_memcpy(key.addr, daddr, sizeof(key.addr));
	return bpf_map_lookup_elem(&fpm_hosts6, &key);
}

#endif /* FPM_LIB_HOSTS_H */
