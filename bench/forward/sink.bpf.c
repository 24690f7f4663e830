// SPDX-License-Identifier: GPL-2.0
/*
 * Packet sink for the forwarding benchmark: counts the generator's frames (IPv4 or
 * IPv6 UDP to port 9, no IPv4 options or IPv6 extension headers) and drops them;
 * anything else (ARP, IPv6 ND, ...) goes to the stack uncounted, so the count is
 * exactly what was forwarded.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} received SEC(".maps");

/* The UDP header of a generator frame, or NULL. */
static __always_inline struct udphdr *generator_udp(void *data, void *data_end)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		struct udphdr *udp = (void *)(ip + 1);

		if ((void *)(udp + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
			return 0;
		return udp;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		struct udphdr *udp = (void *)(ip6 + 1);

		if ((void *)(udp + 1) > data_end || ip6->nexthdr != IPPROTO_UDP)
			return 0;
		return udp;
	}
	return 0;
}

SEC("xdp")
int sink(struct xdp_md *ctx)
{
	struct udphdr *udp = generator_udp((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	__u32 zero = 0;
	__u64 *n;

	if (!udp || udp->dest != bpf_htons(9))
		return XDP_PASS;
	n = bpf_map_lookup_elem(&received, &zero);
	if (n)
		(*n)++;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
