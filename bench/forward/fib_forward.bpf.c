// SPDX-License-Identifier: GPL-2.0
/*
 * The forwarding benchmark's peer: an XDP forwarder that asks the kernel FIB for
 * every packet, the design of xdp-tools' xdp-forward (fib-mode full, its default)
 * and the kernel's xdp_fwd sample. Per packet: parse Ethernet + IPv4/IPv6,
 * bpf_fib_lookup() from the ingress port's point of view (flags 0: full lookup,
 * FIB rules included), and on success lower TTL / hop limit, take both MACs from
 * the lookup's neighbour entry and bpf_redirect_map() into the devmap of ports.
 * Anything else (not IP, TTL expiring, no route, unresolved neighbour, egress
 * not in the devmap) goes to the kernel with XDP_PASS, untouched.
 *
 * The TTL update uses the same RFC 1624 helper as fpm-sink's program, so the two
 * differ in the lookup and not in the header work around it.
 *
 * With fixed_egress set before load the lookup is left out (the verifier drops the
 * dead branch): every frame goes to that port with the MACs given. The benchmark
 * runs that variant as a baseline, the cost of everything around a lookup
 * (generator, veth, header rewrite, redirect, sink), so the lookups can be compared
 * on their own.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "../../bpf/lib/csum.h"

/* <sys/socket.h> values; not reachable from a BPF compile. */
#define FIB_AF_INET 2
#define FIB_AF_INET6 10

/* Lookup flags, set before load: 0 is xdp-forward's default (fib-mode full). */
volatile const __u32 fib_flags = 0;
/* Baseline variant (see above): egress ifindex and the MACs to write; 0 = look up. */
volatile const __u32 fixed_egress = 0;
volatile const __u8 fixed_dmac[ETH_ALEN] = {};
volatile const __u8 fixed_smac[ETH_ALEN] = {};

/* Ports XDP may redirect to, keyed by ifindex (value: the same ifindex). */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

/*
 * Per-CPU outcome counters, so the benchmark can show that every frame took the
 * lookup path: [0..FIB_RESULTS-1] bpf_fib_lookup() return codes (0 = success),
 * then the frames passed before any lookup and those whose egress had no devmap
 * entry. One increment per forwarded frame, as fpm-sink's program counts its
 * verdicts: redirected = success - no_tx_port.
 */
#define FIB_RESULTS 16
enum {
	OUT_NOT_IP = FIB_RESULTS,
	OUT_TTL,
	OUT_NO_TX_PORT,
	OUT_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OUT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} outcomes SEC(".maps");

static __always_inline void count(__u32 what)
{
	__u64 *n = bpf_map_lookup_elem(&outcomes, &what);

	if (n)
		(*n)++;
}

/* Fills the lookup input from an IPv4 header; 0 if the frame is not forwardable here. */
static __always_inline int fib_input_v4(struct bpf_fib_lookup *fib, const struct iphdr *iph)
{
	if (iph->ttl <= 1)
		return 0;
	fib->family = FIB_AF_INET;
	fib->tos = iph->tos;
	fib->l4_protocol = iph->protocol;
	fib->tot_len = bpf_ntohs(iph->tot_len);
	fib->ipv4_src = iph->saddr;
	fib->ipv4_dst = iph->daddr;
	return 1;
}

static __always_inline int fib_input_v6(struct bpf_fib_lookup *fib, const struct ipv6hdr *ip6h)
{
	if (ip6h->hop_limit <= 1)
		return 0;
	fib->family = FIB_AF_INET6;
	/* Traffic class + flow label: the first word without the version nibble. */
	fib->flowinfo = *(const __be32 *)ip6h & bpf_htonl(0x0fffffff);
	fib->l4_protocol = ip6h->nexthdr;
	fib->tot_len = bpf_ntohs(ip6h->payload_len);
	__builtin_memcpy(fib->ipv6_src, &ip6h->saddr, sizeof(fib->ipv6_src));
	__builtin_memcpy(fib->ipv6_dst, &ip6h->daddr, sizeof(fib->ipv6_dst));
	return 1;
}

SEC("xdp")
int fib_forward(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct ipv6hdr *ip6h = (void *)(eth + 1);
	struct bpf_fib_lookup fib = {};
	int v4, rc;

	if ((void *)(eth + 1) > data_end) {
		count(OUT_NOT_IP);
		return XDP_PASS;
	}
	v4 = eth->h_proto == bpf_htons(ETH_P_IP);
	if (v4) {
		if ((void *)(iph + 1) > data_end) {
			count(OUT_NOT_IP);
			return XDP_PASS;
		}
		if (!fib_input_v4(&fib, iph)) {
			count(OUT_TTL);
			return XDP_PASS;
		}
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		if ((void *)(ip6h + 1) > data_end) {
			count(OUT_NOT_IP);
			return XDP_PASS;
		}
		if (!fib_input_v6(&fib, ip6h)) {
			count(OUT_TTL);
			return XDP_PASS;
		}
	} else {
		count(OUT_NOT_IP);
		return XDP_PASS;
	}
	fib.ifindex = ctx->ingress_ifindex;

	if (fixed_egress) {
		fib.ifindex = fixed_egress;
		for (int i = 0; i < ETH_ALEN; i++) {
			fib.dmac[i] = fixed_dmac[i];
			fib.smac[i] = fixed_smac[i];
		}
		rc = BPF_FIB_LKUP_RET_SUCCESS;
	} else {
		rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), fib_flags);
	}
	count(rc >= 0 && rc < FIB_RESULTS ? (__u32)rc : FIB_RESULTS - 1);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return XDP_PASS;
	/* Check the egress before touching the frame: a miss hands it to the kernel as it came. */
	if (!bpf_map_lookup_elem(&tx_ports, &fib.ifindex)) {
		count(OUT_NO_TX_PORT);
		return XDP_PASS;
	}
	if (v4) {
		__u16 *ttl_proto = (__u16 *)&iph->ttl;
		__u16 old = *ttl_proto;

		iph->ttl--;
		iph->check = fpm_csum_replace16(iph->check, old, *ttl_proto);
	} else {
		ip6h->hop_limit--;
	}
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	return bpf_redirect_map(&tx_ports, fib.ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
