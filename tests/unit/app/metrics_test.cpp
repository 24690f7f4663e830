// Metrics: the mapping from daemon state to Prometheus families, the text a
// scrape returns, and the hand-over from the io thread to the HTTP thread.
#include <civetweb.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>
#include <CLI/CLI.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "app/metric_families.hpp"
#include "app/metrics_exporter.hpp"
#include "app/metrics_snapshot.hpp"
#include "app/options.hpp"
#include "app_test_util.hpp"

namespace fpm_sink {
namespace {

using namespace test;
using namespace std::chrono_literals;
using prometheus::MetricFamily;
using prometheus::MetricType;

const MetricFamily* find(const std::vector<MetricFamily>& fs, const std::string& name) {
  for (const auto& f : fs)
    if (f.name == name) return &f;
  return nullptr;
}

// The value of the sample whose labels are exactly `labels` (NaN if none).
double value(const std::vector<MetricFamily>& fs, const std::string& name,
             std::map<std::string, std::string> labels = {}) {
  const MetricFamily* f = find(fs, name);
  if (!f) return std::nan("");
  for (const auto& m : f->metric) {
    std::map<std::string, std::string> got;
    for (const auto& l : m.label) got[l.name] = l.value;
    if (got == labels) return f->type == MetricType::Counter ? m.counter.value : m.gauge.value;
  }
  return std::nan("");
}

void add_counter(google::protobuf::RepeatedPtrField<control::Counter>* list, const char* name,
                 uint64_t packets, uint64_t bytes) {
  auto* c = list->Add();
  c->set_name(name);
  c->set_packets(packets);
  c->set_bytes(bytes);
}

MetricsSnapshot fast_path_snapshot() {
  MetricsSnapshot s;
  s.fpm.set_session_state(control::SESSION_STATE_CONNECTED);
  s.fpm.set_frames(12);
  s.fpm.set_bytes(3400);
  s.fpm.set_decode_errors(1);
  s.fpm.set_replay_state(control::REPLAY_STATE_SETTLED);
  s.fpm.mutable_decode()->set_new_route(7);
  s.fpm.mutable_rib()->set_routes_v4(5);
  s.fpm.mutable_rib()->set_routes_v6(2);
  s.fpm.mutable_rib()->set_pending_routes(1);
  s.fpm.mutable_rib()->set_swept_groups(4);
  s.fpm.mutable_hold()->set_state(control::HOLD_STATE_HOLDING);
  s.fpm.mutable_hold()->set_expires_at(1700000000);
  s.fpm.mutable_feedback()->set_failed(3);
  s.groups = {.v4 = 3, .v6 = 1};
  s.counters.set_fast_path(true);
  add_counter(s.counters.mutable_verdicts(), "redirect", 100, 60000);
  add_counter(s.counters.mutable_reasons(), "no_route", 9, 900);
  auto* eth1 = s.counters.add_interfaces();
  eth1->set_ifindex(7);
  eth1->set_name("eth1");
  add_counter(eth1->mutable_verdicts(), "redirect", 80, 48000);
  add_counter(eth1->mutable_verdicts(), "pass", 5, 500);
  add_counter(eth1->mutable_reasons(), "no_route", 4, 400);
  add_counter(eth1->mutable_reasons(), "ttl", 1, 100);
  auto* gone = s.counters.add_interfaces();  // a port whose link the mirror lost
  gone->set_ifindex(9);
  add_counter(gone->mutable_verdicts(), "pass", 1, 64);
  auto* v4 = s.counters.mutable_tables()->mutable_v4_tbl8_groups();
  v4->set_used(2);
  v4->set_quarantined(1);
  v4->set_capacity(16384);
  s.counters.mutable_tables()->mutable_nexthops()->set_capacity(4096);
  FastPathSnapshot fp;
  fp.stats.routes_installed = 6;
  fp.stats.routes_failed = 1;
  fp.stats.routes_v4 = {.installed = 4, .failed = 1, .not_offloaded = 0};
  fp.stats.routes_v6 = {.installed = 2, .failed = 0, .not_offloaded = 3};
  fp.stats.route_writes = 11;
  fp.staging = true;
  s.fast_path = fp;
  return s;
}

TEST(MetricFamilies, MapsTheSnapshot) {
  const auto fs = metric_families(fast_path_snapshot());
  EXPECT_EQ(value(fs, "fpm_sink_routes", {{"family", "ipv4"}}), 5);
  EXPECT_EQ(value(fs, "fpm_sink_routes", {{"family", "ipv6"}}), 2);
  EXPECT_EQ(value(fs, "fpm_sink_groups", {{"family", "ipv4"}}), 3);
  EXPECT_EQ(value(fs, "fpm_sink_groups", {{"family", "ipv6"}}), 1);
  EXPECT_EQ(value(fs, "fpm_sink_pending_routes"), 1);
  EXPECT_EQ(value(fs, "fpm_sink_swept_total", {{"object", "group"}}), 4);
  EXPECT_EQ(value(fs, "fpm_sink_fpm_session_connected"), 1);
  EXPECT_EQ(value(fs, "fpm_sink_fpm_frames_total"), 12);
  EXPECT_EQ(value(fs, "fpm_sink_fpm_received_bytes_total"), 3400);
  EXPECT_EQ(value(fs, "fpm_sink_fpm_errors_total", {{"kind", "decode"}}), 1);
  EXPECT_EQ(value(fs, "fpm_sink_fpm_messages_total", {{"type", "new_route"}}), 7);
  EXPECT_EQ(value(fs, "fpm_sink_fpm_replay_state", {{"state", "settled"}}), 1);
  EXPECT_EQ(value(fs, "fpm_sink_fpm_replay_state", {{"state", "replaying"}}), 0);
  EXPECT_EQ(value(fs, "fpm_sink_session_hold_state", {{"state", "holding"}}), 1);
  EXPECT_EQ(value(fs, "fpm_sink_session_hold_expiry_timestamp_seconds"), 1700000000);
  EXPECT_EQ(value(fs, "fpm_sink_offload_replies_total", {{"state", "failed"}}), 3);
  EXPECT_EQ(value(fs, "fpm_sink_fast_path_enabled"), 1);
  EXPECT_EQ(value(fs, "fpm_sink_fast_path_routes", {{"family", "ipv4"}, {"state", "installed"}}),
            4);
  EXPECT_EQ(value(fs, "fpm_sink_fast_path_routes", {{"family", "ipv6"}, {"state", "installed"}}),
            2);
  EXPECT_EQ(value(fs, "fpm_sink_fast_path_routes", {{"family", "ipv4"}, {"state", "failed"}}), 1);
  EXPECT_EQ(
      value(fs, "fpm_sink_fast_path_routes", {{"family", "ipv6"}, {"state", "not_offloaded"}}), 3);
  EXPECT_EQ(find(fs, "fpm_sink_fast_path_routes")->metric.size(), 6u);  // 2 families x 3 states
  EXPECT_EQ(value(fs, "fpm_sink_fast_path_map_writes_total", {{"kind", "route"}}), 11);
  EXPECT_EQ(value(fs, "fpm_sink_warm_restart_staging"), 1);
  EXPECT_EQ(value(fs, "fpm_sink_table_entries", {{"table", "v4_tbl8_groups"}, {"state", "used"}}),
            2);
  EXPECT_EQ(
      value(fs, "fpm_sink_table_entries", {{"table", "v4_tbl8_groups"}, {"state", "quarantined"}}),
      1);
  EXPECT_EQ(value(fs, "fpm_sink_table_capacity", {{"table", "v4_tbl8_groups"}}), 16384);
  EXPECT_EQ(value(fs, "fpm_sink_table_capacity", {{"table", "nexthops"}}), 4096);
  EXPECT_EQ(value(fs, "fpm_sink_xdp_packets_total", {{"verdict", "redirect"}}), 100);
  EXPECT_EQ(value(fs, "fpm_sink_xdp_bytes_total", {{"verdict", "redirect"}}), 60000);
  EXPECT_EQ(value(fs, "fpm_sink_xdp_reason_packets_total", {{"reason", "no_route"}}), 9);
  EXPECT_EQ(value(fs, "fpm_sink_port_packets_total", {{"port", "eth1"}, {"verdict", "redirect"}}),
            80);
  EXPECT_EQ(value(fs, "fpm_sink_port_bytes_total", {{"port", "eth1"}, {"verdict", "pass"}}), 500);
  // A port without a name is labelled with its ifindex.
  EXPECT_EQ(value(fs, "fpm_sink_port_packets_total", {{"port", "9"}, {"verdict", "pass"}}), 1);
  EXPECT_EQ(
      value(fs, "fpm_sink_port_reason_packets_total", {{"port", "eth1"}, {"reason", "no_route"}}),
      4);
  EXPECT_EQ(value(fs, "fpm_sink_port_reason_bytes_total", {{"port", "eth1"}, {"reason", "ttl"}}),
            100);
  // Only the reasons the port reported: no zero series for the others, none for port 9.
  EXPECT_EQ(find(fs, "fpm_sink_port_reason_packets_total")->metric.size(), 2u);
  EXPECT_EQ(value(fs, "fpm_sink_xdp_counters_up"), 1);
}

TEST(MetricFamilies, FollowPrometheusConventions) {
  const auto fs = metric_families(fast_path_snapshot());
  std::set<std::string> names;
  for (const auto& f : fs) {
    EXPECT_TRUE(names.insert(f.name).second) << "duplicate family " << f.name;
    EXPECT_EQ(f.name.rfind("fpm_sink_", 0), 0u) << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
    const bool total = f.name.size() > 6 && f.name.compare(f.name.size() - 6, 6, "_total") == 0;
    EXPECT_EQ(total, f.type == MetricType::Counter) << f.name;
    EXPECT_FALSE(f.metric.empty()) << f.name;
    // A labelled family uses the same label names on every sample.
    std::set<std::string> first;
    for (const auto& l : f.metric.front().label) first.insert(l.name);
    for (const auto& m : f.metric) {
      std::set<std::string> these;
      for (const auto& l : m.label) these.insert(l.name);
      EXPECT_EQ(these, first) << f.name;
    }
  }
}

TEST(MetricFamilies, RibOnlyDaemonHasNoFastPathFamilies) {
  MetricsSnapshot s;
  s.fpm.mutable_rib()->set_routes_v4(3);
  const auto fs = metric_families(s);
  EXPECT_EQ(value(fs, "fpm_sink_routes", {{"family", "ipv4"}}), 3);
  EXPECT_EQ(value(fs, "fpm_sink_fast_path_enabled"), 0);
  EXPECT_EQ(find(fs, "fpm_sink_table_capacity"), nullptr);
  EXPECT_EQ(find(fs, "fpm_sink_port_packets_total"), nullptr);
  // No hold and no feedback configured: their families are absent, not zero.
  EXPECT_EQ(find(fs, "fpm_sink_session_hold_state"), nullptr);
  EXPECT_EQ(find(fs, "fpm_sink_offload_replies_total"), nullptr);
}

TEST(MetricFamilies, TextExposition) {
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, metric_families(fast_path_snapshot()));
  const std::string s = text.str();
  EXPECT_NE(s.find("# TYPE fpm_sink_fpm_frames_total counter\n"), std::string::npos) << s;
  EXPECT_NE(s.find("fpm_sink_fpm_frames_total 12\n"), std::string::npos) << s;
  EXPECT_NE(s.find("fpm_sink_routes{family=\"ipv6\"} 2\n"), std::string::npos) << s;
  EXPECT_NE(s.find("fpm_sink_port_packets_total{port=\"eth1\",verdict=\"redirect\"} 80\n"),
            std::string::npos)
      << s;
}

TEST(MetricsSnapshot, CountsTheRibsGroupsByFamily) {
  boost::asio::io_context io;
  Rib rib;
  FpmServer fpm(io, rib, 10s);
  ASSERT_TRUE(rib.apply(FpmEvent{single_nh(1, "10.0.0.1", 2)}));
  ASSERT_TRUE(rib.apply(FpmEvent{single_nh(2, "10.0.0.2", 2)}));
  NexthopAdd v6 = single_nh(3, "fe80::1", 2);
  v6.family = Family::V6;  // as zebra sends it (nhmsg family), not derived from the gateway
  ASSERT_TRUE(rib.apply(FpmEvent{v6}));
  ASSERT_TRUE(rib.apply(FpmEvent{nhg_route("192.0.2.0/24", 1)}));
  ASSERT_TRUE(rib.apply(FpmEvent{nhg_route("2001:db8::/32", 3)}));
  ASSERT_TRUE(rib.apply(FpmEvent{nhg_route("198.51.100.0/24", 99)}));  // pending
  const auto s = take_metrics_snapshot(rib, fpm, nullptr);
  EXPECT_EQ(s.groups.v4, 2u);
  EXPECT_EQ(s.groups.v6, 1u);
  EXPECT_FALSE(s.fast_path);
  const auto fs = metric_families(s);
  EXPECT_EQ(value(fs, "fpm_sink_routes", {{"family", "ipv4"}}), 2);
  EXPECT_EQ(value(fs, "fpm_sink_routes", {{"family", "ipv6"}}), 1);
  EXPECT_EQ(value(fs, "fpm_sink_pending_routes"), 1);
  EXPECT_EQ(value(fs, "fpm_sink_fpm_session_connected"), 0);
}

TEST(SnapshotCollector, TakesTheSnapshotOnTheIoThread) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  const auto io_thread_id = io_thread.get_id();
  std::thread::id taken_on;
  SnapshotCollector collector(
      io,
      [&] {
        taken_on = std::this_thread::get_id();
        MetricsSnapshot s;
        s.fpm.set_frames(42);
        return s;
      },
      5s);
  const auto fs = collector.Collect();
  guard.reset();
  io.stop();
  io_thread.join();
  EXPECT_EQ(taken_on, io_thread_id);
  EXPECT_EQ(value(fs, "fpm_sink_fpm_frames_total"), 42);
  EXPECT_EQ(value(fs, "fpm_sink_metrics_snapshot_timeouts_total"), 0);
}

TEST(SnapshotCollector, ABusyIoThreadTimesTheScrapeOut) {
  boost::asio::io_context io;  // never run: the snapshot is never taken
  bool taken = false;
  SnapshotCollector collector(
      io,
      [&] {
        taken = true;
        return MetricsSnapshot{};
      },
      30ms);
  auto fs = collector.Collect();
  EXPECT_EQ(find(fs, "fpm_sink_routes"), nullptr);
  EXPECT_EQ(value(fs, "fpm_sink_metrics_snapshot_timeouts_total"), 1);
  fs = collector.Collect();
  EXPECT_EQ(value(fs, "fpm_sink_metrics_snapshot_timeouts_total"), 2);
  EXPECT_FALSE(taken);
}

Options parse_metrics_listen(std::vector<std::string> args) {
  Options opts;
  CLI::App app;
  add_options(app, opts);
  app.parse(std::move(args));  // CLI11 reads the vector back to front
  finish_options(opts);
  return opts;
}

TEST(MetricsListenOption, LoopbackByDefaultPortOptionalOffDisables) {
  auto opts = parse_metrics_listen({});
  ASSERT_TRUE(opts.metrics_endpoint);
  EXPECT_EQ(opts.metrics_endpoint->to_string(), "127.0.0.1:9476");
  opts = parse_metrics_listen({"[::1]:9100", "--metrics-listen"});
  EXPECT_EQ(opts.metrics_endpoint->to_string(), "[::1]:9100");
  // Without a port: the metrics port, not FPM's.
  opts = parse_metrics_listen({"192.0.2.7", "--metrics-listen"});
  EXPECT_EQ(opts.metrics_endpoint->to_string(), "192.0.2.7:9476");
  EXPECT_FALSE(parse_metrics_listen({"off", "--metrics-listen"}).metrics_endpoint);
  EXPECT_THROW(parse_metrics_listen({"localhost:9476", "--metrics-listen"}), CLI::ParseError);
  EXPECT_THROW(parse_metrics_listen({"127.0.0.1:0", "--metrics-listen"}), CLI::ParseError);
}

TEST(MetricsExporter, AnAddressInUseIsAnError) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor taken(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const ListenEndpoint at{"127.0.0.1", taken.local_endpoint().port()};
  auto m = MetricsExporter::start(io, at, [] { return MetricsSnapshot{}; });
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().id, "metrics.listen");
  EXPECT_NE(m.error().message.find(at.to_string()), std::string::npos) << m.error().message;
}

TEST(MetricsExporter, Ipv6WithoutCivetwebSupportIsNamed) {
  constexpr unsigned kCivetwebIpv6 = 8;
  if (mg_check_feature(kCivetwebIpv6)) GTEST_SKIP() << "this civetweb serves IPv6";
  boost::asio::io_context io;
  auto m = MetricsExporter::start(io, {"::1", 19476}, [] { return MetricsSnapshot{}; });
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("without IPv6"), std::string::npos) << m.error().message;
}

}  // namespace
}  // namespace fpm_sink
