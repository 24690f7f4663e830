/* SPDX-License-Identifier: GPL-2.0 */
/* Per-CPU counters: one per verdict, one per reason, verdicts and reasons per port. */
#ifndef FPM_LIB_COUNTERS_H
#define FPM_LIB_COUNTERS_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#include "fpm_abi.h"
#include "lib/maps.h"

static __always_inline void fpm_counter_add(struct fpm_counter *c, __u64 bytes)
{
	/* Per-CPU slot and XDP does not nest on a CPU: no atomics needed. */
	c->packets++;
	c->bytes += bytes;
}

/*
 * Accounts one packet. iface may be NULL (port not configured); reason is
 * FPM_REASON_NONE for forwarded packets.
 */
static __always_inline void fpm_count(const struct fpm_iface *iface, __u32 verdict,
				      __u32 reason, __u64 bytes)
{
	__u32 key = FPM_CNT_VERDICT + (verdict & (FPM_VERDICT_MAX - 1));
	struct fpm_counter *c;

	c = bpf_map_lookup_elem(&fpm_stats, &key);
	if (c)
		fpm_counter_add(c, bytes);
	key = FPM_CNT_REASON + (reason & (FPM_REASON_MAX - 1));
	c = bpf_map_lookup_elem(&fpm_stats, &key);
	if (c)
		fpm_counter_add(c, bytes);

	if (iface) {
		struct fpm_iface_stats *s;

		key = iface->slot;
		s = bpf_map_lookup_elem(&fpm_iface_stats, &key);
		if (s)
			fpm_counter_add(&s->verdict[verdict & (FPM_VERDICT_MAX - 1)], bytes);
	}
}

/*
 * Accounts a packet that was not redirected to its port's reason counter.
 * Kept out of fpm_count() so that the redirect path runs none of it.
 */
static __always_inline void fpm_count_port_reason(const struct fpm_iface *iface, __u32 reason,
						  __u64 bytes)
{
	__u32 key = iface->slot * FPM_REASON_MAX + (reason & (FPM_REASON_MAX - 1));
	struct fpm_counter *c = bpf_map_lookup_elem(&fpm_iface_reasons, &key);

	if (c)
		fpm_counter_add(c, bytes);
}

#endif /* FPM_LIB_COUNTERS_H */
