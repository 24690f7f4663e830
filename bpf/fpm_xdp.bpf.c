// SPDX-License-Identifier: GPL-2.0
/*
 * fpm-sink's XDP fast path: routes plain IPv4 / IPv6 unicast with the
 * tables fpm-sink mirrors from zebra, and hands everything else to the
 * kernel (XDP_PASS), which zebra programs too and so stays correct.
 *
 *   port configured? -> enslaved? -> parse [-> tagged: subinterface, lib/vlan.h]
 *   -> own MAC? -> family forwarded? -> addresses
 *   -> local? -> TTL -> LPM of the port's table (main, or a VRF's: lib/vrf.h)
 *   -> group -> bucket[hash] -> next hop -> MTU -> hairpin? -> devmap -> rewrite
 *      (connected punt -> the table's host entry of the destination, if any
 *       -> MTU -> ...: lib/hosts.h; hairpin: lib/hairpin.h)
 *   -> [tag pushed / popped / rewritten, lib/vlan.h] -> TTL -> MACs
 *
 * Every packet bumps one verdict counter and one reason counter.
 * Maps and encodings: fpm_abi.h, lib/maps.h, lpm4.h, lpm6.h.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "fpm_abi.h"
#include "lpm4.h"
#include "lpm6.h"
#include "lib/maps.h"
#include "lib/counters.h"
#include "lib/eth.h"
#include "lib/ipv4.h"
#include "lib/ipv6.h"
#include "lib/vlan.h"
#include "lib/vrf.h"
#include "lib/hosts.h"
#include "lib/hairpin.h"

const volatile struct fpm_config fpm_cfg = {};

/* Outcome of the routing decision, before any packet byte is changed. */
struct fpm_route {
	__u32 verdict;	/* enum fpm_verdict */
	__u32 reason;	/* enum fpm_reason */
	const struct fpm_nexthop *nh; /* set for FPM_VERDICT_REDIRECT */
};

static __always_inline void fpm_route_punt(struct fpm_route *r, __u32 reason)
{
	r->verdict = FPM_VERDICT_PASS;
	r->reason = reason;
}

/*
 * Fast failover: a next hop whose link went down (or whose neighbour FAILED)
 * is marked FPM_NH_FAILED by one write from userspace. Until zebra sends the
 * shrunken group, flows hashed to it probe a few other buckets of the same
 * group along a fixed, hash-derived sequence and take the first valid member,
 * so they keep a stable path and the surviving members share the load.
 * Random probes can all land on failed members (with one of two members
 * down, 1 flow in 4096 would), so a walk over every bucket follows them: a
 * flow only goes to the kernel when the group has no valid member at all.
 */
#define FPM_FAILOVER_PROBES 12

static __always_inline const struct fpm_nexthop *fpm_nexthop_if_valid(__u32 nh_index)
{
	const struct fpm_nexthop *nh = bpf_map_lookup_elem(&fpm_nexthops, &nh_index);

	return nh && nh->state == FPM_NH_VALID ? nh : NULL;
}

static __always_inline const struct fpm_nexthop *
fpm_failover(const struct fpm_nhg *grp, __u32 hash, const struct fpm_nexthop *failed)
{
	const struct fpm_nexthop *nh;
	__u32 start, nh_index, skip;

#pragma unroll
	for (int i = 1; i <= FPM_FAILOVER_PROBES; i++) {
		/* Members own runs of adjacent buckets: probe far apart (murmur3 finaliser). */
		__u32 x = hash + i * 0x9e3779b9u;

		x ^= x >> 16;
		x *= 0x85ebca6bu;
		x ^= x >> 13;
		nh = fpm_nexthop_if_valid(grp->buckets[x & (FPM_NHG_BUCKETS - 1)]);
		if (nh)
			return nh;
	}
	/* Runs of one member need one lookup each: skip repeats of the last miss. */
	start = hash >> 8;
	skip = grp->buckets[hash & (FPM_NHG_BUCKETS - 1)];
	for (__u32 i = 0; i < FPM_NHG_BUCKETS; i++) {
		nh_index = grp->buckets[(start + i) & (FPM_NHG_BUCKETS - 1)];
		if (nh_index == skip)
			continue;
		nh = fpm_nexthop_if_valid(nh_index);
		if (nh)
			return nh;
		skip = nh_index;
	}
	return failed;
}

/* Forwards through nh (a group member or a connected host) if it is usable now. */
static __always_inline void fpm_use_nexthop(const struct fpm_nexthop *nh, __u32 l3_len,
					    struct fpm_route *r)
{
	if (nh->state != FPM_NH_VALID) {
		fpm_route_punt(r, nh->state == FPM_NH_UNRESOLVED ? FPM_REASON_UNRESOLVED
								 : FPM_REASON_NH_FAILED);
		return;
	}
	if (l3_len > nh->mtu) {
		fpm_route_punt(r, FPM_REASON_MTU);
		return;
	}
	r->verdict = FPM_VERDICT_REDIRECT;
	r->reason = FPM_REASON_NONE;
	r->nh = nh;
}

/*
 * Turns an LPM action into a next hop, or into the reason there is none.
 * host: the destination's connected-host entry in the port's table when the
 * action is a connected punt (lib/hosts.h), else NULL.
 */
static __always_inline void fpm_resolve(__u32 act, __u32 hash, __u32 l3_len,
					const struct fpm_nexthop *host, struct fpm_route *r)
{
	const struct fpm_nexthop *nh;
	const struct fpm_nhg *grp;
	__u32 reason, group_index, nh_index;

	switch (fpm_act_kind(act)) {
	case FPM_ACT_FORWARD:
		break;
	case FPM_ACT_DROP:
		r->verdict = FPM_VERDICT_DROP;
		r->reason = FPM_REASON_BLACKHOLE;
		return;
	case FPM_ACT_PUNT:
		reason = fpm_act_arg(act);
		if (reason == FPM_REASON_CONNECTED && host) {
			/* A resolved neighbour on the subnet: forward to it directly. */
			fpm_use_nexthop(host, l3_len, r);
			return;
		}
		fpm_route_punt(r, reason < FPM_REASON_MAX ? reason : FPM_REASON_OFFLOAD_FAILED);
		return;
	default: /* FPM_ACT_NONE and kinds this program does not know */
		fpm_route_punt(r, FPM_REASON_NO_ROUTE);
		return;
	}

	group_index = fpm_act_arg(act);
	grp = bpf_map_lookup_elem(&fpm_nhg, &group_index);
	if (!grp || !(grp->flags & FPM_NHG_F_VALID)) {
		fpm_route_punt(r, FPM_REASON_NO_GROUP);
		return;
	}
	nh_index = grp->buckets[hash & (FPM_NHG_BUCKETS - 1)];
	nh = bpf_map_lookup_elem(&fpm_nexthops, &nh_index);
	if (!nh) {
		fpm_route_punt(r, FPM_REASON_NH_FAILED);
		return;
	}
	if (nh->state == FPM_NH_FAILED)
		nh = fpm_failover(grp, hash, nh);
	fpm_use_nexthop(nh, l3_len, r);
}

static __always_inline void fpm_route_v4(const struct fpm_iface *iface, struct iphdr *iph,
					 void *data_end, struct fpm_route *r)
{
	__u32 reason, act;

	reason = fpm_ipv4_check(iph, data_end);
	if (reason == FPM_REASON_NONE)
		reason = fpm_ipv4_addr_class(iph->saddr, iph->daddr);
	if (reason == FPM_REASON_NONE && bpf_map_lookup_elem(&fpm_local4, &iph->daddr))
		reason = FPM_REASON_LOCAL;
	if (reason == FPM_REASON_NONE && iph->ttl <= 1)
		reason = FPM_REASON_TTL;
	if (reason != FPM_REASON_NONE) {
		fpm_route_punt(r, reason);
		return;
	}
	act = fpm_table_lookup4(iface->table_slot, iph->daddr);
	fpm_resolve(act, fpm_ipv4_hash(iph, data_end, fpm_cfg.hash_seed),
		    bpf_ntohs(iph->tot_len),
		    fpm_connected_host4(act, iface->table_slot, iph->daddr), r);
}

static __always_inline void fpm_route_v6(const struct fpm_iface *iface, struct ipv6hdr *ip6h,
					 void *data_end, struct fpm_route *r)
{
	__u32 reason, act;

	reason = fpm_ipv6_check(ip6h, data_end);
	if (reason == FPM_REASON_NONE)
		reason = fpm_ipv6_addr_class(&ip6h->saddr, &ip6h->daddr);
	if (reason == FPM_REASON_NONE && bpf_map_lookup_elem(&fpm_local6, &ip6h->daddr))
		reason = FPM_REASON_LOCAL;
	if (reason == FPM_REASON_NONE && ip6h->hop_limit <= 1)
		reason = FPM_REASON_TTL;
	if (reason != FPM_REASON_NONE) {
		fpm_route_punt(r, reason);
		return;
	}
	act = fpm_table_lookup6(iface->table_slot, &ip6h->daddr);
	fpm_resolve(act, fpm_ipv6_hash(ip6h, data_end, fpm_cfg.hash_seed),
		    sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len),
		    fpm_connected_host6(act, iface->table_slot, &ip6h->daddr), r);
}

SEC("xdp")
int fpm_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 bytes = data_end - data;
	struct fpm_route r = { .verdict = FPM_VERDICT_PASS };
	const struct fpm_iface *iface;
	__u32 ifindex = ctx->ingress_ifindex;
	__u32 in_dev = ifindex; /* the subinterface's, once a tag names one */
	struct fpm_l2 l2;
	void *l3;

	iface = bpf_map_lookup_elem(&fpm_ifaces, &ifindex);
	if (!iface) {
		fpm_count(NULL, FPM_VERDICT_PASS, FPM_REASON_NO_IFACE, bytes);
		return XDP_PASS;
	}

	if (iface->flags & (FPM_IFACE_F_ENSLAVED | FPM_IFACE_F_TAGS_STRIPPED)) {
		/*
		 * Its master (bridge, bond) decides; a VRF's port has a table_slot
		 * instead. Or its NIC hid the tags that say which device it is.
		 */
		r.reason = iface->flags & FPM_IFACE_F_ENSLAVED ? FPM_REASON_ENSLAVED
							       : FPM_REASON_TAGS_STRIPPED;
		goto out;
	}
	r.reason = fpm_parse_eth(data, data_end, &l2);
	if (r.reason == FPM_REASON_VLAN)
		r.reason = fpm_vlan_ingress(data, data_end, ifindex, &l2, &iface, &in_dev);
	if (r.reason != FPM_REASON_NONE)
		goto out;
	/* Restated for the verifier: fpm_parse_eth checked the header. */
	if (data + sizeof(struct ethhdr) > data_end ||
	    !fpm_eth_is_own(((struct ethhdr *)data)->h_dest, iface->mac)) {
		r.reason = FPM_REASON_OTHER_HOST;
		goto out;
	}
	/* Untagged, or one 802.1Q tag (fpm_vlan_ingress said so): no branch. */
	l3 = data + sizeof(struct ethhdr) + (l2.tags & 1) * sizeof(struct fpm_vlan_hdr);
	/*
	 * The kernel routes nothing a port's forwarding switch keeps out: neither
	 * do we. Nor what its policy rules could send to another table.
	 */
	if (l2.proto == bpf_htons(ETH_P_IP)) {
		if (!(iface->flags & FPM_IFACE_F_V4))
			r.reason = FPM_REASON_NO_IFACE;
		else if (!(iface->flags & FPM_IFACE_F_FWD4))
			r.reason = FPM_REASON_FWD_DISABLED;
		else if (iface->flags & FPM_IFACE_F_RULES4)
			r.reason = FPM_REASON_POLICY_RULES;
		else
			fpm_route_v4(iface, l3, data_end, &r);
	} else {
		if (!(iface->flags & FPM_IFACE_F_V6))
			r.reason = FPM_REASON_NO_IFACE;
		else if (!(iface->flags & FPM_IFACE_F_FWD6))
			r.reason = FPM_REASON_FWD_DISABLED;
		else if (iface->flags & FPM_IFACE_F_RULES6)
			r.reason = FPM_REASON_POLICY_RULES;
		else
			fpm_route_v6(iface, l3, data_end, &r);
	}
	if (r.verdict != FPM_VERDICT_REDIRECT)
		goto out;
	if (fpm_hairpin_punts(iface, in_dev, l2.proto, r.nh)) {
		fpm_route_punt(&r, FPM_REASON_HAIRPIN);
		goto out;
	}

	/*
	 * bpf_redirect_map() only records the target; the frame leaves after
	 * we return. Ask first so that a port missing from the devmap gets
	 * the packet to the kernel unmodified.
	 */
	if (bpf_redirect_map(&fpm_tx_ports, r.nh->ifindex, XDP_PASS) != XDP_REDIRECT) {
		fpm_route_punt(&r, FPM_REASON_NO_TX_PORT);
		goto out;
	}
	if (fpm_vlan_egress_needed(&l2, r.nh)) {
		__u32 reason = fpm_vlan_egress(ctx, &l2, r.nh);

		if (reason != FPM_REASON_NONE) {
			fpm_route_punt(&r, reason);
			goto out;
		}
		/* The head moved: every packet pointer is new. */
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		l3 = data + fpm_vlan_l2_len(r.nh);
		if (data + sizeof(struct ethhdr) > data_end) {
			fpm_route_punt(&r, FPM_REASON_MALFORMED);
			goto out;
		}
	}
	/*
	 * The bounds below were checked while routing; restated for the
	 * verifier. Failing them is impossible, but would punt, not redirect.
	 */
	if (l2.proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = l3;

		if ((void *)(iph + 1) > data_end) {
			fpm_route_punt(&r, FPM_REASON_MALFORMED);
			goto out;
		}
		fpm_ipv4_dec_ttl(iph);
	} else {
		struct ipv6hdr *ip6h = l3;

		if ((void *)(ip6h + 1) > data_end) {
			fpm_route_punt(&r, FPM_REASON_MALFORMED);
			goto out;
		}
		ip6h->hop_limit--;
	}
	fpm_eth_rewrite(data, r.nh->dst_mac, r.nh->src_mac);

out:
	fpm_count(iface, r.verdict, r.reason, bytes);
	switch (r.verdict) {
	case FPM_VERDICT_REDIRECT:
		return XDP_REDIRECT;
	case FPM_VERDICT_DROP:
		fpm_count_port_reason(iface, r.reason, bytes);
		return XDP_DROP;
	default:
		fpm_count_port_reason(iface, r.reason, bytes);
		return XDP_PASS;
	}
}

char LICENSE[] SEC("license") = "GPL";
