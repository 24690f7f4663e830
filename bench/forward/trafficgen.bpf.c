// SPDX-License-Identifier: GPL-2.0
/*
 * Traffic source for the forwarding benchmark. Run with BPF_PROG_TEST_RUN and
 * BPF_F_TEST_XDP_LIVE_FRAMES on the generator's veth: every run rewrites the
 * template UDP packet's destination (cycling through a table of addresses) and
 * source port, then XDP_TX sends it to the device under test.
 *
 * Live-frame pages are recycled without re-copying the template, and the device
 * under test rewrites the frames it forwards in place (MACs, TTL): after a round
 * trip through the DUT and the sink a page comes back modified. So every run
 * rewrites all of those fields, not just the ones that vary.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

volatile const __u32 n_dsts = 1;
volatile const __u8 eth_dst[ETH_ALEN] = {};
volatile const __u8 eth_src[ETH_ALEN] = {};
volatile const __u8 ip_ttl = 64;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << 21);
	__type(key, __u32);
	__type(value, __u32); /* IPv4 destination, network order */
} dsts SEC(".maps");

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

SEC("xdp")
int trafficgen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u32 zero = 0, idx, *dst;
	__u64 *n;

	if ((void *)(udp + 1) > data_end)
		return XDP_ABORTED;
	n = bpf_map_lookup_elem(&seq, &zero);
	if (!n)
		return XDP_ABORTED;
	/* Spread over CPUs' sequences too: the high bits keep per-CPU runs apart. */
	idx = (__u32)((*n * 2654435761u) % (n_dsts ? n_dsts : 1));
	dst = bpf_map_lookup_elem(&dsts, &idx);
	if (!dst)
		return XDP_ABORTED;
#pragma unroll
	for (int i = 0; i < ETH_ALEN; i++) {
		eth->h_dest[i] = eth_dst[i];
		eth->h_source[i] = eth_src[i];
	}
	ip->ttl = ip_ttl;
	ip->daddr = *dst;
	udp->source = bpf_htons(1024 + (__u16)(*n & 0x7fff));
	udp->check = 0;
	(*n)++;

	ip->check = 0;
	__u32 sum = 0;
	__u16 *w = (__u16 *)ip;
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	ip->check = csum_fold(sum);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
