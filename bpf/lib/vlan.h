/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 802.1Q subinterfaces (ip link add link eth0 name eth0.10 type vlan id 10).
 * Native XDP cannot attach to a VLAN device, so the program runs on the
 * parent and does what the kernel's vlan_do_receive() / vlan_dev_hard_start_xmit()
 * would:
 *
 * Ingress: a frame with exactly one 802.1Q tag whose (port, VID) is in
 * fpm_vlans is routed as if it had arrived on that subinterface: the
 * subinterface's own fpm_ifaces entry (its MAC, forwarding switches, table,
 * master, counter slot) replaces the port's, and every ingress check runs
 * against it. Everything else tagged punts, counted on the port:
 *   two tags (QinQ), an 802.1ad outer tag, VID 0 (priority tag) or 4095
 *                                  FPM_REASON_VLAN
 *   a VID without a routed subinterface on the port
 *                                  FPM_REASON_VLAN_UNKNOWN
 * The kernel handles those itself (a priority tag is untagged traffic to it,
 * an unknown VID is dropped, QinQ needs stacked devices): punting is right.
 *
 * Egress: a next hop with FPM_NH_F_VLAN (egress through a subinterface)
 * leaves with its tag; fpm_tx_ports[subinterface] holds the parent, so the
 * redirect needs no second lookup. A frame received tagged and sent to an
 * untagged port loses its tag. The Ethernet header moves with
 * bpf_xdp_adjust_head() (4 bytes either way) before anything else is written,
 * so a failure leaves the frame as received, to be punted.
 *
 * Untagged in and out, nothing here runs: fpm_parse_eth() already returns
 * FPM_REASON_VLAN only for tagged frames, and egress tests one flag.
 * PCP is written as 0 (the kernel's default egress-qos-map); a subinterface
 * with an egress-qos-map gets no fpm_tx_ports entry, so its traffic punts.
 */
#ifndef FPM_LIB_VLAN_H
#define FPM_LIB_VLAN_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "fpm_abi.h"
#include "lib/maps.h"
#include "lib/eth.h"

#define FPM_VLAN_VID_MASK 0x0fff

/*
 * A tagged frame (fpm_parse_eth() said FPM_REASON_VLAN) on `port`: returns
 * what an untagged frame would get from fpm_parse_eth(), with *iface switched
 * to the subinterface's entry and *in_dev to its ifindex, or the reason it
 * punts (*iface unchanged, so the port counts it). FPM_REASON_ENSLAVED is the
 * subinterface's (it has a master).
 */
static __always_inline int fpm_vlan_ingress(void *data, void *data_end, __u32 port,
					    const struct fpm_l2 *l2,
					    const struct fpm_iface **iface, __u32 *in_dev)
{
	struct ethhdr *eth = data;
	struct fpm_vlan_hdr *vh = (void *)(eth + 1);
	struct fpm_vlan_key key = {};
	const struct fpm_iface *sub;
	__u32 *sub_ifindex;

	if ((void *)(vh + 1) > data_end)
		return FPM_REASON_MALFORMED;
	if (l2->tags != 1 || eth->h_proto != bpf_htons(ETH_P_8021Q))
		return FPM_REASON_VLAN;
	key.vid = bpf_ntohs(vh->tci) & FPM_VLAN_VID_MASK;
	if (key.vid == 0 || key.vid == FPM_VLAN_VID_MASK)
		return FPM_REASON_VLAN;
	key.ifindex = port;
	sub_ifindex = bpf_map_lookup_elem(&fpm_vlans, &key);
	if (!sub_ifindex)
		return FPM_REASON_VLAN_UNKNOWN;
	sub = bpf_map_lookup_elem(&fpm_ifaces, sub_ifindex);
	if (!sub)
		return FPM_REASON_VLAN_UNKNOWN;
	*iface = sub;
	*in_dev = *sub_ifindex;
	if (sub->flags & FPM_IFACE_F_ENSLAVED)
		return FPM_REASON_ENSLAVED;
	return fpm_eth_classify(l2);
}

/* Bytes before the IP header of the frame as it leaves through nh. */
static __always_inline __u32 fpm_vlan_l2_len(const struct fpm_nexthop *nh)
{
	return sizeof(struct ethhdr) + ((nh->flags & FPM_NH_F_VLAN) ? sizeof(struct fpm_vlan_hdr) : 0);
}

/* Does the frame's Ethernet header change shape on its way out? One test. */
static __always_inline int fpm_vlan_egress_needed(const struct fpm_l2 *l2,
						  const struct fpm_nexthop *nh)
{
	return l2->tags | (nh->flags & FPM_NH_F_VLAN);
}

/*
 * Pushes, pops or rewrites the tag for the egress through nh (after the
 * routing decision, before the TTL and MACs are written). Pop: the inner
 * ethertype slides into h_proto by itself; push: the old h_proto becomes the
 * tag's encapsulated type. Returns FPM_REASON_NONE, or FPM_REASON_VLAN with
 * the frame unchanged when the head cannot move (no headroom).
 */
static __always_inline int fpm_vlan_egress(struct xdp_md *ctx, const struct fpm_l2 *l2,
					   const struct fpm_nexthop *nh)
{
	const int tagged_out = (nh->flags & FPM_NH_F_VLAN) != 0;
	struct fpm_vlan_hdr *vh;
	struct ethhdr *eth;
	void *data, *data_end;

	if (l2->tags && !tagged_out) {
		if (bpf_xdp_adjust_head(ctx, (int)sizeof(struct fpm_vlan_hdr)))
			return FPM_REASON_VLAN;
		return FPM_REASON_NONE;
	}
	if (!l2->tags && tagged_out &&
	    bpf_xdp_adjust_head(ctx, -(int)sizeof(struct fpm_vlan_hdr)))
		return FPM_REASON_VLAN;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	vh = (void *)(eth + 1);
	if ((void *)(vh + 1) > data_end)
		return FPM_REASON_MALFORMED; /* not reachable: routing checked the length */
	eth->h_proto = bpf_htons(ETH_P_8021Q);
	vh->tci = nh->vlan_tci;
	return FPM_REASON_NONE;
}

#endif /* FPM_LIB_VLAN_H */
