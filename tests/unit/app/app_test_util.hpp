// Shared pieces of the app tests: sample zebra objects and polling helpers.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <vector>

#include "common/events.hpp"
#include "fpm/netlink_builder.hpp"

namespace fpm_sink::test {

inline IpAddr ip(const char* text) {
  return *IpAddr::parse(text);
}
inline Prefix pfx(const char* text) {
  return *Prefix::parse(text);
}

inline NexthopAdd single_nh(uint32_t id, const char* gw, uint32_t ifindex) {
  NexthopAdd n;
  n.id = id;
  n.protocol = proto_id::bgp;
  n.body = NextHop{ip(gw), ifindex, false, false};
  return n;
}

inline RouteAdd nhg_route(const char* prefix, uint32_t nhg_id, uint32_t metric = 20) {
  RouteAdd r;
  r.prefix = pfx(prefix);
  r.protocol = proto_id::bgp;
  r.metric = metric;
  r.nhg_id = nhg_id;
  return r;
}

inline RouteAdd inline_route(const char* prefix, const char* gw, uint32_t ifindex) {
  RouteAdd r;
  r.prefix = pfx(prefix);
  r.protocol = proto_id::ospf;
  r.metric = 10;
  r.nexthops.push_back({NextHop{ip(gw), ifindex, false, false}, 1});
  return r;
}

inline std::vector<uint8_t> frame_of(std::vector<FpmEvent> events) {
  auto f = encode_frame(events);
  return f ? std::move(f.value()) : std::vector<uint8_t>{};
}

inline std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Runs io until pred() holds or the timeout passes: state converges, no sleep-and-hope.
inline bool poll_until(boost::asio::io_context& io, const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.run_for(std::chrono::milliseconds(2));
    if (io.stopped()) io.restart();
  }
  return true;
}

}  // namespace fpm_sink::test
