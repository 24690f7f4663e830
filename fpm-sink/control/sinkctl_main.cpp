// fpm-sinkctl: asks a running fpm-sink over its control socket and prints the
// answer as an aligned table or, with --json (or a trailing `json`, as in
// vtysh), as JSON for scripts and tests. Exit status: control/exit_codes.hpp.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>

#include "common/version.hpp"
#include "control/cli_args.hpp"
#include "control/client.hpp"
#include "control/exit_codes.hpp"
#include "control/format.hpp"
#include "control/server.hpp"

namespace {

using namespace fpm_sink::control;

constexpr const char* kExitStatusHelp =
    "Exit status: 0 ok; 1 the query found nothing (show routes PREFIX with no match);\n"
    "2 usage error; 3 fpm-sink not reachable (not running, wrong --socket, no permission);\n"
    "4 the daemon answered with an error or stopped answering.";

void say(const std::string& message) {
  std::cerr << "fpm-sinkctl: " << message << "\n";
}

// Arguments the daemon refused are the user's to fix: usage errors.
int daemon_error(const Error& e) {
  say(e.message() + " (" + e.id() + ")");
  const bool usage = e.id() == "control.bad_prefix" || e.id() == "control.bad_flow";
  return usage ? kExitUsage : kExitFailed;
}

int transport_error(const fpm_sink::Error& e, const std::string& socket_path) {
  if (e.id != "control.client.connect") {
    say("fpm-sink at " + socket_path + " did not answer: " + e.message + " (" + e.id + ")");
    return kExitFailed;
  }
  std::string hint = "is fpm-sink running? --socket PATH";
  if (e.err == EACCES || e.err == EPERM)
    hint = "run as root, or as a user that may write to the socket";
  else if (e.err == ECONNREFUSED)
    hint = "nothing listens there: is fpm-sink running? --socket PATH";
  say("cannot reach fpm-sink at " + socket_path + ": " +
      (e.err ? std::string(std::strerror(e.err)) : e.message) + " (" + hint + ")");
  return kExitUnreachable;
}

void emit(const Json& j) {
  std::cout << j.dump(2) << "\n";
}

int print(const Response& resp, bool json) {
  switch (resp.kind_case()) {
    case Response::kError:
      return daemon_error(resp.error());
    case Response::kNexthopGroups:
      json ? emit(groups_json(resp.nexthop_groups()))
           : void(std::cout << groups_text(resp.nexthop_groups()));
      return kExitOk;
    case Response::kCounters:
      json ? emit(counters_json(resp.counters()))
           : void(std::cout << counters_text(resp.counters()));
      return kExitOk;
    case Response::kNexthops:
      json ? emit(nexthops_json(resp.nexthops()))
           : void(std::cout << nexthops_text(resp.nexthops()));
      return kExitOk;
    case Response::kNeighbors:
      json ? emit(neighbors_json(resp.neighbors()))
           : void(std::cout << neighbors_text(resp.neighbors()));
      return kExitOk;
    case Response::kInterfaces:
      json ? emit(interfaces_json(resp.interfaces()))
           : void(std::cout << interfaces_text(resp.interfaces()));
      return kExitOk;
    case Response::kCleared:
      if (json)
        emit(Json{{"cleared_at", resp.cleared().cleared_at()}});
      else
        std::cout << "counters cleared at " << unix_time_text(resp.cleared().cleared_at())
                  << " (show counters and show interfaces count from here; the per-CPU maps and "
                     "the metrics keep their totals)\n";
      return kExitOk;
    case Response::kFpm:
      json ? emit(fpm_json(resp.fpm())) : void(std::cout << fpm_text(resp.fpm()));
      return kExitOk;
    default:
      say("the daemon sent a response this fpm-sinkctl does not know (a newer fpm-sink?)");
      return kExitFailed;
  }
}

// Routes come in parts: JSON is printed as they arrive, so a full table costs
// this process one part at a time; the text table needs every row for its
// column widths, so it prints at the end. A query for a prefix or address
// that matches nothing exits 1 (after printing an empty list for JSON).
int show_routes(const std::string& socket_path, const Request& req, bool json) {
  std::optional<RoutesJsonWriter> writer;
  Response text_reply;
  std::optional<Response> error;
  size_t routes = 0;
  auto st = call_parts(socket_path, req, [&](Response&& part) {
    if (error) return;
    if (!part.has_routes()) {
      error = std::move(part);
      return;
    }
    routes += static_cast<size_t>(part.routes().routes_size());
    if (!json) return text_reply.MergeFrom(part);
    if (!writer) writer.emplace(std::cout);
    writer->add(part.routes());
  });
  if (!st) {
    std::cout.flush();
    return transport_error(st.error(), socket_path);
  }
  if (error) return print(*error, json);
  const bool query = req.show_routes().has_prefix();
  if (json) {
    if (!writer) writer.emplace(std::cout);
    writer->finish();
  } else if (routes > 0 || !query) {
    std::cout << routes_text(text_reply.routes());
  }
  if (routes > 0 || !query) return kExitOk;
  if (!json)
    say("no route for " + req.show_routes().prefix() +
        (req.show_routes().has_table() ? " in table " + std::to_string(req.show_routes().table())
                                       : std::string()));
  return kExitNotFound;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Query a running fpm-sink daemon (the XDP fast path fed by FRR's zebra).",
               "fpm-sinkctl"};
  app.footer(kExitStatusHelp);
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("fpm-sinkctl ") + fpm_sink::kVersion);
  std::string socket_path = kDefaultControlSocket;
  app.add_option("--socket", socket_path, "control socket of the daemon")->capture_default_str();

  auto* show = app.add_subcommand("show", "show daemon state");
  show->require_subcommand(1);

  bool json = false;
  std::vector<std::string> route_words;
  std::optional<uint32_t> table;
  auto* routes = show->add_subcommand(
      "routes",
      "routes in the RIB model with their fast-path state; PREFIX: that route, ADDRESS: the "
      "longest match, ADDRESS from SOURCE proto PROTO [sport PORT dport PORT]: also the ECMP "
      "member XDP sends that flow to");
  routes->add_option("query", route_words,
                     "PREFIX | ADDRESS [from SOURCE proto tcp|udp|sctp|udplite|icmp|icmpv6|N "
                     "[sport PORT dport PORT]]");
  routes->add_option("--table", table, "only this kernel table id");
  routes->add_flag("--json", json, "print JSON (or end the command with `json`)");

  auto* groups = show->add_subcommand("nexthop-groups", "zebra next-hop groups");
  groups->add_flag("--json", json, "print JSON");

  auto* fpm = show->add_subcommand("fpm", "FPM session, stream and replay state");
  fpm->add_flag("--json", json, "print JSON");

  auto* counters = show->add_subcommand(
      "counters", "XDP verdicts, punt reasons, per-port verdicts, table usage");
  counters->add_flag("--json", json, "print JSON");

  auto* nexthops = show->add_subcommand(
      "nexthops",
      "fast-path next hops (MAC, state, port, groups and routes using each), kernel neighbours, "
      "neighbour refresh");
  nexthops->add_flag("--json", json, "print JSON");

  auto* neighbors = show->add_subcommand(
      "neighbors",
      "the kernel neighbour table as fpm-sink mirrors it, and which fast-path next "
      "hops use each entry");
  neighbors->alias("neighbours");
  neighbors->add_flag("--json", json, "print JSON");

  auto* interfaces =
      show->add_subcommand("interfaces",
                           "every interface: XDP attachment, MAC, forwarding switches, master, "
                           "forwarded / punted / dropped packets and bytes");
  interfaces->add_flag("--json", json, "print JSON");

  auto* clear = app.add_subcommand("clear", "reset what the show commands count from");
  clear->require_subcommand(1);
  auto* clear_counters = clear->add_subcommand(
      "counters",
      "show counters / show interfaces count from now on (the per-CPU maps and the Prometheus "
      "metrics are not reset)");
  clear_counters->add_flag("--json", json, "print JSON");

  std::vector<std::string> args(argv, argv + argc);
  args = vtysh_json(std::move(args));
  std::reverse(args.begin(), args.end());
  args.pop_back();  // the program name
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  Request req;
  if (routes->parsed()) {
    auto query = parse_route_words(route_words);
    if (!query) {
      say(query.error().message + " (see fpm-sinkctl show routes --help)");
      return kExitUsage;
    }
    auto* r = req.mutable_show_routes();
    if (query->prefix) r->set_prefix(*query->prefix);
    if (query->flow) *r->mutable_flow() = *query->flow;
    if (table) r->set_table(*table);
    return show_routes(socket_path, req, json);
  }
  if (groups->parsed()) {
    req.mutable_show_nexthop_groups();
  } else if (counters->parsed()) {
    req.mutable_show_counters();
  } else if (nexthops->parsed()) {
    req.mutable_show_nexthops();
  } else if (neighbors->parsed()) {
    req.mutable_show_neighbors();
  } else if (interfaces->parsed()) {
    req.mutable_show_interfaces();
  } else if (clear_counters->parsed()) {
    req.mutable_clear_counters();
  } else {
    req.mutable_show_fpm();
  }

  auto resp = call(socket_path, req);
  if (!resp) return transport_error(resp.error(), socket_path);
  return print(*resp, json);
}
