// Memory for large tables (route indexes, the LPM control copy): huge-page
// backed (MADV_HUGEPAGE) from 2 MiB up, so a table of a million routes costs
// a few hundred page faults and TLB misses instead of hundreds of thousands.
// On a VM one 4 KiB fault costs microseconds, more than the rest of a route.
#pragma once

#include <cstddef>
#include <new>

namespace fpm_sink {

// Zeroed memory: from mmap, 2 MiB aligned, with MADV_HUGEPAGE when at least
// 2 MiB; from aligned_alloc (64-byte aligned) below. Throws std::bad_alloc.
void* big_alloc(size_t bytes);
void big_free(void* p, size_t bytes);

// An allocator for standard and Abseil containers backed by big_alloc.
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}
  T* allocate(size_t n) { return static_cast<T*>(big_alloc(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { big_free(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace fpm_sink
