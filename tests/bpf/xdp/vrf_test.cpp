// VRF tables: a port's table_slot picks the LPM (main arrays, or the slot's
// tries in fpm_vrf4 / fpm_vrf6, written here by fpm-sink's own VrfTries); a
// slot without tries punts NO_TABLE; a connected host entry (keyed by table
// slot and address) serves only packets routed in its own table, behind that
// table's connected punt.
#include <gtest/gtest.h>

#include "dataplane/vrf_tries.hpp"
#include "fib_fixture.hpp"

namespace fpm_test {
namespace {

using fpm_sink::Prefix;
using fpm_sink::RouteWrite;

constexpr uint16_t kRedSlot = 1;  // table 1001 in the words

Prefix pfx(const char* s) {
  return *Prefix::parse(s);
}

class VrfTables : public FibFixture {
 protected:
  void SetUp() override {
    FibFixture::SetUp();
    if (IsSkipped()) return;
    auto* skel = h_->skel();
    tries_ = std::make_unique<fpm_sink::VrfTries>(bpf_map__fd(skel->maps.fpm_vrf4),
                                                  bpf_map__fd(skel->maps.fpm_vrf6),
                                                  bpf_map__max_entries(skel->maps.fpm_vrf4));
    ASSERT_TRUE(tries_->attach(kRedSlot, 64));
    // Overlaps main's 10.1.0.0/16 -> group 1 (egress 0): red sends it to group 7 (egress 1).
    set("10.1.0.0/16", forward(7));
    set("2001:db8:1::/48", forward(7));
    // Only in red.
    set("10.50.0.0/16", forward(1));
    // Connected in both tables (main's 10.10.0.0/16 is the fixture's), with a
    // resolved host in main's host map.
    set("10.10.0.0/16", punt(FPM_REASON_CONNECTED));
    set("2001:db8:10::/48", punt(FPM_REASON_CONNECTED));
    host = make_nh(h_->egress(1), {0x02, 0xbb, 0, 0, 0, 0x09}, FPM_NH_VALID);
    ASSERT_EQ(h_->set_host4(ip4("10.10.0.9"), host), 0);
    ASSERT_EQ(h_->set_host6(ip6("2001:db8:10::9"), host), 0);
  }
  void set(const char* prefix, uint32_t action) {
    auto w = tries_->set(kRedSlot, pfx(prefix), action);
    ASSERT_TRUE(w) << w.error().to_string();
    ASSERT_EQ(*w, RouteWrite::Installed);
  }
  void ingress_table(uint16_t slot) {
    h_->set_iface(h_->ingress().ifindex,
                  make_iface(h_->ingress(), kIngressSlot, kRoutesBoth, slot));
  }
  fpm_nexthop nexthop(uint32_t index) {
    fpm_nexthop nh{};
    EXPECT_EQ(bpf_map_lookup_elem(bpf_map__fd(h_->skel()->maps.fpm_nexthops), &index, &nh), 0);
    return nh;
  }
  // Runs `in` and checks the action and the one reason counted.
  RunResult expect(const Bytes& in, uint32_t action, uint32_t reason) {
    const Counters before = h_->counters();
    const RunResult r = h_->run(in);
    EXPECT_EQ(r.err, 0);
    EXPECT_EQ(r.action, action);
    const Counters after = h_->counters();
    for (uint32_t rs = 0; rs < FPM_REASON_MAX; rs++)
      EXPECT_EQ(after.reason(rs) - before.reason(rs), rs == reason ? 1u : 0u) << "reason " << rs;
    return r;
  }

  std::unique_ptr<fpm_sink::VrfTries> tries_;
  fpm_nexthop host{};
};

TEST_F(VrfTables, APortInAVrfIsRoutedByItsTableNotMain) {
  ingress_table(kRedSlot);
  for (const Bytes& in : {v4("10.1.7.7").build(), v6("2001:db8:1::7").build()}) {
    const RunResult r = expect(in, XDP_REDIRECT, FPM_REASON_NONE);
    EXPECT_EQ(r.out, expected_forward(in, nexthop(6)));  // group 7's member
  }
  // Routed only in red: main has no route for it.
  const Bytes only_red = v4("10.50.1.1").build();
  EXPECT_EQ(expect(only_red, XDP_REDIRECT, FPM_REASON_NONE).out,
            expected_forward(only_red, nexthop(1)));
  // Main's routes are not a fallback for a miss in red.
  expect(v4("10.2.0.1").build(), XDP_PASS, FPM_REASON_NO_ROUTE);
  expect(v6("2001:db8:7::1").build(), XDP_PASS, FPM_REASON_NO_ROUTE);
}

TEST_F(VrfTables, OverlappingPrefixesInMainAndAVrfGoDifferentWays) {
  const Bytes in = v4("10.1.7.7").build();
  ingress_table(FPM_TABLE_SLOT_MAIN);
  EXPECT_EQ(expect(in, XDP_REDIRECT, FPM_REASON_NONE).out, expected_forward(in, nexthop(1)));
  expect(v4("10.50.1.1").build(), XDP_PASS, FPM_REASON_NO_ROUTE);
  ingress_table(kRedSlot);
  EXPECT_EQ(expect(in, XDP_REDIRECT, FPM_REASON_NONE).out, expected_forward(in, nexthop(6)));
}

TEST_F(VrfTables, ATableWithoutASlotPuntsNoTable) {
  for (uint16_t slot : {uint16_t{2}, uint16_t{FPM_TABLE_SLOT_NONE}}) {
    ingress_table(slot);
    expect(v4("10.1.7.7").build(), XDP_PASS, FPM_REASON_NO_TABLE);
    expect(v6("2001:db8:1::7").build(), XDP_PASS, FPM_REASON_NO_TABLE);
  }
  // Unpublishing a table (its last route gone, or it outgrew its tries) does the same.
  ingress_table(kRedSlot);
  ASSERT_TRUE(tries_->detach(kRedSlot));
  expect(v4("10.1.7.7").build(), XDP_PASS, FPM_REASON_NO_TABLE);
  // Counted per port too.
  EXPECT_GE(h_->counters().reason(FPM_REASON_NO_TABLE), 1u);
}

TEST_F(VrfTables, AVrfsConnectedHostIsForwardedThroughItsOwnEntry) {
  // The same address is a neighbour in red too, on another segment (egress 0).
  const fpm_nexthop red_host = make_nh(h_->egress(0), {0x02, 0xcc, 0, 0, 0, 0x09}, FPM_NH_VALID);
  ASSERT_EQ(h_->set_host4(ip4("10.10.0.9"), red_host, kRedSlot), 0);
  ASSERT_EQ(h_->set_host6(ip6("2001:db8:10::9"), red_host, kRedSlot), 0);
  for (const Bytes& in : {v4("10.10.0.9").build(), v6("2001:db8:10::9").build()}) {
    ingress_table(kRedSlot);
    EXPECT_EQ(expect(in, XDP_REDIRECT, FPM_REASON_NONE).out, expected_forward(in, red_host));
    ingress_table(FPM_TABLE_SLOT_MAIN);
    EXPECT_EQ(expect(in, XDP_REDIRECT, FPM_REASON_NONE).out, expected_forward(in, host));
  }
  // Red's other hosts on the subnet still punt.
  ingress_table(kRedSlot);
  expect(v4("10.10.0.10").build(), XDP_PASS, FPM_REASON_CONNECTED);
  // An entry is read only behind red's own connected punt: a route of red, or
  // no route in red, decides alone.
  ASSERT_EQ(h_->set_host4(ip4("10.50.1.1"), red_host, kRedSlot), 0);
  const Bytes routed = v4("10.50.1.1").build();
  EXPECT_EQ(expect(routed, XDP_REDIRECT, FPM_REASON_NONE).out,
            expected_forward(routed, nexthop(1)));
  ASSERT_EQ(h_->set_host4(ip4("10.2.0.1"), red_host, kRedSlot), 0);
  expect(v4("10.2.0.1").build(), XDP_PASS, FPM_REASON_NO_ROUTE);
  // A slot without a table punts before any host entry under it is looked at.
  ASSERT_EQ(h_->set_host4(ip4("10.10.0.9"), red_host, 2), 0);
  ingress_table(2);
  expect(v4("10.10.0.9").build(), XDP_PASS, FPM_REASON_NO_TABLE);
}

TEST_F(VrfTables, AConnectedHostOfOneTableIsNotUsedInAnother) {
  // Main: the resolved host is forwarded to directly.
  ingress_table(FPM_TABLE_SLOT_MAIN);
  expect(v4("10.10.0.9").build(), XDP_REDIRECT, FPM_REASON_NONE);
  expect(v6("2001:db8:10::9").build(), XDP_REDIRECT, FPM_REASON_NONE);
  // Red has the same subnet connected (another segment): main's host entry is
  // not red's neighbour, so the packet goes to the kernel, which routes it in red.
  ingress_table(kRedSlot);
  expect(v4("10.10.0.9").build(), XDP_PASS, FPM_REASON_CONNECTED);
  expect(v6("2001:db8:10::9").build(), XDP_PASS, FPM_REASON_CONNECTED);
  // Nor the other way round: red's entry does not serve main's ports.
  h_->remove_host4(ip4("10.10.0.9"));
  ASSERT_EQ(h_->set_host4(ip4("10.10.0.9"), host, kRedSlot), 0);
  ingress_table(FPM_TABLE_SLOT_MAIN);
  expect(v4("10.10.0.9").build(), XDP_PASS, FPM_REASON_CONNECTED);
}

TEST_F(VrfTables, RemovedRoutesAndTheChecksBeforeTheLookup) {
  ingress_table(kRedSlot);
  ASSERT_TRUE(tries_->remove(kRedSlot, pfx("10.50.0.0/16")));
  expect(v4("10.50.1.1").build(), XDP_PASS, FPM_REASON_NO_ROUTE);
  // Local addresses of any table punt (the kernel answers in the right VRF).
  h_->add_local4(ip4("10.1.7.7"));
  expect(v4("10.1.7.7").build(), XDP_PASS, FPM_REASON_LOCAL);
  expect(v6("2001:db8:1::7").ttl(1).build(), XDP_PASS, FPM_REASON_TTL);
}

}  // namespace
}  // namespace fpm_test
