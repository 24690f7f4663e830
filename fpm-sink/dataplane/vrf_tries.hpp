// The VRF tables as the kernel holds them: per table slot, one
// BPF_MAP_TYPE_LPM_TRIE per family, created here with the table's own size
// and published in the outer arrays fpm_vrf4 / fpm_vrf6 (bpf/lib/vrf.h).
// BpfMapWriter's VRF calls land here; one trie update per route write.
#pragma once

#include <cstdint>
#include <map>

#include "common/ip.hpp"
#include "common/result.hpp"
#include "dataplane/map_writer.hpp"
#include "dataplane/unique_fd.hpp"

namespace fpm_sink {

class VrfTries {
 public:
  // Outer map fds of the loaded program. Every slot is unpublished at once:
  // tries a previous run left behind (adopted pins) may hold another table's
  // routes under the same slot number, and the ports are rewritten anyway.
  VrfTries(int outer4_fd, int outer6_fd, uint32_t outer_entries);

  Status attach(uint16_t slot, uint32_t max_routes);
  Status detach(uint16_t slot);
  Result<RouteWrite> set(uint16_t slot, const Prefix& prefix, uint32_t action);
  Status remove(uint16_t slot, const Prefix& prefix);

 private:
  struct Tries {
    UniqueFd v4, v6;
  };
  int outer4_fd_, outer6_fd_;
  uint32_t outer_entries_;
  std::map<uint16_t, Tries> tries_;
};

}  // namespace fpm_sink
