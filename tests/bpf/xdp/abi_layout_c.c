/* The ABI header as a C11 compiler (not clang -target bpf) lays it out. */
#include <stddef.h>

#include "fpm_abi.h"

#define FIELD(s, f) { #s "." #f, offsetof(struct s, f) }

const struct fpm_abi_c_layout {
	const char *name;
	size_t value;
} fpm_abi_c_fields[] = {
	{ "fpm_nexthop", sizeof(struct fpm_nexthop) },
	FIELD(fpm_nexthop, ifindex), FIELD(fpm_nexthop, mtu), FIELD(fpm_nexthop, dst_mac),
	FIELD(fpm_nexthop, src_mac), FIELD(fpm_nexthop, state), FIELD(fpm_nexthop, flags),
	FIELD(fpm_nexthop, vlan_tci),
	{ "fpm_vlan_key", sizeof(struct fpm_vlan_key) },
	FIELD(fpm_vlan_key, ifindex), FIELD(fpm_vlan_key, vid),
	{ "fpm_host4_key", sizeof(struct fpm_host4_key) },
	FIELD(fpm_host4_key, table_slot), FIELD(fpm_host4_key, pad), FIELD(fpm_host4_key, addr),
	{ "fpm_host6_key", sizeof(struct fpm_host6_key) },
	FIELD(fpm_host6_key, table_slot), FIELD(fpm_host6_key, pad), FIELD(fpm_host6_key, addr),
	{ "fpm_nhg", sizeof(struct fpm_nhg) },
	FIELD(fpm_nhg, flags), FIELD(fpm_nhg, n_members), FIELD(fpm_nhg, buckets),
	{ "fpm_iface", sizeof(struct fpm_iface) },
	FIELD(fpm_iface, slot), FIELD(fpm_iface, table_slot), FIELD(fpm_iface, flags),
	FIELD(fpm_iface, mtu), FIELD(fpm_iface, mac),
	{ "fpm_counter", sizeof(struct fpm_counter) },
	{ "fpm_iface_stats", sizeof(struct fpm_iface_stats) },
	{ "fpm_config", sizeof(struct fpm_config) },
	FIELD(fpm_config, hash_seed), FIELD(fpm_config, flags),
	{ 0, 0 },
};
