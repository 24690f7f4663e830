/* SPDX-License-Identifier: GPL-2.0 */
/* IPv4 header checks, flow hash and TTL decrement for the forwarding path. */
#ifndef FPM_LIB_IPV4_H
#define FPM_LIB_IPV4_H

#include <linux/types.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "fpm_abi.h"
#include "lib/csum.h"
#include "lib/hash.h"

#define FPM_IP_MF 0x2000
/* Largest L3 part of a minimum-size Ethernet frame (60 bytes without FCS). */
#define FPM_ETH_MIN_L3 46
#define FPM_IP_OFFSET 0x1fff

/*
 * Bytes after the IP datagram are Ethernet padding in a minimum-size frame;
 * in a larger one they are garbage the kernel would trim, and forwarding
 * them could exceed the egress MTU: such frames go to the kernel.
 */
static __always_inline int fpm_l3_has_trailer(void *l3, __u32 l3_len, void *data_end)
{
	__u64 avail = data_end - l3;

	return avail > l3_len && avail > FPM_ETH_MIN_L3;
}

/*
 * Validates the header at iph (the frame ends at data_end) and returns
 * FPM_REASON_NONE if the packet may be routed by the fast path. Checks
 * run from "cannot parse" to "kernel must see it", so a header with both
 * options and a bad length reports MALFORMED.
 */
static __always_inline int fpm_ipv4_check(struct iphdr *iph, void *data_end)
{
	__u32 hlen, tot_len;

	if ((void *)(iph + 1) > data_end)
		return FPM_REASON_MALFORMED;
	if (iph->version != 4 || iph->ihl < 5)
		return FPM_REASON_MALFORMED;
	hlen = iph->ihl * 4;
	tot_len = bpf_ntohs(iph->tot_len);
	if (tot_len < hlen || (void *)iph + tot_len > data_end)
		return FPM_REASON_MALFORMED;
	if (fpm_l3_has_trailer(iph, tot_len, data_end))
		return FPM_REASON_MALFORMED;
	if (hlen != sizeof(*iph))
		return FPM_REASON_IP_OPTIONS;
	if (!fpm_ipv4_csum_ok(iph))
		return FPM_REASON_BAD_CSUM;
	return FPM_REASON_NONE;
}

/* Addresses the fast path must never route, in wire order. */
static __always_inline int fpm_ipv4_addr_class(__be32 saddr, __be32 daddr)
{
	__u32 s = bpf_ntohl(saddr), d = bpf_ntohl(daddr);

	if ((d >> 28) == 0xe || d == 0xffffffffu || (s >> 28) == 0xe || s == 0xffffffffu)
		return FPM_REASON_MULTICAST;
	if ((d >> 16) == 0xa9fe || (s >> 16) == 0xa9fe) /* 169.254/16, RFC 3927 2.7 */
		return FPM_REASON_LINK_LOCAL;
	if ((d >> 24) == 0 || (d >> 24) == 127 || (s >> 24) == 127)
		return FPM_REASON_MARTIAN;
	return FPM_REASON_NONE;
}

static __always_inline int fpm_l4_has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP ||
	       proto == IPPROTO_UDPLITE;
}

/*
 * 5-tuple hash of an option-less header already validated by
 * fpm_ipv4_check(). Fragments hash on addresses + protocol only, so every
 * fragment of a datagram takes the same member.
 */
static __always_inline __u32 fpm_ipv4_hash(struct iphdr *iph, void *data_end, __u32 seed)
{
	__u32 k[4];
	__u32 *ports = (__u32 *)(iph + 1);

	k[0] = iph->saddr;
	k[1] = iph->daddr;
	k[2] = 0;
	k[3] = iph->protocol;
	if (!(iph->frag_off & bpf_htons(FPM_IP_MF | FPM_IP_OFFSET)) &&
	    fpm_l4_has_ports(iph->protocol) && (void *)(ports + 1) <= data_end)
		k[2] = *ports;
	return fpm_jhash_words(k, 4, seed);
}

/* Decrements the TTL and patches the checksum (RFC 1624). TTL must be > 1. */
static __always_inline void fpm_ipv4_dec_ttl(struct iphdr *iph)
{
	__u16 *word = (__u16 *)&iph->ttl; /* ttl and protocol */
	__u16 old = *word;

	iph->ttl--;
	iph->check = fpm_csum_replace16(iph->check, old, *word);
}

#endif /* FPM_LIB_IPV4_H */
