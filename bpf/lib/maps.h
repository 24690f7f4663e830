/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fast path's maps other than the LPM tables (lpm4.h / lpm6.h).
 * Shapes and writers are documented in fpm_abi.h. Include from exactly one
 * BPF object.
 */
#ifndef FPM_LIB_MAPS_H
#define FPM_LIB_MAPS_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "fpm_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, FPM_MAX_NHG);
	__type(key, __u32);
	__type(value, struct fpm_nhg);
} fpm_nhg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FPM_MAX_NEXTHOPS);
	__type(key, __u32);
	__type(value, struct fpm_nexthop);
} fpm_nexthops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FPM_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct fpm_iface);
} fpm_ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FPM_MAX_LOCAL);
	__type(key, __be32);
	__type(value, __u32);
} fpm_local4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FPM_MAX_LOCAL);
	__type(key, struct fpm_in6);
	__type(value, __u32);
} fpm_local6 SEC(".maps");

/*
 * Connected hosts (fpm_abi.h). No preallocation: an update links a fresh
 * element and frees the old one after RCU, so a reader never sees a value
 * half rewritten, and a host change stays one write.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, FPM_MAX_HOSTS);
	__type(key, struct fpm_host4_key);
	__type(value, struct fpm_nexthop);
} fpm_hosts4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, FPM_MAX_HOSTS);
	__type(key, struct fpm_host6_key);
	__type(value, struct fpm_nexthop);
} fpm_hosts6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, FPM_MAX_TX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} fpm_tx_ports SEC(".maps");

/* Tagged frames only: (port, VID) -> the subinterface's ifindex (lib/vlan.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FPM_MAX_VLANS);
	__type(key, struct fpm_vlan_key);
	__type(value, __u32);
} fpm_vlans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FPM_CNT_MAX);
	__type(key, __u32);
	__type(value, struct fpm_counter);
} fpm_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FPM_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct fpm_iface_stats);
} fpm_iface_stats SEC(".maps");

/* Index slot * FPM_REASON_MAX + reason; bumped only for packets not redirected. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FPM_MAX_IFACES * FPM_REASON_MAX);
	__type(key, __u32);
	__type(value, struct fpm_counter);
} fpm_iface_reasons SEC(".maps");

/* Never read by the program: what a later fpm-sink needs to adopt the pins. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FPM_ABI_KEYS);
	__type(key, __u32);
	__type(value, __u32);
} fpm_abi SEC(".maps");

#endif /* FPM_LIB_MAPS_H */
