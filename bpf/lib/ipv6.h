/* SPDX-License-Identifier: GPL-2.0 */
/* IPv6 header checks and flow hash for the forwarding path. */
#ifndef FPM_LIB_IPV6_H
#define FPM_LIB_IPV6_H

#include <linux/types.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "fpm_abi.h"
#include "lib/hash.h"
#include "lib/ipv4.h" /* fpm_l4_has_ports, fpm_l3_has_trailer */

#define FPM_NEXTHDR_HOP 0
#define FPM_NEXTHDR_FRAGMENT 44

/* Validates the fixed header; see fpm_ipv4_check() for the order of checks. */
static __always_inline int fpm_ipv6_check(struct ipv6hdr *ip6h, void *data_end)
{
	__u32 plen;

	if ((void *)(ip6h + 1) > data_end)
		return FPM_REASON_MALFORMED;
	if (ip6h->version != 6)
		return FPM_REASON_MALFORMED;
	plen = bpf_ntohs(ip6h->payload_len);
	if ((void *)(ip6h + 1) + plen > data_end)
		return FPM_REASON_MALFORMED;
	/* A jumbogram (payload_len 0) carries its length in hop-by-hop. */
	if (ip6h->nexthdr == FPM_NEXTHDR_HOP)
		return FPM_REASON_IPV6_HBH;
	if (fpm_l3_has_trailer(ip6h, sizeof(*ip6h) + plen, data_end))
		return FPM_REASON_MALFORMED;
	return FPM_REASON_NONE;
}

static __always_inline int fpm_ipv6_addr_class(const struct in6_addr *saddr,
					       const struct in6_addr *daddr)
{
	__u32 d0 = bpf_ntohl(daddr->in6_u.u6_addr32[0]);
	__u32 s0 = bpf_ntohl(saddr->in6_u.u6_addr32[0]);

	if ((d0 >> 24) == 0xff || (s0 >> 24) == 0xff)
		return FPM_REASON_MULTICAST;
	if ((d0 >> 22) == (0xfe80u >> 6) || (s0 >> 22) == (0xfe80u >> 6))
		return FPM_REASON_LINK_LOCAL;
	/* :: and ::1 (also as source), and ::/96 as a destination */
	if (!d0 && !daddr->in6_u.u6_addr32[1] && !daddr->in6_u.u6_addr32[2])
		return FPM_REASON_MARTIAN;
	if (!s0 && !saddr->in6_u.u6_addr32[1] && !saddr->in6_u.u6_addr32[2] &&
	    bpf_ntohl(saddr->in6_u.u6_addr32[3]) == 1)
		return FPM_REASON_MARTIAN;
	return FPM_REASON_NONE;
}

/*
 * Flow hash: addresses, next header and, when the L4 header follows the
 * fixed header directly, the ports. A fragment header (or any other
 * extension header) leaves the ports out: every fragment takes the same path.
 */
static __always_inline __u32 fpm_ipv6_hash(struct ipv6hdr *ip6h, void *data_end, __u32 seed)
{
	__u32 k[10];
	__u32 *ports = (__u32 *)(ip6h + 1);

#pragma unroll
	for (int i = 0; i < 4; i++) {
		k[i] = ip6h->saddr.in6_u.u6_addr32[i];
		k[4 + i] = ip6h->daddr.in6_u.u6_addr32[i];
	}
	k[8] = 0;
	k[9] = ip6h->nexthdr;
	if (fpm_l4_has_ports(ip6h->nexthdr) && (void *)(ports + 1) <= data_end)
		k[8] = *ports;
	return fpm_jhash_words(k, 10, seed);
}

#endif /* FPM_LIB_IPV6_H */
