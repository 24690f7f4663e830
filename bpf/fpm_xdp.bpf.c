// SPDX-License-Identifier: GPL-2.0
/* Placeholder: passes everything to the kernel until the fast path lands. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int fpm_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
