// fpm-sinkctl: asks a running fpm-sink over its control socket and prints the
// answer as an aligned table or, with --json, as JSON for scripts and tests.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>

#include "common/version.hpp"
#include "control/client.hpp"
#include "control/format.hpp"
#include "control/server.hpp"

namespace {

using namespace fpm_sink::control;

int print(const Response& resp, bool json) {
  switch (resp.kind_case()) {
    case Response::kError:
      std::cerr << "error: " << resp.error().id() << ": " << resp.error().message() << "\n";
      return 1;
    case Response::kRoutes:
      std::cout << (json ? routes_json(resp.routes()).dump(2) + "\n" : routes_text(resp.routes()));
      return 0;
    case Response::kNexthopGroups:
      std::cout << (json ? groups_json(resp.nexthop_groups()).dump(2) + "\n"
                         : groups_text(resp.nexthop_groups()));
      return 0;
    case Response::kCounters:
      std::cout << (json ? counters_json(resp.counters()).dump(2) + "\n"
                         : counters_text(resp.counters()));
      return 0;
    case Response::kNexthops:
      std::cout << (json ? nexthops_json(resp.nexthops()).dump(2) + "\n"
                         : nexthops_text(resp.nexthops()));
      return 0;
    case Response::kFpm:
      std::cout << (json ? fpm_json(resp.fpm()).dump(2) + "\n" : fpm_text(resp.fpm()));
      return 0;
    default:
      std::cerr << "error: the daemon sent a response this fpm-sinkctl does not know\n";
      return 1;
  }
}

void print_error(const fpm_sink::Error& e) {
  std::cerr << "error: " << e.to_string() << "\n";
}

// Routes come in parts: JSON is printed as they arrive, so a full table costs
// this process one part at a time; the text table needs every row for its
// column widths, so it prints at the end.
int show_routes(const std::string& socket_path, const Request& req, bool json) {
  std::optional<RoutesJsonWriter> writer;
  Response text_reply;
  std::optional<Response> error;
  auto st = call_parts(socket_path, req, [&](Response&& part) {
    if (error) return;
    if (!part.has_routes()) {
      error = std::move(part);
      return;
    }
    if (!json) return text_reply.MergeFrom(part);
    if (!writer) writer.emplace(std::cout);
    writer->add(part.routes());
  });
  if (!st) {
    std::cout.flush();
    print_error(st.error());
    return 2;
  }
  if (error) return print(*error, json);
  if (!json) return print(text_reply, json);
  if (!writer) writer.emplace(std::cout);
  writer->finish();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Query a running fpm-sink daemon"};
  app.set_version_flag("--version", std::string("fpm-sinkctl ") + fpm_sink::kVersion);
  app.require_subcommand(1);
  std::string socket_path = kDefaultControlSocket;
  app.add_option("--socket", socket_path, "control socket of the daemon")->capture_default_str();

  auto* show = app.add_subcommand("show", "show daemon state");
  show->require_subcommand(1);

  bool json = false;
  std::optional<std::string> prefix;
  std::optional<uint32_t> table;
  auto* routes = show->add_subcommand("routes", "routes in the RIB model");
  routes->add_option("prefix", prefix, "exact prefix (A.B.C.D/M) or address (longest match)");
  routes->add_option("--table", table, "only this kernel table id");
  routes->add_flag("--json", json, "print JSON");

  auto* groups = show->add_subcommand("nexthop-groups", "zebra next-hop groups");
  groups->add_flag("--json", json, "print JSON");

  auto* fpm = show->add_subcommand("fpm", "FPM session, stream and replay state");
  fpm->add_flag("--json", json, "print JSON");

  auto* counters = show->add_subcommand("counters", "XDP fast-path verdicts, punt reasons, ports");
  counters->add_flag("--json", json, "print JSON");

  auto* nexthops = show->add_subcommand(
      "nexthops", "fast-path next hops, their kernel neighbours and the neighbour refresh");
  nexthops->add_flag("--json", json, "print JSON");

  CLI11_PARSE(app, argc, argv);

  Request req;
  if (routes->parsed()) {
    auto* r = req.mutable_show_routes();
    if (prefix) r->set_prefix(*prefix);
    if (table) r->set_table(*table);
    return show_routes(socket_path, req, json);
  }
  if (groups->parsed()) {
    req.mutable_show_nexthop_groups();
  } else if (counters->parsed()) {
    req.mutable_show_counters();
  } else if (nexthops->parsed()) {
    req.mutable_show_nexthops();
  } else {
    req.mutable_show_fpm();
  }

  auto resp = call(socket_path, req);
  if (!resp) {
    print_error(resp.error());
    return 2;
  }
  return print(*resp, json);
}
