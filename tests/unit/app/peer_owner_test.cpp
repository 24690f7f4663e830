// sock_diag needs no privileges to name a socket's owner: these run as any
// user, on real loopback TCP connections.
#include "app/peer_owner.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

namespace fpm_sink {
namespace {

using tcp = boost::asio::ip::tcp;
using boost::asio::ip::make_address;

struct Connection {
  boost::asio::io_context io;
  tcp::acceptor acceptor{io};
  tcp::socket client{io}, server{io};

  // Returns false (test skipped) when the address family is not available.
  bool open(const tcp::endpoint& listen, const tcp::endpoint& connect_to) {
    boost::system::error_code ec;
    acceptor.open(listen.protocol(), ec);
    if (!ec) acceptor.bind(listen, ec);
    if (!ec) acceptor.listen(1, ec);
    if (ec) return false;
    client.connect(tcp::endpoint(connect_to.address(), acceptor.local_endpoint().port()));
    acceptor.accept(server);
    return true;
  }
};

void expect_own_uid(const Connection& c) {
  const auto owner = find_peer_owner(c.server.local_endpoint(), c.server.remote_endpoint());
  ASSERT_TRUE(std::holds_alternative<uid_t>(owner))
      << peer_owner_error_name(std::get<PeerOwnerError>(owner));
  EXPECT_EQ(std::get<uid_t>(owner), geteuid());
}

TEST(PeerOwner, NamesTheOwnerOfAnIpv4Peer) {
  Connection c;
  ASSERT_TRUE(c.open({make_address("127.0.0.1"), 0}, {make_address("127.0.0.1"), 0}));
  expect_own_uid(c);
}

TEST(PeerOwner, NamesTheOwnerOfAnIpv6Peer) {
  Connection c;
  if (!c.open({make_address("::1"), 0}, {make_address("::1"), 0})) GTEST_SKIP() << "no IPv6";
  expect_own_uid(c);
}

TEST(PeerOwner, NamesTheOwnerOfAnIpv4PeerOnADualStackListener) {
  Connection c;
  if (!c.open({make_address("::"), 0}, {make_address("127.0.0.1"), 0})) GTEST_SKIP() << "no IPv6";
  ASSERT_TRUE(c.server.remote_endpoint().address().to_v6().is_v4_mapped());
  expect_own_uid(c);
}

TEST(PeerOwner, ATupleNobodyHasIsNotFound) {
  Connection c;
  ASSERT_TRUE(c.open({make_address("127.0.0.1"), 0}, {make_address("127.0.0.1"), 0}));
  // A remote peer looks like this: no socket here has its 4-tuple.
  const tcp::endpoint gone(make_address("127.0.0.1"), 1);
  const auto none = find_peer_owner(c.server.local_endpoint(), gone);
  ASSERT_TRUE(std::holds_alternative<PeerOwnerError>(none));
  EXPECT_EQ(std::get<PeerOwnerError>(none), PeerOwnerError::NotFound);
}

}  // namespace
}  // namespace fpm_sink
