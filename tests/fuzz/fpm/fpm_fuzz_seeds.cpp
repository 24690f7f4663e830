// Writes the fpm_fuzz seed corpus: one file per FPM byte stream, encoded with the builder
// so seeds cover every message and attribute the decoder knows. Usage: fpm_fuzz_seeds DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fpm/netlink_builder.hpp"

using namespace fpm_sink;

namespace {

IpAddr ip(const char* s) {
  return *IpAddr::parse(s);
}
Prefix pfx(const char* s) {
  return *Prefix::parse(s);
}

WeightedNextHop nh(const char* gw, uint32_t ifindex, uint16_t weight = 1, bool onlink = false) {
  WeightedNextHop w;
  if (gw) w.nh.gateway = ip(gw);
  w.nh.ifindex = ifindex;
  w.nh.onlink = onlink;
  w.weight = weight;
  return w;
}

RouteAdd route(const char* p, std::vector<WeightedNextHop> nhs, uint32_t table = 254) {
  RouteAdd r;
  r.prefix = pfx(p);
  r.table = table;
  r.protocol = proto_id::bgp;
  r.metric = 20;
  r.nexthops = std::move(nhs);
  r.replace = true;
  return r;
}

bool write(const std::filesystem::path& dir, const std::string& name,
           const std::vector<FpmEvent>& events) {
  auto frame = encode_frame(events);
  if (!frame) {
    fprintf(stderr, "%s: %s\n", name.c_str(), frame.error().to_string().c_str());
    return false;
  }
  std::ofstream(dir / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(frame->data()),
             static_cast<std::streamsize>(frame->size()));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  bool ok = true;

  ok &= write(dir, "v4_single", {route("10.1.0.0/16", {nh("192.0.2.1", 3)})});
  ok &= write(dir, "v6_single", {route("2001:db8:1::/48", {nh("fe80::1", 4)}, 1000)});
  ok &= write(dir, "v4_ecmp",
              {route("203.0.113.0/24",
                     {nh("192.0.2.1", 3, 1), nh("192.0.2.2", 4, 5, true), nh(nullptr, 6, 256)})});
  ok &= write(dir, "unnumbered", {route("10.20.0.0/16", {nh("169.254.0.1", 12, 1, true)})});
  ok &= write(dir, "v4_over_v6_via", {route("10.30.0.0/16", {nh("fe80::99", 4)})});
  ok &= write(dir, "update_pair",
              {RouteDel{254, pfx("10.0.0.0/8"), proto_id::bgp, 20},
               route("10.0.0.0/8", {nh("192.0.2.7", 3)})});

  RouteAdd bh = route("192.0.2.0/24", {});
  bh.type = RouteType::Blackhole;
  RouteAdd unr = route("2001:db8:dead::/48", {});
  unr.type = RouteType::Unreachable;
  ok &= write(dir, "special_types", {bh, unr});

  NexthopAdd a{1, proto_id::zebra, Family::V4, NextHop{ip("192.0.2.1"), 3, false, false}, true};
  NexthopAdd b{2, proto_id::zebra, Family::V6, NextHop{ip("fe80::2"), 4, true, false}, true};
  NexthopAdd c{3, proto_id::zebra, Family::V4, NextHop{std::nullopt, 0, false, true}, true};
  NexthopAdd g{10, proto_id::zebra, Family::V4,
               std::vector<NexthopGroupMember>{{1, 1}, {2, 3}, {3, 256}}, true};
  RouteAdd via_group = route("198.51.100.0/24", {});
  via_group.nhg_id = 10;
  RouteAdd pending = route("198.51.101.0/24", {});
  pending.nhg_id = 99;  // never sent, like FRR 8.4 sometimes does
  ok &= write(dir, "groups", {a, b, c, g, via_group, pending});
  // Group before its members: the RIB must hold it pending.
  ok &= write(dir, "group_first", {g, via_group, a, b, c, NexthopDel{3}, NexthopDel{10}});

  std::vector<WeightedNextHop> wide;
  for (int i = 0; i < 256; ++i) {
    std::string gw = "fe80::" + std::to_string(i + 1);
    wide.push_back(nh(gw.c_str(), 100 + i, static_cast<uint16_t>(1 + i % 256)));
  }
  ok &= write(dir, "ecmp256", {route("2001:db8:77::/48", wide)});

  // A stream of several frames, as zebra writes a batch.
  std::vector<uint8_t> stream;
  FrameStreamWriter sw(stream, 1024);
  for (int i = 0; i < 64; ++i) {
    RouteAdd r = route("10.0.0.0/24", {nh("192.0.2.1", 3)});
    r.prefix = *Prefix::make(IpAddr::v4(0x0a000000u + (static_cast<uint32_t>(i) << 8)), 24);
    ok &= sw.add(r).ok();
  }
  ok &= sw.add(RouteDel{254, pfx("10.0.5.0/24"), proto_id::bgp, 20}).ok();
  sw.flush();
  std::ofstream(dir / "stream", std::ios::binary)
      .write(reinterpret_cast<const char*>(stream.data()),
             static_cast<std::streamsize>(stream.size()));

  if (!ok) return 1;
  printf("fpm_fuzz_seeds: corpus written to %s\n", dir.c_str());
  return 0;
}
