// The value region of a BPF_F_MMAPABLE row map (bpf/lpm_common.h) as a span
// of u32 entries, for Lpm4Table / Lpm6Table. Call after the object is loaded.
#pragma once

#include <bpf/libbpf.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <utility>

#include "common/result.hpp"

namespace fpm_sink::lpm {

class MappedRows {
 public:
  static Result<MappedRows> map(const struct bpf_map* m) {
    const size_t bytes = size_t(bpf_map__value_size(m)) * bpf_map__max_entries(m);
    if (!(bpf_map__map_flags(m) & BPF_F_MMAPABLE) || bpf_map__value_size(m) % 4 != 0)
      return Error{"lpm.map", std::string(bpf_map__name(m)) + ": not an mmapable row map", EINVAL};
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(m), 0);
    if (p == MAP_FAILED)
      return Error{"lpm.map", std::string("mmap ") + bpf_map__name(m) + ": " + std::strerror(errno),
                   errno};
    return MappedRows(static_cast<uint32_t*>(p), bytes);
  }
  MappedRows(MappedRows&& o) noexcept : p_(std::exchange(o.p_, nullptr)), bytes_(o.bytes_) {}
  MappedRows& operator=(MappedRows&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ~MappedRows() {
    if (p_) munmap(p_, bytes_);
  }
  std::span<uint32_t> entries() const { return {p_, bytes_ / sizeof(uint32_t)}; }

 private:
  MappedRows(uint32_t* p, size_t bytes) : p_(p), bytes_(bytes) {}
  uint32_t* p_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace fpm_sink::lpm
