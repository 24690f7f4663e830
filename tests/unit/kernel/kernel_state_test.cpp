#include "kernel/kernel_state.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace fpm_sink {
namespace {

IpAddr ip(const char* s) {
  return *IpAddr::parse(s);
}
const MacAddr kMacA{0x02, 0, 0, 0, 0, 0xa};
const MacAddr kMacB{0x02, 0, 0, 0, 0, 0xb};

struct Recorder : KernelListener {
  std::vector<std::string> log;
  void link_changed(uint32_t ifindex, const LinkInfo* l) override {
    log.push_back("link " + std::to_string(ifindex) + (l ? (l->up ? " up" : " down") : " gone"));
  }
  void neighbour_changed(const IpAddr& a, uint32_t ifindex, const NeighInfo* n) override {
    std::string what = !n                               ? "gone"
                       : n->state == NeighState::Usable ? "usable " + mac_to_string(n->mac)
                       : n->state == NeighState::Failed ? "failed"
                                                        : "unresolved";
    log.push_back("neigh " + a.to_string() + "%" + std::to_string(ifindex) + " " + what);
  }
  void local_address_changed(const IpAddr& a, bool present) override {
    log.push_back("local " + a.to_string() + (present ? " +" : " -"));
  }
  const KernelState* state = nullptr;
  void forwarding_changed(Family f, int32_t ifindex) override {
    const auto now = state->forwarding(f, ifindex);
    log.push_back(std::string(f == Family::V4 ? "fwd4 " : "fwd6 ") + std::to_string(ifindex) +
                  (now ? (*now ? " on" : " off") : " gone"));
  }
  void policy_rules_changed(Family f) override {
    log.push_back(std::string(f == Family::V4 ? "rules4 " : "rules6 ") +
                  (state->policy_rules(f) ? "on" : "off"));
  }
};

NeighInfo neigh(const char* a, uint32_t ifindex, NeighState s, MacAddr mac, uint16_t nud) {
  return NeighInfo{ip(a), ifindex, mac, s, nud};
}

TEST(KernelState, NeighbourTransitionsWithinUsableAreSilent) {
  KernelState st;
  Recorder r;
  r.state = &st;
  st.add_listener(&r);
  st.apply(Upsert<NeighInfo>{neigh("10.0.0.2", 3, NeighState::Unresolved, {}, 0x01)});
  st.apply(Upsert<NeighInfo>{neigh("10.0.0.2", 3, NeighState::Usable, kMacA, 0x02)});
  st.apply(Upsert<NeighInfo>{neigh("10.0.0.2", 3, NeighState::Usable, kMacA, 0x04)});  // stale
  st.apply(Upsert<NeighInfo>{neigh("10.0.0.2", 3, NeighState::Usable, kMacB, 0x02)});  // new MAC
  st.apply(Upsert<NeighInfo>{neigh("10.0.0.2", 3, NeighState::Failed, {}, 0x20)});     // failed
  st.apply(Removal<NeighInfo>{neigh("10.0.0.2", 3, NeighState::Unresolved, {}, 0)});
  EXPECT_EQ(r.log, (std::vector<std::string>{
                       "neigh 10.0.0.2%3 unresolved",
                       "neigh 10.0.0.2%3 usable 02:00:00:00:00:0a",
                       "neigh 10.0.0.2%3 usable 02:00:00:00:00:0b",
                       "neigh 10.0.0.2%3 failed",
                       "neigh 10.0.0.2%3 gone",
                   }));
  EXPECT_EQ(st.neighbour(ip("10.0.0.2"), 3), nullptr);
}

TEST(KernelState, LinkChangesAndRemovalDropNeighbours) {
  KernelState st;
  Recorder r;
  r.state = &st;
  st.add_listener(&r);
  LinkInfo l{5, "eth5", kMacA, 1500, true, false};
  st.apply(Upsert<LinkInfo>{l});
  st.apply(Upsert<LinkInfo>{l});  // unchanged: silent
  st.apply(Upsert<NeighInfo>{neigh("10.0.0.2", 5, NeighState::Usable, kMacB, 0x02)});
  l.up = false;
  st.apply(Upsert<LinkInfo>{l});
  st.apply(Removal<LinkInfo>{l});
  EXPECT_EQ(r.log, (std::vector<std::string>{
                       "link 5 up",
                       "neigh 10.0.0.2%5 usable 02:00:00:00:00:0b",
                       "link 5 down",
                       "neigh 10.0.0.2%5 gone",
                       "link 5 gone",
                   }));
  EXPECT_EQ(st.link(5), nullptr);
}

TEST(KernelState, LocalAddressesCountedAcrossInterfaces) {
  KernelState st;
  Recorder r;
  r.state = &st;
  st.add_listener(&r);
  st.apply(Upsert<AddrInfo>{{ip("192.0.2.1"), 3, 24}});
  st.apply(Upsert<AddrInfo>{{ip("192.0.2.1"), 4, 24}});
  EXPECT_TRUE(st.is_local(ip("192.0.2.1")));
  st.apply(Removal<AddrInfo>{{ip("192.0.2.1"), 3, 24}});
  EXPECT_TRUE(st.is_local(ip("192.0.2.1")));
  st.apply(Removal<AddrInfo>{{ip("192.0.2.1"), 4, 24}});
  EXPECT_FALSE(st.is_local(ip("192.0.2.1")));
  EXPECT_EQ(r.log, (std::vector<std::string>{"local 192.0.2.1 +", "local 192.0.2.1 -"}));
}

TEST(KernelState, IncompleteAfterReachableFailsUntilResolvedAgain) {
  KernelState st;
  Recorder r;
  r.state = &st;
  st.add_listener(&r);
  st.apply(Upsert<NeighInfo>{neigh("10.0.0.7", 3, NeighState::Unresolved, {}, 0x01)});  // never
  st.apply(Upsert<NeighInfo>{neigh("10.0.0.2", 3, NeighState::Usable, kMacA, 0x02)});
  st.apply(Upsert<NeighInfo>{neigh("10.0.0.2", 3, NeighState::Unresolved, {}, 0x01)});  // lost
  st.apply(Upsert<NeighInfo>{neigh("10.0.0.2", 3, NeighState::Unresolved, {}, 0x01)});  // again
  st.apply(Upsert<NeighInfo>{neigh("10.0.0.2", 3, NeighState::Usable, kMacA, 0x02)});
  st.apply(Removal<NeighInfo>{neigh("10.0.0.2", 3, NeighState::Unresolved, {}, 0)});
  st.apply(Upsert<NeighInfo>{neigh("10.0.0.2", 3, NeighState::Unresolved, {}, 0x01)});  // fresh
  EXPECT_EQ(r.log, (std::vector<std::string>{
                       "neigh 10.0.0.7%3 unresolved",
                       "neigh 10.0.0.2%3 usable 02:00:00:00:00:0a",
                       "neigh 10.0.0.2%3 failed",
                       "neigh 10.0.0.2%3 usable 02:00:00:00:00:0a",
                       "neigh 10.0.0.2%3 gone",
                       "neigh 10.0.0.2%3 unresolved",
                   }));
  EXPECT_EQ(st.neighbour(ip("10.0.0.7"), 3)->state, NeighState::Unresolved);
}

TEST(KernelState, ResyncSweepsWhatTheDumpNoLongerLists) {
  KernelState st;
  Recorder r;
  r.state = &st;
  st.add_listener(&r);
  const LinkInfo eth3{3, "eth3", kMacA, 1500, true, false};
  const LinkInfo eth4{4, "eth4", kMacB, 1500, true, false};
  // State A, from the first dump.
  st.apply(Upsert<LinkInfo>{eth3});
  st.apply(Upsert<LinkInfo>{eth4});
  st.apply(Upsert<NeighInfo>{neigh("10.0.0.2", 3, NeighState::Usable, kMacB, 0x02)});
  st.apply(Upsert<NeighInfo>{neigh("10.0.0.3", 3, NeighState::Usable, kMacB, 0x02)});
  st.apply(Upsert<NeighInfo>{neigh("10.0.1.2", 4, NeighState::Usable, kMacA, 0x02)});
  st.apply(Upsert<AddrInfo>{{ip("10.0.0.1"), 3, 24}});
  st.apply(Upsert<AddrInfo>{{ip("2001:db8::1"), 3, 64}});
  st.apply(Upsert<AddrInfo>{{ip("10.0.1.1"), 4, 24}});
  st.apply(Upsert<ForwardingInfo>{{Family::V4, 3, true}});
  st.apply(Upsert<ForwardingInfo>{{Family::V6, 3, true}});
  st.apply(Upsert<ForwardingInfo>{{Family::V4, 4, true}});
  st.apply(Upsert<ForwardingInfo>{{Family::V6, kNetconfIfindexAll, true}});
  r.log.clear();

  // Events were lost; the re-dump lists eth3, one of its neighbours, one address,
  // IPv4 forwarding on eth3 (now off) and IPv6's "all" switch.
  st.begin_resync();
  st.apply(Upsert<ForwardingInfo>{{Family::V4, 3, false}});
  st.apply(Upsert<ForwardingInfo>{{Family::V6, kNetconfIfindexAll, true}});
  st.apply(Upsert<LinkInfo>{eth3});
  st.apply(Upsert<NeighInfo>{neigh("10.0.0.2", 3, NeighState::Usable, kMacB, 0x02)});
  st.apply(Upsert<AddrInfo>{{ip("10.0.0.1"), 3, 24}});
  EXPECT_EQ(r.log, (std::vector<std::string>{"fwd4 3 off"}))
      << "only changes are heard during the dump";
  r.log.clear();
  st.end_resync();

  EXPECT_EQ(r.log, (std::vector<std::string>{
                       "neigh 10.0.1.2%4 gone",
                       "link 4 gone",
                       "neigh 10.0.0.3%3 gone",
                       "local 10.0.1.1 -",
                       "local 2001:db8::1 -",
                       "fwd4 4 gone",
                       "fwd6 3 gone",
                   }));
  EXPECT_EQ(st.forwarding(Family::V4, 3), false);
  EXPECT_EQ(st.forwarding(Family::V6, 3), std::nullopt);
  EXPECT_EQ(st.forwarding(Family::V4, 4), std::nullopt);
  EXPECT_EQ(st.forwarding(Family::V6, kNetconfIfindexAll), true);
  EXPECT_EQ(st.link(4), nullptr);
  ASSERT_NE(st.link(3), nullptr);
  EXPECT_NE(st.neighbour(ip("10.0.0.2"), 3), nullptr);
  EXPECT_EQ(st.neighbour(ip("10.0.0.3"), 3), nullptr);
  EXPECT_EQ(st.neighbour(ip("10.0.1.2"), 4), nullptr);
  EXPECT_TRUE(st.is_local(ip("10.0.0.1")));
  EXPECT_FALSE(st.is_local(ip("10.0.1.1")));
  EXPECT_FALSE(st.is_local(ip("2001:db8::1")));

  // Outside a resync nothing is swept.
  r.log.clear();
  st.end_resync();
  EXPECT_TRUE(r.log.empty());
}

// A switch is reported before its port's RTM_NEWLINK and kept on its own; only
// changes are heard; RTM_DELNETCONF drops it, the link's removal does not (a
// bridge sends RTM_DELLINK for a port it releases: the port stays).
TEST(KernelState, ForwardingSwitches) {
  KernelState st;
  Recorder r;
  r.state = &st;
  st.add_listener(&r);
  st.apply(Upsert<ForwardingInfo>{{Family::V4, 5, true}});
  st.apply(Upsert<ForwardingInfo>{{Family::V6, 5, true}});
  st.apply(Upsert<LinkInfo>{{5, "eth5", kMacA, 1500, true, false}});
  st.apply(Upsert<ForwardingInfo>{{Family::V4, 5, true}});  // unchanged: silent
  st.apply(Upsert<ForwardingInfo>{{Family::V4, 5, false}});
  st.apply(Removal<ForwardingInfo>{{Family::V6, 5, false}});
  st.apply(Removal<ForwardingInfo>{{Family::V6, 5, false}});  // already gone: silent
  st.apply(Removal<LinkInfo>{{5, "eth5", kMacA, 1500, true, false}});
  EXPECT_EQ(st.forwarding(Family::V4, 5), false);
  st.apply(Removal<ForwardingInfo>{{Family::V4, 5, false}});
  EXPECT_EQ(r.log, (std::vector<std::string>{
                       "fwd4 5 on",
                       "fwd6 5 on",
                       "link 5 up",
                       "fwd4 5 off",
                       "fwd6 5 gone",
                       "link 5 gone",
                       "fwd4 5 gone",
                   }));
  EXPECT_EQ(st.forwarding(Family::V4, 5), std::nullopt);
}

TEST(KernelState, AbortedResyncKeepsEverything) {
  KernelState st;
  Recorder r;
  r.state = &st;
  st.add_listener(&r);
  st.apply(Upsert<LinkInfo>{{3, "eth3", kMacA, 1500, true, false}});
  st.apply(Upsert<AddrInfo>{{ip("10.0.0.1"), 3, 24}});
  r.log.clear();
  st.begin_resync();
  st.abort_resync();
  st.end_resync();
  EXPECT_TRUE(r.log.empty());
  EXPECT_NE(st.link(3), nullptr);
  EXPECT_TRUE(st.is_local(ip("10.0.0.1")));
}

}  // namespace
}  // namespace fpm_sink
