// Ingest benchmark sender: plays zebra (dplane_fpm_nl) towards a running fpm-sink.
//
// The whole table is encoded before the clock starts, the way zebra's replay looks on
// the socket: next hops and groups first, then RTM_NEWROUTE with RTA_NH_ID, one
// route per FPM frame as dplane_fpm_nl writes them (one frame per dataplane
// context; --routes-per-frame 0 packs frames up to --max-frame instead). The clock runs from the
// first byte written to the first control-socket answer that shows every route in the RIB, so the
// figure covers socket, framing, decoding and the RIB model, not the encoder.
//
// Prints one JSON object on stdout; progress goes to stderr.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
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
  std::vector<std::string> prefix_files;
  uint16_t port = 2620;
  std::string control_socket;
  size_t max_frame = 8192;        // zebra's NL_PKT_BUF_SIZE
  unsigned routes_per_frame = 1;  // 0: as many as fit in max_frame
  unsigned groups_per_family = 4;
  double timeout_s = 120;
  std::string label = "ingest";
  int daemon_pid = 0;  // when set, the daemon's CPU time is reported too
};

// utime + stime of a process in seconds, from /proc/PID/stat. On a shared machine
// wall-clock rates move with the load; CPU seconds per route do much less.
double process_cpu_s(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close_paren = text.rfind(')');  // comm may contain spaces
  if (close_paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(close_paren + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Per family: 4 single next hops and `groups` ECMP groups over 2..4 of them, as zebra
// announces them before the first route that uses them. Returns the group ids.
std::vector<uint32_t> add_groups(FrameStreamWriter& w, Family family, unsigned groups) {
  const uint32_t base = family == Family::V4 ? 1000 : 2000;
  constexpr unsigned kSingles = 4;
  for (unsigned i = 0; i < kSingles; ++i) {
    NexthopAdd nh;
    nh.id = base + i + 1;
    nh.protocol = proto_id::bgp;
    nh.family = family;
    NextHop hop;
    hop.gateway = family == Family::V4 ? IpAddr::v4(0x0a000001u + (i << 8))  // 10.0.i.1
                                       : *IpAddr::parse("fe80::" + std::to_string(i + 1));
    hop.ifindex = 2 + i;
    nh.body = hop;
    check(w.add(nh));
  }
  std::vector<uint32_t> ids;
  for (unsigned g = 0; g < groups; ++g) {
    NexthopAdd grp;
    grp.id = base + 100 + g;
    grp.protocol = proto_id::bgp;
    grp.family = family;
    std::vector<NexthopGroupMember> members;
    const unsigned n = 2 + g % (kSingles - 1);
    for (unsigned m = 0; m < n; ++m) members.push_back({base + 1 + (g + m) % kSingles, 1});
    grp.body = members;
    check(w.add(grp));
    ids.push_back(grp.id);
  }
  return ids;
}

struct Encoded {
  std::vector<uint8_t> stream;
  size_t routes_v4 = 0, routes_v6 = 0, frames = 0;
};

Encoded encode(const std::vector<Prefix>& prefixes, const Args& args) {
  Encoded e;
  e.stream.reserve(prefixes.size() * 48);
  FrameStreamWriter w(e.stream, args.max_frame);
  std::vector<uint32_t> groups[2];
  for (const Prefix& p : prefixes) (p.family() == Family::V4 ? e.routes_v4 : e.routes_v6)++;
  if (e.routes_v4) groups[0] = add_groups(w, Family::V4, args.groups_per_family);
  if (e.routes_v6) groups[1] = add_groups(w, Family::V6, args.groups_per_family);
  if (args.routes_per_frame) w.flush();
  RouteAdd r;
  r.protocol = proto_id::bgp;
  r.metric = 20;
  size_t i = 0;
  unsigned in_frame = 0;
  for (const Prefix& p : prefixes) {
    const bool v4 = p.family() == Family::V4;
    const auto& ids = groups[v4 ? 0 : 1];
    r.prefix = p;
    r.nhg_id = ids[i++ % ids.size()];
    r.replace = v4;  // zebra sets NLM_F_REPLACE for every IPv4 add
    check(w.add(r));
    if (args.routes_per_frame && ++in_frame == args.routes_per_frame) {
      w.flush();
      in_frame = 0;
    }
  }
  w.flush();
  e.frames = w.frames();
  return e;
}

uint64_t rib_routes(const control::FpmReply& f) {
  return f.rib().routes_v4() + f.rib().routes_v6();
}

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

nlohmann::json run(const Args& args) {
  std::vector<Prefix> prefixes;
  for (const auto& f : args.prefix_files) {
    auto more = load_prefixes(f);
    prefixes.insert(prefixes.end(), more.begin(), more.end());
  }
  const auto t_enc = Clock::now();
  const Encoded enc = encode(prefixes, args);
  const double encode_s = seconds(Clock::now() - t_enc);
  std::cerr << args.label << ": " << prefixes.size() << " routes in " << enc.frames << " frames, "
            << enc.stream.size() << " bytes (encoded in " << encode_s << " s)\n";

  const control::FpmReply before = bench::show_fpm(args.control_socket, std::chrono::seconds(5));
  const uint64_t target = rib_routes(before) + prefixes.size();

  const double cpu_before = args.daemon_pid ? process_cpu_s(args.daemon_pid) : 0;
  const int fd = connect_fpm(args.port);
  std::atomic<bool> sent{false};
  Clock::time_point t_sent;
  std::string send_error;
  const auto t0 = Clock::now();
  std::thread writer([&] {
    size_t off = 0;
    while (off < enc.stream.size()) {
      const ssize_t n = ::send(fd, enc.stream.data() + off, enc.stream.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        send_error = strerror(errno);
        break;
      }
      off += static_cast<size_t>(n);
    }
    t_sent = Clock::now();
    sent = true;
  });

  // Poll until the RIB is complete; the first answer showing it ends the clock, so the
  // figure is pessimistic by at most one poll interval plus one query.
  control::FpmReply last;
  Clock::time_point t_done{};
  bool done = false;
  uint64_t polls = 0;
  while (seconds(Clock::now() - t0) < args.timeout_s) {
    last = bench::show_fpm(args.control_socket, std::chrono::seconds(5));
    ++polls;
    if (rib_routes(last) >= target && last.rib().pending_routes() == 0) {
      t_done = Clock::now();
      done = true;
      break;
    }
    if (sent && !send_error.empty()) break;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  const double daemon_cpu_s = args.daemon_pid ? process_cpu_s(args.daemon_pid) - cpu_before : 0;
  writer.join();
  close(fd);
  if (!send_error.empty()) throw std::runtime_error("send: " + send_error);

  const double rib_s = done ? seconds(t_done - t0) : 0;
  nlohmann::json j;
  j["set"] = args.label;
  j["routes"] = prefixes.size();
  j["routes_v4"] = enc.routes_v4;
  j["routes_v6"] = enc.routes_v6;
  j["frames"] = enc.frames;
  j["bytes"] = enc.stream.size();
  j["max_frame"] = args.max_frame;
  j["routes_per_frame"] = args.routes_per_frame;
  j["complete"] = done;
  j["rib_routes"] = rib_routes(last) - rib_routes(before);
  j["send_s"] = seconds(t_sent - t0);
  j["rib_s"] = rib_s;
  j["rib_routes_per_s"] = done ? static_cast<double>(prefixes.size()) / rib_s : 0.0;
  j["polls"] = polls;
  if (args.daemon_pid) {
    // Includes answering the polls, which is small next to the ingest itself.
    j["daemon_cpu_s"] = daemon_cpu_s;
    j["rib_routes_per_daemon_cpu_s"] =
        daemon_cpu_s > 0 ? static_cast<double>(prefixes.size()) / daemon_cpu_s : 0.0;
  }
  j["decode_errors"] = last.decode_errors() - before.decode_errors();
  j["apply_errors"] = last.apply_errors() - before.apply_errors();
  return j;
}

}  // namespace
}  // namespace fpm_sink

int main(int argc, char** argv) {
  fpm_sink::Args args;
  CLI::App app{"Send a prefix table to fpm-sink the way zebra does and time the RIB fill"};
  app.add_option("--prefixes", args.prefix_files, "prefix list file(s), one CIDR per line")
      ->required();
  app.add_option("--port", args.port, "fpm-sink's FPM port on 127.0.0.1");
  app.add_option("--control-socket", args.control_socket, "fpm-sink's control socket")->required();
  app.add_option("--max-frame", args.max_frame, "FPM frame size limit (bytes)")
      ->check(CLI::Range(256, 65535));
  app.add_option("--routes-per-frame", args.routes_per_frame,
                 "routes per FPM frame (zebra: 1); 0 fills frames up to --max-frame");
  app.add_option("--groups", args.groups_per_family, "next-hop groups per family")
      ->check(CLI::Range(1, 64));
  app.add_option("--timeout", args.timeout_s, "seconds to wait for the RIB");
  app.add_option("--label", args.label, "name of this set in the JSON");
  app.add_option("--daemon-pid", args.daemon_pid, "fpm-sink's pid, to report its CPU time");
  CLI11_PARSE(app, argc, argv);
  try {
    std::cout << fpm_sink::run(args).dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "ingest_sender: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
