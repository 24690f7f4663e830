#include "kernel/kernel_state.hpp"

namespace fpm_sink {

void KernelState::apply(const KernelEvent& event) {
  std::visit(
      [this](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, Upsert<LinkInfo>> || std::is_same_v<T, Upsert<NeighInfo>> ||
                      std::is_same_v<T, Upsert<AddrInfo>> ||
                      std::is_same_v<T, Upsert<ForwardingInfo>> ||
                      std::is_same_v<T, Upsert<RuleInfo>>)
          upsert(e.value);
        else
          remove(e.value);
      },
      event);
}

const LinkInfo* KernelState::link(uint32_t ifindex) const {
  auto it = links_.find(ifindex);
  return it == links_.end() ? nullptr : &it->second;
}

const LinkInfo* KernelState::link_by_name(const std::string& name) const {
  for (const auto& [_, l] : links_)
    if (l.name == name) return &l;
  return nullptr;
}

const NeighInfo* KernelState::neighbour(const IpAddr& addr, uint32_t ifindex) const {
  auto it = neighs_.find({addr, ifindex});
  return it == neighs_.end() ? nullptr : &it->second;
}

std::optional<bool> KernelState::forwarding(Family family, int32_t ifindex) const {
  auto it = forwarding_.find({family, ifindex});
  if (it == forwarding_.end()) return std::nullopt;
  return it->second;
}

const RuleInfo* KernelState::nonstandard_rule(Family family) const {
  const RuleInfo* first = nullptr;
  for (const auto& [_, r] : rules_)
    if (r.family == family && !r.standard() && (!first || r.priority < first->priority)) first = &r;
  return first;
}

std::set<std::string> KernelState::policy_rule_iifs(Family family) const {
  std::set<std::string> out;
  for (const auto& [key, _] : iif_rules_)
    if (key.first == family) out.insert(key.second);
  return out;
}

std::vector<IpAddr> KernelState::local_addresses() const {
  std::vector<IpAddr> out;
  for (const auto& [a, _] : local_) out.push_back(a);
  return out;
}

void KernelState::begin_resync() {
  resync_.emplace();
}

void KernelState::end_resync() {
  if (!resync_) return;
  const Seen seen = std::move(*resync_);
  resync_.reset();
  std::vector<LinkInfo> gone_links;
  for (const auto& [ifindex, l] : links_)
    if (!seen.links.contains(ifindex)) gone_links.push_back(l);
  for (const auto& l : gone_links) remove(l);  // takes the link's neighbours along
  std::vector<NeighInfo> gone_neighs;
  for (const auto& [key, n] : neighs_)
    if (!seen.neighs.contains(key)) gone_neighs.push_back(n);
  for (const auto& n : gone_neighs) remove(n);
  std::vector<AddrInfo> gone_addrs;
  for (const auto& [addr, ifindex] : local_on_)
    if (!seen.addrs.contains({addr, ifindex})) gone_addrs.push_back(AddrInfo{addr, ifindex, 0});
  for (const auto& a : gone_addrs) remove(a);
  std::vector<ForwardingInfo> gone_switches;
  for (const auto& [key, _] : forwarding_)
    if (!seen.forwarding.contains(key)) gone_switches.push_back({key.first, key.second, false});
  for (const auto& f : gone_switches) remove(f);
  std::vector<RuleInfo> gone_rules;
  for (const auto& [key, r] : rules_)
    if (!seen.rules.contains(key)) gone_rules.push_back(r);
  for (const auto& r : gone_rules) remove(r);
}

void KernelState::upsert(const LinkInfo& l) {
  if (resync_) resync_->links.insert(l.ifindex);
  auto [it, inserted] = links_.try_emplace(l.ifindex, l);
  if (!inserted) {
    if (it->second == l) return;
    it->second = l;
  }
  for (auto* x : listeners_) x->link_changed(l.ifindex, &it->second);
}

void KernelState::remove(const LinkInfo& l) {
  if (links_.erase(l.ifindex) == 0) return;
  // The kernel drops the neighbours of a vanished link; it does not always say so.
  for (auto it = neighs_.begin(); it != neighs_.end();) {
    if (it->first.second == l.ifindex) {
      const auto key = it->first;
      it = neighs_.erase(it);
      for (auto* x : listeners_) x->neighbour_changed(key.first, key.second, nullptr);
    } else {
      ++it;
    }
  }
  for (auto* x : listeners_) x->link_changed(l.ifindex, nullptr);
  // A port's forwarding switches are not dropped here: the kernel removes them
  // with RTM_DELNETCONF itself, and an ifindex reused later reports its own.
}

void KernelState::upsert(const NeighInfo& reported) {
  const auto key = std::make_pair(reported.addr, reported.ifindex);
  if (resync_) resync_->neighs.insert(key);
  NeighInfo n = reported;
  auto [it, inserted] = neighs_.try_emplace(key, n);
  if (!inserted) {
    // INCOMPLETE (or NONE) after the entry had a MAC means the neighbour stopped
    // answering and the kernel is probing again: fail the next hop now rather than
    // wait for FAILED. It stays failed until the kernel resolves it again.
    if (n.state == NeighState::Unresolved && it->second.state != NeighState::Unresolved)
      n.state = NeighState::Failed;
    const bool same_use =
        it->second.state == n.state && (n.state != NeighState::Usable || it->second.mac == n.mac);
    it->second = n;
    if (same_use) return;
  }
  for (auto* x : listeners_) x->neighbour_changed(n.addr, n.ifindex, &it->second);
}

void KernelState::remove(const NeighInfo& n) {
  if (neighs_.erase({n.addr, n.ifindex}) == 0) return;
  for (auto* x : listeners_) x->neighbour_changed(n.addr, n.ifindex, nullptr);
}

void KernelState::upsert(const AddrInfo& a) {
  if (resync_) resync_->addrs.insert({a.addr, a.ifindex});
  if (!local_on_.insert({a.addr, a.ifindex}).second) return;
  if (++local_[a.addr] == 1)
    for (auto* x : listeners_) x->local_address_changed(a.addr, true);
}

void KernelState::remove(const AddrInfo& a) {
  if (local_on_.erase({a.addr, a.ifindex}) == 0) return;
  auto it = local_.find(a.addr);
  if (it != local_.end() && --it->second == 0) {
    local_.erase(it);
    for (auto* x : listeners_) x->local_address_changed(a.addr, false);
  }
}

// A switch arrives before its port's RTM_NEWLINK (devinet / addrconf register
// their sysctls, and notify, before the link is announced): it is kept on its own.
void KernelState::upsert(const ForwardingInfo& f) {
  const auto key = std::make_pair(f.family, f.ifindex);
  if (resync_) resync_->forwarding.insert(key);
  auto [it, inserted] = forwarding_.try_emplace(key, f.forwarding);
  if (!inserted) {
    if (it->second == f.forwarding) return;
    it->second = f.forwarding;
  }
  for (auto* x : listeners_) x->forwarding_changed(f.family, f.ifindex);
}

void KernelState::remove(const ForwardingInfo& f) {
  if (forwarding_.erase({f.family, f.ifindex}) == 0) return;
  for (auto* x : listeners_) x->forwarding_changed(f.family, f.ifindex);
}

// Rules are told apart by their bytes: the kernel refuses a second rule
// identical in all its attributes (EEXIST), and a rule's notifications and
// dump entries are filled by the same code.
void KernelState::upsert(const RuleInfo& r) {
  if (resync_) resync_->rules.insert(r.key);
  if (!rules_.try_emplace(r.key, r).second) return;
  if (!r.standard()) count_nonstandard(r, true);
}

void KernelState::remove(const RuleInfo& r) {
  auto it = rules_.find(r.key);
  if (it == rules_.end()) return;
  const RuleInfo had = std::move(it->second);
  rules_.erase(it);
  if (!had.standard()) count_nonstandard(had, false);
}

void KernelState::count_nonstandard(const RuleInfo& r, bool added) {
  size_t* n;
  if (r.only_iif.empty()) {
    n = &family_wide_[index(r.family)];
  } else {
    n = &iif_rules_[{r.family, r.only_iif}];
  }
  const bool before = *n != 0;
  *n = added ? *n + 1 : *n - 1;
  const bool after = *n != 0;
  if (!after && !r.only_iif.empty()) iif_rules_.erase({r.family, r.only_iif});
  if (before != after)
    for (auto* x : listeners_) x->policy_rules_changed(r.family);
}

}  // namespace fpm_sink
