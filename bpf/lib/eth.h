/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Ethernet parsing. Up to two VLAN tags (802.1Q / 802.1ad) are walked so
 * that the inner protocol is known; tagged frames are then lib/vlan.h's
 * (one 802.1Q tag of a known subinterface is routed, the rest punts).
 */
#ifndef FPM_LIB_ETH_H
#define FPM_LIB_ETH_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "fpm_abi.h"

#define FPM_MAX_VLAN_TAGS 2

struct fpm_vlan_hdr {
	__be16 tci;
	__be16 proto; /* encapsulated ethertype */
};

struct fpm_l2 {
	__be16 proto;	/* innermost ethertype, wire order */
	__u16 l3_off;	/* bytes from the start of the frame */
	__u8 tags;	/* VLAN tags walked */
	__u8 group;	/* destination MAC is multicast / broadcast */
};

static __always_inline int fpm_eth_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/* What the frame carries, once its tags are dealt with: routable IP unicast or not. */
static __always_inline int fpm_eth_classify(const struct fpm_l2 *l2)
{
	if (l2->proto != bpf_htons(ETH_P_IP) && l2->proto != bpf_htons(ETH_P_IPV6))
		return FPM_REASON_NON_IP;
	if (l2->group)
		return FPM_REASON_MULTICAST;
	return FPM_REASON_NONE;
}

/*
 * Fills l2 and returns FPM_REASON_NONE for an untagged IPv4 / IPv6 unicast
 * frame, else the reason the kernel should see it.
 */
static __always_inline int fpm_parse_eth(void *data, void *data_end, struct fpm_l2 *l2)
{
	struct ethhdr *eth = data;
	__u16 off = sizeof(*eth);

	if ((void *)(eth + 1) > data_end)
		return FPM_REASON_MALFORMED;
	l2->proto = eth->h_proto;
	l2->group = eth->h_dest[0] & 1;
	l2->tags = 0;

#pragma unroll
	for (int i = 0; i < FPM_MAX_VLAN_TAGS; i++) {
		struct fpm_vlan_hdr *vh = data + off;

		if (!fpm_eth_is_vlan(l2->proto))
			break;
		if ((void *)(vh + 1) > data_end)
			return FPM_REASON_MALFORMED;
		l2->proto = vh->proto;
		l2->tags++;
		off += sizeof(*vh);
	}
	l2->l3_off = off;

	if (l2->tags)
		return FPM_REASON_VLAN; /* lib/vlan.h decides: a subinterface's, or the kernel's */
	return fpm_eth_classify(l2);
}

/*
 * A promiscuous port (tcpdump, bridge or macvlan lower device) also sees
 * unicast frames for other hosts; the kernel drops them (PACKET_OTHERHOST),
 * so must we rather than route them. Two loads and compares, no loop.
 */
static __always_inline int fpm_eth_is_own(const __u8 *dst, const __u8 *own)
{
	return *(const __u32 *)dst == *(const __u32 *)own &&
	       *(const __u16 *)(dst + 4) == *(const __u16 *)(own + 4);
}

/* Rewrites both MACs for the chosen next hop. */
static __always_inline void fpm_eth_rewrite(struct ethhdr *eth, const __u8 *dst, const __u8 *src)
{
	__builtin_memcpy(eth->h_dest, dst, ETH_ALEN);
	__builtin_memcpy(eth->h_source, src, ETH_ALEN);
}

#endif /* FPM_LIB_ETH_H */
