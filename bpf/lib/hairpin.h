/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hairpin: a packet routed back out of the device it arrived on. The kernel
 * forwards it and also tells the sender that a better first hop exists on
 * its own segment; forwarding it here would keep the hosts from ever
 * learning that. "Device" is the logical one: a subinterface for a tagged
 * frame (lib/vlan.h), so leaving by another VID of the same port is not a
 * hairpin, while leaving by the same VID is.
 *
 * IPv4 (net/ipv4/route.c __mkroute_input, net/ipv4/ip_forward.c): when the
 * output device is the input device and IN_DEV_TX_REDIRECTS holds for it
 * (conf/all/send_redirects OR conf/<dev>/send_redirects, both 1 by default),
 * the route marks the packet for a redirect, provided the route back to the
 * source leaves by that device without a gateway (fib_validate_source() > 0:
 * the sender is on the segment) and, unless shared_media is set, the source
 * and the gateway share a subnet of the device; ip_forward() then sends the
 * ICMP redirect (rate-limited per peer by ip_rt_send_redirect()) and forwards
 * the packet anyway. fpm-sink mirrors the sysctl pair into FPM_IFACE_F_REDIRECTS4;
 * the source and gateway conditions are not modelled: with the flag set every
 * IPv4 hairpin punts, a superset of what the kernel redirects.
 *
 * IPv6 (net/ipv6/ip6_output.c ip6_forward, net/ipv6/ndisc.c
 * ndisc_send_redirect): no sysctl gates it. Leaving by the input device
 * (unless source routed or IPsec-decapsulated) sends an NDISC redirect whose
 * target is the gateway for a gateway route, else the destination; it is
 * dropped when the gateway is not link-local unicast, when the device has no
 * usable link-local address, when the source is not on-link, or by the
 * per-destination / per-source rate limits. None of that is visible here,
 * so every IPv6 hairpin punts.
 */
#ifndef FPM_LIB_HAIRPIN_H
#define FPM_LIB_HAIRPIN_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>

#include "fpm_abi.h"

/*
 * in_dev: ifindex of the device the frame arrived on (the subinterface's for
 * a tagged frame); iface: that device's entry; proto: the L3 ethertype (net).
 */
static __always_inline int fpm_hairpin_punts(const struct fpm_iface *iface, __u32 in_dev,
					     __be16 proto, const struct fpm_nexthop *nh)
{
	if (nh->ifindex != in_dev)
		return 0;
	if (proto == bpf_htons(ETH_P_IP))
		return (iface->flags & FPM_IFACE_F_REDIRECTS4) != 0;
	return 1;
}

#endif /* FPM_LIB_HAIRPIN_H */
