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
    : writer_(writer), neighbours_(neighbours), links_(links), capacity_(capacity_per_family) {
  tables_[kMainTable].slot = FPM_TABLE_SLOT_MAIN;
}

std::optional<uint32_t> HostTable::connected_port(uint32_t table, const IpAddr& addr) const {
  auto t = tables_.find(table);
  if (t == tables_.end() || t->second.connected.empty()) return std::nullopt;
  const auto& connected = t->second.connected;
  // Longest match by probing each length: only on neighbour / route changes.
  for (int len = static_cast<int>(address_bytes(addr.family) * 8); len >= 0; --len) {
    const auto p = Prefix::make(addr, static_cast<unsigned>(len));
    if (!p) continue;
    if (auto it = connected.find(*p); it != connected.end()) {
      if (subnet_broadcast(addr, *p)) return std::nullopt;
      return it->second;
    }
  }
  return std::nullopt;
}

std::optional<HostTable::Want> HostTable::wanted(const IpAddr& addr, uint32_t ifindex) const {
  if (!ports_.contains(ifindex) || never_routed(addr) || neighbours_.is_local(addr))
    return std::nullopt;
  const auto link = links_.link(ifindex);
  if (!link) return std::nullopt;
  // The port's own table: a neighbour on a VRF's port belongs to that VRF.
  const auto table = routing_table(*link);
  if (!table) return std::nullopt;
  auto t = tables_.find(*table);
  if (t == tables_.end() || !t->second.slot) return std::nullopt;
  // A more specific non-connected route makes the entry unreachable (XDP only
  // looks here behind a connected punt), never wrong; a more specific
  // connected route on another port is what this check is for.
  if (connected_port(*table, addr) != ifindex) return std::nullopt;
  const fpm_nexthop nh = resolve_nexthop(neighbours_, links_, NextHopKey{addr, ifindex});
  if (nh.state != FPM_NH_VALID) return std::nullopt;
  return Want{*table, *t->second.slot, nh};
}

Status HostTable::drop(std::map<Key, Entry>::iterator it) {
  ++writes_;
  if (auto s = writer_.remove_host(it->second.slot, it->first.second); !s) return s;
  --(it->first.second.family == Family::V4 ? v4_ : v6_);
  entries_.erase(it);
  return ok_status();
}

Status HostTable::sync(const IpAddr& addr, uint32_t ifindex) {
  const auto want = wanted(addr, ifindex);
  // This neighbour's entries in other tables (its port changed tables, its
  // table lost its slot) go first. Another port's entry for the address stays:
  // at most one of the two qualifies in a table (one longest connected route),
  // so only a qualifying one replaces it.
  Status first = ok_status();
  bool freed = false;
  for (const auto& [table, _] : tables_) {
    if (want && table == want->table) continue;
    auto it = entries_.find({table, addr});
    if (it == entries_.end() || it->second.ifindex != ifindex) continue;
    auto s = drop(it);
    freed |= s.ok();
    keep_first(first, std::move(s));
  }
  if (!want) {
    refused_.erase({addr, ifindex});
    if (freed) keep_first(first, admit_refused(addr.family));
    return first;
  }
  if (!first) return first;
  const Key key{want->table, addr};
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    const Entry now{ifindex, want->slot, want->value};
    if (it->second.ifindex == ifindex && it->second.slot == want->slot &&
        same(it->second.value, want->value))
      return ok_status();
    // Replacing a whole hash value is atomic for XDP: no parking needed.
    ++writes_;
    if (auto s = writer_.write_host(want->slot, addr, want->value); !s) return s;
    it->second = now;
    return ok_status();
  }
  if (count(addr.family) >= capacity_) {
    if (refused_.insert({addr, ifindex}).second) ++full_events_;
    return ok_status();
  }
  ++writes_;
  if (auto s = writer_.write_host(want->slot, addr, want->value); !s) {
    if (s.error().err != ENOSPC) return s;
    // The map is fuller than we count (a previous run's leftovers): wait for room.
    if (refused_.insert({addr, ifindex}).second) ++full_events_;
    return ok_status();
  }
  refused_.erase({addr, ifindex});
  entries_.emplace(key, Entry{ifindex, want->slot, want->value});
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

Status HostTable::sync_within(uint32_t table, const Prefix& prefix) {
  std::vector<std::pair<IpAddr, uint32_t>> keys;
  neighbours_.for_each_neighbour(
      prefix, [&](const IpAddr& a, uint32_t ifindex) { keys.emplace_back(a, ifindex); });
  // Entries whose neighbour the source no longer lists go too (sync finds no want).
  for (auto it = entries_.lower_bound({table, IpAddr{}});
       it != entries_.end() && it->first.first == table; ++it)
    if (prefix.contains(it->first.second)) keys.emplace_back(it->first.second, it->second.ifindex);
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
  for (const auto& [key, e] : entries_)
    if (e.ifindex == ifindex) keys.emplace_back(key.second, e.ifindex);
  Status first = ok_status();
  for (const auto& [addr, i] : keys) keep_first(first, sync(addr, i));
  return first;
}

Status HostTable::set_connected(uint32_t table, const Prefix& prefix,
                                std::optional<uint32_t> port) {
  auto& connected = tables_[table].connected;
  auto it = connected.find(prefix);
  if (port) {
    if (it != connected.end() && it->second == *port) return ok_status();
    connected[prefix] = *port;
  } else {
    if (it == connected.end()) return ok_status();
    connected.erase(it);
  }
  return sync_within(table, prefix);
}

Status HostTable::set_table_slot(uint32_t table, std::optional<uint16_t> slot) {
  Table& t = tables_[table];
  if (t.slot == slot) return ok_status();
  Status first = ok_status();
  // A slot names one table: whichever held it (a caller that freed it without
  // saying so) loses its entries before this table's are written under it.
  if (slot) {
    for (auto& [other, o] : tables_)
      if (other != table && o.slot == slot) keep_first(first, set_table_slot(other, std::nullopt));
  }
  t.slot = std::nullopt;
  std::set<Family> freed;
  for (auto it = entries_.lower_bound({table, IpAddr{}});
       it != entries_.end() && it->first.first == table;) {
    const Family f = it->first.second.family;
    auto next = std::next(it);
    // drop() erases only on success: a failed delete stays counted, and is
    // retried when the neighbour next changes (wanted() is nullopt now).
    if (auto s = drop(it); s)
      freed.insert(f);
    else
      keep_first(first, std::move(s));
    it = next;
  }
  t.slot = slot;
  // Refused neighbours of a table without a slot no longer qualify.
  std::erase_if(refused_, [&](const auto& key) { return !wanted(key.first, key.second); });
  for (Family f : freed) keep_first(first, admit_refused(f));
  if (slot)
    for (const auto& [prefix, _] : std::map<Prefix, uint32_t>(t.connected))
      keep_first(first, sync_within(table, prefix));
  return first;
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
  for (const auto& [table, _] : tables_)
    if (auto it = entries_.find({table, addr}); it != entries_.end())
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
  for (const auto& [key, e] : entries_) fn(key.second, e.ifindex, e.value);
}

}  // namespace fpm_sink
