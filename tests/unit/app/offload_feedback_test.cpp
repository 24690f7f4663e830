// Offload replies, checked byte by byte against what zebra's fpm_read() and
// netlink_route_notify_read_ctx() accept: one netlink message per FPM frame,
// NLM_F_REQUEST, RTM_NEWROUTE, the route's family / prefix / table / protocol /
// metric as zebra sent them, no next hops, and the offload flags.
#include "app/offload_feedback.hpp"

#include <gtest/gtest.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "app_test_util.hpp"
#include "dataplane/fake_map_writer.hpp"

namespace fpm_sink::test {
namespace {

constexpr uint32_t kEth1 = 11;

uint32_t le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// One reply as zebra would parse it; fails the test on anything zebra rejects
// or that would make it touch more than the offload flags.
struct ParsedReply {
  uint8_t family = 0, dst_len = 0, protocol = 0, type = 0;
  uint32_t table = 0, metric = 0, flags = 0;
  std::vector<uint8_t> dst;
};

std::vector<ParsedReply> parse_replies(const std::vector<uint8_t>& bytes) {
  std::vector<ParsedReply> out;
  size_t off = 0;
  while (off < bytes.size()) {
    EXPECT_GE(bytes.size() - off, 4u + 16u + 12u);
    const uint8_t* f = bytes.data() + off;
    EXPECT_EQ(f[0], 1) << "FPM version";
    EXPECT_EQ(f[1], 1) << "FPM type netlink";
    const size_t frame_len = size_t{f[2]} << 8 | f[3];  // network order, header included
    const uint8_t* nl = f + 4;
    const uint32_t nlmsg_len = le32(nl);
    EXPECT_EQ(frame_len, 4 + nlmsg_len) << "exactly one netlink message per frame";
    EXPECT_EQ(nl[4] | nl[5] << 8, RTM_NEWROUTE);
    EXPECT_EQ(nl[6] | nl[7] << 8, NLM_F_REQUEST) << "zebra skips anything not a request";
    const uint8_t* rtm = nl + 16;
    ParsedReply r;
    r.family = rtm[0];
    r.dst_len = rtm[1];
    EXPECT_EQ(rtm[2], 0) << "src_len";
    r.table = rtm[4];
    r.protocol = rtm[5];
    r.type = rtm[7];
    r.flags = le32(rtm + 8);
    std::optional<uint32_t> rta_table;
    for (size_t a = 16 + 12; a + 4 <= nlmsg_len;) {
      const uint16_t len = nl[a] | nl[a + 1] << 8, type = nl[a + 2] | nl[a + 3] << 8;
      EXPECT_GE(len, 4);
      if (len < 4) break;
      const uint8_t* data = nl + a + 4;
      switch (type) {
        case RTA_DST:
          r.dst.assign(data, data + len - 4);
          break;
        case RTA_TABLE:
          rta_table = le32(data);
          break;
        case RTA_PRIORITY:
          r.metric = le32(data);
          break;
        default:
          ADD_FAILURE() << "attribute " << type << ": a reply carries the route's key only";
      }
      a += (len + 3u) & ~3u;
    }
    EXPECT_TRUE(rta_table.has_value()) << "zebra matches the table: always RTA_TABLE";
    if (rta_table) r.table = *rta_table;
    out.push_back(r);
    off += frame_len;
  }
  return out;
}

std::string prefix_text(const ParsedReply& r) {
  IpAddr a;
  if (r.family == AF_INET && r.dst.size() == 4) {
    a = IpAddr::v4(uint32_t{r.dst[0]} << 24 | r.dst[1] << 16 | r.dst[2] << 8 | r.dst[3]);
  } else if (r.family == AF_INET6 && r.dst.size() == 16) {
    std::array<uint8_t, 16> b;
    std::copy(r.dst.begin(), r.dst.end(), b.begin());
    a = IpAddr::v6(b);
  } else {
    ADD_FAILURE() << "RTA_DST of " << r.dst.size() << " bytes for family " << int(r.family);
  }
  return a.to_string() + "/" + std::to_string(r.dst_len);
}

class OffloadFeedbackTest : public ::testing::Test {
 protected:
  OffloadFeedbackTest() {
    LinkEntry link{{2, 0, 0, 0, 0, 1}, 1500, true};
    link.forward_v4 = link.forward_v6 = true;
    kernel.set_link(kEth1, link);
    kernel.set_neighbour(ip("10.0.1.1"), kEth1, {{2, 0, 0, 0, 1, 1}, true});
    rib.set_observer(&fast_path);
  }
  ~OffloadFeedbackTest() override { rib.set_observer(nullptr); }

  void apply(FpmEvent e) {
    auto st = rib.apply(std::move(e));
    ASSERT_TRUE(st.ok()) << st.error().to_string();
  }
  // prefix -> flags of every reply one fill() writes.
  std::map<std::string, uint32_t> flags_by_prefix(size_t budget = 1 << 20) {
    std::vector<uint8_t> out;
    feedback.fill(out, budget);
    std::map<std::string, uint32_t> m;
    for (const ParsedReply& r : parse_replies(out)) {
      m[prefix_text(r)] = r.flags;
    }
    return m;
  }

  StaticKernelView kernel;
  FakeMapWriter writer{3};  // room for three routes: the fourth fails
  Rib rib;                  // before fast_path: it holds each route's offload state
  FibOffload fast_path{FibOffloadLimits{}, writer, kernel, kernel, rib};
  bool paused = false;
  OffloadFeedback feedback{rib, fast_path, [this] { return paused; }};
};

TEST_F(OffloadFeedbackTest, RepliesCarryWhatZebraMatchesOnAndTheTruth) {
  apply(single_nh(1, "10.0.1.1", kEth1));
  RouteAdd v4 = nhg_route("198.51.100.0/24", 1, 20);
  RouteAdd v6 = nhg_route("2001:db8:5::/48", 1, 1024);
  v6.protocol = proto_id::ospf;
  RouteAdd unreachable = nhg_route("192.0.2.0/24", 0, 7);
  unreachable.type = RouteType::Unreachable;
  unreachable.protocol = proto_id::zstatic;
  RouteAdd other_table = nhg_route("203.0.113.0/24", 1, 0);
  other_table.table = 1000;
  for (const RouteAdd& r : {v4, v6, unreachable, other_table}) apply(r);

  std::vector<uint8_t> out;
  EXPECT_EQ(feedback.fill(out, 1 << 20), 4u);
  std::map<std::string, ParsedReply> got;
  for (const ParsedReply& r : parse_replies(out)) {
    got[prefix_text(r)] = r;
  }
  ASSERT_EQ(got.size(), 4u);
  const ParsedReply& a = got.at("198.51.100.0/24");
  EXPECT_EQ(a.family, AF_INET);
  EXPECT_EQ(a.table, 254u);
  EXPECT_EQ(a.protocol, proto_id::bgp);
  EXPECT_EQ(a.metric, 20u);
  EXPECT_EQ(a.type, RTN_UNICAST);
  EXPECT_EQ(a.flags, uint32_t{RTM_F_OFFLOAD});
  const ParsedReply& b = got.at("2001:db8:5::/48");
  EXPECT_EQ(b.family, AF_INET6);
  EXPECT_EQ(b.protocol, proto_id::ospf);
  EXPECT_EQ(b.metric, 1024u);
  EXPECT_EQ(b.flags, uint32_t{RTM_F_OFFLOAD});
  // Punted on purpose, forwarded by the kernel: trapped, and still "installed".
  const ParsedReply& c = got.at("192.0.2.0/24");
  EXPECT_EQ(c.type, RTN_UNREACHABLE);
  EXPECT_EQ(c.protocol, proto_id::zstatic);
  EXPECT_EQ(c.flags, uint32_t{RTM_F_OFFLOAD | RTM_F_TRAP});
  // A VRF table's route is in that table's own tries (it has a slot): offloaded.
  const ParsedReply& d = got.at("203.0.113.0/24");
  EXPECT_EQ(d.table, 1000u);
  EXPECT_EQ(d.flags, uint32_t{RTM_F_OFFLOAD});
  EXPECT_EQ(feedback.stats().offloaded, 3u);
  EXPECT_EQ(feedback.stats().trapped, 1u);
}

TEST_F(OffloadFeedbackTest, NoRoomIsOffloadFailedUntilSpaceFrees) {
  apply(single_nh(1, "10.0.1.1", kEth1));
  for (const char* p : {"10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16", "10.4.0.0/16"})
    apply(nhg_route(p, 1));
  auto first = flags_by_prefix();
  EXPECT_EQ(first["10.4.0.0/16"], uint32_t{RTM_F_OFFLOAD_FAILED});
  EXPECT_EQ(first["10.1.0.0/16"], uint32_t{RTM_F_OFFLOAD});
  EXPECT_EQ(feedback.stats().failed, 1u);

  apply(RouteDel{254, pfx("10.1.0.0/16"), proto_id::bgp, 20});
  EXPECT_EQ(fast_path.poll(), 1u);
  EXPECT_EQ(flags_by_prefix(), (std::map<std::string, uint32_t>{{"10.4.0.0/16", RTM_F_OFFLOAD}}));
}

TEST_F(OffloadFeedbackTest, EveryRouteZebraSendsIsAnsweredOnceEvenUnchanged) {
  apply(single_nh(1, "10.0.1.1", kEth1));
  apply(nhg_route("10.1.0.0/16", 1));
  EXPECT_EQ(flags_by_prefix().size(), 1u);
  // zebra sends it again (a replay, or a new route entry with the same next
  // hops): its fresh entry has no flags until it hears from us.
  apply(nhg_route("10.1.0.0/16", 1));
  apply(nhg_route("10.1.0.0/16", 1));
  EXPECT_EQ(flags_by_prefix(), (std::map<std::string, uint32_t>{{"10.1.0.0/16", RTM_F_OFFLOAD}}));
}

TEST_F(OffloadFeedbackTest, PausedHoldsRepliesAndSessionEndDropsThem) {
  apply(single_nh(1, "10.0.1.1", kEth1));
  apply(nhg_route("10.1.0.0/16", 1));
  paused = true;
  std::vector<uint8_t> out;
  EXPECT_EQ(feedback.fill(out, 1 << 20), 0u);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(feedback.pending());
  paused = false;
  EXPECT_EQ(flags_by_prefix().size(), 1u);

  apply(nhg_route("10.2.0.0/16", 1));
  feedback.session_ended();
  EXPECT_FALSE(feedback.pending());
  EXPECT_TRUE(flags_by_prefix().empty());
}

TEST_F(OffloadFeedbackTest, ABatchStaysNearItsBudgetAndTheRestWaits) {
  FakeMapWriter roomy;
  Rib big;
  FibOffload fp(FibOffloadLimits{}, roomy, kernel, kernel, big);
  big.set_observer(&fp);
  OffloadFeedback fb(big, fp, nullptr);
  ASSERT_TRUE(big.apply(single_nh(1, "10.0.1.1", kEth1)).ok());
  for (int i = 0; i < 1000; i++) {
    const std::string p = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24";
    ASSERT_TRUE(big.apply(nhg_route(p.c_str(), 1)).ok());
  }
  std::vector<uint8_t> out;
  const size_t frames = fb.fill(out, 4096);
  EXPECT_GT(frames, 0u);
  EXPECT_LE(out.size(), 4096u + 128u);
  EXPECT_EQ(parse_replies(out).size(), frames);
  size_t total = frames;
  while (fb.pending()) {
    out.clear();
    total += fb.fill(out, 4096);
  }
  EXPECT_EQ(total, 1000u);
  big.set_observer(nullptr);
}

}  // namespace
}  // namespace fpm_sink::test
