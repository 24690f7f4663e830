#include "dataplane/lpm/stride_trie.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "common/big_alloc.hpp"
#include "fpm_abi.h"
#include "lpm_common.h"

namespace fpm_sink::lpm {

namespace {

std::vector<unsigned> boundaries(unsigned width, unsigned root_bits) {
  std::vector<unsigned> b;
  for (unsigned l = root_bits; l < width; l += 8) b.push_back(l);
  return b;
}

Error full_error(const char* what) {
  return Error{"lpm.full", std::string("no free node (") + what + "); range punted to the kernel",
               ENOSPC};
}

}  // namespace

StrideTrie::StrideTrie(unsigned width, unsigned root_bits, std::span<uint32_t> root,
                       std::span<uint32_t> nodes, LpmOptions opts)
    : width_(width),
      root_bits_(root_bits),
      root_(root),
      nodes_(nodes),
      node_count_(static_cast<uint32_t>(nodes.size() / LPM_ROW_ENTRIES)),
      opts_(std::move(opts)),
      rib_(width, boundaries(width, root_bits)) {
  if (root_bits % 8 != 0 || root_bits > width || (width - root_bits) % 8 != 0)
    throw std::invalid_argument("lpm: root_bits must be a multiple of 8 within the width");
  if (root.size() != (size_t(1) << root_bits))
    throw std::invalid_argument("lpm: root must hold 2^root_bits entries");
  if (nodes.size() % LPM_ROW_ENTRIES != 0 || nodes.size() / LPM_ROW_ENTRIES > LPM_INDEX_MASK)
    throw std::invalid_argument("lpm: node memory must be whole 256-entry rows");
  if (opts_.punt_action == 0)
    opts_.punt_action = fpm_act_make(FPM_ACT_PUNT, FPM_REASON_OFFLOAD_FAILED);
  if (opts_.punt_action & LPM_ENTRY_NODE) throw std::invalid_argument("lpm: bad punt action");
  root_depth_.assign(root.size(), kDepthNone);
  node_depth_.assign(nodes.size(), kDepthNone);
  if (opts_.adopt_live) adopt(root, nodes);
  if (!staging()) {
    // Start empty: 0 = no route = the kernel handles everything.
    for (auto& e : root_) publish(&e, 0);
  }
  std::vector<bool> retired(node_count_);
  for (uint32_t n : retired_) retired[n] = true;
  free_.reserve(node_count_);
  for (uint32_t i = node_count_; i-- > 0;)
    if (!retired[i]) free_.push_back(i);
}

StrideTrie::~StrideTrie() = default;

// Private rows for staging, zeroed pages from mmap: only what the new table
// touches becomes resident.
struct StrideTrie::Shadow {
  explicit Shadow(size_t root_entries, size_t node_entries)
      : root(static_cast<uint32_t*>(big_alloc(root_entries * 4)), root_entries),
        nodes(static_cast<uint32_t*>(big_alloc(std::max<size_t>(node_entries, 1) * 4)),
              node_entries) {}
  ~Shadow() {
    big_free(root.data(), root.size() * 4);
    big_free(nodes.data(), std::max<size_t>(nodes.size(), 1) * 4);
  }
  Shadow(const Shadow&) = delete;
  Shadow& operator=(const Shadow&) = delete;
  std::span<uint32_t> root, nodes;
};

void StrideTrie::adopt(std::span<uint32_t> root, std::span<uint32_t> nodes) {
  // Every node the live root reaches, at any depth. An index past the pool
  // means the memory is not a table this code wrote: start cold instead.
  std::vector<bool> seen(node_count_);
  std::vector<uint32_t> stack;
  auto visit = [&](uint32_t e) {
    if (!(e & LPM_ENTRY_NODE)) return true;
    const uint32_t n = e & LPM_INDEX_MASK;
    if (n >= node_count_) return false;
    if (!seen[n]) {
      seen[n] = true;
      stack.push_back(n);
    }
    return true;
  };
  for (uint32_t e : root)
    if (!visit(e)) return;
  while (!stack.empty()) {
    const uint32_t n = stack.back();
    stack.pop_back();
    retired_.push_back(n);
    for (uint32_t i = 0; i < LPM_ROW_ENTRIES; ++i)
      if (!visit(nodes[size_t(n) << 8 | i])) {
        retired_.clear();
        return;
      }
  }
  live_root_ = root;
  live_nodes_ = nodes;
  shadow_ = std::make_unique<Shadow>(root.size(), nodes.size());
  root_ = shadow_->root;
  nodes_ = shadow_->nodes;
}

void StrideTrie::commit() {
  if (!staging()) return;
  // 1. New nodes into the live pool: unreachable there until step 2.
  std::vector<bool> idle(node_count_);
  for (uint32_t n : free_) idle[n] = true;
  for (const auto& [n, t] : quarantine_) idle[n] = true;
  for (uint32_t n : retired_) idle[n] = true;
  for (uint32_t n = 0; n < node_count_; ++n)
    if (!idle[n])
      std::memcpy(&live_nodes_[size_t(n) << 8], &nodes_[size_t(n) << 8], LPM_ROW_ENTRIES * 4);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  // 2. The root, entry by entry.
  for (size_t i = 0; i < live_root_.size(); ++i)
    if (live_root_[i] != root_[i]) publish(&live_root_[i], root_[i]);
  // 3. From now on the live memory is the table; the old nodes wait out the
  // grace period like any unlinked node.
  root_ = live_root_;
  nodes_ = live_nodes_;
  live_root_ = {};
  live_nodes_ = {};
  shadow_.reset();
  for (uint32_t n : retired_) free_node(n);
  retired_.clear();
}

bool StrideTrie::alloc_node(uint32_t& node) {
  const auto now = opts_.now();
  while (!quarantine_.empty() && now - quarantine_.front().second >= opts_.grace) {
    free_.push_back(quarantine_.front().first);
    quarantine_.pop_front();
  }
  if (free_.empty()) return false;
  node = free_.back();
  free_.pop_back();
  return true;
}

void StrideTrie::free_node(uint32_t node) {
  quarantine_.emplace_back(node, opts_.now());
}

void StrideTrie::mark_failed(uint32_t node, uint32_t s, Key key, unsigned len) {
  depth_row(node)[s] = kDepthFailed;
  publish(&row(node)[s], opts_.punt_action);
  failed_.insert({key & mask(len), len});
  new_failures_.push_back({key & mask(len), len});
}

// Insert semantics: every entry of [first, first + count) that no longer
// prefix owns gets the action; node entries pass it down to their children.
void StrideTrie::paint(uint32_t node, uint32_t first, uint32_t count, uint32_t action,
                       uint8_t depth) {
  uint32_t* r = row(node);
  uint8_t* dr = depth_row(node);
  for (uint32_t s = first; s < first + count; ++s) {
    if (dr[s] > depth) continue;  // owned by a longer prefix, or kDepthFailed
    dr[s] = depth;
    const uint32_t e = r[s];
    if (e & LPM_ENTRY_NODE)
      paint(e & LPM_INDEX_MASK, 0, LPM_ROW_ENTRIES, action, depth);
    else if (e != action)
      publish(&r[s], action);
  }
}

// Delete semantics: entries the deleted prefix owned fall back to its cover.
void StrideTrie::unpaint(uint32_t node, uint32_t first, uint32_t count, uint8_t old_depth,
                         uint32_t action, uint8_t depth) {
  uint32_t* r = row(node);
  uint8_t* dr = depth_row(node);
  for (uint32_t s = first; s < first + count; ++s) {
    if (dr[s] != old_depth) continue;
    dr[s] = depth;
    const uint32_t e = r[s];
    if (e & LPM_ENTRY_NODE)
      unpaint(e & LPM_INDEX_MASK, 0, LPM_ROW_ENTRIES, old_depth, action, depth);
    else if (e != action)
      publish(&r[s], action);
  }
}

Status StrideTrie::insert(Key key, unsigned len, uint32_t action) {
  if (len > width_ || (key & ~mask(len)) != 0)
    return Error{"lpm.bad_prefix", "prefix length or host bits", 22};
  if (action & LPM_ENTRY_NODE) return Error{"lpm.bad_action", "action uses bit 31", 22};
  auto [stored, added] = rib_.try_emplace(key, len, action);
  if (!added) {
    if (*stored == action)
      return in_failed_range(key, len) ? Status(full_error("unchanged, still failed"))
                                       : ok_status();
    *stored = action;
  }

  const unsigned lv = level_of(len);
  uint32_t node = kRoot;
  for (unsigned j = 0; j < lv; ++j) {
    const uint32_t s = slot(key, j);
    uint32_t* e = &row(node)[s];
    const uint8_t d = depth_row(node)[s];
    if (d == kDepthFailed) return full_error("inside a failed range");
    if (*e & LPM_ENTRY_NODE) {
      node = *e & LPM_INDEX_MASK;
      continue;
    }
    uint32_t child;
    if (!alloc_node(child)) {
      mark_failed(node, s, key, entry_len(j));
      return full_error("insert");
    }
    // Fill the whole node with what the entry resolved to, then publish.
    std::fill_n(row(child), LPM_ROW_ENTRIES, *e);
    std::fill_n(depth_row(child), LPM_ROW_ENTRIES, d);
    publish(e, LPM_ENTRY_NODE | child);
    node = child;
  }
  const uint32_t first = slot(key, lv);
  const uint32_t count = uint32_t(1) << (entry_len(lv) - len);
  paint(node, first, count, action, enc(len));
  return ok_status();
}

Status StrideTrie::remove(Key key, unsigned len) {
  if (len > width_ || (key & ~mask(len)) != 0)
    return Error{"lpm.bad_prefix", "prefix length or host bits", 22};
  if (!rib_.erase(key, len)) return Error{"lpm.not_found", "no such prefix", ENOENT};

  uint32_t cover_action;
  uint8_t cover_depth;
  cover(key, len - (len > 0), cover_action, cover_depth);
  if (len == 0) cover_action = 0, cover_depth = kDepthNone;

  const unsigned lv = level_of(len);
  uint32_t path[130];
  uint32_t node = kRoot;
  for (unsigned j = 0; j < lv; ++j) {
    path[j] = node;
    const uint32_t s = slot(key, j);
    const uint32_t e = row(node)[s];
    // Inside a punted range: the RIB is updated, retry_failed() rebuilds it.
    if (depth_row(node)[s] == kDepthFailed || !(e & LPM_ENTRY_NODE)) return ok_status();
    node = e & LPM_INDEX_MASK;
  }
  path[lv] = node;
  const uint32_t first = slot(key, lv);
  const uint32_t count = uint32_t(1) << (entry_len(lv) - len);
  unpaint(node, first, count, enc(len), cover_action, cover_depth);

  // Collapse: a node whose 256 entries all came from the same prefix goes back
  // into its parent entry; the node is quarantined, not reused at once.
  for (unsigned j = lv; j > 0; --j) {
    const uint32_t n = path[j];
    if (!node_uniform(n)) break;
    const uint32_t s = slot(key, j - 1);
    depth_row(path[j - 1])[s] = depth_row(n)[0];
    publish(&row(path[j - 1])[s], row(n)[0]);
    free_node(n);
  }
  return ok_status();
}

bool StrideTrie::node_uniform(uint32_t node) const {
  const uint32_t* r = &nodes_[size_t(node) << 8];
  const uint8_t* d = &node_depth_[size_t(node) << 8];
  if ((r[0] & LPM_ENTRY_NODE) || d[0] == kDepthFailed) return false;
  for (uint32_t i = 1; i < LPM_ROW_ENTRIES; ++i)
    if (r[i] != r[0] || d[i] != d[0]) return false;
  return true;
}

const uint32_t* StrideTrie::find(Key key, unsigned len) const {
  if (len > width_) return nullptr;
  return rib_.find(key & mask(len), len);
}

// Longest prefix of length <= max_len containing key (from the control copy).
void StrideTrie::cover(Key key, unsigned max_len, uint32_t& action, uint8_t& depth) const {
  if (auto c = rib_.cover(key, max_len)) {
    action = c->action;
    depth = enc(c->len);
  } else {
    action = 0;
    depth = kDepthNone;
  }
}

// Fills an unpublished node covering key/entry_len(level-1) from the RIB:
// background, then prefixes ending in this node by increasing length, then
// children where longer prefixes exist.
void StrideTrie::build_node(uint32_t node, Key key, unsigned level, uint32_t bg_action,
                            uint8_t bg_depth) {
  const unsigned base = entry_len(level - 1);
  const unsigned top = entry_len(level);
  uint32_t* r = row(node);
  uint8_t* d = depth_row(node);
  std::fill_n(r, LPM_ROW_ENTRIES, bg_action);
  std::fill_n(d, LPM_ROW_ENTRIES, bg_depth);
  rib_.for_each_in_stride(key, base, top, [&](Key k, unsigned l, uint32_t action) {
    const uint32_t first = slot(k, level);
    const uint32_t count = uint32_t(1) << (top - l);
    std::fill_n(r + first, count, action);
    std::fill_n(d + first, count, enc(l));
  });
  if (top >= width_) return;
  for (uint32_t s = 0; s < LPM_ROW_ENTRIES; ++s) {
    const Key child_key = key | (Key(s) << (128 - top));
    if (!rib_.has_longer(child_key, top)) continue;
    uint32_t child;
    if (!alloc_node(child)) {
      mark_failed(node, s, child_key, top);
      continue;
    }
    build_node(child, child_key, level + 1, r[s], d[s]);
    r[s] = LPM_ENTRY_NODE | child;  // node not yet reachable: plain store
  }
}

RetryReport StrideTrie::retry_failed() {
  RetryReport report;
  const std::vector<FailedRange> todo(failed_.begin(), failed_.end());
  for (const FailedRange& f : todo) {
    const unsigned level = (f.len - root_bits_) / 8;
    uint32_t node = kRoot;
    for (unsigned j = 0; j < level; ++j) node = row(node)[slot(f.key, j)] & LPM_INDEX_MASK;
    const uint32_t s = slot(f.key, level);
    uint32_t bg_action;
    uint8_t bg_depth;
    cover(f.key, f.len, bg_action, bg_depth);
    uint32_t child = 0;
    if (f.len < width_ && rib_.has_longer(f.key, f.len)) {
      if (!alloc_node(child)) continue;
      failed_.erase(f);  // build_node may record failures further down
      build_node(child, f.key, level + 1, bg_action, bg_depth);
      depth_row(node)[s] = bg_depth;
      publish(&row(node)[s], LPM_ENTRY_NODE | child);
    } else {
      failed_.erase(f);
      depth_row(node)[s] = bg_depth;
      publish(&row(node)[s], bg_action);
    }
    report.recovered.push_back(f);
  }
  report.still_failed = failed_.size();
  return report;
}

std::vector<FailedRange> StrideTrie::failed_ranges() const {
  return {failed_.begin(), failed_.end()};
}

bool StrideTrie::in_failed_range(Key key, unsigned len) const {
  // Punted ranges sit at level boundaries: one lookup per level above len.
  if (failed_.empty()) return false;
  for (unsigned b = root_bits_; b <= len && b < width_; b += 8)
    if (failed_.contains({key & mask(b), b})) return true;
  return false;
}

LpmStats StrideTrie::stats() const {
  LpmStats s;
  s.routes = rib_.size();
  s.nodes_total = node_count_;
  s.nodes_free = static_cast<uint32_t>(free_.size());
  s.nodes_quarantined = static_cast<uint32_t>(quarantine_.size());
  s.nodes_used = node_count_ - s.nodes_free - s.nodes_quarantined;
  const auto now = opts_.now();
  for (auto it = quarantine_.rbegin(); it != quarantine_.rend() && now - it->second < opts_.grace;
       ++it)
    ++s.nodes_in_grace;
  s.failed_ranges = failed_.size();
  return s;
}

}  // namespace fpm_sink::lpm
