#include "dataplane/lpm/lpm_table.hpp"

#include <algorithm>

namespace fpm_sink::lpm {

LpmTable::LpmTable(Family f, unsigned root_bits, std::span<uint32_t> root,
                   std::span<uint32_t> nodes, LpmOptions opts)
    : family_(f), trie_(max_prefix_len(f), root_bits, root, nodes, std::move(opts)) {}

Key LpmTable::key_of(const IpAddr& a) const {
  Key k = 0;
  const size_t n = address_bytes(family_);
  for (size_t i = 0; i < n; ++i) k = k << 8 | a.bytes[i];
  return k << (128 - 8 * n);
}

Prefix LpmTable::prefix_of(Key k, unsigned len) const {
  IpAddr a;
  a.family = family_;
  for (size_t i = 0; i < 16; ++i) a.bytes[i] = static_cast<uint8_t>(k >> (120 - 8 * i));
  if (family_ == Family::V4) std::fill(a.bytes.begin() + 4, a.bytes.end(), 0);
  return Prefix{a, static_cast<uint8_t>(len)};
}

static Error wrong_family() {
  return Error{"lpm.bad_prefix", "address family mismatch", 22};
}

Status LpmTable::insert(const Prefix& p, uint32_t action) {
  if (p.family() != family_) return wrong_family();
  return trie_.insert(key_of(p.addr), p.len, action);
}

Status LpmTable::remove(const Prefix& p) {
  if (p.family() != family_) return wrong_family();
  return trie_.remove(key_of(p.addr), p.len);
}

std::vector<Prefix> LpmTable::insert_bulk(std::span<const LpmRoute> routes) {
  // Shorter prefixes first (each longer one then only paints its own range),
  // ascending keys per length so the rows are written in address order.
  struct Item {
    Key key;
    uint32_t len;  // > 128: wrong family
    uint32_t action;
    uint32_t index;
  };
  std::vector<Item> order;
  order.reserve(routes.size());
  for (uint32_t i = 0; i < routes.size(); ++i) {
    const LpmRoute& r = routes[i];
    const uint32_t len = r.prefix.family() == family_ ? r.prefix.len : 255u;
    order.push_back({key_of(r.prefix.addr), len, r.action, i});
  }
  std::sort(order.begin(), order.end(), [](const Item& a, const Item& b) {
    return a.len != b.len ? a.len < b.len : a.key < b.key;
  });
  std::vector<Prefix> failed;
  for (const Item& it : order)
    if (it.len > 128 || !trie_.insert(it.key, it.len, it.action))
      failed.push_back(routes[it.index].prefix);
  return failed;
}

std::optional<uint32_t> LpmTable::find(const Prefix& p) const {
  if (p.family() != family_) return std::nullopt;
  const uint32_t* a = trie_.find(key_of(p.addr), p.len);
  return a ? std::optional<uint32_t>(*a) : std::nullopt;
}

bool LpmTable::offloaded(const Prefix& p) const {
  return find(p) && !trie_.in_failed_range(key_of(p.addr), p.len);
}

LpmRetry LpmTable::retry_failed() {
  auto r = trie_.retry_failed();
  LpmRetry out;
  for (const auto& f : r.recovered) out.recovered.push_back(prefix_of(f.key, f.len));
  out.still_failed = r.still_failed;
  return out;
}

std::vector<Prefix> LpmTable::failed_ranges() const {
  std::vector<Prefix> out;
  for (const auto& f : trie_.failed_ranges()) out.push_back(prefix_of(f.key, f.len));
  return out;
}

std::vector<Prefix> LpmTable::take_newly_punted() {
  std::vector<Prefix> out;
  for (const auto& f : trie_.take_new_failures())
    trie_.for_each_within(
        f.key, f.len, [&](Key key, unsigned len, uint32_t) { out.push_back(prefix_of(key, len)); });
  return out;
}

Lpm4Table::Lpm4Table(std::span<uint32_t> tbl24, std::span<uint32_t> tbl8, LpmOptions opts)
    : LpmTable(Family::V4, 24, tbl24, tbl8, std::move(opts)),
      view_{tbl24.data(), tbl8.data(), static_cast<__u32>(tbl8.size() / LPM_ROW_ENTRIES)} {}

Lpm6Table::Lpm6Table(std::span<uint32_t> root, std::span<uint32_t> nodes, LpmOptions opts)
    : LpmTable(Family::V6, LPM6_ROOT_BITS, root, nodes, std::move(opts)),
      view_{root.data(), nodes.data(), static_cast<__u32>(nodes.size() / LPM_ROW_ENTRIES)} {}

}  // namespace fpm_sink::lpm
