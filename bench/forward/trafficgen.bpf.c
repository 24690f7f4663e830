// SPDX-License-Identifier: GPL-2.0
/*
 * Traffic source for the forwarding benchmark. Run with BPF_PROG_TEST_RUN and
 * BPF_F_TEST_XDP_LIVE_FRAMES on the generator's veth: every run rewrites the
 * template UDP packet's destination (cycling through a table of addresses) and
 * source port, then XDP_TX sends it to the device under test. trafficgen sends
 * IPv4 (destinations in dsts), trafficgen6 IPv6 (destinations in dsts6).
 *
 * Live-frame pages are recycled without re-copying the template, and the device
 * under test rewrites the frames it forwards in place (MACs, TTL): after a round
 * trip through the DUT and the sink a page comes back modified. So every run
 * rewrites all of those fields, not just the ones that vary.
 *
 * The IPv6 frames carry UDP checksum 0, which receivers must drop: nothing on the
 * path checks it (forwarders leave L4 alone, the sink counts headers only), and
 * a correct one would cost the generator a 40-byte pseudo-header sum per frame.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

volatile const __u32 n_dsts = 1;
volatile const __u8 eth_dst[ETH_ALEN] = {};
volatile const __u8 eth_src[ETH_ALEN] = {};
volatile const __u8 ip_ttl = 64;

/* The loader sizes both tables (bpf_map__set_max_entries) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32); /* IPv4 destination, network order */
} dsts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct in6_addr);
} dsts6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seq SEC(".maps");

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/*
 * This CPU's sequence number (in *n) and the destination it picks from table
 * (dsts or dsts6); NULL on error.
 */
static __always_inline void *next_dst(void *table, __u64 **n)
{
	__u32 zero = 0, idx;

	*n = bpf_map_lookup_elem(&seq, &zero);
	if (!*n)
		return 0;
	/* Spread over CPUs' sequences too: the high bits keep per-CPU runs apart. */
	idx = (__u32)((**n * 2654435761u) % (n_dsts ? n_dsts : 1));
	return bpf_map_lookup_elem(table, &idx);
}

static __always_inline void set_macs(struct ethhdr *eth)
{
#pragma unroll
	for (int i = 0; i < ETH_ALEN; i++) {
		eth->h_dest[i] = eth_dst[i];
		eth->h_source[i] = eth_src[i];
	}
}

/* A new source port per frame gives each its own flow; the sequence moves on. */
static __always_inline void set_udp(struct udphdr *udp, __u64 *n)
{
	udp->source = bpf_htons(1024 + (__u16)(*n & 0x7fff));
	udp->check = 0;
	(*n)++;
}

static __always_inline void set_ip_check(struct iphdr *ip)
{
	__u16 *w = (__u16 *)ip;
	__u32 sum = 0;

	ip->check = 0;
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	ip->check = csum_fold(sum);
}

SEC("xdp")
int trafficgen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u32 *dst;
	__u64 *n;

	if ((void *)(udp + 1) > data_end)
		return XDP_ABORTED;
	dst = next_dst(&dsts, &n);
	if (!dst)
		return XDP_ABORTED;
	set_macs(eth);
	ip->ttl = ip_ttl;
	ip->daddr = *dst;
	set_udp(udp, n);
	set_ip_check(ip);
	return XDP_TX;
}

SEC("xdp")
int trafficgen6(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip6 + 1);
	struct in6_addr *dst;
	__u64 *n;

	if ((void *)(udp + 1) > data_end)
		return XDP_ABORTED;
	dst = next_dst(&dsts6, &n);
	if (!dst)
		return XDP_ABORTED;
	set_macs(eth);
	ip6->hop_limit = ip_ttl;
	ip6->daddr = *dst;
	set_udp(udp, n);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
