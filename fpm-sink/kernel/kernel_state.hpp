// The mirrored kernel state (no I/O): links, neighbours, the router's own addresses,
// the forwarding switches, the policy routing rules.
// Listeners hear only about changes that matter to a forwarding plane: a neighbour
// moving from REACHABLE to STALE keeps its MAC and stays usable, so it is silent.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kernel/kernel_events.hpp"

namespace fpm_sink {

class KernelListener {
 public:
  virtual ~KernelListener() = default;
  // `link` is null when the interface vanished.
  virtual void link_changed(uint32_t ifindex, const LinkInfo* link) = 0;
  // `neigh` is null when the entry was deleted.
  virtual void neighbour_changed(const IpAddr& addr, uint32_t ifindex, const NeighInfo* neigh) = 0;
  virtual void local_address_changed(const IpAddr& addr, bool present) = 0;
  // A forwarding switch changed, appeared or vanished (forwarding() says which);
  // ifindex is kNetconfIfindexAll when IPv6's "all" switch did.
  virtual void forwarding_changed(Family family, int32_t ifindex) = 0;
  // Whether the family has a non-standard policy routing rule for every
  // interface (KernelState::policy_rules) flipped, or an interface gained or
  // lost the last one that names it (policy_rule_iifs).
  virtual void policy_rules_changed(Family family) = 0;
};

class KernelState {
 public:
  void add_listener(KernelListener* l) { listeners_.push_back(l); }
  void apply(const KernelEvent& event);

  // Mark and sweep around a full re-dump (after lost events): the kernel sends no
  // deletes for what vanished meanwhile, so whatever the dump did not mention is
  // removed at end_resync(), and listeners hear of it as of any removal.
  void begin_resync();
  void end_resync();
  // The dump failed half-way: keep everything (stale beats wrongly removed).
  void abort_resync() { resync_.reset(); }

  const LinkInfo* link(uint32_t ifindex) const;
  const LinkInfo* link_by_name(const std::string& name) const;
  const NeighInfo* neighbour(const IpAddr& addr, uint32_t ifindex) const;
  bool is_local(const IpAddr& addr) const { return local_.contains(addr); }
  // net.ipv{4,6}.conf.<port>.forwarding (or IPv6's "all"); nullopt until reported.
  std::optional<bool> forwarding(Family family, int32_t ifindex) const;
  // The family has a policy routing rule that is not standard
  // (rule_events.hpp) and may match a packet received on any interface.
  bool policy_rules(Family family) const { return family_wide_[index(family)] != 0; }
  // The interfaces named by the family's other non-standard rules (iif X).
  std::set<std::string> policy_rule_iifs(Family family) const;
  // The first non-standard rule by priority, for logs; null when there is none.
  const RuleInfo* nonstandard_rule(Family family) const;

  const std::unordered_map<uint32_t, LinkInfo>& links() const { return links_; }
  const std::map<std::pair<IpAddr, uint32_t>, NeighInfo>& neighbours() const { return neighs_; }
  std::vector<IpAddr> local_addresses() const;

 private:
  void upsert(const LinkInfo& l);
  void remove(const LinkInfo& l);
  void upsert(const NeighInfo& n);
  void remove(const NeighInfo& n);
  void upsert(const AddrInfo& a);
  void remove(const AddrInfo& a);
  void upsert(const ForwardingInfo& f);
  void remove(const ForwardingInfo& f);
  void upsert(const RuleInfo& r);
  void remove(const RuleInfo& r);
  static size_t index(Family family) { return family == Family::V4 ? 0 : 1; }
  // Counts a non-standard rule in or out, and tells the listeners when a
  // count it belongs to moved from or to zero.
  void count_nonstandard(const RuleInfo& r, bool added);

  std::vector<KernelListener*> listeners_;
  std::unordered_map<uint32_t, LinkInfo> links_;
  std::map<std::pair<IpAddr, uint32_t>, NeighInfo> neighs_;
  // The same address can sit on several interfaces: count them.
  std::map<IpAddr, uint32_t> local_;
  std::set<std::pair<IpAddr, uint32_t>> local_on_;
  std::map<std::pair<Family, int32_t>, bool> forwarding_;
  std::map<std::vector<uint8_t>, RuleInfo> rules_;  // by RuleInfo::key
  // Non-standard rules: for every interface by family (IPv4, IPv6), and
  // for one interface by family and name.
  std::array<size_t, 2> family_wide_{};
  std::map<std::pair<Family, std::string>, size_t> iif_rules_;

  // Keys a running re-dump has mentioned; set between begin_resync and end_resync.
  struct Seen {
    std::set<uint32_t> links;
    std::set<std::pair<IpAddr, uint32_t>> neighs;
    std::set<std::pair<IpAddr, uint32_t>> addrs;
    std::set<std::pair<Family, int32_t>> forwarding;
    std::set<std::vector<uint8_t>> rules;
  };
  std::optional<Seen> resync_;
};

}  // namespace fpm_sink
