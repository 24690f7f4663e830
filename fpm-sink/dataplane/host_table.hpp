// Connected hosts as the fast path stores them: fpm_hosts4 / fpm_hosts6[table
// slot, address] = a next-hop value (neighbour MAC, egress port, the port's MAC
// and MTU), so that traffic to a resolved neighbour on a connected subnet is
// forwarded by XDP instead of punted with reason `connected`, in the main table
// and in VRF tables alike.
//
// XDP reads an entry only when the LPM answer of the ingress port's table for
// the destination is PUNT(CONNECTED), so routed traffic pays nothing for this
// table. A neighbour (address, interface) gets an entry, under the slot of the
// interface's own table (main without a master, its VRF's), only if the kernel
// would send to it directly:
//   - that table's longest covering connected route (a route punted as
//     connected) goes out of the neighbour's own interface, a port (or routed
//     subinterface) the fast path serves, without a master other than a VRF.
//     A route leaked into another table over that interface adds nothing:
//     those packets punt, which is always safe;
//   - the table has a slot XDP reads it under (set_table_slot: main always;
//     a VRF table from its first route until its last, unless it has no slot
//     or outgrew its tries). A slot that goes away takes the table's entries
//     with it first, so a slot handed to another table never serves them;
//   - the neighbour is usable (REACHABLE, STALE, DELAY, PROBE, PERMANENT,
//     NOARP: kernel/kernel_events.cpp) and its port is up; INCOMPLETE, FAILED
//     or absent neighbours have no entry: the kernel resolves them first;
//   - it is not one of the router's own addresses (of any VRF), nor an IPv4
//     subnet's broadcast address, nor an address XDP punts before the lookup
//     (link-local such as fe80::/64's neighbours, multicast, martians).
// Every change is one map write (add / replace / delete of one key).
// Capacity: at most `capacity` entries per family over all tables
// (--max-hosts); neighbours beyond it are refused (counted), punt, and take the
// first entry that frees.
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

  // A route of `table` became a connected punt out of `port` (nullopt: it no
  // longer is one, or was removed). Re-evaluates the neighbours inside it.
  Status set_connected(uint32_t table, const Prefix& prefix, std::optional<uint32_t> port);
  // The slot XDP reads `table` under (nullopt: none, its ports punt). Entries
  // under a slot that goes or changes are removed before this returns: call
  // it before the slot is freed. Then the table's entries are written under
  // the new slot, and a table that held it before loses its own first.
  // The main table is FPM_TABLE_SLOT_MAIN from the start.
  Status set_table_slot(uint32_t table, std::optional<uint16_t> slot);
  // The fast path started (or stopped) serving a port.
  Status set_port(uint32_t ifindex, bool attached);
  Status neighbour_changed(const IpAddr& addr, uint32_t ifindex);
  // Carrier, MAC, MTU or master of a port changed.
  Status link_changed(uint32_t ifindex);
  // The address became (or stopped being) one of the router's own.
  Status local_changed(const IpAddr& addr);

  HostTableStats stats() const;
  uint32_t capacity() const { return capacity_; }
  // Connected port of the table's longest connected route covering addr, if any.
  std::optional<uint32_t> connected_port(uint32_t table, const IpAddr& addr) const;
  // Every entry (of every table): its address, the neighbour's interface, the value.
  void for_each(
      const std::function<void(const IpAddr&, uint32_t ifindex, const fpm_nexthop&)>& fn) const;

 private:
  struct Entry {
    uint32_t ifindex = 0;
    uint16_t slot = 0;  // the key's slot, as written
    fpm_nexthop value{};
  };
  using Key = std::pair<uint32_t, IpAddr>;  // (table, address)
  struct Table {
    std::optional<uint16_t> slot;
    std::map<Prefix, uint32_t> connected;  // connected subnet -> its port
  };
  struct Want {
    uint32_t table = 0;
    uint16_t slot = 0;
    fpm_nexthop value{};
  };
  // What fpm_hosts should hold for this neighbour (nullopt: no entry).
  std::optional<Want> wanted(const IpAddr& addr, uint32_t ifindex) const;
  Status sync(const IpAddr& addr, uint32_t ifindex);
  // Removes one entry from the map and the count (no admission of refused ones).
  Status drop(std::map<Key, Entry>::iterator it);
  Status sync_within(uint32_t table, const Prefix& prefix);
  Status sync_port(uint32_t ifindex);
  // An entry of `family` freed: give it to a refused neighbour.
  Status admit_refused(Family family);
  size_t count(Family family) const { return family == Family::V4 ? v4_ : v6_; }

  MapWriter& writer_;
  const NeighbourSource& neighbours_;
  const LinkSource& links_;
  uint32_t capacity_;
  std::map<uint32_t, Table> tables_;  // by table id; main's always
  std::set<uint32_t> ports_;
  std::map<Key, Entry> entries_;  // what fpm_hosts4 / 6 hold
  std::set<std::pair<IpAddr, uint32_t>> refused_;
  size_t v4_ = 0, v6_ = 0;
  uint64_t writes_ = 0, full_events_ = 0;
};

}  // namespace fpm_sink
