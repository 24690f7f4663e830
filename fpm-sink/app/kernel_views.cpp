#include "app/kernel_views.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "app/fast_path_views.hpp"

namespace fpm_sink {

std::string switch_name(std::optional<bool> on) {
  if (!on) return "";
  return *on ? "on" : "off";
}

void fill_neighbor_entries(const KernelState& kernel, const NextHopTable& nexthops,
                           control::NeighborsReply* out) {
  std::map<std::pair<IpAddr, uint32_t>, std::vector<uint32_t>> users;
  nexthops.for_each([&](const NextHopKey& key, uint32_t index, const fpm_nexthop&, uint32_t) {
    users[{key.gateway, key.ifindex}].push_back(index);
  });
  // The mirror's map is ordered by (address, ifindex): the output is too.
  for (const auto& [key, n] : kernel.neighbours()) {
    auto* e = out->add_neighbors();
    e->set_address(n.addr.to_string());
    if (n.mac != MacAddr{}) e->set_mac(mac_to_string(n.mac));
    e->set_state(nud_name(n.nud));
    e->set_ifindex(n.ifindex);
    if (const LinkInfo* link = kernel.link(n.ifindex)) e->set_ifname(link->name);
    if (auto it = users.find(key); it != users.end()) {
      std::sort(it->second.begin(), it->second.end());
      for (uint32_t index : it->second) e->add_nexthop_indices(index);
    }
  }
}

void fill_neighbors(const XdpDataplane* fp, control::NeighborsReply* out) {
  out->set_fast_path(fp != nullptr);
  if (fp) fill_neighbor_entries(fp->kernel(), fp->offload().nexthops(), out);
}

namespace {

// A VLAN device is never attached: its parent's program routes it, or says why not.
void fill_vlan(const XdpDataplane& fp, const LinkInfo& link, control::Interface* e) {
  const VlanLinkInfo& v = *link.vlan;
  const LinkInfo* parent = v.parent ? fp.kernel().link(v.parent) : nullptr;
  e->set_vlan_parent_ifindex(v.parent);
  if (parent) e->set_vlan_parent_name(parent->name);
  e->set_vlan_id(v.id);
  e->set_vlan_protocol(v.protocol == 0x8100   ? "802.1Q"
                       : v.protocol == 0x88a8 ? "802.1ad"
                                              : fmt::format("0x{:04x}", v.protocol));
  e->set_attach(control::ATTACH_MODE_NONE);
  const auto& subs = fp.offload().subinterfaces();
  const std::string parent_name = parent ? parent->name : std::to_string(v.parent);
  if (auto it = subs.find(link.ifindex); it != subs.end()) {
    e->set_vlan_routed(true);
    e->set_not_attached("VLAN subinterface, routed through parent " + parent_name +
                        (it->second.egress ? "" : "; egress-qos-map set: egress punts"));
    return;
  }
  const VlanEntry entry{v.parent, v.id, v.protocol, v.egress_qos};
  if (auto why = subinterface_refusal(fp.view(), entry))
    e->set_not_attached("VLAN subinterface, not routed: " + std::string(*why));
  else
    e->set_not_attached("VLAN subinterface, not routed: parent " + parent_name + " not attached");
}

}  // namespace

Status fill_interfaces(const XdpDataplane* fp, control::InterfacesReply* out) {
  out->set_fast_path(fp != nullptr);
  if (!fp) return ok_status();
  // Per-port verdicts as show counters has them, baseline subtracted.
  control::CountersReply counters;
  if (auto st = fill_counters(fp, &counters); !st) return st;
  fp->counter_baseline().apply(&counters, fp->counter_slots());
  out->set_cleared_at(counters.cleared_at());
  std::map<uint32_t, const control::PortCounters*> port_counters;
  for (const auto& p : counters.interfaces()) port_counters.emplace(p.ifindex(), &p);

  const KernelState& kernel = fp->kernel();
  out->set_ipv6_forwarding_all(switch_name(kernel.forwarding(Family::V6, kNetconfIfindexAll)));
  const auto attached = fp->program().attached();
  const auto& ports = fp->offload().ports();
  std::vector<const LinkInfo*> links;
  for (const auto& [ifindex, link] : kernel.links()) links.push_back(&link);
  std::sort(links.begin(), links.end(),
            [](const LinkInfo* a, const LinkInfo* b) { return a->ifindex < b->ifindex; });
  for (const LinkInfo* link : links) {
    auto* e = out->add_interfaces();
    e->set_ifindex(link->ifindex);
    e->set_name(link->name);
    const bool is_attached =
        std::find(attached.begin(), attached.end(), link->ifindex) != attached.end() &&
        ports.contains(link->ifindex);
    if (link->vlan) {
      fill_vlan(*fp, *link, e);
    } else if (is_attached) {
      e->set_attach(fp->xdp_mode() == XdpMode::Generic ? control::ATTACH_MODE_GENERIC
                                                       : control::ATTACH_MODE_NATIVE);
    } else {
      e->set_attach(control::ATTACH_MODE_NONE);
      if (const std::string* err = fp->attach_error(link->ifindex))
        e->set_not_attached(*err);
      else if (link->is_loopback)
        e->set_not_attached("loopback");
      else if (!fp->configured(*link))
        e->set_not_attached("not in --interface");
      else
        e->set_not_attached("pending");
    }
    e->set_mac(mac_to_string(link->mac));
    e->set_mtu(link->mtu);
    e->set_up(link->up);
    e->set_kind(link->kind);
    const auto port = static_cast<int32_t>(link->ifindex);
    e->set_forwarding_v4(switch_name(kernel.forwarding(Family::V4, port)));
    e->set_forwarding_v6(switch_name(kernel.forwarding(Family::V6, port)));
    e->set_vrf_table(link->vrf_table);
    const LinkInfo* master = link->master ? kernel.link(link->master) : nullptr;
    if (link->master) {
      e->set_master_ifindex(link->master);
      if (master) {
        e->set_master_name(master->name);
        e->set_master_kind(master->kind);
      }
    }
    // The entry XDP reads now, not what the links suggest it should be.
    if (auto entry = is_attached ? fp->offload().port_entry_now(link->ifindex) : std::nullopt) {
      if (entry->flags & FPM_IFACE_F_ENSLAVED) {
        e->set_table(0);
        e->set_table_slot(-1);
      } else {
        // The port's table as FibOffload derives it; 0 only while the entry lags the links.
        const auto port_link = fp->view().link(link->ifindex);
        e->set_table(port_link ? routing_table(*port_link).value_or(0) : 0);
        e->set_table_slot(entry->table_slot == FPM_TABLE_SLOT_NONE ? -1 : entry->table_slot);
      }
    }
    if (auto it = port_counters.find(link->ifindex); it != port_counters.end()) {
      *e->mutable_verdicts() = it->second->verdicts();
      // Reasons that stayed at zero since the clear are left out, as if never seen.
      for (const auto& r : it->second->reasons())
        if (r.packets() != 0) *e->add_punt_reasons() = r;
    }
  }
  return ok_status();
}

}  // namespace fpm_sink
