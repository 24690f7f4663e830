/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Seeded flow hash for ECMP: Bob Jenkins' lookup3 mix (the kernel's jhash),
 * over 32-bit words already copied to the stack.
 * Compiled by g++ too (fpm-sink/dataplane/flow_hash.hpp), so the member that
 * `fpm-sinkctl show routes ADDR from ...` names is computed by this code.
 */
#ifndef FPM_LIB_HASH_H
#define FPM_LIB_HASH_H

#include <linux/types.h>
#if defined(__bpf__)
#include <bpf/bpf_helpers.h>
#define FPM_HASH_UNROLL _Pragma("unroll")
#else
#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif
#define FPM_HASH_UNROLL
#endif

#define FPM_JHASH_INITVAL 0xdeadbeefu

static __always_inline __u32 fpm_rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

#define fpm_jhash_mix(a, b, c)                      \
	do {                                        \
		a -= c; a ^= fpm_rol32(c, 4); c += b;  \
		b -= a; b ^= fpm_rol32(a, 6); a += c;  \
		c -= b; c ^= fpm_rol32(b, 8); b += a;  \
		a -= c; a ^= fpm_rol32(c, 16); c += b; \
		b -= a; b ^= fpm_rol32(a, 19); a += c; \
		c -= b; c ^= fpm_rol32(b, 4); b += a;  \
	} while (0)

#define fpm_jhash_final(a, b, c)                  \
	do {                                      \
		c ^= b; c -= fpm_rol32(b, 14);    \
		a ^= c; a -= fpm_rol32(c, 11);    \
		b ^= a; b -= fpm_rol32(a, 25);    \
		c ^= b; c -= fpm_rol32(b, 16);    \
		a ^= c; a -= fpm_rol32(c, 4);     \
		b ^= a; b -= fpm_rol32(a, 14);    \
		c ^= b; c -= fpm_rol32(b, 24);    \
	} while (0)

/* jhash2(): hashes n words (n a compile-time constant after inlining). */
static __always_inline __u32 fpm_jhash_words(const __u32 *k, const int n, __u32 seed)
{
	__u32 a, b, c;
	int i = 0;

	a = b = c = FPM_JHASH_INITVAL + ((__u32)n << 2) + seed;
	FPM_HASH_UNROLL
	for (; i + 3 < n; i += 3) {
		a += k[i];
		b += k[i + 1];
		c += k[i + 2];
		fpm_jhash_mix(a, b, c);
	}
	/* 1..3 words left (n > 0) */
	if (n - i == 3)
		c += k[i + 2];
	if (n - i >= 2)
		b += k[i + 1];
	a += k[i];
	fpm_jhash_final(a, b, c);
	return c;
}

#endif /* FPM_LIB_HASH_H */
