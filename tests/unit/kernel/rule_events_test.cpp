// Policy routing rules from synthetic RTM_NEWRULE / RTM_DELRULE messages, built
// as fib_nl_fill_rule fills them: the parser's verdict, then KernelState
// telling its listener when a family gains or loses its non-standard rules.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "kernel/kernel_events.hpp"
#include "kernel/kernel_state.hpp"
#include "rtnl_builder.hpp"

namespace fpm_sink {
namespace {

using test::RtnlMessage;
using test::rule_msg;

Result<std::optional<KernelEvent>> parse(const RtnlMessage& m) {
  return parse_kernel_message(m.span());
}

// The rule an RTM_NEWRULE carries; fails the test for anything else.
RuleInfo added(const RtnlMessage& m) {
  auto r = parse(m);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  if (!r.ok() || !r->has_value()) {
    ADD_FAILURE() << "no event";
    return {};
  }
  return std::get<Upsert<RuleInfo>>(**r).value;
}

bool standard(const RtnlMessage& m) {
  return added(m).standard();
}

TEST(RuleEvents, DefaultRulesOfAFreshNamespaceAreStandard) {
  for (auto [priority, table] : {std::pair{0u, RT_TABLE_LOCAL}, std::pair{32766u, RT_TABLE_MAIN},
                                 std::pair{32767u, RT_TABLE_DEFAULT}}) {
    const RuleInfo r = added(rule_msg(RTM_NEWRULE, AF_INET, priority, table));
    EXPECT_TRUE(r.standard()) << priority << ": " << r.nonstandard;
    EXPECT_EQ(r.family, Family::V4);
    EXPECT_EQ(r.priority, priority);
    EXPECT_EQ(r.table, static_cast<uint32_t>(table));
  }
  for (auto [priority, table] : {std::pair{0u, RT_TABLE_LOCAL}, std::pair{32766u, RT_TABLE_MAIN}}) {
    const RuleInfo r = added(rule_msg(RTM_NEWRULE, AF_INET6, priority, table));
    EXPECT_TRUE(r.standard()) << priority << ": " << r.nonstandard;
    EXPECT_EQ(r.family, Family::V6);
  }
}

TEST(RuleEvents, UnsetValuesCountAsUnset) {
  // What a kernel may report for a mark, mask or interface group never set.
  auto m = rule_msg(RTM_NEWRULE, AF_INET, 32766, RT_TABLE_MAIN);
  m.u32(FRA_FWMARK, 0).u32(FRA_FWMASK, 0).u32(FRA_SUPPRESS_IFGROUP, 0xffffffff);
  EXPECT_TRUE(standard(m));
}

TEST(RuleEvents, L3mdevRuleIsStandard) {
  // `ip rule add l3mdev pref 1000`: no table of its own, the VRF's is used.
  auto m = rule_msg(RTM_NEWRULE, AF_INET, 1000, 0);
  m.u8(FRA_L3MDEV, 1);
  EXPECT_TRUE(standard(m));
}

TEST(RuleEvents, SourcePrefixToAnotherTableIsNot) {
  // ip rule add from 10.0.0.0/8 lookup 100
  auto m = rule_msg(RTM_NEWRULE, AF_INET, 32765, 100);
  reinterpret_cast<fib_rule_hdr*>(mnl_nlmsg_get_payload(m.header()))->src_len = 8;
  m.u32(FRA_SRC, htonl(0x0a000000));
  const RuleInfo r = added(m);
  EXPECT_FALSE(r.standard());
  EXPECT_EQ(r.table, 100u);
  EXPECT_EQ(r.priority, 32765u);
}

TEST(RuleEvents, AnotherTableAloneIsNot) {
  EXPECT_FALSE(standard(rule_msg(RTM_NEWRULE, AF_INET6, 100, 100)));
  EXPECT_FALSE(standard(rule_msg(RTM_NEWRULE, AF_INET, 100, 1000)));  // beyond 255: FRA_TABLE
}

TEST(RuleEvents, FwmarkRuleIsNot) {
  // ip rule add fwmark 0x1 lookup main
  auto m = rule_msg(RTM_NEWRULE, AF_INET, 100, RT_TABLE_MAIN);
  m.u32(FRA_FWMARK, 1).u32(FRA_FWMASK, 0xffffffff);
  EXPECT_FALSE(standard(m));
}

TEST(RuleEvents, SuppressPrefixlengthIsNot) {
  // ip rule add lookup main suppress_prefixlength 0 (what wg-quick installs)
  RtnlMessage m(RTM_NEWRULE);
  auto* frh = m.extra<fib_rule_hdr>();
  frh->family = AF_INET;
  frh->table = RT_TABLE_MAIN;
  frh->action = FR_ACT_TO_TBL;
  m.u32(FRA_TABLE, RT_TABLE_MAIN).u32(FRA_SUPPRESS_PREFIXLEN, 0).u8(FRA_PROTOCOL, 3);
  m.u32(FRA_PRIORITY, 32764);
  EXPECT_FALSE(standard(m));
}

TEST(RuleEvents, EverySelectorMakesItNonStandard) {
  auto with = [](auto add) {
    auto m = rule_msg(RTM_NEWRULE, AF_INET6, 100, RT_TABLE_MAIN);
    add(m);
    return standard(m);
  };
  auto hdr = [](RtnlMessage& m) {
    return reinterpret_cast<fib_rule_hdr*>(mnl_nlmsg_get_payload(m.header()));
  };
  EXPECT_FALSE(with([](RtnlMessage& m) { m.str(FRA_IIFNAME, "eth1"); }));
  EXPECT_FALSE(with([](RtnlMessage& m) { m.str(FRA_OIFNAME, "eth1"); }));
  EXPECT_FALSE(with([](RtnlMessage& m) { m.u8(FRA_IP_PROTO, 6); }));
  EXPECT_FALSE(with([](RtnlMessage& m) { m.u32(FRA_SUPPRESS_IFGROUP, 0); }));
  EXPECT_FALSE(with([](RtnlMessage& m) {
    const uint16_t range[2] = {22, 22};
    m.bytes(FRA_DPORT_RANGE, {reinterpret_cast<const uint8_t*>(range), sizeof range});
  }));
  EXPECT_FALSE(with([](RtnlMessage& m) {
    const uint32_t range[2] = {1000, 1000};
    m.bytes(FRA_UID_RANGE, {reinterpret_cast<const uint8_t*>(range), sizeof range});
  }));
  EXPECT_FALSE(with([&](RtnlMessage& m) { hdr(m)->tos = 0x10; }));
  EXPECT_FALSE(with([&](RtnlMessage& m) { hdr(m)->flags |= FIB_RULE_INVERT; }));
}

TEST(RuleEvents, OtherActionsAreNot) {
  for (uint8_t action :
       {FR_ACT_GOTO, FR_ACT_NOP, FR_ACT_BLACKHOLE, FR_ACT_UNREACHABLE, FR_ACT_PROHIBIT}) {
    auto m = rule_msg(RTM_NEWRULE, AF_INET, 100, 0, action);
    if (action == FR_ACT_GOTO) m.u32(FRA_GOTO, 32766);
    EXPECT_FALSE(standard(m)) << int(action);
  }
}

TEST(RuleEvents, UnknownAttributesAreNotUnderstoodAsHarmless) {
  // A newer kernel's selector (FRA_DSCP and later are past this header's FRA_MAX).
  for (uint16_t type : {uint16_t(FRA_MAX + 1), uint16_t(0x3fff)}) {
    auto m = rule_msg(RTM_NEWRULE, AF_INET, 32766, RT_TABLE_MAIN);
    m.u8(type, 1);
    const RuleInfo r = added(m);
    EXPECT_FALSE(r.standard()) << type;
    EXPECT_NE(r.nonstandard.find("not understood"), std::string::npos) << r.nonstandard;
  }
}

TEST(RuleEvents, TruncatedOrMalformedMessagesAreRejected) {
  // Shorter than fib_rule_hdr.
  RtnlMessage short_hdr(RTM_NEWRULE);
  short_hdr.extra<rtgenmsg>()->rtgen_family = AF_INET;
  EXPECT_FALSE(parse(short_hdr).ok());
  // Cut inside the last attribute: nlmsg_len says less than the attribute claims.
  auto cut = rule_msg(RTM_NEWRULE, AF_INET, 32766, RT_TABLE_MAIN);
  cut.header()->nlmsg_len -= 4;
  EXPECT_FALSE(parse(cut).ok());
  // nlmsg_len beyond the bytes at hand.
  auto longer = rule_msg(RTM_NEWRULE, AF_INET, 32766, RT_TABLE_MAIN);
  auto bytes = longer.span();
  EXPECT_FALSE(parse_kernel_message(bytes.first(bytes.size() - 8)).ok());
  // A known attribute of the wrong size.
  auto bad = rule_msg(RTM_NEWRULE, AF_INET, 32766, RT_TABLE_MAIN);
  const uint8_t two[2] = {1, 0};
  bad.bytes(FRA_FWMARK, two);
  EXPECT_FALSE(parse(bad).ok());
  // Every prefix of a valid message, none of them read past its end.
  auto full = rule_msg(RTM_NEWRULE, AF_INET6, 100, 100);
  full.str(FRA_IIFNAME, "eth1");
  std::vector<uint8_t> copy(full.span().begin(), full.span().end());
  for (size_t len = sizeof(nlmsghdr); len < copy.size(); ++len) {
    std::vector<uint8_t> prefix(copy.begin(), copy.begin() + static_cast<long>(len));
    reinterpret_cast<nlmsghdr*>(prefix.data())->nlmsg_len = static_cast<uint32_t>(len);
    auto r = parse_kernel_message(prefix);
    EXPECT_TRUE(!r.ok() || !r->has_value() || !std::get<Upsert<RuleInfo>>(**r).value.standard())
        << "prefix of " << len << " bytes";
  }
}

TEST(RuleEvents, MulticastRoutingRulesAreIgnored) {
  // ipmr / ip6mr rules arrive on the same groups, family RTNL_FAMILY_IPMR / IP6MR.
  auto r = parse(rule_msg(RTM_NEWRULE, RTNL_FAMILY_IPMR, 100, 100));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST(RuleEvents, DeleteNamesTheRuleItsAddNamed) {
  auto add = rule_msg(RTM_NEWRULE, AF_INET, 100, 100);
  add.str(FRA_IIFNAME, "eth9");
  // The interface vanished in between: the kernel flags the rule detached.
  auto del = rule_msg(RTM_DELRULE, AF_INET, 100, 100);
  reinterpret_cast<fib_rule_hdr*>(mnl_nlmsg_get_payload(del.header()))->flags |=
      FIB_RULE_IIF_DETACHED;
  del.str(FRA_IIFNAME, "eth9");
  auto removed = parse(del);
  ASSERT_TRUE(removed.ok() && removed->has_value());
  EXPECT_EQ(std::get<Removal<RuleInfo>>(**removed).value.key, added(add).key);
  EXPECT_NE(added(rule_msg(RTM_NEWRULE, AF_INET, 101, 100)).key, added(add).key);
}

struct RuleFlips : KernelListener {
  const KernelState* state = nullptr;
  std::vector<std::string> log;
  void link_changed(uint32_t, const LinkInfo*) override {}
  void neighbour_changed(const IpAddr&, uint32_t, const NeighInfo*) override {}
  void local_address_changed(const IpAddr&, bool) override {}
  void forwarding_changed(Family, int32_t) override {}
  void policy_rules_changed(Family f) override {
    log.push_back(std::string(f == Family::V4 ? "v4 " : "v6 ") +
                  (state->policy_rules(f) ? "punts" : "routes"));
  }
};

void apply(KernelState& st, const RtnlMessage& m) {
  auto r = parse(m);
  ASSERT_TRUE(r.ok() && r->has_value());
  st.apply(**r);
}

// fwmark 0x1 lookup 100: may match a packet received anywhere.
RtnlMessage pbr_rule(uint16_t type, int family, uint32_t priority) {
  auto m = rule_msg(type, family, priority, 100);
  m.u32(FRA_FWMARK, 1).u32(FRA_FWMASK, 0xffffffff);
  return m;
}

// iif NAME lookup 100 (not NAME: the same, inverted).
RtnlMessage iif_rule(uint16_t type, int family, uint32_t priority, const std::string& name,
                     bool inverted = false) {
  auto m = rule_msg(type, family, priority, 100);
  if (inverted)
    reinterpret_cast<fib_rule_hdr*>(mnl_nlmsg_get_payload(m.header()))->flags |= FIB_RULE_INVERT;
  m.str(FRA_IIFNAME, name);
  return m;
}

TEST(RuleEvents, ListenerHearsEachFamilyFlipBothWays) {
  KernelState st;
  RuleFlips flips;
  flips.state = &st;
  st.add_listener(&flips);
  apply(st, rule_msg(RTM_NEWRULE, AF_INET, 0, RT_TABLE_LOCAL));
  apply(st, rule_msg(RTM_NEWRULE, AF_INET, 32766, RT_TABLE_MAIN));
  apply(st, rule_msg(RTM_NEWRULE, AF_INET6, 32766, RT_TABLE_MAIN));
  EXPECT_TRUE(flips.log.empty()) << "standard rules change nothing";
  apply(st, pbr_rule(RTM_NEWRULE, AF_INET, 100));
  apply(st, pbr_rule(RTM_NEWRULE, AF_INET, 200));  // still punting: silent
  apply(st, pbr_rule(RTM_NEWRULE, AF_INET, 200));  // the same rule again: silent
  ASSERT_NE(st.nonstandard_rule(Family::V4), nullptr);
  EXPECT_EQ(st.nonstandard_rule(Family::V4)->priority, 100u);
  EXPECT_FALSE(st.policy_rules(Family::V6));
  apply(st, pbr_rule(RTM_DELRULE, AF_INET, 100));
  apply(st, pbr_rule(RTM_DELRULE, AF_INET, 300));  // never added: silent
  apply(st, pbr_rule(RTM_NEWRULE, AF_INET6, 100));
  apply(st, pbr_rule(RTM_DELRULE, AF_INET, 200));
  apply(st, pbr_rule(RTM_DELRULE, AF_INET6, 100));
  apply(st, rule_msg(RTM_DELRULE, AF_INET, 32766, RT_TABLE_MAIN));
  EXPECT_EQ(flips.log,
            (std::vector<std::string>{"v4 punts", "v6 punts", "v4 routes", "v6 routes"}));
  EXPECT_EQ(st.nonstandard_rule(Family::V4), nullptr);
}

TEST(RuleEvents, ResyncReplacesTheRules) {
  KernelState st;
  RuleFlips flips;
  flips.state = &st;
  st.add_listener(&flips);
  apply(st, rule_msg(RTM_NEWRULE, AF_INET, 32766, RT_TABLE_MAIN));
  apply(st, pbr_rule(RTM_NEWRULE, AF_INET, 100));
  // The rule went while events were lost: the re-dump no longer lists it.
  st.begin_resync();
  apply(st, rule_msg(RTM_NEWRULE, AF_INET, 32766, RT_TABLE_MAIN));
  apply(st, pbr_rule(RTM_NEWRULE, AF_INET6, 100));
  st.end_resync();
  EXPECT_EQ(flips.log, (std::vector<std::string>{"v4 punts", "v6 punts", "v4 routes"}));
  EXPECT_FALSE(st.policy_rules(Family::V4));
  EXPECT_TRUE(st.policy_rules(Family::V6));
}

TEST(RuleEvents, IifRuleOnlyConcernsItsInterface) {
  const RuleInfo r = added(iif_rule(RTM_NEWRULE, AF_INET, 100, "eth1"));
  EXPECT_FALSE(r.standard());
  EXPECT_EQ(r.only_iif, "eth1");
  // Inverted, it matches every other interface.
  EXPECT_EQ(added(iif_rule(RTM_NEWRULE, AF_INET, 100, "eth1", true)).only_iif, "");
  // Another selector with it still matches only what eth1 received.
  auto both = iif_rule(RTM_NEWRULE, AF_INET, 100, "eth1");
  both.u32(FRA_FWMARK, 1).u32(FRA_FWMASK, 1);
  EXPECT_EQ(added(both).only_iif, "eth1");
}

TEST(RuleEvents, IifRulesAreCountedByInterface) {
  KernelState st;
  RuleFlips flips;
  flips.state = &st;
  st.add_listener(&flips);
  apply(st, iif_rule(RTM_NEWRULE, AF_INET, 100, "eth1"));
  EXPECT_FALSE(st.policy_rules(Family::V4)) << "not every interface";
  EXPECT_EQ(st.policy_rule_iifs(Family::V4), (std::set<std::string>{"eth1"}));
  EXPECT_TRUE(st.policy_rule_iifs(Family::V6).empty());
  apply(st, iif_rule(RTM_NEWRULE, AF_INET, 200, "eth1"));  // eth1 already named: silent
  apply(st, iif_rule(RTM_NEWRULE, AF_INET, 300, "eth2"));
  EXPECT_EQ(st.policy_rule_iifs(Family::V4), (std::set<std::string>{"eth1", "eth2"}));
  apply(st, iif_rule(RTM_DELRULE, AF_INET, 100, "eth1"));  // eth1 still named: silent
  apply(st, iif_rule(RTM_DELRULE, AF_INET, 200, "eth1"));
  apply(st, iif_rule(RTM_NEWRULE, AF_INET, 400, "eth2", true));  // not eth2: everywhere
  EXPECT_TRUE(st.policy_rules(Family::V4));
  apply(st, iif_rule(RTM_DELRULE, AF_INET, 400, "eth2", true));
  apply(st, iif_rule(RTM_DELRULE, AF_INET, 300, "eth2"));
  EXPECT_TRUE(st.policy_rule_iifs(Family::V4).empty());
  // One line per change of what punts where.
  EXPECT_EQ(flips.log.size(), 6u);
  EXPECT_EQ(st.nonstandard_rule(Family::V4), nullptr);
}

}  // namespace
}  // namespace fpm_sink
