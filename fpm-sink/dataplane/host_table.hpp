// Connected hosts as the fast path stores them: fpm_hosts4 / fpm_hosts6[address]
// = a next-hop value (neighbour MAC, egress port, the port's MAC and MTU), so that
// traffic to a resolved neighbour on a connected subnet is forwarded by XDP
// instead of punted with reason `connected`.
//
// XDP reads an entry only when the LPM answer for the destination is
// PUNT(CONNECTED), so routed traffic pays nothing for this table. An address
// gets an entry only if the kernel would send to that neighbour directly:
//   - its longest covering connected route (a main-table route punted as
//     connected) goes out of the neighbour's own interface, a port the fast
//     path is attached to and that has no master;
//   - the neighbour is usable (REACHABLE, STALE, DELAY, PROBE, PERMANENT,
//     NOARP: kernel/kernel_events.cpp) and its port is up; INCOMPLETE, FAILED
//     or absent neighbours have no entry: the kernel resolves them first;
//   - it is not one of the router's own addresses, nor an IPv4 subnet's
//     broadcast address, nor an address XDP punts before the lookup
//     (link-local such as fe80::/64's neighbours, multicast, martians).
// Every change is one map write (add / replace / delete of one address).
// Capacity: at most `capacity` entries per family (--max-hosts); neighbours
// beyond it are refused (counted), punt, and take the first entry that frees.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "common/result.hpp"
#include "dataplane/map_writer.hpp"
#include "dataplane/neighbour_source.hpp"

namespace fpm_sink {

struct HostTableStats {
  uint64_t v4 = 0, v6 = 0;   // entries now
  uint64_t refused = 0;      // qualifying neighbours without an entry now: table full
  uint64_t writes = 0;       // map writes (add, replace, delete)
  uint64_t full_events = 0;  // times a neighbour was refused for lack of room
};

class HostTable {
 public:
  HostTable(MapWriter& writer, const NeighbourSource& neighbours, const LinkSource& links,
            uint32_t capacity_per_family);

  // A main-table route became a connected punt out of `port` (nullopt: it no
  // longer is one, or was removed). Re-evaluates the neighbours inside it.
  Status set_connected(const Prefix& prefix, std::optional<uint32_t> port);
  // The fast path started (or stopped) serving a port.
  Status set_port(uint32_t ifindex, bool attached);
  Status neighbour_changed(const IpAddr& addr, uint32_t ifindex);
  // Carrier, MAC, MTU or master of a port changed.
  Status link_changed(uint32_t ifindex);
  // The address became (or stopped being) one of the router's own.
  Status local_changed(const IpAddr& addr);

  HostTableStats stats() const;
  uint32_t capacity() const { return capacity_; }
  // Connected port of the longest connected route covering addr, if any.
  std::optional<uint32_t> connected_port(const IpAddr& addr) const;
  void for_each(
      const std::function<void(const IpAddr&, uint32_t ifindex, const fpm_nexthop&)>& fn) const;

 private:
  struct Entry {
    uint32_t ifindex = 0;
    fpm_nexthop value{};
  };
  // What fpm_hosts should hold for this neighbour (nullopt: no entry).
  std::optional<fpm_nexthop> wanted(const IpAddr& addr, uint32_t ifindex) const;
  Status sync(const IpAddr& addr, uint32_t ifindex);
  Status sync_within(const Prefix& prefix);
  Status sync_port(uint32_t ifindex);
  // An entry of `family` freed: give it to a refused neighbour.
  Status admit_refused(Family family);
  size_t count(Family family) const { return family == Family::V4 ? v4_ : v6_; }

  MapWriter& writer_;
  const NeighbourSource& neighbours_;
  const LinkSource& links_;
  uint32_t capacity_;
  std::map<Prefix, uint32_t> connected_;  // connected subnet -> its port
  std::set<uint32_t> ports_;
  std::map<IpAddr, Entry> entries_;  // what fpm_hosts4 / 6 hold
  std::set<std::pair<IpAddr, uint32_t>> refused_;
  size_t v4_ = 0, v6_ = 0;
  uint64_t writes_ = 0, full_events_ = 0;
};

}  // namespace fpm_sink
