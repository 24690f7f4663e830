// fpm_abi.h must lay out the same in the three compilers that read it: g++
// (fpm-sink), gcc (plain C users) and clang -target bpf (the program, seen
// through the BTF embedded in the skeleton). Needs no privileges.
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <map>
#include <string>

#include "xdp_harness.hpp"

extern "C" {
struct fpm_abi_c_layout {
  const char* name;
  size_t value;
};
extern const fpm_abi_c_layout fpm_abi_c_fields[];
}

namespace fpm_test {
namespace {

#define FIELD(s, f) \
  { #s "." #f, offsetof(s, f) }

const std::map<std::string, size_t>& cxx_layout() {
  static const std::map<std::string, size_t> m{
      {"fpm_nexthop", sizeof(fpm_nexthop)},
      FIELD(fpm_nexthop, ifindex),
      FIELD(fpm_nexthop, mtu),
      FIELD(fpm_nexthop, dst_mac),
      FIELD(fpm_nexthop, src_mac),
      FIELD(fpm_nexthop, state),
      FIELD(fpm_nexthop, flags),
      FIELD(fpm_nexthop, vlan_tci),
      {"fpm_vlan_key", sizeof(fpm_vlan_key)},
      FIELD(fpm_vlan_key, ifindex),
      FIELD(fpm_vlan_key, vid),
      {"fpm_host4_key", sizeof(fpm_host4_key)},
      FIELD(fpm_host4_key, table_slot),
      FIELD(fpm_host4_key, pad),
      FIELD(fpm_host4_key, addr),
      {"fpm_host6_key", sizeof(fpm_host6_key)},
      FIELD(fpm_host6_key, table_slot),
      FIELD(fpm_host6_key, pad),
      FIELD(fpm_host6_key, addr),
      {"fpm_nhg", sizeof(fpm_nhg)},
      FIELD(fpm_nhg, flags),
      FIELD(fpm_nhg, n_members),
      FIELD(fpm_nhg, buckets),
      {"fpm_iface", sizeof(fpm_iface)},
      FIELD(fpm_iface, slot),
      FIELD(fpm_iface, table_slot),
      FIELD(fpm_iface, flags),
      FIELD(fpm_iface, mtu),
      FIELD(fpm_iface, mac),
      {"fpm_counter", sizeof(fpm_counter)},
      {"fpm_iface_stats", sizeof(fpm_iface_stats)},
      {"fpm_config", sizeof(fpm_config)},
      FIELD(fpm_config, hash_seed),
      FIELD(fpm_config, flags),
  };
  return m;
}

TEST(AbiLayout, CAndCxxAgree) {
  size_t n = 0;
  for (const fpm_abi_c_layout* e = fpm_abi_c_fields; e->name; e++, n++) {
    auto it = cxx_layout().find(e->name);
    ASSERT_NE(it, cxx_layout().end()) << e->name;
    EXPECT_EQ(it->second, e->value) << e->name;
  }
  EXPECT_EQ(n, cxx_layout().size());
}

TEST(AbiLayout, BpfObjectAgrees) {
  fpm_xdp* skel = fpm_xdp__open();
  ASSERT_NE(skel, nullptr);
  const btf* b = bpf_object__btf(skel->obj);
  ASSERT_NE(b, nullptr);
  size_t checked = 0;
  for (const auto& [key, value] : cxx_layout()) {
    const auto dot = key.find('.');
    const std::string type = key.substr(0, dot);
    const int id = btf__find_by_name_kind(b, type.c_str(), BTF_KIND_STRUCT);
    ASSERT_GT(id, 0) << type << " missing from the program's BTF";
    const btf_type* t = btf__type_by_id(b, id);
    if (dot == std::string::npos) {
      EXPECT_EQ(t->size, value) << type;
      checked++;
      continue;
    }
    const std::string field = key.substr(dot + 1);
    bool found = false;
    const btf_member* m = btf_members(t);
    for (int i = 0; i < btf_vlen(t); i++, m++) {
      if (field != btf__name_by_offset(b, m->name_off)) continue;
      EXPECT_EQ(btf_member_bit_offset(t, i) / 8, value) << key;
      found = true;
    }
    EXPECT_TRUE(found) << key;
    checked++;
  }
  EXPECT_EQ(checked, cxx_layout().size());
  fpm_xdp__destroy(skel);
}

TEST(AbiLayout, ActionEncodingRoundTrips) {
  const uint32_t a = fpm_act_make(FPM_ACT_PUNT, FPM_REASON_MTU);
  EXPECT_EQ(fpm_act_kind(a), uint32_t{FPM_ACT_PUNT});
  EXPECT_EQ(fpm_act_arg(a), uint32_t{FPM_REASON_MTU});
  EXPECT_EQ(a & 0x80000000u, 0u) << "bit 31 belongs to the LPM tables";
  EXPECT_EQ(fpm_act_arg(fpm_act_make(FPM_ACT_FORWARD, 0xffffffffu)), FPM_ACT_ARG_MASK);
}

}  // namespace
}  // namespace fpm_test
