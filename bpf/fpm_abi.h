/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one ABI shared by the XDP program (C, bpf target) and fpm-sink (C++).
 * Fixed-width types, explicit padding, byte order named per field
 * ("host" = the machine's order, which BPF and userspace share;
 *  "net" = big endian as on the wire). Both sides compile the static
 * assertions at the end of this file.
 *
 * Maps (declared in lib/maps.h, reached from C++ as skel->maps.<name>;
 * the LPM tables themselves are declared in lpm4.h / lpm6.h):
 *
 *   name            type             key                 value                  writer
 *   fpm_nhg         ARRAY, MMAPABLE  __u32 group index   struct fpm_nhg         map writer
 *   fpm_nexthops    ARRAY            __u32 nh index      struct fpm_nexthop     map writer + neighbour source
 *   fpm_ifaces      HASH             __u32 ifindex       struct fpm_iface       attach code
 *   fpm_local4      HASH             __be32 address      __u32 (0, reserved)    address source
 *   fpm_local6      HASH             struct fpm_in6      __u32 (0, reserved)    address source
 *   fpm_hosts4      HASH, NO_PREALLOC struct fpm_host4_key
 *                                                        struct fpm_nexthop     host table (kernel mirror, lib/hosts.h)
 *   fpm_hosts6      HASH, NO_PREALLOC struct fpm_host6_key
 *                                                        struct fpm_nexthop     host table (kernel mirror, lib/hosts.h)
 *   fpm_tx_ports    DEVMAP_HASH      __u32 ifindex       __u32 ifindex          attach code (every egress port;
 *                                                                               a VLAN subinterface's key holds
 *                                                                               its parent's ifindex)
 *   fpm_vlans       HASH             struct fpm_vlan_key __u32 sub ifindex      attach code (lib/vlan.h)
 *   fpm_stats       PERCPU_ARRAY     __u32 FPM_CNT_*     struct fpm_counter     XDP program (userspace reads, sums CPUs)
 *   fpm_iface_stats PERCPU_ARRAY     __u32 iface slot    struct fpm_iface_stats XDP program
 *   fpm_iface_reasons PERCPU_ARRAY   __u32 slot * FPM_REASON_MAX + reason
 *                                                        struct fpm_counter     XDP program (not redirected only)
 *   fpm_abi         ARRAY            __u32 FPM_ABI_KEY_* __u32                  loader (pinned with the rest)
 *   fpm_vrf4        ARRAY_OF_MAPS    __u32 table slot    LPM_TRIE fd (struct fpm_vrf_key4 -> __u32 action)
 *   fpm_vrf6        ARRAY_OF_MAPS    __u32 table slot    LPM_TRIE fd (struct fpm_vrf_key6 -> __u32 action)
 *                                                                               map writer (lib/vrf.h)
 *   .rodata         fpm_cfg          -                   struct fpm_config      loader, before load
 *
 * Indices (group, next hop, iface slot) are small dense numbers allocated by
 * fpm-sink; zebra's ids never reach the fast path. Index 0 of fpm_nhg and
 * fpm_nexthops is valid storage but all-zero entries mean "not usable"
 * (group without FPM_NHG_F_VALID, next hop in FPM_NH_UNRESOLVED), so a
 * zeroed slot always punts to the kernel.
 *
 * Route writer's duties: connected (on-link) prefixes are PUNT actions with
 * FPM_REASON_CONNECTED (the kernel resolves hosts and directed broadcasts);
 * such a PUNT is the only LPM answer that makes the program look further, in
 * fpm_hosts4 / fpm_hosts6 (exact match on the ingress port's table slot and
 * the destination): an entry there is a resolved neighbour on that table's
 * connected subnet, forwarded like a next hop; no entry keeps the punt. Host entries are whole-value hash updates (the
 * maps are BPF_F_NO_PREALLOC, so a replaced value is freed only after RCU):
 * a packet sees the old entry or the new one, never a mix, so a host's
 * change of MAC is one write, unlike an fpm_nexthops entry.
 * unreachable / prohibit routes are PUNT with their reason so the kernel
 * sends the ICMP error; blackhole routes are FPM_ACT_DROP.
 *
 * Publication order (the XDP program may run at any moment):
 *   next hop entries -> group buckets + flags -> LPM entry pointing at the group.
 * Removing: LPM entry first, then group, then next hops. XDP runs inside an
 * RCU read-side section that userspace cannot wait for directly: keep a
 * freed group / next-hop index in quarantine (>= 1 s) before reusing it.
 * Writes of whole entries through bpf_map_update_elem() are plain copies; a
 * packet racing with one may see a mix of old and new fields, so change a
 * next hop's MACs by writing it as FPM_NH_UNRESOLVED first when it matters.
 */
#ifndef FPM_ABI_H
#define FPM_ABI_H

#include <linux/types.h>

/*
 * Version of everything below: layouts, encodings, the meaning of flags and
 * reasons. Bump it on any change. Pinned maps are adopted across a restart
 * only by a build of the same version (fpm_abi map); any other starts cold.
 *   1  (no fpm_abi map) up to the destination MAC check
 *   2  fpm_iface.mac, FPM_IFACE_F_ENSLAVED, FPM_REASON_OTHER_HOST / ENSLAVED
 *   3  FPM_IFACE_F_FWD4 / FWD6, FPM_REASON_FWD_DISABLED
 *   4  fpm_hosts4 / fpm_hosts6: connected hosts behind PUNT(CONNECTED)
 *   5  fpm_iface_reasons: reasons per port
 *   6  fpm_abi[FPM_ABI_KEY_HASH_SEED]: the ECMP hash seed, kept across restarts
 *   7  fpm_vlans, fpm_nexthop.flags FPM_NH_F_VLAN + vlan_tci (was pad),
 *      FPM_REASON_VLAN_UNKNOWN: 802.1Q subinterfaces (lib/vlan.h)
 *   8  VRF tables: fpm_vrf4 / fpm_vrf6 by fpm_iface.table_slot, FPM_TABLE_SLOT_NONE;
 *      FPM_IFACE_F_ENSLAVED only for masters other than a VRF;
 *      FPM_IFACE_F_TAGS_STRIPPED, FPM_REASON_TAGS_STRIPPED
 *   9  FPM_IFACE_F_RULES4 / RULES6, FPM_REASON_POLICY_RULES; fpm_hosts4 /
 *      fpm_hosts6 keyed by (table slot, address): struct fpm_host4_key /
 *      fpm_host6_key, connected hosts of VRF tables
 *  10  FPM_IFACE_F_REDIRECTS4, FPM_REASON_HAIRPIN: frames routed back out of
 *      the device they arrived on go to the kernel, which sends the redirect
 */
#define FPM_ABI_VERSION 10u

/*
 * Keys of fpm_abi, which the program never reads: what a later fpm-sink
 * needs to adopt the pins. The version at key 0 is read by every build since
 * version 2, so it never moves. The hash seed lives here rather than only in
 * .rodata so that a restart reads it without the CAP_SYS_ADMIN that finding
 * the running program's .rodata takes.
 */
#define FPM_ABI_KEY_VERSION 0u
#define FPM_ABI_KEY_HASH_SEED 1u
#define FPM_ABI_KEYS 2u

/*
 * What an LPM lookup resolves to: one u32 "action".
 *   bits 31    : reserved for the tables' internal use (e.g. "points at a tbl8 group")
 *   bits 28-30: kind
 *   bits 0-27 : argument (next-hop-group index for FORWARD, enum fpm_reason for PUNT)
 * Zero means "no route": the packet goes to the kernel.
 */
#define FPM_ACT_KIND_SHIFT 28
#define FPM_ACT_KIND_MASK 0x7u
#define FPM_ACT_ARG_MASK 0x0fffffffu

enum fpm_act_kind {
	FPM_ACT_NONE = 0,    /* no route -> XDP_PASS (FPM_REASON_NO_ROUTE) */
	FPM_ACT_FORWARD = 1, /* arg = index into fpm_nhg */
	FPM_ACT_DROP = 2,    /* blackhole route -> XDP_DROP (FPM_REASON_BLACKHOLE) */
	FPM_ACT_PUNT = 3,    /* arg = enum fpm_reason; kernel handles it */
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

/* ------------------------------------------------------------------ sizes */

/*
 * Buckets per next-hop group. Power of two; the XDP program picks
 * buckets[hash & (FPM_NHG_BUCKETS - 1)]. Weighted members get a number of
 * buckets proportional to their weight; a resilient rewrite changes only
 * the buckets of the member that left / joined.
 */
#define FPM_NHG_BUCKETS 256u
/* Default map sizes; the loader may change them with bpf_map__set_max_entries(). */
#define FPM_MAX_NHG 8192u
#define FPM_MAX_NEXTHOPS 65536u
#define FPM_MAX_IFACES 256u	/* interface slots (counters), ifindex is the key */
#define FPM_MAX_LOCAL 4096u	/* local addresses per family */
#define FPM_MAX_HOSTS 16384u	/* connected hosts per family (fpm_hosts4 / 6) */
#define FPM_MAX_TX_PORTS 256u

/*
 * LPM table slots (fpm_iface.table_slot). Slot 0 is the main table (254), held
 * in the DIR-24-8 / lpm6 arrays. Slots 1..n are VRF tables, one LPM_TRIE per
 * family each in fpm_vrf4 / fpm_vrf6[slot] (lib/vrf.h); the loader sizes the
 * outer arrays to n + 1 (entry 0 stays empty). A slot without a published
 * trie, or FPM_TABLE_SLOT_NONE (a VRF whose table has no slot), punts
 * FPM_REASON_NO_TABLE.
 */
#define FPM_TABLE_SLOT_MAIN 0u
#define FPM_TABLE_SLOT_NONE 0xffffu
#define FPM_VRF_TABLES_DEFAULT 16u	 /* VRF table slots (1..16) */
#define FPM_VRF_ROUTES_DEFAULT 65536u /* routes per family and VRF table */

/* ---------------------------------------------------------- next hops */

enum fpm_nh_state {
	FPM_NH_UNRESOLVED = 0, /* no neighbour entry yet -> XDP_PASS, kernel resolves */
	FPM_NH_VALID = 1,      /* MACs and ifindex usable -> redirect */
	FPM_NH_FAILED = 2,     /* neighbour FAILED / link down -> XDP_PASS */
};

/*
 * The egress interface is a VLAN subinterface (802.1Q only): the frame
 * leaves through its parent carrying one tag with TCI vlan_tci. ifindex
 * stays the subinterface's, whose fpm_tx_ports entry targets the parent.
 */
#define FPM_NH_F_VLAN 0x1u

/* Value of fpm_nexthops[nh index], and of fpm_hosts4 / fpm_hosts6[address]. */
struct fpm_nexthop {
	__u32 ifindex;	 /* host: egress ifindex, must be in fpm_tx_ports */
	__u32 mtu;	 /* host: L3 MTU of the egress port; IP total length above it
			  * punts (FPM_REASON_MTU), so 0 punts every packet. For a
			  * subinterface: the smaller of its MTU and its parent's */
	__u8 dst_mac[6]; /* wire order: neighbour's MAC */
	__u8 src_mac[6]; /* wire order: egress port's MAC */
	__u8 state;	 /* enum fpm_nh_state */
	__u8 flags;	 /* host: FPM_NH_F_* */
	__be16 vlan_tci; /* net: tag to push with FPM_NH_F_VLAN (VID, PCP 0), else 0 */
};

/* ---------------------------------------------------- next-hop groups */

#define FPM_NHG_F_VALID 0x1u /* buckets filled; otherwise XDP_PASS (FPM_REASON_NO_GROUP) */

/*
 * Value of fpm_nhg[group index]. The map is BPF_F_MMAPABLE: the writer may
 * rewrite single buckets in place with 32-bit atomic stores (resilient
 * rebalancing) or replace whole entries with bpf_map_update_elem().
 * Every bucket of a valid group holds a next-hop index < max entries of
 * fpm_nexthops; a group with a single member has that index everywhere.
 */
struct fpm_nhg {
	__u32 flags;			 /* host: FPM_NHG_F_* */
	__u32 n_members;		 /* host: informational (distinct next hops) */
	__u32 buckets[FPM_NHG_BUCKETS]; /* host: next-hop index per bucket */
};

/* ---------------------------------------------------- ingress ports */

#define FPM_IFACE_F_V4 0x1u	  /* forward IPv4 received on this port */
#define FPM_IFACE_F_V6 0x2u	  /* forward IPv6 received on this port */
#define FPM_IFACE_F_ENSLAVED 0x4u /* port has a master other than a VRF (bridge, bond) */
/*
 * The kernel would route the family received on this port: IPv4 checks the
 * port's net.ipv4.conf.<port>.forwarding (IN_DEV_FORWARD), IPv6 checks
 * net.ipv6.conf.all.forwarding in ip6_forward() and bpf_fib_lookup() checks
 * the port's own switch, so FWD6 needs both. Clear: the packet goes to the
 * kernel, which does not route it either.
 */
#define FPM_IFACE_F_FWD4 0x8u
#define FPM_IFACE_F_FWD6 0x10u
/*
 * The NIC strips 802.1Q tags on receive (rx-vlan-offload) and the port has
 * VLAN subinterfaces: a subinterface's frames reach XDP looking untagged, so
 * which device a frame arrived on cannot be told. Every frame punts.
 */
#define FPM_IFACE_F_TAGS_STRIPPED 0x20u
/*
 * The kernel holds a policy routing rule (ip rule) for the family that could
 * route a packet received on this port through another table than the one
 * XDP looks up: the family's packets go to the kernel, which applies the rules.
 */
#define FPM_IFACE_F_RULES4 0x40u
#define FPM_IFACE_F_RULES6 0x80u
/*
 * The kernel would send an ICMP redirect for an IPv4 packet it routes back
 * out of this device (IN_DEV_TX_REDIRECTS: net.ipv4.conf.all.send_redirects
 * OR net.ipv4.conf.<dev>.send_redirects). Such a hairpin punts
 * (FPM_REASON_HAIRPIN) so that the hosts on the segment learn the better
 * first hop. IPv6 has no such switch: an IPv6 hairpin always punts
 * (lib/hairpin.h).
 */
#define FPM_IFACE_F_REDIRECTS4 0x100u

/*
 * Value of fpm_ifaces[ifindex]. slot indexes fpm_iface_stats. Checks, in
 * the program's order (each failing one punts with its reason):
 *   no entry                               FPM_REASON_NO_IFACE
 *   FPM_IFACE_F_ENSLAVED set               FPM_REASON_ENSLAVED (every frame)
 *   FPM_IFACE_F_TAGS_STRIPPED set          FPM_REASON_TAGS_STRIPPED (every frame)
 *   (after the checks below: table_slot without a table  FPM_REASON_NO_TABLE)
 *   Ethernet parse (see lib/eth.h)         MALFORMED / VLAN / NON_IP / MULTICAST
 *   tagged: one 802.1Q tag, VID 1..4094,   VLAN, VLAN_UNKNOWN; else every check here
 *   fpm_vlans[port, VID] known (lib/vlan.h) runs again on the subinterface's entry
 *   destination MAC != mac                 FPM_REASON_OTHER_HOST
 *   family flag (F_V4 / F_V6) clear        FPM_REASON_NO_IFACE
 *   forwarding flag (F_FWD4 / F_FWD6) clear FPM_REASON_FWD_DISABLED
 *   rules flag (F_RULES4 / F_RULES6) set   FPM_REASON_POLICY_RULES
 *   (once routed: the next hop leaves by this same device, IPv6 or
 *    F_REDIRECTS4 set                      FPM_REASON_HAIRPIN)
 */
struct fpm_iface {
	__u32 slot;	  /* host: < FPM_MAX_IFACES, counter slot */
	__u16 table_slot; /* host: LPM table slot: FPM_TABLE_SLOT_MAIN, a VRF's slot
			   * (its IFLA_MASTER is a VRF), or FPM_TABLE_SLOT_NONE */
	__u16 flags;	  /* host: FPM_IFACE_F_* */
	__u32 mtu;	  /* host: informational (ingress L3 MTU) */
	__u8 mac[6];	  /* wire order: the port's own address (IFLA_ADDRESS) */
	__u16 pad;	  /* 0 */
};

/*
 * Key of fpm_vlans: a tag's VID as received on an attached port. The value
 * is the ifindex of the port's 802.1Q subinterface for that VID, whose own
 * fpm_ifaces entry the frame is then checked and counted against.
 */
#define FPM_MAX_VLANS 4096u

struct fpm_vlan_key {
	__u32 ifindex; /* host: the port (parent) the frame arrived on */
	__u16 vid;     /* host: 1..4094 */
	__u16 pad;     /* 0 */
};

/* Key of fpm_local6: an IPv6 address in wire order. */
struct fpm_in6 {
	__u8 addr[16]; /* wire order */
};

/*
 * Keys of fpm_hosts4 / fpm_hosts6: a connected host of one LPM table. Address
 * space overlaps between VRFs, so the slot is part of the key; an entry serves
 * only packets whose ingress port has that table_slot. A slot names one table
 * at a time: fpm-sink removes a table's entries before its slot is freed.
 */
struct fpm_host4_key {
	__u16 table_slot; /* host: FPM_TABLE_SLOT_MAIN or a VRF table's slot */
	__u16 pad;	  /* 0 */
	__u8 addr[4];	  /* wire order */
};

struct fpm_host6_key {
	__u16 table_slot; /* host: FPM_TABLE_SLOT_MAIN or a VRF table's slot */
	__u16 pad;	  /* 0 */
	__u8 addr[16];	  /* wire order */
};

/*
 * Keys of a VRF table's tries (BPF_MAP_TYPE_LPM_TRIE, BPF_F_NO_PREALLOC,
 * value __u32 action as in the main table). prefixlen counts the leading
 * bits of addr that matter; the rest is zero.
 */
struct fpm_vrf_key4 {
	__u32 prefixlen; /* host: 0..32 */
	__u8 addr[4];	 /* wire order */
};

struct fpm_vrf_key6 {
	__u32 prefixlen; /* host: 0..128 */
	__u8 addr[16];	 /* wire order */
};

/* ------------------------------------------------------------ counters */

/* What the program returned. */
enum fpm_verdict {
	FPM_VERDICT_REDIRECT = 0, /* forwarded by the fast path */
	FPM_VERDICT_PASS = 1,	  /* handed to the kernel; see the reason */
	FPM_VERDICT_DROP = 2,	  /* blackhole route */
	FPM_VERDICT_MAX = 4,	  /* room for one more */
};

/*
 * Why a packet was not simply forwarded. Also the argument of FPM_ACT_PUNT
 * actions, so the route writer can say why a prefix punts.
 */
enum fpm_reason {
	FPM_REASON_NONE = 0,	       /* forwarded */
	FPM_REASON_NO_IFACE = 1,       /* ingress port not configured for this family */
	FPM_REASON_NON_IP = 2,	       /* ARP, LLDP, anything not IPv4/IPv6 */
	FPM_REASON_VLAN = 3,	       /* tagging the fast path does not route: two tags
					* (QinQ), 802.1ad, a priority tag (VID 0) */
	FPM_REASON_MALFORMED = 4,      /* truncated, bad version / IHL / lengths, bytes
					* after the IP datagram in a frame > 60 bytes */
	FPM_REASON_BAD_CSUM = 5,       /* IPv4 header checksum wrong */
	FPM_REASON_MULTICAST = 6,      /* L2 or L3 multicast / broadcast */
	FPM_REASON_LINK_LOCAL = 7,     /* link-local destination (fe80::/10, 169.254/16) */
	FPM_REASON_LOCAL = 8,	       /* destination is one of the router's addresses */
	FPM_REASON_TTL = 9,	       /* TTL / hop limit <= 1: kernel sends ICMP */
	FPM_REASON_IP_OPTIONS = 10,    /* IPv4 header with options */
	FPM_REASON_IPV6_HBH = 11,      /* IPv6 hop-by-hop options header */
	FPM_REASON_NO_TABLE = 12,      /* the port's VRF table has no slot / no trie */
	FPM_REASON_NO_ROUTE = 13,      /* LPM miss */
	FPM_REASON_UNREACHABLE = 14,   /* unreachable route: kernel sends ICMP */
	FPM_REASON_PROHIBIT = 15,      /* prohibit route: kernel sends ICMP */
	FPM_REASON_CONNECTED = 16,     /* on-link route, no host entry: kernel resolves it */
	FPM_REASON_OFFLOAD_FAILED = 17, /* route known but not offloaded (e.g. table full) */
	FPM_REASON_NO_GROUP = 18,      /* group index out of range or not valid */
	FPM_REASON_UNRESOLVED = 19,    /* next hop has no neighbour entry */
	FPM_REASON_NH_FAILED = 20,     /* next hop failed / bad index */
	FPM_REASON_MTU = 21,	       /* packet larger than the egress MTU */
	FPM_REASON_NO_TX_PORT = 22,    /* egress ifindex not in fpm_tx_ports */
	FPM_REASON_BLACKHOLE = 23,     /* blackhole route (verdict DROP) */
	FPM_REASON_MARTIAN = 24,       /* 0/8, 127/8, ::, ::1 and other never-forward addresses */
	FPM_REASON_OTHER_HOST = 25,    /* unicast frame not addressed to the port's MAC */
	FPM_REASON_ENSLAVED = 26,      /* ingress port has a master other than a VRF */
	FPM_REASON_FWD_DISABLED = 27,  /* forwarding sysctl off for the ingress port */
	FPM_REASON_VLAN_UNKNOWN = 28,  /* 802.1Q tag whose VID has no routed subinterface
					* on the port (FPM_REASON_VLAN: QinQ, 802.1ad, VID 0) */
	FPM_REASON_TAGS_STRIPPED = 29, /* port's NIC strips tags and it has VLAN subinterfaces */
	FPM_REASON_POLICY_RULES = 30,  /* policy routing rules the fast path does not apply */
	FPM_REASON_HAIRPIN = 31,       /* routed back out of its ingress device: kernel
					* forwards it and sends the ICMP / NDISC redirect */
	FPM_REASON_LAST = FPM_REASON_HAIRPIN,
	FPM_REASON_MAX = 32,
};

/*
 * fpm_stats index: FPM_CNT_VERDICT + verdict, FPM_CNT_REASON + reason.
 * Every packet the program sees bumps exactly one verdict counter and one
 * reason counter (FPM_REASON_NONE for forwarded packets).
 */
#define FPM_CNT_VERDICT 0u
#define FPM_CNT_REASON ((__u32)FPM_VERDICT_MAX)
#define FPM_CNT_MAX (FPM_CNT_REASON + (__u32)FPM_REASON_MAX)

struct fpm_counter {
	__u64 packets; /* host */
	__u64 bytes;   /* host: frame length as received (L2 included) */
};

/*
 * Value of fpm_iface_stats[slot] (per CPU): one counter per verdict.
 * fpm_iface_reasons[slot * FPM_REASON_MAX + reason] (per CPU) counts the
 * port's packets that were punted or dropped, by reason: 32 x 16 bytes per
 * slot and CPU. FPM_REASON_NONE is never counted there (that is the
 * redirect verdict), and a packet from a port without fpm_ifaces entry has
 * no slot (FPM_REASON_NO_IFACE in fpm_stats only).
 */
struct fpm_iface_stats {
	struct fpm_counter verdict[FPM_VERDICT_MAX];
};

/* -------------------------------------------------------------- config */

/*
 * Load-time constants, in the program's .rodata as `fpm_cfg`
 * (skel->rodata->fpm_cfg). Set them between open and load.
 */
struct fpm_config {
	__u32 hash_seed; /* host: ECMP hash seed; pick randomly per router */
	__u32 flags;	 /* host: reserved, 0 */
};

/* ------------------------------------------------- layout assertions */

#ifdef __cplusplus
#define FPM_ABI_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define FPM_ABI_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif
#define FPM_ABI_OFF(type, field) __builtin_offsetof(struct type, field)

FPM_ABI_ASSERT(sizeof(struct fpm_nexthop) == 24, "fpm_nexthop size");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_nexthop, ifindex) == 0, "fpm_nexthop.ifindex");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_nexthop, mtu) == 4, "fpm_nexthop.mtu");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_nexthop, dst_mac) == 8, "fpm_nexthop.dst_mac");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_nexthop, src_mac) == 14, "fpm_nexthop.src_mac");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_nexthop, state) == 20, "fpm_nexthop.state");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_nexthop, flags) == 21, "fpm_nexthop.flags");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_nexthop, vlan_tci) == 22, "fpm_nexthop.vlan_tci");

FPM_ABI_ASSERT(sizeof(struct fpm_vlan_key) == 8, "fpm_vlan_key size");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_vlan_key, ifindex) == 0, "fpm_vlan_key.ifindex");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_vlan_key, vid) == 4, "fpm_vlan_key.vid");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_vlan_key, pad) == 6, "fpm_vlan_key.pad");

FPM_ABI_ASSERT((FPM_NHG_BUCKETS & (FPM_NHG_BUCKETS - 1)) == 0, "buckets: power of two");
FPM_ABI_ASSERT(sizeof(struct fpm_nhg) == 8 + 4 * FPM_NHG_BUCKETS, "fpm_nhg size");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_nhg, flags) == 0, "fpm_nhg.flags");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_nhg, n_members) == 4, "fpm_nhg.n_members");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_nhg, buckets) == 8, "fpm_nhg.buckets");

FPM_ABI_ASSERT(sizeof(struct fpm_iface) == 20, "fpm_iface size");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_iface, slot) == 0, "fpm_iface.slot");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_iface, table_slot) == 4, "fpm_iface.table_slot");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_iface, flags) == 6, "fpm_iface.flags");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_iface, mtu) == 8, "fpm_iface.mtu");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_iface, mac) == 12, "fpm_iface.mac");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_iface, pad) == 18, "fpm_iface.pad");

FPM_ABI_ASSERT(sizeof(struct fpm_in6) == 16, "fpm_in6 size");
FPM_ABI_ASSERT(sizeof(struct fpm_host4_key) == 8, "fpm_host4_key size");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_host4_key, table_slot) == 0, "fpm_host4_key.table_slot");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_host4_key, pad) == 2, "fpm_host4_key.pad");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_host4_key, addr) == 4, "fpm_host4_key.addr");
FPM_ABI_ASSERT(sizeof(struct fpm_host6_key) == 20, "fpm_host6_key size");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_host6_key, table_slot) == 0, "fpm_host6_key.table_slot");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_host6_key, pad) == 2, "fpm_host6_key.pad");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_host6_key, addr) == 4, "fpm_host6_key.addr");
FPM_ABI_ASSERT(sizeof(struct fpm_vrf_key4) == 8, "fpm_vrf_key4 size");
FPM_ABI_ASSERT(sizeof(struct fpm_vrf_key6) == 20, "fpm_vrf_key6 size");
/* The keys reach no BTF (the tries are created by fpm-sink): these asserts, compiled
 * for bpf, C and C++ alike, are their layout check. */
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_vrf_key4, addr) == 4, "fpm_vrf_key4.addr");
FPM_ABI_ASSERT(FPM_ABI_OFF(fpm_vrf_key6, addr) == 4, "fpm_vrf_key6.addr");
FPM_ABI_ASSERT(sizeof(struct fpm_counter) == 16, "fpm_counter size");
FPM_ABI_ASSERT(sizeof(struct fpm_iface_stats) == 16 * FPM_VERDICT_MAX, "fpm_iface_stats size");
FPM_ABI_ASSERT(sizeof(struct fpm_config) == 8, "fpm_config size");
FPM_ABI_ASSERT(FPM_REASON_LAST < FPM_REASON_MAX, "reasons fit the counter block");
FPM_ABI_ASSERT((FPM_REASON_MAX & (FPM_REASON_MAX - 1)) == 0, "reasons: power of two");
FPM_ABI_ASSERT((FPM_VERDICT_MAX & (FPM_VERDICT_MAX - 1)) == 0, "verdicts: power of two");
FPM_ABI_ASSERT(FPM_REASON_MAX <= FPM_ACT_ARG_MASK, "reason fits an action argument");

#undef FPM_ABI_OFF
#undef FPM_ABI_ASSERT

#endif /* FPM_ABI_H */
