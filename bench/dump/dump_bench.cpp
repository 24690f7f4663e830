// Dump benchmark driver: how much of fpm-sink's FPM ingest rate survives a full
// `show routes` dump, measured next to the quiet rate in the same run.
//
// 1. Loads the table (packed frames; not timed) and waits until the RIB holds it.
// 2. Churn: a sender thread replays route updates of a slice of the table, one
//    route per frame as zebra writes them, each lap moving the routes to the
//    other next-hop group so every update is a real change, without pause:
//    ingest runs saturated for the rest of the run.
// 3. Measures ingest (rib.route_adds per second, from show fpm) over a quiet
//    window, then while one client dumps every route (parts parsed, discarded,
//    as fpm-sinkctl --json minus printing), then over a second quiet window.
//
// Prints one JSON object on stdout; progress goes to stderr.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "control/client.hpp"
#include "fpm/netlink_builder.hpp"
#include "fpm_client.hpp"

namespace fpm_sink {
namespace {

using Clock = std::chrono::steady_clock;
using bench::check;
using bench::connect_fpm;
using bench::load_prefixes;

struct Args {
  std::string prefix_file;
  uint16_t port = 2620;
  std::string control_socket;
  size_t churn_routes = 200000;  // routes per churn lap
  double quiet_s = 4;            // each quiet window
  double timeout_s = 600;
};

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

constexpr uint32_t kGroupA = 100, kGroupB = 101;

// Two single next hops, one group id each: churn moves routes between them.
void add_groups(FrameStreamWriter& w) {
  for (uint32_t id : {kGroupA, kGroupB}) {
    NexthopAdd nh;
    nh.id = id;
    nh.protocol = proto_id::bgp;
    NextHop hop;
    hop.gateway = IpAddr::v4(0x0a000001u + ((id - kGroupA) << 8));  // 10.0.0.1, 10.0.1.1
    hop.ifindex = 2;
    nh.body = hop;
    check(w.add(nh));
  }
}

std::vector<uint8_t> encode_routes(const std::vector<Prefix>& prefixes, size_t step, size_t count,
                                   uint32_t group, bool one_per_frame, bool with_groups) {
  std::vector<uint8_t> out;
  out.reserve(count * 64);
  FrameStreamWriter w(out, one_per_frame ? 8192 : 65535);
  if (with_groups) {
    add_groups(w);
    w.flush();
  }
  RouteAdd r;
  r.protocol = proto_id::bgp;
  r.metric = 20;
  r.nhg_id = group;
  r.replace = true;
  for (size_t i = 0; i < count; ++i) {
    r.prefix = prefixes[(i * step) % prefixes.size()];
    check(w.add(r));
    if (one_per_frame) w.flush();
  }
  w.flush();
  return out;
}

bool send_all(int fd, const std::vector<uint8_t>& bytes, const std::atomic<bool>& stop) {
  size_t off = 0;
  while (off < bytes.size() && !stop) {
    const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

struct Sample {
  Clock::time_point at;
  uint64_t route_adds;
};

Sample sample(const std::string& socket) {
  const auto f = bench::show_fpm(socket, std::chrono::seconds(10));
  return {Clock::now(), f.rib().route_adds()};
}

double rate(const Sample& a, const Sample& b) {
  return static_cast<double>(b.route_adds - a.route_adds) / seconds(b.at - a.at);
}

// One full `show routes`, parts parsed and counted, as fpm-sinkctl --json minus printing.
void dump(const Args& args, uint64_t* routes, uint64_t* parts) {
  control::Request req;
  req.mutable_show_routes();
  const auto st = control::call_parts(
      args.control_socket, req,
      [&](control::Response&& part) {
        ++*parts;
        *routes += static_cast<uint64_t>(part.routes().routes_size());
      },
      std::chrono::milliseconds(static_cast<int64_t>(args.timeout_s * 1000)));
  if (!st) throw std::runtime_error("dump: " + st.error().to_string());
}

nlohmann::json run(const Args& args) {
  const auto prefixes = load_prefixes(args.prefix_file);
  const size_t churn = std::min(args.churn_routes, prefixes.size());
  // Spread the churned routes over the whole table.
  const size_t step = std::max<size_t>(1, prefixes.size() / churn) | 1;
  const auto base = encode_routes(prefixes, 1, prefixes.size(), kGroupA, false, true);
  const std::vector<uint8_t> laps[2] = {encode_routes(prefixes, step, churn, kGroupB, true, false),
                                        encode_routes(prefixes, step, churn, kGroupA, true, false)};
  std::cerr << "dump: " << prefixes.size() << " routes (" << base.size()
            << " bytes), churn laps of " << churn << " routes (" << laps[0].size() << " bytes)\n";

  const uint64_t before = [&] {
    const auto f = bench::show_fpm(args.control_socket, std::chrono::seconds(10));
    return f.rib().routes_v4() + f.rib().routes_v6();
  }();
  const int fd = connect_fpm(args.port);
  std::atomic<bool> stop{false};
  if (!send_all(fd, base, stop)) throw std::runtime_error("send: " + std::string(strerror(errno)));
  const auto t_load = Clock::now();
  for (;;) {
    const auto f = bench::show_fpm(args.control_socket, std::chrono::seconds(10));
    if (f.rib().routes_v4() + f.rib().routes_v6() >= before + prefixes.size() &&
        f.rib().pending_routes() == 0)
      break;
    if (seconds(Clock::now() - t_load) > args.timeout_s)
      throw std::runtime_error("table load timed out");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::cerr << "dump: table loaded in " << seconds(Clock::now() - t_load) << " s\n";

  std::atomic<uint64_t> laps_sent{0};
  std::thread sender([&] {
    for (size_t i = 0; !stop; ++i) {
      if (!send_all(fd, laps[i % 2], stop)) break;
      ++laps_sent;
    }
  });
  auto quiet = [&](const char* label) {
    const Sample a = sample(args.control_socket);
    std::this_thread::sleep_for(std::chrono::duration<double>(args.quiet_s));
    const Sample b = sample(args.control_socket);
    std::cerr << "dump: " << label << " ingest " << rate(a, b) << " routes/s\n";
    return rate(a, b);
  };

  // Let the churn reach steady state before the first window.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const double quiet_before = quiet("quiet (before)");

  uint64_t dump_routes = 0, parts = 0;
  const Sample d0 = sample(args.control_socket);
  dump(args, &dump_routes, &parts);
  const Sample d1 = sample(args.control_socket);
  const double during = rate(d0, d1);
  std::cerr << "dump: " << dump_routes << " routes in " << parts << " parts, "
            << seconds(d1.at - d0.at) << " s; ingest " << during << " routes/s\n";

  const double quiet_after = quiet("quiet (after)");
  stop = true;
  ::shutdown(fd, SHUT_RDWR);
  sender.join();
  close(fd);

  // The same dump with nothing else to do: how fast it runs when it may.
  uint64_t idle_routes = 0, idle_parts = 0;
  const auto i0 = Clock::now();
  dump(args, &idle_routes, &idle_parts);
  const double idle_s = seconds(Clock::now() - i0);
  std::cerr << "dump: idle, " << idle_routes << " routes in " << idle_parts << " parts, " << idle_s
            << " s\n";

  const double quiet_rps = (quiet_before + quiet_after) / 2;
  nlohmann::json j;
  j["routes"] = prefixes.size();
  j["churn_routes_per_lap"] = churn;
  j["churn_laps_sent"] = laps_sent.load();
  j["ingest_quiet_rps"] = quiet_rps;
  j["ingest_quiet_before_rps"] = quiet_before;
  j["ingest_quiet_after_rps"] = quiet_after;
  j["ingest_during_dump_rps"] = during;
  j["ratio"] = quiet_rps > 0 ? during / quiet_rps : 0.0;
  j["dump_routes"] = dump_routes;
  j["dump_parts"] = parts;
  j["dump_seconds"] = seconds(d1.at - d0.at);
  j["idle_dump_routes"] = idle_routes;
  j["idle_dump_seconds"] = idle_s;
  return j;
}

}  // namespace
}  // namespace fpm_sink

int main(int argc, char** argv) {
  fpm_sink::Args args;
  CLI::App app{"FPM ingest rate of fpm-sink while `show routes` dumps the table"};
  app.add_option("--prefixes", args.prefix_file, "prefix list, one CIDR per line")->required();
  app.add_option("--port", args.port, "fpm-sink's FPM port on 127.0.0.1");
  app.add_option("--control-socket", args.control_socket, "fpm-sink's control socket")->required();
  app.add_option("--churn-routes", args.churn_routes, "routes updated per churn lap");
  app.add_option("--quiet", args.quiet_s, "seconds of each quiet window");
  app.add_option("--timeout", args.timeout_s, "seconds to wait for the load and the dump");
  CLI11_PARSE(app, argc, argv);
  try {
    std::cout << fpm_sink::run(args).dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "dump_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
