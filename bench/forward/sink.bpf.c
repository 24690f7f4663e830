// SPDX-License-Identifier: GPL-2.0
/*
 * Packet sink for the forwarding benchmark: counts the generator's frames (IPv4 or
 * IPv6 UDP to port 9, no IPv4 options or IPv6 extension headers) and drops them;
 * anything else (ARP, IPv6 ND, ...) goes to the stack uncounted, so the count is
 * exactly what was forwarded.
 *
 * Only frames forwarded correctly count: addressed to this port's MAC, TTL / hop
 * limit one below what the generator sent, IPv4 header checksum valid. A forwarder
 * that skips part of its job shows it as loss instead of speed.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Set before load: this port's MAC and the TTL a frame arrives with after one hop. */
volatile const __u8 port_mac[ETH_ALEN] = {};
volatile const __u8 want_ttl = 63;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} received SEC(".maps");

static __always_inline int ipv4_csum_ok(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static __always_inline int to_this_port(const struct ethhdr *eth)
{
#pragma unroll
	for (int i = 0; i < ETH_ALEN; i++)
		if (eth->h_dest[i] != port_mac[i])
			return 0;
	return 1;
}

/* The UDP header of a correctly forwarded generator frame, or NULL. */
static __always_inline struct udphdr *generator_udp(void *data, void *data_end)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end || !to_this_port(eth))
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		struct udphdr *udp = (void *)(ip + 1);

		if ((void *)(udp + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP ||
		    ip->ttl != want_ttl || !ipv4_csum_ok(ip))
			return 0;
		return udp;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		struct udphdr *udp = (void *)(ip6 + 1);

		if ((void *)(udp + 1) > data_end || ip6->nexthdr != IPPROTO_UDP ||
		    ip6->hop_limit != want_ttl)
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
