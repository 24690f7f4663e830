/* SPDX-License-Identifier: GPL-2.0 */
/* Internet checksum helpers: IPv4 header verify and RFC 1624 updates. */
#ifndef FPM_LIB_CSUM_H
#define FPM_LIB_CSUM_H

#include <linux/types.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

/* Folds a 32-bit one's-complement accumulator to 16 bits. */
static __always_inline __u16 fpm_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/*
 * True if an option-less IPv4 header sums to 0xffff. The caller has checked
 * that the 20 bytes are inside the packet. Words are summed as they sit in
 * memory: one's-complement sums do not care about byte order.
 */
static __always_inline int fpm_ipv4_csum_ok(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*iph) / 2); i++)
		sum += w[i];
	return fpm_csum_fold(sum) == 0xffff;
}

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for one 16-bit word changing from
 * old to new (both as stored in memory). Never yields 0xffff for a header
 * with a non-zero word, so it matches a checksum recomputed from scratch.
 */
static __always_inline __u16 fpm_csum_replace16(__u16 check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~old;
	sum += new;
	return (__u16)~fpm_csum_fold(sum);
}

#endif /* FPM_LIB_CSUM_H */
