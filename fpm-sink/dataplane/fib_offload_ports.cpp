// FibOffload, ports: fpm_ifaces entries (MAC, MTU, master and its table, forwarding switches,
// policy rules, IPv4 redirects)
// and the redirect ports of fpm_tx_ports, with their counter slots.
#include "dataplane/fib_offload.hpp"

#include <cstring>
#include <vector>

namespace fpm_sink {

Status FibOffload::refresh_port(uint32_t ifindex) {
  auto it = port_entries_.find(ifindex);
  if (it == port_entries_.end()) return ok_status();
  const fpm_iface fresh =
      port_entry(ifindex, it->second.slot, it->second.flags & (FPM_IFACE_F_V4 | FPM_IFACE_F_V6));
  if (std::memcmp(&fresh, &it->second, sizeof fresh) == 0) return ok_status();
  if (auto s = writer_.write_iface(ifindex, fresh); !s) return s;
  it->second = fresh;
  return ok_status();
}

Status FibOffload::add_port(uint32_t ifindex, bool v4, bool v6) {
  auto it = ports_.find(ifindex);
  uint32_t slot;
  if (it != ports_.end()) {
    slot = it->second;
  } else {
    auto s = take_port_slot(ifindex);
    if (!s)
      return Error{"dataplane.port.full",
                   "no free port slot for ifindex " + std::to_string(ifindex), ENOSPC};
    slot = *s;
  }
  const fpm_iface iface = port_entry(
      ifindex, slot, static_cast<uint16_t>((v4 ? FPM_IFACE_F_V4 : 0) | (v6 ? FPM_IFACE_F_V6 : 0)));
  // Egress first: a port must be a redirect target before traffic may enter it.
  if (auto s = writer_.add_tx_port(ifindex); !s) {
    if (it == ports_.end() && !adopted_slots_.contains(ifindex)) port_alloc_.release(slot);
    return s;
  }
  if (auto s = writer_.write_iface(ifindex, iface); !s) {
    if (it == ports_.end() && !adopted_slots_.contains(ifindex)) port_alloc_.release(slot);
    return s;
  }
  if (it == ports_.end()) claim_port_slot(ifindex, slot);
  ports_[ifindex] = slot;
  port_entries_[ifindex] = iface;
  // Neighbours on the port may now be forwarded to directly. A failed host
  // write leaves that host punting; the port itself is served.
  if (auto s = hosts_.set_port(ifindex, true); !s) note(s.error());
  return ok_status();
}

std::optional<uint32_t> FibOffload::take_port_slot(uint32_t ifindex) {
  if (auto a = adopted_slots_.find(ifindex); a != adopted_slots_.end()) return a->second;
  auto slot = port_alloc_.allocate();
  if (!slot) return std::nullopt;
  // The slot may hold a previous owner's counts (this run's, past quarantine,
  // or a previous run's in the pinned maps). A failed clear leaves them in
  // the new port's figures, which is no reason to stop forwarding on it.
  if (auto s = writer_.clear_port_counters(*slot); !s) note(s.error());
  return slot;
}

void FibOffload::claim_port_slot(uint32_t ifindex, uint32_t slot) {
  auto a = adopted_slots_.find(ifindex);
  if (a == adopted_slots_.end() || a->second != slot) return;
  port_alloc_.claim_held(slot);
  adopted_slots_.erase(a);
}

std::optional<fpm_iface> FibOffload::port_entry_now(uint32_t ifindex) const {
  auto it = port_entries_.find(ifindex);
  if (it == port_entries_.end()) return std::nullopt;
  return it->second;
}

fpm_iface FibOffload::port_entry(uint32_t ifindex, uint32_t slot, uint16_t flags) const {
  fpm_iface iface{};
  iface.slot = slot;
  iface.table_slot = FPM_TABLE_SLOT_MAIN;
  iface.flags = flags;
  // Without a known MAC the entry stays all-zero there and matches no unicast frame: punts.
  if (auto l = links_.link(ifindex)) {
    iface.mtu = l->mtu;
    std::copy(l->mac.begin(), l->mac.end(), iface.mac);
    // A port routes in its table's slot (none while the table has none: NO_TABLE);
    // one without a table (a bridge's or bond's, or its VRF's table not known yet)
    // punts every frame to the kernel.
    if (const auto table = routing_table(*l))
      iface.table_slot = port_table_slot(*table);
    else
      iface.flags |= FPM_IFACE_F_ENSLAVED;
    if (l->forward_v4) iface.flags |= FPM_IFACE_F_FWD4;
    if (l->forward_v6) iface.flags |= FPM_IFACE_F_FWD6;
  }
  if (tags_stripped_.contains(ifindex)) iface.flags |= FPM_IFACE_F_TAGS_STRIPPED;
  if (policy_rules_v4_ || rule_ports_v4_.contains(ifindex)) iface.flags |= FPM_IFACE_F_RULES4;
  if (policy_rules_v6_ || rule_ports_v6_.contains(ifindex)) iface.flags |= FPM_IFACE_F_RULES6;
  if (!no_redirects_.contains(ifindex)) iface.flags |= FPM_IFACE_F_REDIRECTS4;
  return iface;
}

Status FibOffload::set_policy_rules(Family family, bool present) {
  bool& flag = family == Family::V4 ? policy_rules_v4_ : policy_rules_v6_;
  if (flag == present) return ok_status();
  flag = present;
  // Routed subinterfaces have entries of their own: a tagged frame is checked against those.
  std::vector<uint32_t> entries;
  for (const auto& [ifindex, _] : port_entries_) entries.push_back(ifindex);
  Status first = ok_status();
  for (uint32_t ifindex : entries)
    if (auto s = refresh_port(ifindex); !s && first) first = std::move(s);
  return first;
}

Status FibOffload::set_policy_rule_ports(Family family, std::set<uint32_t> ifindexes) {
  std::set<uint32_t>& ports = family == Family::V4 ? rule_ports_v4_ : rule_ports_v6_;
  if (ports == ifindexes) return ok_status();
  std::set<uint32_t> touched = ports;
  touched.insert(ifindexes.begin(), ifindexes.end());
  ports = std::move(ifindexes);
  Status first = ok_status();
  for (uint32_t ifindex : touched)
    if (auto s = refresh_port(ifindex); !s && first) first = std::move(s);
  return first;
}

Status FibOffload::set_tags_stripped(uint32_t ifindex, bool stripped) {
  if (stripped ? !tags_stripped_.insert(ifindex).second : tags_stripped_.erase(ifindex) == 0)
    return ok_status();
  return refresh_port(ifindex);
}

Status FibOffload::set_sends_redirects(uint32_t ifindex, bool sends) {
  if (sends ? no_redirects_.erase(ifindex) == 0 : !no_redirects_.insert(ifindex).second)
    return ok_status();
  return refresh_port(ifindex);
}

Status FibOffload::remove_port(uint32_t ifindex) {
  auto it = ports_.find(ifindex);
  if (it == ports_.end()) return ok_status();
  // Its subinterfaces redirect through it: they go first.
  std::vector<uint32_t> subs;
  for (const auto& [sub, s] : subs_)
    if (s.parent == ifindex) subs.push_back(sub);
  for (uint32_t sub : subs)
    if (auto s = drop_subinterface(sub); !s) note(s.error());
  // Host entries first: nothing may be redirected to a port leaving the devmap.
  if (auto s = hosts_.set_port(ifindex, false); !s) note(s.error());
  Status a = writer_.remove_iface(ifindex);
  Status b = writer_.remove_tx_port(ifindex);
  port_alloc_.release(it->second);
  ports_.erase(it);
  tags_stripped_.erase(ifindex);
  no_redirects_.erase(ifindex);
  port_entries_.erase(ifindex);
  if (!a) return a;
  return b;
}

}  // namespace fpm_sink
