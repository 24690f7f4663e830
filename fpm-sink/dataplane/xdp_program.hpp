// XdpProgram: the fpm_xdp skeleton as one RAII object.
//
//   open -> sizes (max_entries) and load-time constants (.rodata fpm_cfg)
//        -> pinned maps under <pin_dir> reused when compatible
//        -> load -> mmap the BPF_F_MMAPABLE arrays -> attach per interface
//
// Restart without a dark fast path: maps and XDP links are pinned under
// pin_dir (bpffs). A new instance adopts the pinned maps (contents intact) and
// swaps its freshly loaded program into each pinned link atomically
// (bpf_link_update), so packets keep flowing through the old tables until
// FibOffload rewrites them from zebra's replay. On destruction the links are
// detached and the pins removed, unless keep_on_exit is set.
//
// Mounting bpffs is its caller's job (XdpDataplane mounts it when absent);
// a pin_dir outside bpffs is an error ("bpf.pin"), not something this class
// papers over.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "dataplane/unique_fd.hpp"
#include "fpm_abi.h"
#include "lpm4.h"
#include "lpm6.h"

struct fpm_xdp;

namespace fpm_sink {

enum class XdpMode : uint8_t {
  Native,   // XDP_FLAGS_DRV_MODE: the driver runs the program (the point of XDP)
  Generic,  // XDP_FLAGS_SKB_MODE: after skb allocation; for tests / drivers without XDP
};

struct XdpProgramConfig {
  std::string pin_dir = "/sys/fs/bpf/fpm-sink";
  bool pin = true;            // pin maps and links so a restart keeps forwarding
  bool keep_on_exit = false;  // leave links attached and pins in place on destruction
  // A pinned map whose type/sizes differ from this build's (e.g. the config
  // grew a table): replace it (the fast path restarts empty) or refuse to start.
  bool replace_incompatible_pins = true;

  uint32_t v4_tbl8_groups = LPM4_TBL8_GROUPS_DEFAULT;
  uint32_t v6_nodes = LPM6_NODES_DEFAULT;
  uint32_t max_nexthops = FPM_MAX_NEXTHOPS;
  uint32_t max_groups = FPM_MAX_NHG;
  uint32_t max_ifaces = FPM_MAX_IFACES;
  uint32_t max_hosts = FPM_MAX_HOSTS;            // connected hosts per family
  uint32_t vrf_tables = FPM_VRF_TABLES_DEFAULT;  // VRF table slots (fpm_vrf4 / 6: one more entry)
  uint32_t buckets_per_group = FPM_NHG_BUCKETS;  // fixed by the ABI; anything else is refused
  std::optional<uint32_t> hash_seed;             // random per start when unset
};

// The mmap'ed BPF_F_MMAPABLE arrays, as flat memory for the table writers.
struct MapMemory {
  uint32_t* lpm4_tbl24 = nullptr;  // LPM4_TBL24_ROWS * 256 entries
  uint32_t* lpm4_tbl8 = nullptr;   // tbl8_groups * 256 entries
  uint32_t tbl8_groups = 0;
  uint32_t* lpm6_root = nullptr;   // LPM6_ROOT_ROWS * 256 entries
  uint32_t* lpm6_nodes = nullptr;  // v6_nodes * 256 entries
  uint32_t v6_nodes = 0;
  fpm_nhg* nhg = nullptr;  // max_groups entries
  uint32_t max_groups = 0;
  size_t bytes = 0;  // sum of the mapped sizes
};

class XdpProgram {
 public:
  // Start-up: every libbpf failure is an Error ("bpf.load", "bpf.pin") with
  // the -errno text.
  static Result<std::unique_ptr<XdpProgram>> load(const XdpProgramConfig& config);
  ~XdpProgram();
  XdpProgram(const XdpProgram&) = delete;
  XdpProgram& operator=(const XdpProgram&) = delete;

  // Attaches (or re-adopts a pinned link on) ifindex. Generic mode logs a
  // warning: it is slower than the kernel path it tries to beat. Errors:
  // "bpf.attach" (EBUSY: another XDP program owns the port; EOPNOTSUPP: no
  // native XDP in the driver), "bpf.pin".
  Status attach(uint32_t ifindex, XdpMode mode = XdpMode::Native);
  Status detach(uint32_t ifindex);
  // Ports a previous run left attached (pinned links in pin_dir) that this
  // instance has not adopted with attach(); detach_pinned() removes one.
  std::vector<uint32_t> stale_pinned_links() const;
  Status detach_pinned(uint32_t ifindex);
  std::vector<uint32_t> attached() const;

  const MapMemory& memory() const { return memory_; }
  int map_fd(std::string_view name) const;  // -1 if the object has no such map
  // The kernel's id of the map: unique for the boot, new when a map is
  // recreated, kept when a pinned map is adopted. nullopt: no such map.
  std::optional<uint32_t> map_id(std::string_view name) const;
  // Keys of a hash map now (a walk of the map; for show commands).
  size_t count_keys(std::string_view name) const;
  int prog_fd() const;
  bool reused_pinned_maps() const { return reused_maps_; }
  // This map was adopted from a pin (contents intact), not created.
  bool reused_map(std::string_view name) const { return reused_.contains(std::string(name)); }
  uint32_t hash_seed() const { return hash_seed_; }
  const XdpProgramConfig& config() const { return config_; }
  void set_keep_on_exit(bool keep) { config_.keep_on_exit = keep; }

  // fpm_stats summed over CPUs: FPM_CNT_MAX counters (see fpm_abi.h).
  Result<std::vector<fpm_counter>> counters() const;

  // Removes every pin under config.pin_dir that this build creates (maps,
  // links); for tests. Links are detached first.
  static Status unpin_all(const std::string& pin_dir);

 private:
  explicit XdpProgram(const XdpProgramConfig& config);
  Status open_and_load();
  Status prepare_pins();
  Status drop_pins_of_other_abi();
  Status map_memory();
  std::string link_pin_path(uint32_t ifindex) const;

  XdpProgramConfig config_;
  fpm_xdp* skel_ = nullptr;
  std::vector<Mapping> mappings_;
  MapMemory memory_;
  bool reused_maps_ = false;
  std::set<std::string> reused_;  // map names adopted from pins
  uint32_t hash_seed_ = 0;
  std::map<uint32_t, UniqueFd> links_;  // ifindex -> bpf_link fd
};

}  // namespace fpm_sink
