#include "dataplane/host_table.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

#include "dataplane/nexthop_table.hpp"

namespace fpm_sink {

namespace {

bool same(const fpm_nexthop& a, const fpm_nexthop& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// 10.0.1.255 on 10.0.1.0/24 is a directed broadcast: the kernel decides
// (bc_forwarding), never a unicast rewrite. /31 and /32 have no broadcast.
bool subnet_broadcast(const IpAddr& addr, const Prefix& subnet) {
  if (addr.family != Family::V4 || subnet.len >= 31) return false;
  const uint32_t host_mask = subnet.len == 0 ? ~0u : (~0u >> subnet.len);
  return (addr.v4_host_order() & host_mask) == host_mask;
}

// Destinations the XDP program punts before its route lookup (multicast,
// link-local, martians: lib/ipv4.h, lib/ipv6.h): an entry would never be read.
// fe80::/64 is a connected route with neighbours on every port.
bool never_routed(const IpAddr& a) {
  const auto& b = a.bytes;
  if (a.family == Family::V4)
    return b[0] >= 224 || b[0] == 0 || b[0] == 127 || (b[0] == 169 && b[1] == 254);
  if (b[0] == 0xff || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)) return true;
  for (int i = 0; i < 12; ++i)
    if (b[i]) return false;
  return true;  // ::/96, :: and ::1 among them
}

// The first error of several, so one bad write does not hide behind later ones.
void keep_first(Status& first, Status next) {
  if (first && !next) first = std::move(next);
}

}  // namespace

HostTable::HostTable(MapWriter& writer, const NeighbourSource& neighbours, const LinkSource& links,
                     uint32_t capacity_per_family)
    : writer_(writer), neighbours_(neighbours), links_(links), capacity_(capacity_per_family) {}

std::optional<uint32_t> HostTable::connected_port(const IpAddr& addr) const {
  if (connected_.empty()) return std::nullopt;
  // Longest match by probing each length: only on neighbour / route changes.
  for (int len = static_cast<int>(address_bytes(addr.family) * 8); len >= 0; --len) {
    const auto p = Prefix::make(addr, static_cast<unsigned>(len));
    if (!p) continue;
    if (auto it = connected_.find(*p); it != connected_.end()) {
      if (subnet_broadcast(addr, *p)) return std::nullopt;
      return it->second;
    }
  }
  return std::nullopt;
}

std::optional<fpm_nexthop> HostTable::wanted(const IpAddr& addr, uint32_t ifindex) const {
  if (!ports_.contains(ifindex) || never_routed(addr) || neighbours_.is_local(addr))
    return std::nullopt;
  // A more specific non-connected route makes the entry unreachable (XDP only
  // looks here behind a connected punt), never wrong; a more specific
  // connected route on another port is what this check is for.
  if (connected_port(addr) != ifindex) return std::nullopt;
  const auto link = links_.link(ifindex);
  if (!link || link->master) return std::nullopt;
  const fpm_nexthop nh = resolve_nexthop(neighbours_, links_, NextHopKey{addr, ifindex});
  if (nh.state != FPM_NH_VALID) return std::nullopt;
  return nh;
}

Status HostTable::sync(const IpAddr& addr, uint32_t ifindex) {
  const auto want = wanted(addr, ifindex);
  auto it = entries_.find(addr);
  // The address is held for a neighbour on another port: at most one of the two
  // qualifies (one longest connected route), so only a qualifying one replaces it.
  if (it != entries_.end() && it->second.ifindex != ifindex && !want) return ok_status();
  if (!want) {
    refused_.erase({addr, ifindex});
    if (it == entries_.end()) return ok_status();
    ++writes_;
    if (auto s = writer_.remove_host(addr); !s) return s;
    entries_.erase(it);
    --(addr.family == Family::V4 ? v4_ : v6_);
    return admit_refused(addr.family);
  }
  if (it != entries_.end()) {
    if (same(it->second.value, *want) && it->second.ifindex == ifindex) return ok_status();
    // Replacing a whole hash value is atomic for XDP: no parking needed.
    ++writes_;
    if (auto s = writer_.write_host(addr, *want); !s) return s;
    it->second = Entry{ifindex, *want};
    return ok_status();
  }
  if (count(addr.family) >= capacity_) {
    if (refused_.insert({addr, ifindex}).second) ++full_events_;
    return ok_status();
  }
  ++writes_;
  if (auto s = writer_.write_host(addr, *want); !s) {
    if (s.error().err != ENOSPC) return s;
    // The map is fuller than we count (a previous run's leftovers): wait for room.
    if (refused_.insert({addr, ifindex}).second) ++full_events_;
    return ok_status();
  }
  refused_.erase({addr, ifindex});
  entries_.emplace(addr, Entry{ifindex, *want});
  ++(addr.family == Family::V4 ? v4_ : v6_);
  return ok_status();
}

Status HostTable::admit_refused(Family family) {
  Status first = ok_status();
  std::vector<std::pair<IpAddr, uint32_t>> waiting;
  for (const auto& key : refused_)
    if (key.first.family == family) waiting.push_back(key);
  for (const auto& [addr, ifindex] : waiting) {
    if (count(family) >= capacity_) break;
    refused_.erase({addr, ifindex});
    keep_first(first, sync(addr, ifindex));
  }
  return first;
}

Status HostTable::sync_within(const Prefix& prefix) {
  std::vector<std::pair<IpAddr, uint32_t>> keys;
  neighbours_.for_each_neighbour(
      prefix, [&](const IpAddr& a, uint32_t ifindex) { keys.emplace_back(a, ifindex); });
  // Entries whose neighbour the source no longer lists go too (sync finds no want).
  for (const auto& [addr, e] : entries_)
    if (prefix.contains(addr)) keys.emplace_back(addr, e.ifindex);
  Status first = ok_status();
  for (const auto& [addr, ifindex] : keys) keep_first(first, sync(addr, ifindex));
  return first;
}

Status HostTable::sync_port(uint32_t ifindex) {
  std::vector<std::pair<IpAddr, uint32_t>> keys;
  for (Family f : {Family::V4, Family::V6}) {
    Prefix all;
    all.addr.family = f;
    neighbours_.for_each_neighbour(all, [&](const IpAddr& a, uint32_t i) {
      if (i == ifindex) keys.emplace_back(a, i);
    });
  }
  for (const auto& [addr, e] : entries_)
    if (e.ifindex == ifindex) keys.emplace_back(addr, e.ifindex);
  Status first = ok_status();
  for (const auto& [addr, i] : keys) keep_first(first, sync(addr, i));
  return first;
}

Status HostTable::set_connected(const Prefix& prefix, std::optional<uint32_t> port) {
  auto it = connected_.find(prefix);
  if (port) {
    if (it != connected_.end() && it->second == *port) return ok_status();
    connected_[prefix] = *port;
  } else {
    if (it == connected_.end()) return ok_status();
    connected_.erase(it);
  }
  return sync_within(prefix);
}

Status HostTable::set_port(uint32_t ifindex, bool attached) {
  if (attached ? !ports_.insert(ifindex).second : ports_.erase(ifindex) == 0) return ok_status();
  return sync_port(ifindex);
}

Status HostTable::neighbour_changed(const IpAddr& addr, uint32_t ifindex) {
  return sync(addr, ifindex);
}

Status HostTable::link_changed(uint32_t ifindex) {
  if (!ports_.contains(ifindex)) return ok_status();
  return sync_port(ifindex);
}

Status HostTable::local_changed(const IpAddr& addr) {
  std::vector<std::pair<IpAddr, uint32_t>> keys;
  neighbours_.for_each_neighbour(Prefix{addr, static_cast<uint8_t>(address_bytes(addr.family) * 8)},
                                 [&](const IpAddr& a, uint32_t i) { keys.emplace_back(a, i); });
  if (auto it = entries_.find(addr); it != entries_.end())
    keys.emplace_back(addr, it->second.ifindex);
  Status first = ok_status();
  for (const auto& [a, i] : keys) keep_first(first, sync(a, i));
  return first;
}

HostTableStats HostTable::stats() const {
  return HostTableStats{v4_, v6_, refused_.size(), writes_, full_events_};
}

void HostTable::for_each(
    const std::function<void(const IpAddr&, uint32_t, const fpm_nexthop&)>& fn) const {
  for (const auto& [addr, e] : entries_) fn(addr, e.ifindex, e.value);
}

}  // namespace fpm_sink
