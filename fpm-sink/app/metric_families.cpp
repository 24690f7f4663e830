#include "app/metric_families.hpp"

#include <deque>
#include <iterator>
#include <string>
#include <utility>

namespace fpm_sink {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

// Collects families in a deque, so a family stays put while later ones are
// added (packets and bytes are filled side by side).
class Families {
 public:
  MetricFamily& counter(std::string name, std::string help) {
    return begin(std::move(name), std::move(help), MetricType::Counter);
  }
  MetricFamily& gauge(std::string name, std::string help) {
    return begin(std::move(name), std::move(help), MetricType::Gauge);
  }
  // One unlabelled sample.
  void counter(std::string name, std::string help, double value) {
    add(counter(std::move(name), std::move(help)), value);
  }
  void gauge(std::string name, std::string help, double value) {
    add(gauge(std::move(name), std::move(help)), value);
  }

  std::vector<MetricFamily> take() {
    return {std::make_move_iterator(out_.begin()), std::make_move_iterator(out_.end())};
  }

  static void add(MetricFamily& f, double value, Labels labels = {}) {
    ClientMetric m;
    m.label = std::move(labels);
    if (f.type == MetricType::Counter)
      m.counter.value = value;
    else
      m.gauge.value = value;
    f.metric.push_back(std::move(m));
  }

 private:
  MetricFamily& begin(std::string name, std::string help, MetricType type) {
    out_.push_back(MetricFamily{std::move(name), std::move(help), type, {}});
    return out_.back();
  }
  std::deque<MetricFamily> out_;
};

double as_value(uint64_t v) {
  return static_cast<double>(v);
}

// An enumeration as one gauge per value, 1 on the current one: a query can
// select a state by label and a dashboard can stack them.
template <typename Enum>
void state_gauge(Families& fs, std::string name, std::string help, Enum current,
                 std::initializer_list<std::pair<Enum, const char*>> states) {
  auto& f = fs.gauge(std::move(name), std::move(help));
  for (const auto& [value, label] : states)
    Families::add(f, value == current ? 1 : 0, {{"state", label}});
}

void fpm_session(Families& fs, const control::FpmReply& r) {
  fs.gauge("fpm_sink_fpm_session_connected", "1 while zebra holds an FPM session, else 0",
           r.session_state() == control::SESSION_STATE_CONNECTED ? 1 : 0);
  fs.gauge("fpm_sink_fpm_session_start_time_seconds",
           "Unix time the current (or last) FPM session was accepted; 0 if none ever was",
           as_value(r.connected_since()));
  fs.counter("fpm_sink_fpm_sessions_accepted_total",
             "FPM sessions accepted; zebra replays its whole state on each",
             as_value(r.sessions_accepted()));
  fs.counter("fpm_sink_fpm_sessions_replaced_total",
             "FPM sessions closed because a new one from zebra replaced them",
             as_value(r.sessions_replaced()));
  fs.counter("fpm_sink_fpm_peers_refused_total",
             "FPM connections refused by the peer policy (user or address)",
             as_value(r.peers_refused()));
  fs.counter("fpm_sink_fpm_frames_total", "FPM frames received, every session and encoding",
             as_value(r.frames()));
  fs.counter("fpm_sink_fpm_received_bytes_total", "Bytes of FPM frames received, headers included",
             as_value(r.bytes()));

  const auto& d = r.decode();
  auto& msgs = fs.counter("fpm_sink_fpm_messages_total", "Netlink messages decoded, by type");
  Families::add(msgs, as_value(d.new_route()), {{"type", "new_route"}});
  Families::add(msgs, as_value(d.del_route()), {{"type", "del_route"}});
  Families::add(msgs, as_value(d.new_nexthop()), {{"type", "new_nexthop"}});
  Families::add(msgs, as_value(d.del_nexthop()), {{"type", "del_nexthop"}});
  Families::add(msgs, as_value(d.other_known()), {{"type", "other"}});
  Families::add(msgs, as_value(d.unknown_type()), {{"type", "unknown"}});
  fs.counter("fpm_sink_fpm_unknown_attributes_total",
             "Attributes of known messages that fpm-sink does not know (ignored)",
             as_value(d.unknown_attr()));

  auto& errors = fs.counter("fpm_sink_fpm_errors_total",
                            "FPM input errors: decode (a message the decoders rejected), "
                            "incomplete_frame (netlink structure broken mid-frame), framing "
                            "(bad FPM header, closes the session), apply (event the RIB refused)");
  Families::add(errors, as_value(r.decode_errors()), {{"kind", "decode"}});
  Families::add(errors, as_value(r.incomplete_frames()), {{"kind", "incomplete_frame"}});
  Families::add(errors, as_value(r.framing_errors()), {{"kind", "framing"}});
  Families::add(errors, as_value(r.apply_errors()), {{"kind", "apply"}});

  state_gauge(fs, "fpm_sink_fpm_replay_state",
              "Replay after a (re)connect: idle (none running), replaying (waiting for the "
              "stream to go quiet), settled (stale entries swept)",
              r.replay_state(),
              {{control::REPLAY_STATE_IDLE, "idle"},
               {control::REPLAY_STATE_REPLAYING, "replaying"},
               {control::REPLAY_STATE_SETTLED, "settled"}});
  fs.gauge("fpm_sink_fpm_sweep_delay_seconds",
           "Quiet time after a (re)connect before entries the replay did not refresh are swept",
           r.sweep_delay_seconds());
  fs.gauge("fpm_sink_last_sweep_entries", "Routes and groups removed by the last sweep",
           as_value(r.last_sweep()));
}

void rib(Families& fs, const MetricsSnapshot& s) {
  const auto& rs = s.fpm.rib();
  auto& routes = fs.gauge("fpm_sink_routes", "Routes in the RIB (every table), by family");
  Families::add(routes, as_value(rs.routes_v4()), {{"family", "ipv4"}});
  Families::add(routes, as_value(rs.routes_v6()), {{"family", "ipv6"}});
  auto& groups = fs.gauge("fpm_sink_groups",
                          "zebra next-hop objects (single next hops and groups) in the RIB, by "
                          "family");
  Families::add(groups, as_value(s.groups.v4), {{"family", "ipv4"}});
  Families::add(groups, as_value(s.groups.v6), {{"family", "ipv6"}});
  fs.gauge("fpm_sink_inline_groups",
           "Next-hop sets of routes sent without a group id, interned by fpm-sink",
           as_value(rs.inline_groups()));
  fs.gauge("fpm_sink_pending_routes",
           "Routes waiting for a next-hop group zebra has not sent yet (punted meanwhile)",
           as_value(rs.pending_routes()));
  fs.gauge("fpm_sink_pending_groups", "Next-hop groups waiting for a member not received yet",
           as_value(rs.pending_groups()));
  fs.gauge("fpm_sink_stale_routes", "Routes not refreshed by the running replay",
           as_value(rs.stale_routes()));
  fs.gauge("fpm_sink_stale_groups", "Next-hop groups not refreshed by the running replay",
           as_value(rs.stale_groups()));

  auto& changes = fs.counter("fpm_sink_rib_changes_total", "RIB adds and deletes applied");
  Families::add(changes, as_value(rs.route_adds()), {{"object", "route"}, {"op", "add"}});
  Families::add(changes, as_value(rs.route_dels()), {{"object", "route"}, {"op", "del"}});
  Families::add(changes, as_value(rs.group_adds()), {{"object", "group"}, {"op", "add"}});
  Families::add(changes, as_value(rs.group_dels()), {{"object", "group"}, {"op", "del"}});
  fs.counter("fpm_sink_rib_unknown_deletes_total", "Deletes of routes or groups the RIB never had",
             as_value(rs.unknown_deletes()));
  auto& swept = fs.counter("fpm_sink_swept_total",
                           "Entries removed after a replay because zebra no longer sent them");
  Families::add(swept, as_value(rs.swept_routes()), {{"object", "route"}});
  Families::add(swept, as_value(rs.swept_groups()), {{"object", "group"}});
  auto& refused = fs.counter("fpm_sink_refused_total",
                             "Routes refused by --max-routes and groups by --max-group-members");
  Families::add(refused, as_value(rs.refused_routes()), {{"object", "route"}});
  Families::add(refused, as_value(rs.refused_groups()), {{"object", "group"}});
}

void session_hold(Families& fs, const control::SessionHold& h) {
  state_gauge(fs, "fpm_sink_session_hold_state",
              "After zebra's session drops: running (a session feeds the routes), holding "
              "(routes still forwarded), expired (routes punted to the kernel)",
              h.state(),
              {{control::HOLD_STATE_RUNNING, "running"},
               {control::HOLD_STATE_HOLDING, "holding"},
               {control::HOLD_STATE_EXPIRED, "expired"}});
  fs.gauge("fpm_sink_session_hold_time_seconds",
           "Configured hold time (--fpm-hold-time); 0 holds forever",
           as_value(h.hold_time_seconds()));
  fs.gauge("fpm_sink_session_hold_expiry_timestamp_seconds",
           "Unix time the running hold expires; 0 when not holding or holding forever",
           as_value(h.expires_at()));
  fs.counter("fpm_sink_session_hold_expiries_total",
             "Holds that expired before a new session replayed", as_value(h.expiries()));
}

void offload_feedback(Families& fs, const control::OffloadFeedback& f) {
  auto& replies = fs.counter("fpm_sink_offload_replies_total",
                             "Offload replies sent to zebra, by the state they reported");
  Families::add(replies, as_value(f.offloaded()), {{"state", "offloaded"}});
  Families::add(replies, as_value(f.failed()), {{"state", "failed"}});
  Families::add(replies, as_value(f.trapped()), {{"state", "trapped"}});
  fs.gauge("fpm_sink_offload_replies_queued", "Routes waiting for their offload reply",
           as_value(f.queued()));
  fs.counter("fpm_sink_offload_routes_gone_total",
             "Queued routes the RIB no longer held when their reply was due (none sent)",
             as_value(f.gone()));
  fs.counter("fpm_sink_offload_queues_dropped_total",
             "Reply queues dropped with the session they were for", as_value(f.sessions_dropped()));
  fs.counter("fpm_sink_offload_encode_errors_total", "Offload replies that could not be encoded",
             as_value(f.encode_errors()));
}

void pool(MetricFamily& entries, MetricFamily& capacity, const control::PoolUsage& p,
          const char* table) {
  Families::add(entries, as_value(p.used()), {{"state", "used"}, {"table", table}});
  Families::add(entries, as_value(p.quarantined()), {{"state", "quarantined"}, {"table", table}});
  Families::add(capacity, as_value(p.capacity()), {{"table", table}});
}

void fast_path(Families& fs, const FastPathSnapshot& fp, const control::CountersReply& c,
               bool counters_read) {
  const auto& st = fp.stats;
  auto& routes = fs.gauge("fpm_sink_fast_path_routes",
                          "Routes by family and offload state: installed (XDP forwards or "
                          "drops), failed (should be but is not: capacity, write error), "
                          "not_offloaded (left to the kernel by design). While "
                          "fpm_sink_warm_restart_staging is 1, installed routes are in the "
                          "staged tables, not yet read by XDP");
  for (const auto& [family, n] :
       {std::pair{"ipv4", &st.routes_v4}, std::pair{"ipv6", &st.routes_v6}}) {
    Families::add(routes, as_value(n->installed), {{"family", family}, {"state", "installed"}});
    Families::add(routes, as_value(n->failed), {{"family", family}, {"state", "failed"}});
    Families::add(routes, as_value(n->not_offloaded),
                  {{"family", family}, {"state", "not_offloaded"}});
  }
  fs.gauge("fpm_sink_fast_path_groups", "Next-hop groups the fast path knows", as_value(st.groups));
  auto& writes = fs.counter("fpm_sink_fast_path_map_writes_total",
                            "Writes to the XDP program's maps, by what they wrote");
  Families::add(writes, as_value(st.route_writes), {{"kind", "route"}});
  Families::add(writes, as_value(st.bucket_writes), {{"kind", "bucket"}});
  Families::add(writes, as_value(st.nexthop_refreshes), {{"kind", "nexthop"}});
  fs.counter("fpm_sink_fast_path_write_errors_total", "Map writes that failed",
             as_value(st.write_errors));
  fs.counter("fpm_sink_fast_path_retries_total", "Failed routes retried", as_value(st.retries));
  fs.gauge("fpm_sink_warm_restart_staging",
           "1 while a warm restart stages new tables behind the adopted ones, which forward",
           fp.staging ? 1 : 0);
  fs.gauge("fpm_sink_fast_path_withheld",
           "1 while every route punts to the kernel because the session hold expired",
           fp.withheld ? 1 : 0);
  fs.gauge("fpm_sink_fast_path_route_limit_reached",
           "1 once --max-routes refused a route: every route punts until restart",
           fp.incomplete ? 1 : 0);

  auto& entries = fs.gauge("fpm_sink_table_entries",
                           "Fast-path table entries in use, and freed ones in quarantine (not "
                           "reusable until no XDP run can still read them)");
  auto& capacity = fs.gauge("fpm_sink_table_capacity", "Fast-path table size in entries");
  const auto& t = c.tables();
  pool(entries, capacity, t.v4_tbl8_groups(), "v4_tbl8_groups");
  pool(entries, capacity, t.v6_nodes(), "v6_nodes");
  pool(entries, capacity, t.groups(), "groups");
  pool(entries, capacity, t.nexthops(), "nexthops");
  pool(entries, capacity, t.vrf_tables(), "vrf_tables");

  fs.gauge("fpm_sink_xdp_counters_up",
           "1 when this scrape read the XDP program's per-CPU counter maps", counters_read ? 1 : 0);
  auto& packets = fs.counter("fpm_sink_xdp_packets_total",
                             "Packets seen by the XDP program on every port, by verdict");
  auto& bytes = fs.counter("fpm_sink_xdp_bytes_total", "Bytes of those packets, by verdict");
  for (const auto& v : c.verdicts()) {
    Families::add(packets, as_value(v.packets()), {{"verdict", v.name()}});
    Families::add(bytes, as_value(v.bytes()), {{"verdict", v.name()}});
  }
  auto& rpackets = fs.counter("fpm_sink_xdp_reason_packets_total",
                              "Packets XDP did not redirect, by reason (punted to the kernel, "
                              "or dropped for blackholes)");
  auto& rbytes = fs.counter("fpm_sink_xdp_reason_bytes_total", "Bytes of those packets, by reason");
  for (const auto& r : c.reasons()) {
    Families::add(rpackets, as_value(r.packets()), {{"reason", r.name()}});
    Families::add(rbytes, as_value(r.bytes()), {{"reason", r.name()}});
  }
  // A port's series is keyed by its name alone. Its counter slot is zeroed
  // only when the slot goes to a new owner (fib_offload_ports.cpp): a port
  // keeps its slot while it is a port, over a warm restart too, so its series
  // only grows. A new owner under another name starts a series of its own; one
  // under the same name (a device recreated, a port removed and added again, a
  // subinterface re-keyed) starts again from zero: a counter reset, which
  // rate() and increase() handle, as after a cold start.
  auto& ppackets =
      fs.counter("fpm_sink_port_packets_total", "Packets received on a fast-path port, by verdict");
  auto& pbytes =
      fs.counter("fpm_sink_port_bytes_total", "Bytes received on a fast-path port, by verdict");
  for (const auto& p : c.interfaces()) {
    const std::string port = p.name().empty() ? std::to_string(p.ifindex()) : p.name();
    for (const auto& v : p.verdicts()) {
      Families::add(ppackets, as_value(v.packets()), {{"port", port}, {"verdict", v.name()}});
      Families::add(pbytes, as_value(v.bytes()), {{"port", port}, {"verdict", v.name()}});
    }
  }
  // Only the reasons a port has seen: 31 reasons on every port would be most
  // of a scrape, and almost all of them stay zero for the port's lifetime.
  auto& prpackets = fs.counter("fpm_sink_port_reason_packets_total",
                               "Packets a fast-path port did not redirect, by reason (series "
                               "appear once non-zero)");
  auto& prbytes =
      fs.counter("fpm_sink_port_reason_bytes_total", "Bytes of those packets, by port and reason");
  for (const auto& p : c.interfaces()) {
    const std::string port = p.name().empty() ? std::to_string(p.ifindex()) : p.name();
    for (const auto& r : p.reasons()) {
      Families::add(prpackets, as_value(r.packets()), {{"port", port}, {"reason", r.name()}});
      Families::add(prbytes, as_value(r.bytes()), {{"port", port}, {"reason", r.name()}});
    }
  }
}

}  // namespace

std::vector<MetricFamily> metric_families(const MetricsSnapshot& s) {
  Families fs;
  fpm_session(fs, s.fpm);
  rib(fs, s);
  if (s.fpm.has_hold()) session_hold(fs, s.fpm.hold());
  if (s.fpm.has_feedback()) offload_feedback(fs, s.fpm.feedback());
  fs.gauge("fpm_sink_fast_path_enabled", "1 when the XDP fast path runs (--interface given)",
           s.fast_path ? 1 : 0);
  if (s.fast_path) fast_path(fs, *s.fast_path, s.counters, s.counters_error.empty());
  return fs.take();
}

}  // namespace fpm_sink
