#include "dataplane/vrf_tries.hpp"

#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "fpm_abi.h"

namespace fpm_sink {

namespace {

Error trie_error(const std::string& what, int err) {
  return Error{"bpf.map.update",
               what + ": " + std::strerror(err) + " (-" + std::to_string(err) + ")", err};
}

// LPM trie key bytes: prefix length, then the address's leading bytes (wire order).
template <typename Key>
Key trie_key(const Prefix& prefix) {
  Key key{};
  key.prefixlen = prefix.len;
  std::memcpy(key.addr, prefix.addr.bytes.data(), sizeof key.addr);
  return key;
}

}  // namespace

VrfTries::VrfTries(int outer4_fd, int outer6_fd, uint32_t outer_entries)
    : outer4_fd_(outer4_fd), outer6_fd_(outer6_fd), outer_entries_(outer_entries) {
  for (uint32_t slot = 1; slot < outer_entries_; ++slot) {
    bpf_map_delete_elem(outer4_fd_, &slot);  // ENOENT for empty slots: nothing to undo
    bpf_map_delete_elem(outer6_fd_, &slot);
  }
}

Status VrfTries::attach(uint16_t slot, uint32_t max_routes) {
  if (slot == FPM_TABLE_SLOT_MAIN || slot >= outer_entries_)
    return Error{"bpf.map.update", "VRF slot " + std::to_string(slot) + " out of range", EINVAL};
  if (auto s = detach(slot); !s) return s;
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
  const std::string name4 = "fpm_vrf4_" + std::to_string(slot);
  const std::string name6 = "fpm_vrf6_" + std::to_string(slot);
  Tries t;
  t.v4 = UniqueFd(bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, name4.c_str(), sizeof(fpm_vrf_key4),
                                 sizeof(uint32_t), max_routes, &opts));
  if (!t.v4) return trie_error("create " + name4, errno);
  t.v6 = UniqueFd(bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, name6.c_str(), sizeof(fpm_vrf_key6),
                                 sizeof(uint32_t), max_routes, &opts));
  if (!t.v6) return trie_error("create " + name6, errno);
  const uint32_t key = slot;
  int fd4 = t.v4.get(), fd6 = t.v6.get();
  if (bpf_map_update_elem(outer4_fd_, &key, &fd4, BPF_ANY) != 0)
    return trie_error("fpm_vrf4[" + std::to_string(slot) + "]", errno);
  if (bpf_map_update_elem(outer6_fd_, &key, &fd6, BPF_ANY) != 0) {
    const int err = errno;
    bpf_map_delete_elem(outer4_fd_, &key);
    return trie_error("fpm_vrf6[" + std::to_string(slot) + "]", err);
  }
  tries_[slot] = std::move(t);
  return ok_status();
}

Status VrfTries::detach(uint16_t slot) {
  const uint32_t key = slot;
  if (bpf_map_delete_elem(outer4_fd_, &key) != 0 && errno != ENOENT)
    return trie_error("delete fpm_vrf4[" + std::to_string(slot) + "]", errno);
  if (bpf_map_delete_elem(outer6_fd_, &key) != 0 && errno != ENOENT)
    return trie_error("delete fpm_vrf6[" + std::to_string(slot) + "]", errno);
  // The kernel frees the tries once no XDP run holds them (RCU): closing is safe.
  tries_.erase(slot);
  return ok_status();
}

Result<RouteWrite> VrfTries::set(uint16_t slot, const Prefix& prefix, uint32_t action) {
  auto it = tries_.find(slot);
  if (it == tries_.end())
    return Error{"bpf.map.update", "no VRF trie in slot " + std::to_string(slot), ENOENT};
  int rc;
  if (prefix.family() == Family::V4) {
    const auto key = trie_key<fpm_vrf_key4>(prefix);
    rc = bpf_map_update_elem(it->second.v4.get(), &key, &action, BPF_ANY);
  } else {
    const auto key = trie_key<fpm_vrf_key6>(prefix);
    rc = bpf_map_update_elem(it->second.v6.get(), &key, &action, BPF_ANY);
  }
  if (rc == 0) return RouteWrite::Installed;
  // A trie at max_entries refuses new keys with ENOSPC.
  if (errno == ENOSPC || errno == E2BIG) return RouteWrite::NoSpace;
  return trie_error("VRF slot " + std::to_string(slot) + " " + prefix.to_string(), errno);
}

Status VrfTries::remove(uint16_t slot, const Prefix& prefix) {
  auto it = tries_.find(slot);
  if (it == tries_.end()) return ok_status();
  int rc;
  if (prefix.family() == Family::V4) {
    const auto key = trie_key<fpm_vrf_key4>(prefix);
    rc = bpf_map_delete_elem(it->second.v4.get(), &key);
  } else {
    const auto key = trie_key<fpm_vrf_key6>(prefix);
    rc = bpf_map_delete_elem(it->second.v6.get(), &key);
  }
  if (rc != 0 && errno != ENOENT)
    return trie_error("delete VRF slot " + std::to_string(slot) + " " + prefix.to_string(), errno);
  return ok_status();
}

}  // namespace fpm_sink
