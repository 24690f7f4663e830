// The `clear counters` baseline on disk, so that a clear outlives a restart
// of fpm-sink exactly as long as the counter maps it was taken from do.
//
// The maps are pinned in bpffs and survive a restart with --keep-fast-path;
// the baseline is kept beside the control socket (/run/fpm-sink, a tmpfs that
// lives as long as the boot, like the pins). A file written for other maps
// must not be subtracted from these: it carries the maps' ids, which the
// kernel hands out once per boot and never again for a recreated map, and the
// boot id, since ids start again after a reboot.
//
// Layout, little endian:
//   magic "FPMCBASE" | u32 version | u32 body length | u64 FNV-1a of the body | body
//   body: u8 boot id length, boot id | u32 n, n x u32 map id | u64 cleared_at
//         | u32 n, n x (u32 ifindex, u32 counter slot) | u32 length, CountersReply
// The checksum and the exact length catch a torn or truncated file; a version
// above kFormatVersion is a newer fpm-sink's file, not ours to read.
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "control.pb.h"

namespace fpm_sink {

// ifindex -> counter slot (fpm_iface_stats index) of each port and routed subinterface.
using CounterSlots = std::map<uint32_t, uint32_t>;

// What the counters a baseline subtracts from are: the counter maps, by id.
struct CounterMapsIdentity {
  std::string boot_id;            // /proc/sys/kernel/random/boot_id
  std::vector<uint32_t> map_ids;  // fpm_stats, fpm_iface_stats, fpm_iface_reasons
  bool operator==(const CounterMapsIdentity&) const = default;
  std::string to_string() const;  // the map ids, "1,2,3", for log lines
};

struct SavedCounterBaseline {
  CounterMapsIdentity maps;
  std::time_t cleared_at = 0;
  CounterSlots slots;  // where each port's counters were read at the clear
  control::CountersReply counters;
};

inline constexpr uint32_t kCounterBaselineFormatVersion = 1;

std::string encode_counter_baseline(const SavedCounterBaseline& saved);
// Errors (the file is not used): app.counter_baseline.truncated, .corrupt
// (EINVAL), .newer_format (EPROTONOSUPPORT).
Result<SavedCounterBaseline> decode_counter_baseline(std::string_view bytes);

// Writes path.tmp, then renames it over path: a reader sees the old file or
// the new one, never half of one. Error: app.counter_baseline.save.
Status save_counter_baseline(const std::string& path, const SavedCounterBaseline& saved);

// What a start finds: the baseline if the file is there, intact and taken from
// `maps`; nullopt otherwise. Anything else than "no file" is logged once (one
// warning saying why) and the file removed, so the next start is quiet.
// Never throws: a bad file costs the clear, not the start-up.
std::optional<SavedCounterBaseline> load_counter_baseline(const std::string& path,
                                                          const CounterMapsIdentity& maps);

// Beside the control socket, named after it (one file per instance):
// /run/fpm-sink/control.sock -> /run/fpm-sink/control.counter-baseline.
std::string counter_baseline_path(const std::string& control_socket);

// This boot's id, empty if the kernel does not say.
std::string current_boot_id();

}  // namespace fpm_sink
