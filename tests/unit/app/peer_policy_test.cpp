#include "app/peer_policy.hpp"

#include <gtest/gtest.h>
#include <pwd.h>

namespace fpm_sink {
namespace {

using boost::asio::ip::make_address;

PeerPolicy users(std::vector<uid_t> uids) {
  PeerPolicy p;
  p.allowed_uids = std::move(uids);
  return p;
}

TEST(PeerPolicy, LocalPeerNeedsAnAllowedUser) {
  const auto p = users({0, 101});
  const auto lo = make_address("127.0.0.1");
  EXPECT_EQ(decide_peer(p, lo, uid_t{0}), PeerVerdict::Allowed);
  EXPECT_EQ(decide_peer(p, lo, uid_t{101}), PeerVerdict::Allowed);
  EXPECT_EQ(decide_peer(p, lo, uid_t{65534}), PeerVerdict::RefusedUser);
}

TEST(PeerPolicy, UnknownOwnerWithoutAddressListFailsClosed) {
  const auto p = users({0});
  const auto lo = make_address("::1");
  EXPECT_EQ(decide_peer(p, lo, PeerOwnerError::NotFound), PeerVerdict::RefusedUnknownOwner);
  EXPECT_EQ(decide_peer(p, lo, PeerOwnerError::Netlink), PeerVerdict::RefusedUnknownOwner);
  EXPECT_EQ(decide_peer(p, lo, PeerOwnerError::BadReply), PeerVerdict::RefusedUnknownOwner);
}

TEST(PeerPolicy, AddressListRefusesOthersAndVouchesForRemotePeers) {
  auto p = users({0});
  p.allowed_peers = {make_address("192.0.2.1"), make_address("2001:db8::1")};
  // Remote peer (no local socket): the address list is the check.
  EXPECT_EQ(decide_peer(p, make_address("192.0.2.1"), PeerOwnerError::NotFound),
            PeerVerdict::Allowed);
  EXPECT_EQ(decide_peer(p, make_address("2001:db8::1"), PeerOwnerError::NotFound),
            PeerVerdict::Allowed);
  EXPECT_EQ(decide_peer(p, make_address("::ffff:192.0.2.1"), PeerOwnerError::NotFound),
            PeerVerdict::Allowed);
  EXPECT_EQ(decide_peer(p, make_address("192.0.2.2"), PeerOwnerError::NotFound),
            PeerVerdict::RefusedAddress);
  EXPECT_EQ(decide_peer(p, make_address("192.0.2.2"), uid_t{0}), PeerVerdict::RefusedAddress);
  // A listed address whose socket is local still needs an allowed user.
  EXPECT_EQ(decide_peer(p, make_address("192.0.2.1"), uid_t{65534}), PeerVerdict::RefusedUser);
  EXPECT_EQ(decide_peer(p, make_address("192.0.2.1"), uid_t{0}), PeerVerdict::Allowed);
  // A failed lookup is not "remote": fail closed.
  EXPECT_EQ(decide_peer(p, make_address("192.0.2.1"), PeerOwnerError::Netlink),
            PeerVerdict::RefusedUnknownOwner);
}

TEST(PeerPolicy, DefaultUsersAreRootAndFrrIfPresent) {
  auto p = make_peer_policy({}, {});
  ASSERT_TRUE(p) << p.error().to_string();
  std::vector<uid_t> expected{0};
  if (const passwd* pw = getpwnam("frr")) expected.push_back(pw->pw_uid);
  EXPECT_EQ(p->allowed_uids, expected);
  EXPECT_TRUE(p->allowed_peers.empty());
}

TEST(PeerPolicy, UsersByNameOrUidReplaceTheDefault) {
  auto p = make_peer_policy({"root", "4242"}, {"10.0.0.1", "fe80::1"});
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->allowed_uids, (std::vector<uid_t>{0, 4242}));
  ASSERT_EQ(p->allowed_peers.size(), 2u);
  EXPECT_EQ(p->allowed_peers[0], make_address("10.0.0.1"));
}

TEST(PeerPolicy, UnknownUserOrBadAddressIsAnError) {
  auto u = make_peer_policy({"no-such-user-fpm-sink"}, {});
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().id, "app.options.bad_allow_user");
  auto a = make_peer_policy({}, {"zebra.example"});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().id, "app.options.bad_allow_peer");
}

}  // namespace
}  // namespace fpm_sink
