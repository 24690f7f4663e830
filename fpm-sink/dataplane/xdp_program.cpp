#include "dataplane/xdp_program.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>

#include "fpm_xdp.skel.h"

namespace fpm_sink {

namespace {

// Maps the writers need; the loader refuses an object without them.
constexpr const char* kRequiredMaps[] = {"lpm4_tbl24", "lpm4_tbl8",    "lpm6_root",  "lpm6_nodes",
                                         "fpm_nhg",    "fpm_nexthops", "fpm_ifaces", "fpm_tx_ports",
                                         "fpm_hosts4", "fpm_hosts6",   "fpm_vlans",  "fpm_vrf4",
                                         "fpm_vrf6"};
constexpr const char* kLinkPrefix = "xdp_link_";

Error bpf_error(std::string id, const std::string& what, int err) {
  err = err < 0 ? -err : err;
  return Error{std::move(id), what + ": " + std::strerror(err) + " (-" + std::to_string(err) + ")",
               err};
}

bool on_bpffs(const std::string& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.f_type) == BPF_FS_MAGIC;
}

// Pointer to a global in .rodata, found through the object's BTF so the
// loader does not depend on the skeleton's field layout.
void* rodata_var(bpf_object* obj, const char* var_name, size_t size) {
  bpf_map* rodata = nullptr;
  bpf_map* m;
  bpf_object__for_each_map(m, obj) {
    const std::string_view name = bpf_map__name(m);
    if (bpf_map__is_internal(m) && name.ends_with(".rodata")) rodata = m;
  }
  const btf* btf = bpf_object__btf(obj);
  if (!rodata || !btf) return nullptr;
  const int sec_id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
  if (sec_id < 0) return nullptr;
  const btf_type* sec = btf__type_by_id(btf, sec_id);
  const btf_var_secinfo* vs = btf_var_secinfos(sec);
  for (int i = 0; i < btf_vlen(sec); ++i, ++vs) {
    const btf_type* var = btf__type_by_id(btf, vs->type);
    if (std::strcmp(btf__name_by_offset(btf, var->name_off), var_name) != 0) continue;
    size_t total = 0;
    auto* base = static_cast<uint8_t*>(const_cast<void*>(bpf_map__initial_value(rodata, &total)));
    if (!base || vs->offset + size > total || vs->size != size) return nullptr;
    return base + vs->offset;
  }
  return nullptr;
}

}  // namespace

XdpProgram::XdpProgram(const XdpProgramConfig& config) : config_(config) {}

Result<std::unique_ptr<XdpProgram>> XdpProgram::load(const XdpProgramConfig& config) {
  if (config.buckets_per_group != FPM_NHG_BUCKETS)
    return Error{
        "bpf.load",
        "buckets_per_group must be " + std::to_string(FPM_NHG_BUCKETS) + " (fixed by fpm_abi.h)",
        EINVAL};
  std::unique_ptr<XdpProgram> p(new XdpProgram(config));
  if (auto s = p->open_and_load(); !s) return s.error();
  if (auto s = p->map_memory(); !s) return s.error();
  return p;
}

Status XdpProgram::open_and_load() {
  skel_ = fpm_xdp__open();
  if (!skel_) return bpf_error("bpf.load", "opening the fpm_xdp skeleton", errno);
  bpf_object* obj = skel_->obj;

  for (const char* name : kRequiredMaps)
    if (!bpf_object__find_map_by_name(obj, name))
      return Error{"bpf.load", std::string("map ") + name + " missing from fpm_xdp.bpf.o", ENOENT};

  const std::pair<const char*, uint32_t> sizes[] = {
      {"lpm4_tbl8", config_.v4_tbl8_groups},
      {"lpm6_nodes", config_.v6_nodes},
      {"fpm_nexthops", config_.max_nexthops},
      {"fpm_nhg", config_.max_groups},
      {"fpm_ifaces", config_.max_ifaces},
      {"fpm_iface_stats", config_.max_ifaces},
      {"fpm_iface_reasons", config_.max_ifaces * FPM_REASON_MAX},
      {"fpm_hosts4", config_.max_hosts},
      {"fpm_hosts6", config_.max_hosts},
      {"fpm_vrf4", config_.vrf_tables + 1},
      {"fpm_vrf6", config_.vrf_tables + 1}};
  for (auto [name, n] : sizes) {
    bpf_map* m = bpf_object__find_map_by_name(obj, name);
    if (!m) continue;
    if (int err = bpf_map__set_max_entries(m, n))
      return bpf_error("bpf.load", std::string("set_max_entries ") + name, err);
  }

  if (config_.pin)
    if (auto s = prepare_pins(); !s) return s;

  auto* cfg = static_cast<fpm_config*>(rodata_var(obj, "fpm_cfg", sizeof(fpm_config)));
  // Keeping the running program's seed keeps every ECMP flow on its next hop
  // across the restart.
  std::optional<uint32_t> previous;
  if (!config_.hash_seed && reused_.contains("fpm_abi")) {
    const uint32_t key = FPM_ABI_KEY_HASH_SEED;
    uint32_t seed = 0;
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.fpm_abi), &key, &seed) == 0) previous = seed;
  }
  hash_seed_ = config_.hash_seed ? *config_.hash_seed
               : previous        ? *previous
                                 : std::random_device{}();
  if (previous) spdlog::info("bpf.load: kept the running program's ECMP hash seed");
  if (cfg) {
    cfg->hash_seed = hash_seed_;
    cfg->flags = 0;
  } else {
    spdlog::warn("bpf.load: no .rodata fpm_cfg in the object; hash seed not set");
  }

  if (int err = fpm_xdp__load(skel_)) return bpf_error("bpf.load", "loading fpm_xdp", err);
  const std::pair<uint32_t, uint32_t> abi[] = {{FPM_ABI_KEY_VERSION, FPM_ABI_VERSION},
                                               {FPM_ABI_KEY_HASH_SEED, hash_seed_}};
  for (auto [key, value] : abi)
    if (bpf_map_update_elem(bpf_map__fd(skel_->maps.fpm_abi), &key, &value, BPF_ANY) != 0)
      return bpf_error("bpf.load", "write fpm_abi", errno);
  if (config_.pin) {
    bpf_map* m;
    bpf_object__for_each_map(m, skel_->obj) {
      if (bpf_map__is_internal(m) || reused_.contains(bpf_map__name(m))) continue;
      const std::string path = config_.pin_dir + "/" + bpf_map__name(m);
      if (int err = bpf_map__pin(m, path.c_str())) return bpf_error("bpf.pin", "pin " + path, err);
    }
  }
  return ok_status();
}

// Checks the pin directory and every pinned map before libbpf sees them, so
// an incompatible leftover gives a clear message (or is replaced) instead of
// a bare -EINVAL from the loader.
Status XdpProgram::prepare_pins() {
  namespace fs = std::filesystem;
  const fs::path dir(config_.pin_dir);
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    if (!on_bpffs(dir.parent_path()))
      return Error{"bpf.pin",
                   dir.parent_path().string() +
                       " is not on bpffs (mount -t bpf bpf /sys/fs/bpf; ci/setup.sh does)",
                   ENOTSUP};
    if (!fs::create_directories(dir, ec))
      return bpf_error("bpf.pin", "mkdir " + dir.string(), ec.value());
  }
  if (!on_bpffs(dir))
    return Error{"bpf.pin", dir.string() + " is not on bpffs (mount -t bpf bpf /sys/fs/bpf)",
                 ENOTSUP};

  if (auto s = drop_pins_of_other_abi(); !s) return s;

  bpf_map* m;
  bpf_object__for_each_map(m, skel_->obj) {
    if (bpf_map__is_internal(m)) continue;
    const std::string path = (dir / bpf_map__name(m)).string();
    if (!fs::exists(path, ec)) continue;

    UniqueFd fd(bpf_obj_get(path.c_str()));
    bpf_map_info info{};
    uint32_t len = sizeof info;
    uint32_t flags = bpf_map__map_flags(m);
    // The kernel adds BPF_F_RDONLY_PROG to every devmap it creates, so a
    // pinned devmap never matches its own spec by flags (libbpf 1.1's
    // automatic pin reuse fails on it; cilium/ebpf#925): compare without it.
    const auto type = bpf_map__type(m);
    const uint32_t ignore =
        type == BPF_MAP_TYPE_DEVMAP || type == BPF_MAP_TYPE_DEVMAP_HASH ? BPF_F_RDONLY_PROG : 0;
    bool compatible =
        fd && bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0 &&
        info.type == static_cast<uint32_t>(type) && info.key_size == bpf_map__key_size(m) &&
        info.value_size == bpf_map__value_size(m) && info.max_entries == bpf_map__max_entries(m) &&
        (info.map_flags & ~ignore) == (flags & ~ignore);
    if (compatible) {
      if (int err = bpf_map__reuse_fd(m, fd.get()))
        return bpf_error("bpf.pin", "reuse pinned map " + path, err);
      reused_maps_ = true;
      reused_.insert(bpf_map__name(m));
      continue;
    }
    if (!config_.replace_incompatible_pins)
      return Error{"bpf.pin", "pinned map " + path + " does not match this build's type/sizes",
                   EEXIST};
    spdlog::warn("bpf.pin: replacing incompatible pinned map {} (its contents are lost)", path);
    if (::unlink(path.c_str()) != 0) return bpf_error("bpf.pin", "unlink " + path, errno);
  }
  return ok_status();
}

// Pinned maps written by a build of another ABI may hold the same shapes with
// other meanings: never adopt them. Removing them makes this start cold; the
// XDP links stay pinned, so the ports keep the old program until attach()
// swaps ours in.
Status XdpProgram::drop_pins_of_other_abi() {
  const std::string abi_path = config_.pin_dir + "/fpm_abi";
  std::optional<uint32_t> pinned;  // nullopt: no fpm_abi pin (version 1) or unreadable
  if (UniqueFd fd(bpf_obj_get(abi_path.c_str())); fd) {
    const uint32_t key = FPM_ABI_KEY_VERSION;
    uint32_t value = 0;
    if (bpf_map_lookup_elem(fd.get(), &key, &value) == 0) pinned = value;
  }
  if (pinned == FPM_ABI_VERSION) return ok_status();

  std::vector<std::string> doomed;
  bpf_map* m;
  bpf_object__for_each_map(m, skel_->obj) {
    if (bpf_map__is_internal(m)) continue;
    const std::string path = config_.pin_dir + "/" + bpf_map__name(m);
    if (::access(path.c_str(), F_OK) == 0) doomed.push_back(path);
  }
  if (doomed.empty()) return ok_status();
  const std::string theirs = pinned ? std::to_string(*pinned) : "1 (no fpm_abi map)";
  if (!config_.replace_incompatible_pins)
    return Error{"bpf.pin.abi",
                 "pinned maps in " + config_.pin_dir + " have ABI version " + theirs +
                     ", this build " + std::to_string(FPM_ABI_VERSION),
                 EEXIST};
  spdlog::warn(
      "bpf.pin.abi: pinned maps in {} have ABI version {}, this build {}: not adopted, starting "
      "cold",
      config_.pin_dir, theirs, FPM_ABI_VERSION);
  for (const auto& path : doomed)
    if (::unlink(path.c_str()) != 0) return bpf_error("bpf.pin", "unlink " + path, errno);
  return ok_status();
}

Status XdpProgram::map_memory() {
  struct Want {
    const char* name;
    void** out;
  };
  void* tbl24 = nullptr;
  void* tbl8 = nullptr;
  void* root = nullptr;
  void* nodes = nullptr;
  void* nhg = nullptr;
  const Want wants[] = {{"lpm4_tbl24", &tbl24},
                        {"lpm4_tbl8", &tbl8},
                        {"lpm6_root", &root},
                        {"lpm6_nodes", &nodes},
                        {"fpm_nhg", &nhg}};
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  for (const auto& w : wants) {
    bpf_map* m = bpf_object__find_map_by_name(skel_->obj, w.name);
    if (!(bpf_map__map_flags(m) & BPF_F_MMAPABLE))
      return Error{"bpf.load", std::string(w.name) + " is not BPF_F_MMAPABLE", EINVAL};
    // Array values are laid out at a stride rounded up to 8 bytes.
    const size_t stride = (bpf_map__value_size(m) + 7) & ~size_t{7};
    const size_t bytes = (stride * bpf_map__max_entries(m) + page - 1) & ~(page - 1);
    void* addr = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(m), 0);
    if (addr == MAP_FAILED) return bpf_error("bpf.load", std::string("mmap ") + w.name, errno);
    mappings_.emplace_back(addr, bytes);
    memory_.bytes += bytes;
    *w.out = addr;
  }
  memory_.lpm4_tbl24 = static_cast<uint32_t*>(tbl24);
  memory_.lpm4_tbl8 = static_cast<uint32_t*>(tbl8);
  memory_.tbl8_groups = bpf_map__max_entries(bpf_object__find_map_by_name(skel_->obj, "lpm4_tbl8"));
  memory_.lpm6_root = static_cast<uint32_t*>(root);
  memory_.lpm6_nodes = static_cast<uint32_t*>(nodes);
  memory_.v6_nodes = bpf_map__max_entries(bpf_object__find_map_by_name(skel_->obj, "lpm6_nodes"));
  memory_.nhg = static_cast<fpm_nhg*>(nhg);
  memory_.max_groups = bpf_map__max_entries(bpf_object__find_map_by_name(skel_->obj, "fpm_nhg"));
  return ok_status();
}

std::string XdpProgram::link_pin_path(uint32_t ifindex) const {
  return config_.pin_dir + "/" + kLinkPrefix + std::to_string(ifindex);
}

int XdpProgram::prog_fd() const {
  return bpf_program__fd(bpf_object__find_program_by_name(skel_->obj, "fpm_xdp"));
}

size_t XdpProgram::count_keys(std::string_view name) const {
  const int fd = map_fd(name);
  if (fd < 0) return 0;
  bpf_map_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return 0;
  std::vector<uint8_t> key(info.key_size), next(info.key_size);
  size_t n = 0;
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, next.data()) == 0) {
    ++n;
    key.swap(next);
    prev = key.data();
  }
  return n;
}

int XdpProgram::map_fd(std::string_view name) const {
  bpf_map* m = bpf_object__find_map_by_name(skel_->obj, std::string(name).c_str());
  return m ? bpf_map__fd(m) : -1;
}

std::optional<uint32_t> XdpProgram::map_id(std::string_view name) const {
  const int fd = map_fd(name);
  if (fd < 0) return std::nullopt;
  bpf_map_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return std::nullopt;
  return info.id;
}

Status XdpProgram::attach(uint32_t ifindex, XdpMode mode) {
  if (links_.contains(ifindex)) return ok_status();
  const std::string pin_path = link_pin_path(ifindex);

  if (config_.pin && ::access(pin_path.c_str(), F_OK) == 0) {
    // A previous instance left the port attached: swap our program in, no gap.
    UniqueFd fd(bpf_obj_get(pin_path.c_str()));
    bpf_link_info info{};
    uint32_t len = sizeof info;
    if (fd && bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0 &&
        info.type == BPF_LINK_TYPE_XDP && info.xdp.ifindex == ifindex &&
        bpf_link_update(fd.get(), prog_fd(), nullptr) == 0) {
      spdlog::info("bpf.attach: adopted pinned XDP link on ifindex {}", ifindex);
      links_.emplace(ifindex, std::move(fd));
      return ok_status();
    }
    // Defunct (its device went away) or foreign: drop the pin and attach anew.
    spdlog::warn("bpf.attach: stale XDP link pin {} replaced", pin_path);
    if (fd) bpf_link_detach(fd.get());
    ::unlink(pin_path.c_str());
  }

  uint32_t flags = XDP_FLAGS_DRV_MODE;
  if (mode == XdpMode::Generic) {
    flags = XDP_FLAGS_SKB_MODE;
    spdlog::warn(
        "bpf.attach: generic (SKB) XDP on ifindex {}: runs after skb allocation, expect "
        "kernel-path speed at best",
        ifindex);
  }
  LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
  UniqueFd fd(bpf_link_create(prog_fd(), static_cast<int>(ifindex), BPF_XDP, &opts));
  if (!fd) {
    const int err = errno;
    std::string hint;
    if (err == EBUSY || err == EEXIST) hint = " (another XDP program is attached)";
    if (err == EOPNOTSUPP) hint = " (driver lacks native XDP; generic mode must be requested)";
    return bpf_error("bpf.attach", "XDP link on ifindex " + std::to_string(ifindex) + hint, err);
  }
  if (config_.pin && bpf_obj_pin(fd.get(), pin_path.c_str()) != 0) {
    const int err = errno;
    bpf_link_detach(fd.get());
    return bpf_error("bpf.pin", "pin " + pin_path, err);
  }
  links_.emplace(ifindex, std::move(fd));
  return ok_status();
}

Status XdpProgram::detach(uint32_t ifindex) {
  auto it = links_.find(ifindex);
  if (it == links_.end()) return ok_status();
  Status result = ok_status();
  // Closing a pinned link's fd does not detach it: detach explicitly.
  if (bpf_link_detach(it->second.get()) != 0 && errno != ENOLINK)
    result = bpf_error("bpf.attach", "detach ifindex " + std::to_string(ifindex), errno);
  if (config_.pin) ::unlink(link_pin_path(ifindex).c_str());
  links_.erase(it);
  return result;
}

std::vector<uint32_t> XdpProgram::stale_pinned_links() const {
  std::vector<uint32_t> out;
  if (!config_.pin) return out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(config_.pin_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(kLinkPrefix)) continue;
    const std::string digits = name.substr(std::strlen(kLinkPrefix));
    char* end = nullptr;
    const unsigned long ifindex = std::strtoul(digits.c_str(), &end, 10);
    if (digits.empty() || *end != '\0' || ifindex == 0 || ifindex > UINT32_MAX) continue;
    if (!links_.contains(static_cast<uint32_t>(ifindex)))
      out.push_back(static_cast<uint32_t>(ifindex));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status XdpProgram::detach_pinned(uint32_t ifindex) {
  if (links_.contains(ifindex)) return detach(ifindex);
  const std::string path = link_pin_path(ifindex);
  UniqueFd link(bpf_obj_get(path.c_str()));
  if (!link) return bpf_error("bpf.pin", "open " + path, errno);
  // ENOLINK: the device is gone and took the attachment with it.
  if (bpf_link_detach(link.get()) != 0 && errno != ENOLINK)
    return bpf_error("bpf.attach", "detach ifindex " + std::to_string(ifindex), errno);
  if (::unlink(path.c_str()) != 0) return bpf_error("bpf.pin", "unlink " + path, errno);
  return ok_status();
}

std::vector<uint32_t> XdpProgram::attached() const {
  std::vector<uint32_t> out;
  for (const auto& [ifindex, fd] : links_) out.push_back(ifindex);
  return out;
}

Result<std::vector<fpm_counter>> XdpProgram::counters() const {
  const int fd = map_fd("fpm_stats");
  if (fd < 0) return Error{"bpf.map.lookup", "no fpm_stats map in the object", ENOENT};
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return bpf_error("bpf.map.lookup", "possible CPUs", ncpu);
  std::vector<fpm_counter> per_cpu(static_cast<size_t>(ncpu));
  std::vector<fpm_counter> sum(FPM_CNT_MAX);
  for (uint32_t key = 0; key < FPM_CNT_MAX; ++key) {
    if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) != 0)
      return bpf_error("bpf.map.lookup", "fpm_stats[" + std::to_string(key) + "]", errno);
    for (const auto& c : per_cpu) {
      sum[key].packets += c.packets;
      sum[key].bytes += c.bytes;
    }
  }
  return sum;
}

XdpProgram::~XdpProgram() {
  mappings_.clear();
  if (!config_.keep_on_exit) {
    while (!links_.empty()) {
      if (auto s = detach(links_.begin()->first); !s) spdlog::warn("{}", s.error().to_string());
    }
    if (config_.pin && skel_) {
      bpf_map* m;
      bpf_object__for_each_map(m, skel_->obj) {
        if (!bpf_map__is_internal(m)) ::unlink((config_.pin_dir + "/" + bpf_map__name(m)).c_str());
      }
      ::rmdir(config_.pin_dir.c_str());  // only if empty: other pins are not ours
    }
  }
  links_.clear();
  if (skel_) fpm_xdp__destroy(skel_);
}

Status XdpProgram::unpin_all(const std::string& pin_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(pin_dir, ec)) return ok_status();
  for (const auto& entry : fs::directory_iterator(pin_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(kLinkPrefix)) {
      UniqueFd fd(bpf_obj_get(entry.path().c_str()));
      if (fd) bpf_link_detach(fd.get());
    }
    if (::unlink(entry.path().c_str()) != 0)
      return bpf_error("bpf.pin", "unlink " + entry.path().string(), errno);
  }
  if (::rmdir(pin_dir.c_str()) != 0 && errno != ENOENT)
    return bpf_error("bpf.pin", "rmdir " + pin_dir, errno);
  return ok_status();
}

}  // namespace fpm_sink
