// Connected hosts: behind a PUNT(CONNECTED) route, the destination's fpm_hosts4 /
// fpm_hosts6 entry is forwarded like a next hop (MACs, port, TTL, MTU); no
// entry, or an entry not usable, punts; every check before the LPM still applies.
#include <gtest/gtest.h>

#include "fib_fixture.hpp"

namespace fpm_test {
namespace {

const Mac kHostMac{0x02, 0xbb, 0, 0, 0, 0x09};

class Hosts : public FibFixture {
 protected:
  // 10.10.0.0/16 and 2001:db8:10::/48 are the fixture's connected routes.
  void SetUp() override {
    FibFixture::SetUp();
    if (IsSkipped()) return;
    host = make_nh(h_->egress(1), kHostMac, FPM_NH_VALID);
    ASSERT_EQ(h_->set_host4(ip4("10.10.0.9"), host), 0);
    ASSERT_EQ(h_->set_host6(ip6("2001:db8:10::9"), host), 0);
  }
  // Runs `frame` and checks the action, the single reason counted and, when
  // redirected, the frame rewritten for `host`.
  void expect(const Bytes& in, uint32_t action, uint32_t reason) {
    const Counters before = h_->counters();
    const RunResult r = h_->run(in);
    ASSERT_EQ(r.err, 0);
    EXPECT_EQ(r.action, action);
    if (action == XDP_REDIRECT)
      EXPECT_EQ(r.out, expected_forward(in, host));
    else
      EXPECT_EQ(r.out, in);
    const Counters after = h_->counters();
    for (uint32_t rs = 0; rs < FPM_REASON_MAX; rs++)
      EXPECT_EQ(after.reason(rs) - before.reason(rs), rs == reason ? 1u : 0u) << "reason " << rs;
  }

  fpm_nexthop host{};
};

TEST_F(Hosts, ResolvedHostIsRedirectedWithItsMacsAndPort) {
  expect(v4("10.10.0.9").build(), XDP_REDIRECT, FPM_REASON_NONE);
  expect(v6("2001:db8:10::9").build(), XDP_REDIRECT, FPM_REASON_NONE);
  // Egress is host.ifindex (egress 1): the devmap target the program chose.
  const RunResult r = h_->run(v4("10.10.0.9").build());
  ASSERT_EQ(r.out.size(), v4("10.10.0.9").build().size());
  EXPECT_TRUE(std::equal(kHostMac.begin(), kHostMac.end(), r.out.begin()));
  EXPECT_TRUE(std::equal(h_->egress(1).mac.begin(), h_->egress(1).mac.end(), r.out.begin() + 6));
}

TEST_F(Hosts, OtherHostsOfTheSubnetStillPuntAsConnected) {
  expect(v4("10.10.0.10").build(), XDP_PASS, FPM_REASON_CONNECTED);
  expect(v6("2001:db8:10::10").build(), XDP_PASS, FPM_REASON_CONNECTED);
}

TEST_F(Hosts, UnresolvedOrFailedEntryPunts) {
  fpm_nexthop nh = host;
  nh.state = FPM_NH_UNRESOLVED;
  ASSERT_EQ(h_->set_host4(ip4("10.10.0.9"), nh), 0);
  expect(v4("10.10.0.9").build(), XDP_PASS, FPM_REASON_UNRESOLVED);
  nh.state = FPM_NH_FAILED;
  ASSERT_EQ(h_->set_host6(ip6("2001:db8:10::9"), nh), 0);
  expect(v6("2001:db8:10::9").build(), XDP_PASS, FPM_REASON_NH_FAILED);
}

TEST_F(Hosts, RemovedHostPuntsAgain) {
  expect(v4("10.10.0.9").build(), XDP_REDIRECT, FPM_REASON_NONE);
  h_->remove_host4(ip4("10.10.0.9"));
  h_->remove_host6(ip6("2001:db8:10::9"));
  expect(v4("10.10.0.9").build(), XDP_PASS, FPM_REASON_CONNECTED);
  expect(v6("2001:db8:10::9").build(), XDP_PASS, FPM_REASON_CONNECTED);
}

TEST_F(Hosts, OnlyConnectedRoutesLookAtHosts) {
  // An entry for an address behind a gateway route is never used: the route decides.
  ASSERT_EQ(h_->set_host4(ip4("10.1.7.7"), host), 0);
  const Bytes in = v4("10.1.7.7").build();
  const RunResult r = h_->run(in);
  EXPECT_EQ(r.action, XDP_REDIRECT);
  fpm_nexthop nh1{};
  const uint32_t one = 1;
  ASSERT_EQ(bpf_map_lookup_elem(bpf_map__fd(h_->skel()->maps.fpm_nexthops), &one, &nh1), 0);
  EXPECT_EQ(r.out, expected_forward(in, nh1));
  // Nor behind an unreachable route, nor with no route at all.
  ASSERT_EQ(h_->set_host4(ip4("10.8.0.9"), host), 0);
  expect(v4("10.8.0.9").build(), XDP_PASS, FPM_REASON_UNREACHABLE);
  ASSERT_EQ(h_->set_host4(ip4("192.0.2.99"), host), 0);
  expect(v4("192.0.2.99").build(), XDP_PASS, FPM_REASON_NO_ROUTE);
}

TEST_F(Hosts, ChecksBeforeTheLookupStillApply) {
  // A local address punts as local even with a host entry.
  h_->add_local4(ip4("10.10.0.9"));
  expect(v4("10.10.0.9").build(), XDP_PASS, FPM_REASON_LOCAL);
  expect(v6("2001:db8:10::9").ttl(1).build(), XDP_PASS, FPM_REASON_TTL);
  expect(v6("2001:db8:10::9").eth(kNeighbour1, kClientMac).build(), XDP_PASS,
         FPM_REASON_OTHER_HOST);
  h_->set_iface(h_->ingress().ifindex,
                make_iface(h_->ingress(), kIngressSlot, kRoutesBoth & ~FPM_IFACE_F_FWD6));
  expect(v6("2001:db8:10::9").build(), XDP_PASS, FPM_REASON_FWD_DISABLED);
  h_->set_iface(h_->ingress().ifindex,
                make_iface(h_->ingress(), kIngressSlot, kRoutesBoth | FPM_IFACE_F_ENSLAVED));
  expect(v6("2001:db8:10::9").build(), XDP_PASS, FPM_REASON_ENSLAVED);
}

TEST_F(Hosts, EgressMtuAndDevmapApply) {
  fpm_nexthop small = host;
  small.mtu = 60;  // the datagram is 76 bytes
  ASSERT_EQ(h_->set_host4(ip4("10.10.0.9"), small), 0);
  expect(v4("10.10.0.9").build(), XDP_PASS, FPM_REASON_MTU);
  fpm_nexthop spare = make_nh(h_->spare(), kHostMac, FPM_NH_VALID);
  ASSERT_EQ(h_->set_host4(ip4("10.10.0.9"), spare), 0);
  expect(v4("10.10.0.9").build(), XDP_PASS, FPM_REASON_NO_TX_PORT);
}

// The map refuses addresses past max_entries (the daemon then counts the
// neighbour as refused): such a host punts as connected, never misforwarded.
TEST_F(Hosts, FullTablePuntsTheHostsItHasNoRoomFor) {
  const uint32_t max = bpf_map__max_entries(h_->skel()->maps.fpm_hosts4);
  int err = 0;
  uint32_t added = 1;  // 10.10.0.9 from SetUp
  for (uint32_t i = 0; err == 0 && i < max + 1; i++) {
    const uint32_t a = 0x0a0b0000u + i;  // 10.11.x.x: outside the connected route
    const Ip4 addr{uint8_t(a >> 24), uint8_t(a >> 16), uint8_t(a >> 8), uint8_t(a)};
    err = h_->set_host4(addr, host);
    added += err == 0;
  }
  EXPECT_EQ(err, E2BIG);
  EXPECT_EQ(added, max);
  EXPECT_EQ(h_->set_host4(ip4("10.10.0.10"), host), E2BIG);
  const uint64_t connected = h_->counters().reason(FPM_REASON_CONNECTED);
  expect(v4("10.10.0.10").build(), XDP_PASS, FPM_REASON_CONNECTED);
  EXPECT_EQ(h_->counters().reason(FPM_REASON_CONNECTED), connected + 1);
  expect(v4("10.10.0.9").build(), XDP_REDIRECT, FPM_REASON_NONE);  // already in: still served
}

}  // namespace
}  // namespace fpm_test
