#include "dataplane/lpm/prefix_store.hpp"

#include <algorithm>
#include <stdexcept>

namespace fpm_sink::lpm {

namespace {

Key mask_of(unsigned len) {
  return len == 0 ? 0 : ~Key(0) << (128 - len);
}

}  // namespace

PrefixStore::PrefixStore(unsigned width, std::vector<unsigned> boundaries)
    : width_(width), boundaries_(std::move(boundaries)) {
  if (width > 128) throw std::invalid_argument("prefix store: width above 128");
  if (!std::is_sorted(boundaries_.begin(), boundaries_.end()))
    throw std::invalid_argument("prefix store: boundaries must ascend");
  if (width > kNarrowMax) wide_.resize(width - kNarrowMax);
  below_.resize(boundaries_.size());
}

const uint32_t* PrefixStore::find(Key key, unsigned len) const {
  if (len > width_ || count_[len] == 0) return nullptr;
  if (len <= kNarrowMax) {
    auto it = narrow_.find(narrow_key(key, len));
    return it == narrow_.end() ? nullptr : &it->second;
  }
  const auto& m = wide_[len - kNarrowMax - 1];
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

PrefixStore::Emplaced PrefixStore::try_emplace(Key key, unsigned len, uint32_t action) {
  Emplaced r;
  if (len <= kNarrowMax) {
    auto [it, added] = narrow_.try_emplace(narrow_key(key, len), action);
    r = {&it->second, added};
  } else {
    auto [it, added] = wide_[len - kNarrowMax - 1].try_emplace(key, action);
    r = {&it->second, added};
  }
  if (r.added) {
    ++count_[len];
    ++size_;
    count_below(key, len, +1);
  }
  return r;
}

bool PrefixStore::erase(Key key, unsigned len) {
  if (len > width_) return false;
  const size_t n = len <= kNarrowMax ? narrow_.erase(narrow_key(key, len))
                                     : wide_[len - kNarrowMax - 1].erase(key);
  if (n == 0) return false;
  --count_[len];
  --size_;
  count_below(key, len, -1);
  return true;
}

void PrefixStore::count_below(Key key, unsigned len, int delta) {
  for (size_t i = 0; i < boundaries_.size() && boundaries_[i] < len; ++i) {
    const Key k = key & mask_of(boundaries_[i]);
    if (delta > 0) {
      ++below_[i][k];
    } else {
      auto it = below_[i].find(k);
      if (it != below_[i].end() && --it->second == 0) below_[i].erase(it);
    }
  }
}

std::optional<PrefixStore::Cover> PrefixStore::cover(Key key, unsigned max_len) const {
  for (unsigned l = std::min(max_len, width_) + 1; l-- > 0;) {
    if (count_[l] == 0) continue;
    if (const uint32_t* a = find(key & mask_of(l), l)) return Cover{*a, l};
  }
  return std::nullopt;
}

bool PrefixStore::has_longer(Key key, unsigned b) const {
  auto it = std::lower_bound(boundaries_.begin(), boundaries_.end(), b);
  if (it == boundaries_.end() || *it != b)
    throw std::invalid_argument("prefix store: not a boundary length");
  const auto& m = below_[size_t(it - boundaries_.begin())];
  return m.contains(key);
}

}  // namespace fpm_sink::lpm
