// Answers the fast path's questions about neighbours and links from the
// rtnetlink mirror (KernelState), so next hops get real MACs, MTUs and carrier.
#pragma once

#include "dataplane/neighbour_source.hpp"
#include "kernel/kernel_state.hpp"

namespace fpm_sink {

class KernelView final : public NeighbourSource, public LinkSource {
 public:
  explicit KernelView(const KernelState& state) : state_(state) {}

  std::optional<NeighbourEntry> neighbour(const IpAddr& gateway, uint32_t ifindex) const override {
    const NeighInfo* n = state_.neighbour(gateway, ifindex);
    if (!n) return std::nullopt;
    return NeighbourEntry{n->mac, n->state == NeighState::Usable, n->state == NeighState::Failed};
  }

  // The mirror orders neighbours by (address, ifindex): a prefix is one range.
  void for_each_neighbour(const Prefix& within, const NeighbourFn& fn) const override {
    const auto& all = state_.neighbours();
    for (auto it = all.lower_bound({within.addr, 0}); it != all.end(); ++it) {
      if (!within.contains(it->first.first)) break;
      fn(it->first.first, it->first.second);
    }
  }

  bool is_local(const IpAddr& addr) const override { return state_.is_local(addr); }

  std::optional<LinkEntry> link(uint32_t ifindex) const override {
    const LinkInfo* l = state_.link(ifindex);
    if (!l) return std::nullopt;
    const LinkInfo* master = l->master ? state_.link(l->master) : nullptr;
    LinkEntry entry{l->mac, l->mtu, l->up, l->master, master ? master->kind : std::string()};
    if (master && master->kind == "vrf") entry.vrf_table = master->vrf_table;
    const auto port = static_cast<int32_t>(ifindex);
    // See kernel/netconf_events.hpp for which switches the kernel consults.
    entry.forward_v4 = state_.forwarding(Family::V4, port).value_or(false);
    entry.forward_v6 = state_.forwarding(Family::V6, port).value_or(false) &&
                       state_.forwarding(Family::V6, kNetconfIfindexAll).value_or(false);
    if (l->vlan)
      entry.vlan = VlanEntry{l->vlan->parent, l->vlan->id, l->vlan->protocol, l->vlan->egress_qos};
    return entry;
  }

 private:
  const KernelState& state_;
};

}  // namespace fpm_sink
