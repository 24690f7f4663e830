// fpm-sinkctl's vtysh-style words: trailing json, and the flow of
// `show routes ADDRESS from SOURCE proto P sport S dport D`.
#include <gtest/gtest.h>

#include "control/cli_args.hpp"

namespace fpm_sink::control {
namespace {

using Words = std::vector<std::string>;

TEST(CliArgs, TrailingJsonIsTheJsonFlag) {
  EXPECT_EQ(vtysh_json({"fpm-sinkctl", "show", "routes", "json"}),
            (Words{"fpm-sinkctl", "show", "routes", "--json"}));
  EXPECT_EQ(vtysh_json({"fpm-sinkctl", "show", "fpm", "--json"}),
            (Words{"fpm-sinkctl", "show", "fpm", "--json"}));
  // Only the last word: "json" elsewhere is left for the parser to refuse.
  EXPECT_EQ(vtysh_json({"fpm-sinkctl", "show", "json", "fpm"}),
            (Words{"fpm-sinkctl", "show", "json", "fpm"}));
  EXPECT_EQ(vtysh_json({"json"}), (Words{"json"}));  // argv[0]
}

TEST(CliArgs, PrefixAloneOrNothing) {
  auto q = parse_route_words({});
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(q->prefix);
  q = parse_route_words({"10.0.0.0/24"});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q->prefix, "10.0.0.0/24");
  EXPECT_FALSE(q->flow);
}

TEST(CliArgs, FiveTupleInAnyOrder) {
  auto q = parse_route_words(
      {"198.51.100.7", "proto", "udp", "dport", "80", "from", "10.0.1.2", "sport", "1234"});
  ASSERT_TRUE(q.ok()) << q.error().message;
  ASSERT_TRUE(q->flow);
  EXPECT_EQ(*q->prefix, "198.51.100.7");
  EXPECT_EQ(q->flow->source(), "10.0.1.2");
  EXPECT_EQ(q->flow->protocol(), 17u);
  EXPECT_EQ(q->flow->source_port(), 1234u);
  EXPECT_EQ(q->flow->destination_port(), 80u);

  q = parse_route_words({"2001:db8::7", "from", "2001:db8:1::2", "proto", "icmpv6"});
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q->flow->protocol(), 58u);
  q = parse_route_words({"10.0.0.1", "from", "10.0.0.2", "proto", "47"});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->flow->protocol(), 47u);
}

TEST(CliArgs, BadFlowsAreUsageErrorsThatSayWhy) {
  auto why = [](Words w) {
    auto q = parse_route_words(w);
    EXPECT_FALSE(q.ok());
    if (q.ok()) return std::string();
    EXPECT_EQ(q.error().id, "usage");
    return q.error().message;
  };
  EXPECT_NE(why({"10.0.0.0/24", "from", "10.0.0.2", "proto", "icmp"}).find("address"),
            std::string::npos);
  EXPECT_NE(why({"10.0.0.1", "proto", "icmp"}).find("from"), std::string::npos);
  EXPECT_NE(why({"10.0.0.1", "from", "10.0.0.2"}).find("proto"), std::string::npos);
  EXPECT_NE(why({"10.0.0.1", "from", "2001:db8::1", "proto", "icmp"}).find("families"),
            std::string::npos);
  EXPECT_NE(why({"10.0.0.1", "from", "10.0.0.2", "proto", "tcp"}).find("sport"), std::string::npos);
  EXPECT_NE(why({"10.0.0.1", "from", "10.0.0.2", "proto", "tcp", "sport", "1", "dport", "65536"})
                .find("port"),
            std::string::npos);
  EXPECT_NE(why({"10.0.0.1", "from", "10.0.0.2", "proto", "icmp", "sport", "1"}).find("no ports"),
            std::string::npos);
  EXPECT_NE(why({"10.0.0.1", "from", "10.0.0.2", "proto", "bogus"}).find("bogus"),
            std::string::npos);
  EXPECT_NE(why({"10.0.0.1", "to", "10.0.0.2"}).find("'to'"), std::string::npos);
  EXPECT_NE(why({"10.0.0.1", "from"}).find("needs a value"), std::string::npos);
  EXPECT_NE(why({"10.0.0.1", "from", "10.0.0.2", "from", "10.0.0.3"}).find("twice"),
            std::string::npos);
}

TEST(CliArgs, ProtocolNames) {
  EXPECT_EQ(protocol_number("tcp"), 6u);
  EXPECT_EQ(protocol_number("sctp"), 132u);
  EXPECT_EQ(protocol_number("255"), 255u);
  EXPECT_FALSE(protocol_number("256"));
  EXPECT_FALSE(protocol_number("6x"));
}

}  // namespace
}  // namespace fpm_sink::control
