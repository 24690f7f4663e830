#include "dataplane/nexthop_table.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace fpm_sink {

namespace {

bool same(const fpm_nexthop& a, const fpm_nexthop& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

}  // namespace

NextHopTable::NextHopTable(MapWriter& writer, const NeighbourSource& neighbours,
                           const LinkSource& links, IndexAllocator allocator)
    : writer_(writer), neighbours_(neighbours), links_(links), alloc_(std::move(allocator)) {}

namespace {

// Egress through a VLAN subinterface: the frame leaves through the parent with
// the subinterface's tag, so the parent must be up too and the L3 MTU is the
// smaller of the two (the kernel keeps a VLAN's MTU within its parent's, but a
// change reaches us as two events). Whether the fast path may send there at
// all is fpm_tx_ports' answer: only routed subinterfaces have an entry.
// Returns false when the parent is down or unknown.
bool apply_vlan(const LinkSource& links, const VlanEntry& vlan, fpm_nexthop& nh) {
  nh.flags = FPM_NH_F_VLAN;
  nh.vlan_tci = htons(vlan.id & 0x0fff);
  const auto parent = vlan.parent ? links.link(vlan.parent) : std::nullopt;
  if (!parent) return false;
  nh.mtu = std::min(nh.mtu, parent->mtu);
  return parent->up;
}

}  // namespace

fpm_nexthop resolve_nexthop(const NeighbourSource& neighbours, const LinkSource& links,
                            const NextHopKey& key) {
  fpm_nexthop nh{};
  nh.ifindex = key.ifindex;
  nh.state = FPM_NH_UNRESOLVED;
  auto link = links.link(key.ifindex);
  if (link && link->vlan) {
    nh.mtu = link->mtu;
    if (!apply_vlan(links, *link->vlan, nh)) link->up = false;
  }
  if (!link || !link->up) {
    // A dead port must not attract traffic; the kernel reroutes or drops.
    nh.state = FPM_NH_FAILED;
    if (link) {
      if (!link->vlan) nh.mtu = link->mtu;
      std::memcpy(nh.src_mac, link->mac.data(), 6);
    }
    return nh;
  }
  if (!link->vlan) nh.mtu = link->mtu;
  std::memcpy(nh.src_mac, link->mac.data(), 6);
  const auto neigh = neighbours.neighbour(key.gateway, key.ifindex);
  if (neigh && neigh->usable) {
    std::memcpy(nh.dst_mac, neigh->mac.data(), 6);
    nh.state = FPM_NH_VALID;
  } else if (neigh && neigh->failed) {
    nh.state = FPM_NH_FAILED;
  }
  return nh;
}

Result<bool> NextHopTable::rewrite(uint32_t index, Slot& slot) {
  const fpm_nexthop next = resolve(slot.key);
  if (same(next, slot.value)) return false;
  // A packet racing a plain copy could pair the old MAC with the new one;
  // when a usable entry changes its addresses, park it unresolved first.
  if (slot.value.state == FPM_NH_VALID && next.state == FPM_NH_VALID) {
    fpm_nexthop parked = slot.value;
    parked.state = FPM_NH_UNRESOLVED;
    if (auto s = writer_.write_nexthop(index, parked); !s) return s.error();
  }
  if (auto s = writer_.write_nexthop(index, next); !s) return s.error();
  slot.value = next;
  return true;
}

Result<uint32_t> NextHopTable::acquire(const NextHopKey& key) {
  if (auto it = by_key_.find(key); it != by_key_.end()) {
    ++slots_[it->second].refs;
    return it->second;
  }
  auto index = alloc_.allocate();
  if (!index)
    return Error{"dataplane.nexthop.full",
                 "no free next-hop index for " + key.gateway.to_string() + " dev " +
                     std::to_string(key.ifindex),
                 ENOSPC};
  Slot slot{key, {}, 1};
  slot.value = resolve(key);
  if (auto s = writer_.write_nexthop(*index, slot.value); !s) {
    alloc_.release(*index);
    return s.error();
  }
  by_key_.emplace(key, *index);
  slots_.emplace(*index, std::move(slot));
  return *index;
}

void NextHopTable::release(uint32_t index) {
  auto it = slots_.find(index);
  if (it == slots_.end() || --it->second.refs > 0) return;
  by_key_.erase(it->second.key);
  slots_.erase(it);
  alloc_.release(index);
}

Result<size_t> NextHopTable::refresh_neighbour(const IpAddr& gateway, uint32_t ifindex) {
  auto it = by_key_.find({gateway, ifindex});
  if (it == by_key_.end()) return size_t{0};
  auto r = rewrite(it->second, slots_[it->second]);
  if (!r) return r.error();
  return size_t{*r ? 1u : 0u};
}

Result<size_t> NextHopTable::refresh_link(uint32_t ifindex) {
  size_t written = 0;
  // Next hops on one port are a contiguous range of the (gateway, ifindex)
  // order only per gateway, so walk them all: O(next hops), not O(routes).
  for (auto& [index, slot] : slots_) {
    if (slot.key.ifindex != ifindex) continue;
    auto r = rewrite(index, slot);
    if (!r) return r.error();
    written += *r;
  }
  return written;
}

Result<size_t> NextHopTable::refresh_all() {
  size_t written = 0;
  for (auto& [index, slot] : slots_) {
    auto r = rewrite(index, slot);
    if (!r) return r.error();
    written += *r;
  }
  return written;
}

std::optional<fpm_nexthop> NextHopTable::entry(uint32_t index) const {
  auto it = slots_.find(index);
  if (it == slots_.end()) return std::nullopt;
  return it->second.value;
}

void NextHopTable::for_each(const std::function<void(const NextHopKey&, uint32_t,
                                                     const fpm_nexthop&, uint32_t)>& fn) const {
  for (const auto& [key, index] : by_key_) {
    const auto& slot = slots_.at(index);
    fn(key, index, slot.value, slot.refs);
  }
}

}  // namespace fpm_sink
