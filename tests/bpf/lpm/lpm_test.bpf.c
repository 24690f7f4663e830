// SPDX-License-Identifier: GPL-2.0
/*
 * Runs the real lookups of bpf/lpm4.h and bpf/lpm6.h over a batch of
 * addresses (in .bss, filled by the test) and stores the answers, so the test
 * can compare the kernel-side code against the C++ reference.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "../../../bpf/lpm4.h"
#include "../../../bpf/lpm6.h"

#define LPM_TEST_BATCH 65536

__u8 addrs[LPM_TEST_BATCH][16]; /* network order; IPv4 in [0..3] */
__u32 results[LPM_TEST_BATCH];
__u32 count;
__u32 family; /* 4 or 6 */

static long lookup_one(__u32 i, void *unused)
{
	const __u8 *a;

	if (i >= LPM_TEST_BATCH)
		return 1;
	a = addrs[i];
	if (family == 4)
		results[i] = lpm4_lookup(NULL, (__u32)a[0] << 24 | (__u32)a[1] << 16 |
						       (__u32)a[2] << 8 | a[3]);
	else
		results[i] = lpm6_lookup(NULL, a);
	return 0;
}

SEC("xdp")
int lpm_batch(struct xdp_md *ctx)
{
	bpf_loop(count, lookup_one, NULL, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
