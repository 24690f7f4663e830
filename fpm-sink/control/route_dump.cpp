#include "control/route_dump.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "control/rib_query.hpp"

namespace fpm_sink::control {
namespace {

// Storage positions walked between two looks at the clock (~1-2 us of work).
constexpr size_t kPositionsPerCheck = 256;
// Merged keys between two looks at the clock.
constexpr size_t kKeysPerCheck = 16;

}  // namespace

RouteDump::Key RouteDump::Key::of(uint32_t table, const Prefix& p) {
  Key k;
  k.table = table;
  k.family = static_cast<uint8_t>(p.addr.family);
  k.len = p.len;
  k.addr = p.addr.bytes;
  return k;
}

Prefix RouteDump::Key::prefix() const {
  Prefix p;
  p.addr.family = static_cast<fpm_sink::Family>(family);
  p.addr.bytes = addr;
  p.len = len;
  return p;
}

bool RouteDump::Key::operator<(const Key& o) const {
  return std::tie(table, family, addr, len) < std::tie(o.table, o.family, o.addr, o.len);
}

Result<RouteDump> RouteDump::start(const ShowRoutes& req) {
  RouteDump d;
  if (req.has_table()) d.table_ = req.table();
  if (!req.has_prefix()) return d;
  const std::string& text = req.prefix();
  if (text.find('/') != std::string::npos) {
    auto prefix = Prefix::parse(text);
    if (!prefix) return fpm_sink::Error{"control.bad_prefix", "not a prefix: '" + text + "'"};
    d.exact_ = *prefix;
    if (d.table_) {
      // One lookup answers it: nothing to walk.
      d.keys_.push_back(Key::of(*d.table_, *prefix));
      d.finish_collect();
    }
    return d;
  }
  // A bare address asks "which route forwards this?", like vtysh: longest match per table.
  auto addr = IpAddr::parse(text);
  if (!addr)
    return fpm_sink::Error{"control.bad_prefix", "not an address or prefix: '" + text + "'"};
  d.address_ = *addr;
  return d;
}

bool RouteDump::selects(const RibRoute& r) const {
  if (table_ && r.spec.table != *table_) return false;
  if (exact_) return r.spec.prefix == *exact_;
  if (address_) return r.spec.prefix.contains(*address_);
  return true;
}

void RouteDump::collect(const RibRoute& r) {
  keys_.push_back(Key::of(r.spec.table, r.spec.prefix));
  if (keys_.size() - run_start_ == kRunKeys) close_run();
}

void RouteDump::close_run() {
  const size_t end = keys_.size();
  if (end == run_start_) return;
  std::sort(keys_.begin() + static_cast<ptrdiff_t>(run_start_), keys_.end());
  heap_.push_back(Run{run_start_, end});
  run_start_ = end;
}

bool RouteDump::later(const Run& a, const Run& b) const {
  return keys_[b.next] < keys_[a.next];
}

void RouteDump::finish_collect() {
  close_run();
  std::make_heap(heap_.begin(), heap_.end(),
                 [this](const Run& a, const Run& b) { return later(a, b); });
  collecting_ = false;
}

bool RouteDump::pop(Key* out) {
  if (heap_.empty()) return false;
  auto cmp = [this](const Run& a, const Run& b) { return later(a, b); };
  std::pop_heap(heap_.begin(), heap_.end(), cmp);
  Run& run = heap_.back();
  *out = keys_[run.next++];
  if (run.next == run.end) {
    heap_.pop_back();
  } else {
    std::push_heap(heap_.begin(), heap_.end(), cmp);
  }
  return true;
}

void RouteDump::emit_longest_matches(const Rib& rib, RoutesReply* part) {
  std::map<uint32_t, const RibRoute*> best;
  for (const Key& k : keys_) {
    const RibRoute* r = rib.find_route(k.table, k.prefix());
    if (!r) continue;
    auto& slot = best[k.table];
    if (!slot || r->spec.prefix.len > slot->spec.prefix.len) slot = r;
  }
  for (const auto& [table, route] : best) fill_route(rib, *route, part->add_routes());
}

void RouteDump::release() {
  keys_ = {};
  heap_ = {};
}

bool RouteDump::step(const Rib& rib, Clock::time_point deadline, RoutesReply* part) {
  if (collecting_ && walk_pos_ == 0 && !exact_ && !address_) {
    // Every route may be selected: one allocation instead of a doubling copy
    // of tens of MiB in the middle of the walk.
    keys_.reserve(rib.stats().routes_v4 + rib.stats().routes_v6);
  }
  while (collecting_) {
    if (walk_pos_ >= rib.route_positions()) {
      finish_collect();
      break;
    }
    walk_pos_ =
        rib.walk_routes(walk_pos_, walk_pos_ + kPositionsPerCheck, [this](const RibRoute& r) {
          if (selects(r)) collect(r);
        });
    if (Clock::now() >= deadline) return true;
  }
  if (address_) {
    emit_longest_matches(rib, part);
    release();
    return false;
  }
  size_t added = 0;
  size_t merged = 0;
  Key k;
  while (added < kMaxPartRoutes && pop(&k)) {
    if (last_ == k) continue;  // deleted and re-added while collecting: collected twice
    last_ = k;
    if (const RibRoute* r = rib.find_route(k.table, k.prefix())) {
      fill_route(rib, *r, part->add_routes());
      ++added;
    }
    if (++merged % kKeysPerCheck == 0 && Clock::now() >= deadline) break;
  }
  if (!heap_.empty()) return true;
  release();
  return false;
}

}  // namespace fpm_sink::control
