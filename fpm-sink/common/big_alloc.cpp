#include "common/big_alloc.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace fpm_sink {

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}

void* big_alloc(size_t bytes) {
  if (bytes < kHugePage) {
    const size_t len = (bytes + 63) & ~size_t{63};
    void* p = std::aligned_alloc(64, len);
    if (!p) throw std::bad_alloc();
    std::memset(p, 0, len);
    return p;
  }
  // Over-map by one huge page and trim, so the block starts on a 2 MiB boundary
  // and every whole 2 MiB of it can be a huge page.
  const size_t len = (bytes + 4095) & ~size_t{4095};
  void* raw =
      mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto base = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t start = (base + kHugePage - 1) & ~(kHugePage - 1);
  if (start > base) munmap(raw, start - base);
  const uintptr_t end = base + len + kHugePage;
  if (end > start + len) munmap(reinterpret_cast<void*>(start + len), end - (start + len));
  // Advice only: without THP the block still works with small pages.
  (void)madvise(reinterpret_cast<void*>(start), len, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(start);
}

void big_free(void* p, size_t bytes) {
  if (!p) return;
  if (bytes < kHugePage) {
    std::free(p);
    return;
  }
  munmap(p, (bytes + 4095) & ~size_t{4095});
}

}  // namespace fpm_sink
