// FibOffload, 802.1Q subinterfaces of ports (bpf/lib/vlan.h). Native XDP cannot
// attach to a VLAN device, so a subinterface rides on its parent's program: a
// tagged frame on the parent with the subinterface's VID is checked against
// the subinterface's own fpm_ifaces entry, and next hops through it leave
// through the parent with the tag pushed (nexthop_table.cpp fills the tag).
//
// Publication order, as for ports: egress (fpm_tx_ports[sub] = parent), then
// the ingress entry, then fpm_vlans, which is what makes frames enter it;
// removal the other way round.
#include "dataplane/fib_offload.hpp"

namespace fpm_sink {

namespace {

constexpr uint16_t kEtherType8021Q = 0x8100;

}  // namespace

std::optional<std::string_view> subinterface_refusal(const LinkSource& links,
                                                     const VlanEntry& vlan) {
  if (vlan.protocol != kEtherType8021Q) return "802.1ad tag: the kernel routes it";
  if (vlan.id == 0 || vlan.id >= 0x0fff) return "VID 0 / 4095: the kernel routes it";
  if (vlan.parent == 0) return "parent in another namespace";
  const auto parent = links.link(vlan.parent);
  if (!parent) return "parent unknown";
  if (parent->vlan) return "stacked VLAN (QinQ): the kernel routes it";
  return std::nullopt;
}

// Routed only while up: frames for a subinterface that is down are the
// kernel's to drop (it stays in the mirror and comes back with its carrier).
Status FibOffload::sync_subinterface(uint32_t ifindex) {
  std::optional<Subinterface> want;
  if (const auto link = links_.link(ifindex); link && link->up && link->vlan &&
                                              !subinterface_refusal(links_, *link->vlan) &&
                                              ports_.contains(link->vlan->parent))
    want = Subinterface{link->vlan->parent, link->vlan->id, 0, !link->vlan->egress_qos};
  auto it = subs_.find(ifindex);
  if (it != subs_.end()) {
    const Subinterface& have = it->second;
    if (want && want->parent == have.parent && want->vid == have.vid && want->egress == have.egress)
      return refresh_port(ifindex);  // MAC, MTU, master, forwarding switches
    if (auto s = drop_subinterface(ifindex); !s) return s;
  }
  if (!want) return ok_status();
  return add_subinterface(ifindex, *want);
}

Status FibOffload::add_subinterface(uint32_t ifindex, const Subinterface& wanted) {
  Subinterface sub = wanted;
  auto slot = take_port_slot(ifindex);
  if (!slot)
    return Error{"dataplane.port.full",
                 "no free port slot for subinterface ifindex " + std::to_string(ifindex), ENOSPC};
  sub.slot = *slot;
  const fpm_iface iface = port_entry(ifindex, sub.slot, FPM_IFACE_F_V4 | FPM_IFACE_F_V6);
  auto undo = [&](Status s) {
    (void)writer_.remove_iface(ifindex);
    (void)writer_.remove_tx_port(ifindex);
    if (!adopted_slots_.contains(ifindex)) port_alloc_.release(sub.slot);
    return s;
  };
  if (sub.egress)
    if (auto s = writer_.add_tx_via(ifindex, sub.parent); !s) return undo(std::move(s));
  if (auto s = writer_.write_iface(ifindex, iface); !s) return undo(std::move(s));
  if (auto s = writer_.write_vlan(sub.parent, sub.vid, ifindex); !s) return undo(std::move(s));
  claim_port_slot(ifindex, sub.slot);
  subs_[ifindex] = sub;
  port_entries_[ifindex] = iface;
  // Its next hops were written while it was not routed: the parent may have changed since.
  if (auto r = nexthops_.refresh_link(ifindex); !r) note(r.error());
  if (sub.egress)
    if (auto s = hosts_.set_port(ifindex, true); !s) note(s.error());
  return ok_status();
}

Status FibOffload::drop_subinterface(uint32_t ifindex) {
  auto it = subs_.find(ifindex);
  if (it == subs_.end()) return ok_status();
  const Subinterface sub = it->second;
  // Ingress first (no frame enters it any more), egress last.
  Status a = writer_.remove_vlan(sub.parent, sub.vid);
  Status b = writer_.remove_iface(ifindex);
  if (auto s = hosts_.set_port(ifindex, false); !s) note(s.error());
  Status c = writer_.remove_tx_port(ifindex);
  port_alloc_.release(sub.slot);
  subs_.erase(it);
  port_entries_.erase(ifindex);
  no_redirects_.erase(ifindex);
  if (!a) return a;
  if (!b) return b;
  return c;
}

}  // namespace fpm_sink
