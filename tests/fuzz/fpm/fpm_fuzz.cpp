// libFuzzer entry for everything zebra's bytes touch before the dataplane:
//   stream -> next_frame -> decode_netlink -> Rib
// plus an oracle: every event the decoder accepts must survive a builder round trip
// unchanged, so decoder and encoder cannot drift apart silently.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "fpm/decode.hpp"
#include "fpm/frame.hpp"
#include "fpm/netlink_builder.hpp"
#include "rib/rib.hpp"

namespace fpm_sink {
namespace {

[[noreturn]] void fail(const char* what) {
  fprintf(stderr, "fpm_fuzz invariant broken: %s\n", what);
  abort();
}

void check_prefix(const Prefix& p) {
  if (p.len > max_prefix_len(p.family())) fail("prefix length beyond family width");
  auto canonical = Prefix::make(p.addr, p.len);
  if (!canonical || *canonical != p) fail("prefix not canonical");
}

bool same(const RouteAdd& a, const RouteAdd& b) {
  return a.table == b.table && a.prefix == b.prefix && a.protocol == b.protocol &&
         a.metric == b.metric && a.type == b.type && a.nhg_id == b.nhg_id &&
         a.nexthops == b.nexthops && a.replace == b.replace;
}

bool same(const FpmEvent& a, const FpmEvent& b) {
  if (a.index() != b.index()) return false;
  if (auto* r = std::get_if<RouteAdd>(&a)) return same(*r, std::get<RouteAdd>(b));
  if (auto* d = std::get_if<RouteDel>(&a)) {
    auto& e = std::get<RouteDel>(b);
    return d->table == e.table && d->prefix == e.prefix && d->protocol == e.protocol &&
           d->metric == e.metric;
  }
  if (auto* n = std::get_if<NexthopAdd>(&a)) {
    auto& m = std::get<NexthopAdd>(b);
    return n->id == m.id && n->protocol == m.protocol && n->family == m.family &&
           n->body == m.body && n->replace == m.replace;
  }
  return std::get<NexthopDel>(a).id == std::get<NexthopDel>(b).id;
}

// A next hop with neither gateway nor interface has no single-path encoding of its own
// (zebra never produces one), so such routes are exempt from the round-trip oracle.
bool encodable(const FpmEvent& e) {
  if (auto* r = std::get_if<RouteAdd>(&e)) {
    for (auto& m : r->nexthops) {
      if (!m.nh.gateway && m.nh.ifindex == 0) return false;
    }
  }
  return true;
}

void check_event(const FpmEvent& e) {
  if (auto* r = std::get_if<RouteAdd>(&e)) {
    check_prefix(r->prefix);
    for (auto& m : r->nexthops) {
      if (m.weight < 1 || m.weight > 256) fail("route next-hop weight out of range");
    }
  } else if (auto* d = std::get_if<RouteDel>(&e)) {
    check_prefix(d->prefix);
  } else if (auto* n = std::get_if<NexthopAdd>(&e)) {
    if (n->id == 0) fail("next hop id 0 accepted");
    if (auto* g = std::get_if<std::vector<NexthopGroupMember>>(&n->body)) {
      if (g->empty()) fail("empty group accepted");
      for (auto& m : *g) {
        if (m.id == 0 || m.weight < 1 || m.weight > 256) fail("bad group member accepted");
      }
    } else {
      auto& nh = std::get<NextHop>(n->body);
      if (nh.gateway && nh.gateway->family != n->family) fail("next-hop gateway family");
    }
  }
}

void round_trip(const FpmEvent& e) {
  if (!encodable(e)) return;
  std::vector<uint8_t> body;
  if (!append_event(body, e).ok()) return;  // e.g. too big once RTA_PRIORITY is added
  DecodeStats stats;
  auto again = decode_netlink(body, stats);
  if (!again.errors.empty()) fail("builder output rejected by the decoder");
  if (again.events.size() != 1 || !same(again.events[0], e)) fail("round trip changed event");
}

}  // namespace
}  // namespace fpm_sink

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fpm_sink;
  // The last byte picks how the stream is chopped, so partial reads get exercised too
  // (the first byte is the FPM version and must stay 1 for anything to get through).
  const size_t chunk = size ? 1 + data[size - 1] % 64 : 1;
  Rib rib;
  DecodeStats stats;
  uint64_t errors_seen = 0;
  bool replayed = false;
  size_t split = 0;  // start of the first frame not split off yet
  for (size_t pos = 0; pos < size;) {
    pos += std::min(chunk, size - pos);  // bytes [0, pos) have arrived
    for (;;) {
      auto f = next_frame(std::span(data + split, pos - split));
      if (!f) return 0;  // the session would close here
      if (!*f) break;
      const FrameView frame = **f;
      split += frame.header.length;
      if (frame.header.type != FrameType::Netlink) continue;
      auto out = decode_netlink(frame.body, stats);
      errors_seen += out.errors.size();
      if (errors_seen != stats.errors) fail("errors vector and counter disagree");
      for (const auto& err : out.errors) {
        if (err.offset > frame.body.size()) fail("error offset outside the body");
        if (err.id.empty() || err.reason.empty()) fail("error without id or reason");
      }
      for (const auto& e : out.events) {
        check_event(e);
        round_trip(e);
        (void)rib.apply(e);
      }
      if (!replayed && frame.body.size() % 7 == 3) {  // a reconnect somewhere mid-stream
        rib.begin_replay();
        replayed = true;
      }
    }
  }
  if (replayed) rib.sweep_stale();
  return 0;
}
