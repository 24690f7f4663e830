// Packet fuzz of the XDP program against ReferenceModel: random and mutated
// frames through BPF_PROG_TEST_RUN (repeat 1 per frame) over a real-sized
// table (100k+ IPv4, 20k+ IPv6 routes with nested more-specifics, ECMP groups,
// failed / unresolved next hops, local addresses, every action kind).
//
// Per frame: the XDP action, and for a redirect the member, both MACs, the
// TTL / hop limit, the IPv4 checksum and every other byte. Per batch: the
// verdict and reason counters must move exactly as the model says; a batch
// that differs is replayed frame by frame to name the frame.
//
// FPM_PACKET_FUZZ_FRAMES (default 1000000) and FPM_PACKET_FUZZ_SEED (default
// 1) size a campaign: ci/fuzz-packets.sh runs long ones.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "fib_fixture.hpp"
#include "reference_model.hpp"

namespace fpm_test {
namespace {

constexpr uint32_t kTbl8Groups = 8192;
constexpr uint32_t kLpm6Nodes = 131072;
constexpr size_t kBatch = 4096;

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : fallback;
}

std::string hex(const Bytes& b) {
  std::string s;
  char buf[4];
  for (uint8_t x : b) {
    std::snprintf(buf, sizeof(buf), "%02x", x);
    s += buf;
  }
  return s;
}

uint32_t xdp_action(uint32_t verdict) {
  switch (verdict) {
    case FPM_VERDICT_REDIRECT:
      return XDP_REDIRECT;
    case FPM_VERDICT_DROP:
      return XDP_DROP;
    default:
      return XDP_PASS;
  }
}

struct Frame {
  Bytes bytes;
  uint32_t ifindex = 0;
};

// Both the harness (the real tables) and the model get every object.
class Fib {
 public:
  Fib(XdpHarness& h, ReferenceModel& m) : h_(h), m_(m) {}
  void iface(const Port& port, uint16_t flags, uint16_t table_slot) {
    h_.set_iface(port.ifindex, make_iface(port, port.ifindex % FPM_MAX_IFACES, flags, table_slot));
    m_.set_iface(port.ifindex, {flags, table_slot, port.mac});
  }
  void tx_port(uint32_t ifindex) {
    h_.add_tx_port(ifindex);
    m_.add_tx_port(ifindex);
  }
  void nexthop(uint32_t index, const Port& port, uint8_t state, uint32_t mtu) {
    Mac dst{0x02, 0xee, uint8_t(index >> 8), uint8_t(index), 0, 0x01};
    h_.set_nexthop(index, make_nh(port, dst, state, mtu));
    m_.set_nexthop(index, {port.ifindex, mtu, dst, port.mac, state});
  }
  // A connected host of a table slot: the harness holds the entry in
  // fpm_hosts4 / 6, the model a next hop (by an index no group uses) that the
  // address points at.
  template <typename Ip>
  void host(uint16_t slot, const Ip& addr, uint32_t index, const Port& port, uint8_t state,
            uint32_t mtu) {
    Mac dst{0x02, 0xee, uint8_t(index >> 8), uint8_t(index), 0, 0x01};
    const fpm_nexthop nh = make_nh(port, dst, state, mtu);
    int err;
    if constexpr (sizeof(Ip) == 4) {
      err = h_.set_host4(addr, nh, slot);
      m_.set_host4(slot, addr, index);
    } else {
      err = h_.set_host6(addr, nh, slot);
      m_.set_host6(slot, addr, index);
    }
    ASSERT_EQ(err, 0);
    m_.set_nexthop(index, {port.ifindex, mtu, dst, port.mac, state});
  }
  void group(uint32_t index, const std::vector<uint32_t>& members, bool valid) {
    h_.set_group(index, members, valid ? FPM_NHG_F_VALID : 0);
    m_.set_group(index, {valid, members});
  }

 private:
  XdpHarness& h_;
  ReferenceModel& m_;
};

class PacketFuzz : public ::testing::Test {
 protected:
  void SetUp() override {
    FPM_REQUIRE_ROOT();
    h_ = &XdpHarness::get(kTbl8Groups, kLpm6Nodes);
    h_->reset();
    rng_.seed(env_u64("FPM_PACKET_FUZZ_SEED", 1));
    build_fib();
  }

  void build_fib();
  // The main ingress port's FPM_IFACE_F_REDIRECTS4, in the tables and the model.
  void set_ingress_redirects(bool on) {
    const uint16_t flags = FPM_IFACE_F_V4 | FPM_IFACE_F_V6 | FPM_IFACE_F_FWD4 | FPM_IFACE_F_FWD6 |
                           (on ? FPM_IFACE_F_REDIRECTS4 : 0);
    Fib(*h_, model_).iface(h_->ingress(), flags, FPM_TABLE_SLOT_MAIN);
  }
  void build_routes4();
  void build_routes6();
  void build_hosts();
  Frame make_frame();
  Ip4 pick_dst4();
  Ip6 pick_dst6();
  // Empty when the frame's outcome matches the model, else what differs.
  std::string check_frame(const Frame& f, const RunResult& r, const RefDecision& d);

  uint32_t rand(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  XdpHarness* h_ = nullptr;
  ReferenceModel model_;
  std::mt19937_64 rng_;
  std::vector<uint32_t> actions_;
  std::vector<std::pair<uint32_t, unsigned>> prefixes4_;
  std::vector<std::pair<Ip6, unsigned>> prefixes6_;
  std::vector<Ip4> local4_;
  std::vector<Ip6> local6_;
  // Connected-punt prefixes, and the addresses given a host entry.
  std::vector<std::pair<uint32_t, unsigned>> connected4_;
  std::vector<std::pair<Ip6, unsigned>> connected6_;
  std::vector<Ip4> hosts4_;
  std::vector<Ip6> hosts6_;
};

void PacketFuzz::build_fib() {
  XdpHarness& h = *h_;
  Fib fib(h, model_);
  // Ingress choices: v4+v6 forwarded on the main table (sending IPv4
  // redirects in every other batch, set_ingress_redirects); v4+v6 with IPv6
  // forwarding off and IPv4 policy rules; v6 only (v4's forwarding switch on
  // but the family off) in another table slot; a port enslaved to a master.
  constexpr uint16_t kFwd = FPM_IFACE_F_FWD4 | FPM_IFACE_F_FWD6;
  set_ingress_redirects(false);
  fib.iface(
      h.spare(),
      FPM_IFACE_F_V4 | FPM_IFACE_F_V6 | FPM_IFACE_F_FWD4 | FPM_IFACE_F_RULES4 | FPM_IFACE_F_RULES6,
      FPM_TABLE_SLOT_MAIN);
  fib.iface(h.egress(0), FPM_IFACE_F_V6 | kFwd, 1);
  fib.iface(h.egress(1), FPM_IFACE_F_V4 | FPM_IFACE_F_V6 | kFwd | FPM_IFACE_F_ENSLAVED,
            FPM_TABLE_SLOT_MAIN);
  fib.tx_port(h.egress(0).ifindex);
  fib.tx_port(h.egress(1).ifindex);
  fib.tx_port(h.ingress().ifindex);  // for hairpins

  // Groups 1-20 all valid (1-8 members, one MTU per group); 21-25 valid with
  // one failed member; 26-28 valid with unresolved members; 29-30 all
  // unresolved; 31-32 all failed; 33 egress port not in the devmap; 34 not
  // valid; 35 back out of the ingress port only, 36 one of two members so.
  // Mixed groups get a large MTU so that each member punts for one reason.
  const uint32_t mtus[] = {1500, 1000, 576, 9000};
  uint32_t nh = 1;
  auto members = [&](unsigned n, auto state_of, uint32_t mtu, const Port* port = nullptr) {
    std::vector<uint32_t> m;
    for (unsigned i = 0; i < n; i++, nh++) {
      fib.nexthop(nh, port ? *port : h.egress(nh % 2), state_of(i), mtu);
      m.push_back(nh);
    }
    return m;
  };
  auto all = [](uint8_t s) { return [s](unsigned) { return s; }; };
  for (uint32_t g = 1; g <= 20; g++)
    fib.group(g, members(1 + g % 8, all(FPM_NH_VALID), mtus[g % 4]), true);
  for (uint32_t g = 21; g <= 25; g++)
    fib.group(g,
              members(
                  4, [](unsigned i) { return i == 1 ? FPM_NH_FAILED : FPM_NH_VALID; }, 9000),
              true);
  for (uint32_t g = 26; g <= 28; g++)
    fib.group(g,
              members(
                  3, [](unsigned i) { return i == 0 ? FPM_NH_UNRESOLVED : FPM_NH_VALID; }, 9000),
              true);
  for (uint32_t g = 29; g <= 30; g++) fib.group(g, members(2, all(FPM_NH_UNRESOLVED), 1500), true);
  for (uint32_t g = 31; g <= 32; g++) fib.group(g, members(3, all(FPM_NH_FAILED), 1500), true);
  fib.group(33, members(2, all(FPM_NH_VALID), 9000, &h.spare()), true);
  fib.group(34, members(2, all(FPM_NH_VALID), 1500), false);
  fib.group(35, members(2, all(FPM_NH_VALID), 9000, &h.ingress()), true);
  std::vector<uint32_t> mixed = members(1, all(FPM_NH_VALID), 9000, &h.ingress());
  mixed.push_back(members(1, all(FPM_NH_VALID), 9000, &h.egress(0)).front());
  fib.group(36, mixed, true);

  // Forwards dominate, as in a real table; every other action appears.
  for (uint32_t g = 1; g <= 36; g++)
    for (int w = 0; w < (g <= 20 ? 6 : 1); w++) actions_.push_back(forward(g));
  actions_.insert(
      actions_.end(),
      {forward(500), forward(FPM_ACT_ARG_MASK), fpm_act_make(FPM_ACT_DROP, 0),
       punt(FPM_REASON_UNREACHABLE), punt(FPM_REASON_PROHIBIT), punt(FPM_REASON_CONNECTED),
       punt(FPM_REASON_OFFLOAD_FAILED), punt(1000), (5u << FPM_ACT_KIND_SHIFT) | 1});
  build_routes4();
  build_routes6();
  build_hosts();
}

// Hosts mostly inside connected routes (where XDP uses them), in every state,
// on both egress ports and on one missing from the devmap; some inside other
// routes, where the route decides and the entry must be ignored; some under
// another table's slot, which main's ports must never use.
void PacketFuzz::build_hosts() {
  XdpHarness& h = *h_;
  Fib fib(h, model_);
  const uint32_t mtus[] = {1500, 1000, 576, 9000};
  auto state = [&] {
    const uint32_t roll = rand(10);
    return roll < 7   ? uint8_t(FPM_NH_VALID)
           : roll < 8 ? uint8_t(FPM_NH_UNRESOLVED)
                      : uint8_t(FPM_NH_FAILED);
  };
  auto port = [&]() -> const Port& {
    const uint32_t roll = rand(20);
    return roll == 0 ? h.spare() : roll == 1 ? h.ingress() : h.egress(rand(2));
  };
  auto slot = [&] { return rand(5) == 0 ? uint16_t{1} : uint16_t{FPM_TABLE_SLOT_MAIN}; };
  uint32_t index = 10000;
  for (int i = 0; i < 400 && !connected4_.empty(); i++) {
    auto [p, len] =
        i < 300 ? connected4_[rand(connected4_.size())] : prefixes4_[rand(prefixes4_.size())];
    const uint32_t a = p | (len < 32 ? uint32_t(rng_()) & uint32_t((1ull << (32 - len)) - 1) : 0);
    const Ip4 ip{uint8_t(a >> 24), uint8_t(a >> 16), uint8_t(a >> 8), uint8_t(a)};
    fib.host(slot(), ip, index++, port(), state(), mtus[rand(4)]);
    hosts4_.push_back(ip);
  }
  for (int i = 0; i < 400 && !connected6_.empty(); i++) {
    auto [p, len] =
        i < 300 ? connected6_[rand(connected6_.size())] : prefixes6_[rand(prefixes6_.size())];
    Ip6 a = p;
    for (unsigned b = len; b < 128; b++)
      if (rng_() & 1) a[b / 8] |= uint8_t(0x80 >> (b % 8));
    fib.host(slot(), a, index++, port(), state(), mtus[rand(4)]);
    hosts6_.push_back(a);
  }
}

void PacketFuzz::build_routes4() {
  // Parents /8-/24, more-specifics nested inside them (down to /24), and
  // /25-/32 routes nested inside a few thousand /24s (tbl8 groups).
  std::map<std::pair<unsigned, uint32_t>, uint32_t> routes;  // (len, prefix)
  auto add = [&](uint32_t addr, unsigned len) {
    uint32_t p = len ? addr & ~uint32_t((1ull << (32 - len)) - 1) : 0;
    routes[{len, p}] = actions_[rand(actions_.size())];
  };
  for (int i = 0; i < 30; i++) add(uint32_t(rng_()), 8 + rand(4));
  for (int i = 0; i < 30000; i++) add(uint32_t(rng_()), 12 + rand(13));
  std::vector<std::pair<unsigned, uint32_t>> parents(routes.size());
  for (auto& [k, v] : routes) parents.push_back(k);
  while (routes.size() < 90000) {
    auto [len, p] = parents[rand(parents.size())];
    if (len >= 24) continue;
    add(p | (uint32_t(rng_()) & uint32_t((1ull << (32 - len)) - 1)), len + 1 + rand(24 - len));
  }
  std::vector<uint32_t> blocks;
  for (int i = 0; i < 3000; i++) blocks.push_back(uint32_t(rng_()) & 0xffffff00u);
  while (routes.size() < 110000) {
    uint32_t b = blocks[rand(blocks.size())];
    add(b | rand(256), 25 + rand(8));
  }
  for (auto& [k, action] : routes) {  // ascending length: the filler's rule
    Ip4 a{uint8_t(k.second >> 24), uint8_t(k.second >> 16), uint8_t(k.second >> 8),
          uint8_t(k.second)};
    h_->route4(a, k.first, action);
    model_.route4(a, k.first, action);
    prefixes4_.emplace_back(k.second, k.first);
    if (action == punt(FPM_REASON_CONNECTED)) connected4_.emplace_back(k.second, k.first);
  }
  for (int i = 0; i < 300; i++) {
    auto [p, len] = prefixes4_[rand(prefixes4_.size())];
    uint32_t a = p | (len < 32 ? uint32_t(rng_()) & uint32_t((1ull << (32 - len)) - 1) : 0);
    Ip4 ip{uint8_t(a >> 24), uint8_t(a >> 16), uint8_t(a >> 8), uint8_t(a)};
    h_->add_local4(ip);
    model_.add_local4(ip);
    local4_.push_back(ip);
  }
}

void PacketFuzz::build_routes6() {
  // Parents /16-/32 inside 2000::/3, more-specifics /33-/64 nested in them.
  std::map<std::pair<unsigned, Ip6>, uint32_t> routes;
  auto masked = [](Ip6 a, unsigned len) {
    for (unsigned i = 0; i < 16; i++) {
      unsigned bits = len > i * 8 ? std::min(8u, len - i * 8) : 0;
      a[i] = bits ? uint8_t(a[i] & uint8_t(0xff00 >> bits)) : 0;
    }
    return a;
  };
  auto random6 = [&] {
    Ip6 a;
    for (auto& x : a) x = uint8_t(rng_());
    a[0] = 0x20 | (a[0] & 0x1f);
    return a;
  };
  std::vector<std::pair<Ip6, unsigned>> parents;
  for (int i = 0; i < 600; i++) {
    unsigned len = 16 + rand(17);
    Ip6 p = masked(random6(), len);
    routes[{len, p}] = actions_[rand(actions_.size())];
    parents.emplace_back(p, len);
  }
  while (routes.size() < 22000) {
    auto [p, plen] = parents[rand(parents.size())];
    Ip6 a = random6();
    for (unsigned i = 0; i < 16; i++) {  // keep the parent's bits
      unsigned bits = plen > i * 8 ? std::min(8u, plen - i * 8) : 0;
      uint8_t keep = bits ? uint8_t(0xff00 >> bits) : 0;
      a[i] = uint8_t((p[i] & keep) | (a[i] & ~keep));
    }
    unsigned len = chance(0.7) ? 48 : 33 + rand(32);
    if (chance(0.1)) len = 128;
    Ip6 q = masked(a, len);
    routes[{len, q}] = actions_[rand(actions_.size())];
  }
  for (auto& [k, action] : routes) {
    h_->route6(k.second, k.first, action);
    model_.route6(k.second, k.first, action);
    prefixes6_.emplace_back(k.second, k.first);
    if (action == punt(FPM_REASON_CONNECTED)) connected6_.emplace_back(k.second, k.first);
  }
  for (int i = 0; i < 300; i++) {
    auto [p, len] = prefixes6_[rand(prefixes6_.size())];
    Ip6 a = p;
    for (unsigned b = len; b < 128; b++)
      if (rng_() & 1) a[b / 8] |= uint8_t(0x80 >> (b % 8));
    h_->add_local6(a);
    model_.add_local6(a);
    local6_.push_back(a);
  }
}

Ip4 PacketFuzz::pick_dst4() {
  uint32_t a = uint32_t(rng_());
  uint32_t roll = rand(100);
  if (roll < 5 && !local4_.empty()) return local4_[rand(local4_.size())];
  if (roll < 15 && !hosts4_.empty()) return hosts4_[rand(hosts4_.size())];
  if (roll < 75) {
    auto [p, len] = prefixes4_[rand(prefixes4_.size())];
    a = p | (len < 32 ? a & uint32_t((1ull << (32 - len)) - 1) : 0);
  }
  return {uint8_t(a >> 24), uint8_t(a >> 16), uint8_t(a >> 8), uint8_t(a)};
}

Ip6 PacketFuzz::pick_dst6() {
  Ip6 a;
  for (auto& x : a) x = uint8_t(rng_());
  uint32_t roll = rand(100);
  if (roll < 5 && !local6_.empty()) return local6_[rand(local6_.size())];
  if (roll < 15 && !hosts6_.empty()) return hosts6_[rand(hosts6_.size())];
  if (roll < 75) {
    auto [p, len] = prefixes6_[rand(prefixes6_.size())];
    for (unsigned b = 0; b < len; b++) {
      uint8_t bit = uint8_t(0x80 >> (b % 8));
      a[b / 8] = uint8_t((a[b / 8] & ~bit) | (p[b / 8] & bit));
    }
  } else if (roll < 95) {
    a[0] = 0x20 | (a[0] & 0x1f);
  }
  return a;
}

Frame PacketFuzz::make_frame() {
  XdpHarness& h = *h_;
  Frame f;
  uint32_t port = rand(100);
  f.ifindex = port < 85   ? h.ingress().ifindex
              : port < 91 ? h.spare().ifindex
              : port < 96 ? h.egress(0).ifindex
                          : h.egress(1).ifindex;

  // Mostly to the MAC of the port the frame enters, sometimes to another port's.
  const Port& to = f.ifindex == h.spare().ifindex     ? h.spare()
                   : f.ifindex == h.egress(0).ifindex ? h.egress(0)
                   : f.ifindex == h.egress(1).ifindex ? h.egress(1)
                                                      : h.ingress();
  Mac dst = chance(0.95) ? to.mac : h.ingress().mac, src = kClientMac;
  if (chance(0.03)) dst[5] ^= uint8_t(1 + rand(255));  // one byte off
  if (chance(0.05)) dst = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  if (chance(0.05)) dst = {0x01, 0x00, 0x5e, 0x00, 0x00, uint8_t(rng_())};
  if (chance(0.05))
    for (auto& x : dst) x = uint8_t(rng_());
  if (chance(0.03))
    for (auto& x : src) x = uint8_t(rng_());
  PacketBuilder b;
  b.eth(dst, src);
  for (int t = 0; t < 3 && chance(0.04); t++)
    b.vlan(chance(0.5) ? 0x8100 : 0x88a8, uint16_t(rng_() & 0xfff));

  const bool v6 = chance(0.4);
  if (!v6) {
    Ip4 s{uint8_t(rng_()), uint8_t(rng_()), uint8_t(rng_()), uint8_t(rng_())};
    if (chance(0.8)) s = {192, 0, 2, uint8_t(rng_())};
    b.ipv4(s, pick_dst4());
    if (chance(0.05)) b.ipv4_options(Bytes(1 + rand(40), 1));
    if (chance(0.08)) b.ipv4_fragment(uint16_t(rand(0x2000)), chance(0.5));
    if (chance(0.02)) b.ipv4_version_ihl(uint8_t(rand(16)), uint8_t(rand(16)));
    if (chance(0.02)) b.ipv4_bad_checksum();
  } else {
    Ip6 s;
    for (auto& x : s) x = uint8_t(rng_());
    if (chance(0.8)) s = ip6("2001:db8:ffff::10");
    b.ipv6(s, pick_dst6());
    if (chance(0.02)) b.ipv6_version(uint8_t(rand(16)));
    for (int e = 0; e < 2 && chance(0.08); e++) {
      switch (rand(3)) {
        case 0:
          b.ipv6_hop_by_hop();
          break;
        case 1:
          b.ipv6_routing();
          break;
        default:
          b.ipv6_fragment(uint16_t(rand(0x2000)), chance(0.5), uint32_t(rng_()));
      }
    }
  }
  const uint8_t ttls[] = {0, 1, 2, 64, 255};
  b.ttl(chance(0.1) ? ttls[rand(5)] : uint8_t(2 + rand(254)));
  switch (rand(6)) {
    case 0:
      b.tcp(uint16_t(rng_()), uint16_t(rng_()));
      break;
    case 1:
      b.icmp(8, 0);
      break;
    case 2:
      b.raw_l4(uint8_t(rng_()));
      break;
    default:
      b.udp(uint16_t(rng_()), uint16_t(rng_()));
  }
  // Sizes around every MTU of the table, and tiny ones for the Ethernet minimum.
  const size_t sizes[] = {0, 1, 8, 500, 536, 537, 940, 960, 961, 1000, 1440, 1460, 1472, 1473};
  b.payload(chance(0.5) ? sizes[rand(std::size(sizes))] : rand(1600), uint8_t(rng_()));
  if (chance(0.04)) b.trailer(1 + rand(64));
  if (chance(0.03)) {
    if (v6)
      b.ipv6_payload_length(uint16_t(rand(1700)));
    else
      b.ipv4_total_length(uint16_t(rand(1700)));
  }
  if (chance(0.01)) b.ethertype(uint16_t(rng_()));
  f.bytes = b.build();

  // Raw mutations on top: flipped bytes anywhere in the headers, truncation.
  if (chance(0.05)) {
    for (int n = 1 + rand(3); n > 0; n--) {
      size_t at = rand(std::min<size_t>(f.bytes.size(), 80));
      f.bytes[at] ^= uint8_t(1u << rand(8));
    }
  }
  // BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header.
  if (chance(0.04)) f.bytes.resize(14 + rand(f.bytes.size() - 14 + 1));
  return f;
}

std::string PacketFuzz::check_frame(const Frame& f, const RunResult& r, const RefDecision& d) {
  char why[256];
  if (r.err) return "BPF_PROG_TEST_RUN failed: " + std::to_string(r.err);
  if (d.reason == FPM_REASON_MAX || (d.group_punt && *d.group_punt == FPM_REASON_MAX))
    return "table built wrong: a group whose members punt for different reasons";
  const bool may_punt = d.verdict == FPM_VERDICT_REDIRECT && d.group_punt;
  if (r.action != xdp_action(d.verdict) && !(may_punt && r.action == XDP_PASS)) {
    std::snprintf(why, sizeof(why), "action %u, model verdict %u reason %u", r.action, d.verdict,
                  d.reason);
    return why;
  }
  if (r.action != XDP_REDIRECT) return r.out == f.bytes ? "" : "a punted frame was changed";

  if (r.out.size() != f.bytes.size()) return "redirected frame changed length";
  Mac dst;
  std::copy(r.out.begin(), r.out.begin() + 6, dst.begin());
  const RefNexthop* chosen = nullptr;
  for (uint32_t m : d.members) {
    const RefNexthop* nh = model_.nexthop(m);
    if (nh->dst == dst) chosen = nh;
  }
  if (!chosen) return "redirected to a next hop outside the route's usable members";
  if (!std::equal(chosen->src.begin(), chosen->src.end(), r.out.begin() + 6))
    return "source MAC is not the egress port's";
  Bytes want = f.bytes;
  std::copy(r.out.begin(), r.out.begin() + 12, want.begin());
  if (want[12] == 0x08) {
    want[14 + 8]--;
    want[14 + 10] = r.out[14 + 10];  // checksum: checked on its own below
    want[14 + 11] = r.out[14 + 11];
    if (ones_sum(&r.out[14], 20) != 0xffff) return "IPv4 checksum invalid after TTL decrement";
  } else {
    want[14 + 7]--;
  }
  return r.out == want ? "" : "redirected frame differs beyond MACs and TTL";
}

TEST_F(PacketFuzz, MatchesReferenceModel) {
  const uint64_t total = env_u64("FPM_PACKET_FUZZ_FRAMES", 1000000);
  uint64_t frames = 0, redirects = 0, group_punts = 0, differences = 0;
  std::array<uint64_t, FPM_REASON_MAX> reasons_seen{};
  std::vector<Frame> batch;
  std::vector<RefDecision> decisions;
  std::vector<RunResult> results;
  double run_seconds = 0;

  for (uint64_t batches = 0; frames < total && differences < 10; batches++) {
    set_ingress_redirects(batches % 2 == 1);
    batch.clear();
    decisions.clear();
    results.clear();
    for (size_t i = 0; i < kBatch && frames + i < total; i++) {
      batch.push_back(make_frame());
      decisions.push_back(model_.decide(batch.back().bytes, batch.back().ifindex));
    }
    Counters before = h_->counters();
    auto t0 = std::chrono::steady_clock::now();
    for (const Frame& f : batch) results.push_back(h_->run(f.bytes, f.ifindex));
    run_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    Counters after = h_->counters();

    std::array<uint64_t, FPM_REASON_MAX> want{};
    std::array<uint64_t, FPM_VERDICT_MAX> want_verdict{};
    for (size_t i = 0; i < batch.size(); i++) {
      const RefDecision& d = decisions[i];
      std::string diff = check_frame(batch[i], results[i], d);
      if (!diff.empty()) {
        ADD_FAILURE() << "frame " << frames + i << " on ifindex " << batch[i].ifindex << ": "
                      << diff << "\n  in:  " << hex(batch[i].bytes)
                      << "\n  out: " << hex(results[i].out);
        differences++;
      }
      uint32_t verdict = d.verdict, reason = d.reason;
      if (d.verdict == FPM_VERDICT_REDIRECT && results[i].action == XDP_PASS && d.group_punt) {
        verdict = FPM_VERDICT_PASS;
        reason = *d.group_punt;
        group_punts++;
      }
      redirects += verdict == FPM_VERDICT_REDIRECT;
      want[reason % FPM_REASON_MAX]++;
      want_verdict[verdict % FPM_VERDICT_MAX]++;
      reasons_seen[reason % FPM_REASON_MAX]++;
    }
    bool counters_match = true;
    for (uint32_t r = 0; r < FPM_REASON_MAX; r++)
      counters_match &= after.reason(r) - before.reason(r) == want[r];
    for (uint32_t v = 0; v < FPM_VERDICT_MAX; v++)
      counters_match &= after.verdict(v) - before.verdict(v) == want_verdict[v];
    if (!counters_match) {
      // Name the frame: replay the batch one frame at a time.
      for (size_t i = 0; i < batch.size() && differences < 10; i++) {
        Counters b0 = h_->counters();
        RunResult rr = h_->run(batch[i].bytes, batch[i].ifindex);
        Counters b1 = h_->counters();
        uint32_t want_reason = decisions[i].reason;
        if (rr.action == XDP_PASS && decisions[i].group_punt)
          want_reason = *decisions[i].group_punt;
        if (b1.reason(want_reason) - b0.reason(want_reason) != 1) {
          uint32_t got = FPM_REASON_MAX;
          for (uint32_t r = 0; r < FPM_REASON_MAX; r++)
            if (b1.reason(r) != b0.reason(r)) got = r;
          ADD_FAILURE() << "frame " << frames + i << " on ifindex " << batch[i].ifindex
                        << ": reason " << got << ", model says " << want_reason
                        << "\n  in: " << hex(batch[i].bytes);
          differences++;
        }
      }
      if (differences == 0)
        ADD_FAILURE() << "counters moved differently in a batch (not replayable)";
      differences += differences == 0;
    }
    frames += batch.size();
    if (frames % (kBatch * 256) == 0) {  // about every 1M frames: long campaigns show progress
      std::printf("packet fuzz: %llu frames, %llu differences, %.0f frames/s\n",
                  (unsigned long long)frames, (unsigned long long)differences,
                  frames / std::max(run_seconds, 1e-9));
      std::fflush(stdout);
    }
  }

  std::printf(
      "packet fuzz: seed %llu, %llu frames, %llu differences, %llu redirected, "
      "%llu punted by a member of a forwarding group, %.0f frames/s through "
      "BPF_PROG_TEST_RUN\n",
      (unsigned long long)env_u64("FPM_PACKET_FUZZ_SEED", 1), (unsigned long long)frames,
      (unsigned long long)differences, (unsigned long long)redirects,
      (unsigned long long)group_punts, frames / std::max(run_seconds, 1e-9));
  std::printf("packet fuzz: frames per reason:");
  for (uint32_t r = 0; r < FPM_REASON_MAX; r++)
    if (reasons_seen[r]) std::printf(" %u=%llu", r, (unsigned long long)reasons_seen[r]);
  std::printf("\n");
  EXPECT_EQ(differences, 0u);
  // The campaign must reach the interesting outcomes, not only the early punts.
  EXPECT_GT(redirects, frames / 20);
}

}  // namespace
}  // namespace fpm_test
