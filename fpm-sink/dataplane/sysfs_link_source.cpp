#include <net/if.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "dataplane/neighbour_source.hpp"

namespace fpm_sink {

namespace {

std::optional<std::string> read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

}  // namespace

std::optional<LinkEntry> SysfsLinkSource::link(uint32_t ifindex) const {
  char name[IF_NAMESIZE] = {};
  if (!if_indextoname(ifindex, name)) return std::nullopt;
  const std::string dir = std::string("/sys/class/net/") + name + "/";
  LinkEntry l;
  auto mac = read_line(dir + "address");
  if (!mac || std::sscanf(mac->c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &l.mac[0], &l.mac[1],
                          &l.mac[2], &l.mac[3], &l.mac[4], &l.mac[5]) != 6)
    return std::nullopt;
  if (auto mtu = read_line(dir + "mtu")) l.mtu = static_cast<uint32_t>(std::stoul(*mtu));
  // operstate "unknown" is what drivers without carrier reporting (and some
  // virtual links) show while working; treat it as up if IFF_UP is set.
  auto oper = read_line(dir + "operstate").value_or("down");
  auto flags = read_line(dir + "flags").value_or("0");
  const bool admin_up = std::stoul(flags, nullptr, 16) & IFF_UP;
  l.up = admin_up && (oper == "up" || oper == "unknown");
  auto on = [](const std::string& path) { return read_line(path).value_or("0") != "0"; };
  l.forward_v4 = on(std::string("/proc/sys/net/ipv4/conf/") + name + "/forwarding");
  l.forward_v6 = on(std::string("/proc/sys/net/ipv6/conf/") + name + "/forwarding") &&
                 on("/proc/sys/net/ipv6/conf/all/forwarding");
  return l;
}

}  // namespace fpm_sink
