// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// MapAlloc: argument checking, page rounding and alignment on top of the OS
// layer in internal/sys.h. Nothing here allocates, so it is safe under malloc.

#include "mmap_alloc/mmap_alloc.h"

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "alloc_fmt/check.h"
#include "mmap_alloc/internal/map_failures.h"
#include "mmap_alloc/internal/sys.h"

namespace allocators {
namespace mmap_alloc {

static_assert(kPermRead == internal::kSysPermRead &&
                  kPermWrite == internal::kSysPermWrite &&
                  kPermExec == internal::kSysPermExec,
              "Perm and the OS layer's permission bits must agree");

namespace {

constexpr unsigned kPermAll = kPermRead | kPermWrite | kPermExec;

// No mapping can be larger than this: object sizes and pointer differences
// must fit in ptrdiff_t, and no 64-bit kernel offers that much address space
// anyway. Checking it ourselves turns absurd sizes into a quick ENOMEM
// instead of relying on each system call's overflow handling.
constexpr size_t kMaxMapBytes = static_cast<size_t>(PTRDIFF_MAX);

// The size from which the huge-page hint is given: one x86-64/arm64 PMD.
// Smaller mappings cannot hold an aligned huge page at all.
constexpr size_t kHugePageSize = size_t{2} << 20;

// The cached page size; 0 until first use. Constant-initialised so PageSize()
// works before any dynamic initialiser has run.
ABSL_CONST_INIT std::atomic<size_t> page_size_cache{0};

constexpr bool IsPowerOfTwo(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

// Rounds `size` up to a multiple of `page`. Returns false if the result would
// exceed kMaxMapBytes (which also rules out size_t overflow).
bool RoundToPages(size_t size, size_t page, size_t* out) {
  if (size > kMaxMapBytes) return false;
  // size <= PTRDIFF_MAX, so adding page - 1 cannot wrap a size_t.
  const size_t rounded = (size + page - 1) & ~(page - 1);
  if (rounded > kMaxMapBytes) return false;
  *out = rounded;
  return true;
}

// The failure return of every allocating path: errno = ENOMEM, as the kernel
// would set it, so callers such as malloc can pass it on.
void* NoMemory() {
  errno = ENOMEM;
  return nullptr;
}

bool NoMemoryBool() {
  errno = ENOMEM;
  return false;
}

// Checks the arguments every operation on an existing block shares and
// returns the page-rounded length. `op` names the operation in the message,
// e.g. "mmap_alloc: Dealloc of zero length".
size_t CheckBlock(const char* op, const void* p, size_t size) {
  const size_t page = PageSize();
  ALLOC_CHECK(p != nullptr, "mmap_alloc: %s of null pointer", op);
  ALLOC_CHECK((reinterpret_cast<uintptr_t>(p) & (page - 1)) == 0,
              "mmap_alloc: %s of unaligned pointer %p (page size %zu)", op, p,
              page);
  ALLOC_CHECK(size != 0, "mmap_alloc: %s of zero length", op);
  size_t rounded = 0;
  ALLOC_CHECK(RoundToPages(size, page, &rounded),
              "mmap_alloc: %s length %zu is too large to be a mapping", op,
              size);
  return rounded;
}

}  // namespace

size_t UnmapsRefused() { return internal::SysUnmapsRefused(); }

size_t PageSize() {
  size_t page = page_size_cache.load(std::memory_order_relaxed);
  if (ABSL_PREDICT_FALSE(page == 0)) {
    // Racing first callers all store the same value, so relaxed is enough.
    page = internal::SysPageSize();
    page_size_cache.store(page, std::memory_order_relaxed);
  }
  return page;
}

// --- MapAllocBuilder ---------------------------------------------------------

MapAllocBuilder& MapAllocBuilder::read(bool on) {
  perms_ = on ? (perms_ | kPermRead) : (perms_ & ~unsigned{kPermRead});
  return *this;
}

MapAllocBuilder& MapAllocBuilder::write(bool on) {
  perms_ = on ? (perms_ | kPermWrite) : (perms_ & ~unsigned{kPermWrite});
  return *this;
}

MapAllocBuilder& MapAllocBuilder::exec(bool on) {
  perms_ = on ? (perms_ | kPermExec) : (perms_ & ~unsigned{kPermExec});
  return *this;
}

MapAllocBuilder& MapAllocBuilder::perms(unsigned perm_mask) {
  ALLOC_CHECK((perm_mask & ~kPermAll) == 0,
              "mmap_alloc: permission mask 0x%x has bits other than R, W, X",
              perm_mask);
  perms_ = perm_mask;
  return *this;
}

MapAllocBuilder& MapAllocBuilder::commit(bool on) {
  commit_ = on;
  return *this;
}

MapAllocBuilder& MapAllocBuilder::huge_pages(bool on) {
  huge_pages_ = on;
  return *this;
}

MapAllocBuilder& MapAllocBuilder::obj_size(size_t size) {
  obj_size_ = size;
  obj_size_set_ = true;
  return *this;
}

MapAllocBuilder& MapAllocBuilder::obj_align(size_t align) {
  obj_align_ = align;
  obj_align_set_ = true;
  return *this;
}

MapAlloc MapAllocBuilder::Build() const { return MapAlloc(*this); }

// --- MapAlloc ----------------------------------------------------------------

MapAlloc::MapAlloc() : MapAlloc(MapAllocBuilder()) {}

MapAlloc::MapAlloc(const MapAllocBuilder& b)
    : perms_(b.perms_),
      commit_(b.commit_),
      huge_pages_(b.huge_pages_),
      obj_size_(b.obj_size_set_ ? b.obj_size_ : PageSize()),
      obj_align_(b.obj_align_set_ ? b.obj_align_ : PageSize()) {
  const size_t page = PageSize();
  ALLOC_CHECK(obj_size_ != 0, "mmap_alloc: obj_size must not be zero");
  ALLOC_CHECK(obj_size_ % page == 0,
              "mmap_alloc: obj_size %zu is not a multiple of the page size "
              "%zu",
              obj_size_, page);
  ALLOC_CHECK(IsPowerOfTwo(obj_align_),
              "mmap_alloc: obj_align %zu is not a power of two", obj_align_);
  // Small alignments are implied by page alignment. Large ones must divide
  // the size, as in the original, so that an array of objects carved from one
  // mapping would keep every object aligned.
  ALLOC_CHECK(obj_align_ <= page || obj_size_ % obj_align_ == 0,
              "mmap_alloc: obj_size %zu is not a multiple of obj_align %zu",
              obj_size_, obj_align_);
}

void* MapAlloc::Alloc(size_t size, size_t align) const {
  ALLOC_CHECK(size != 0, "mmap_alloc: Alloc of zero length");
  ALLOC_CHECK(align == 0 || IsPowerOfTwo(align),
              "mmap_alloc: Alloc alignment %zu is not a power of two", align);
  const size_t page = PageSize();
  size_t rounded = 0;
  if (!RoundToPages(size, page, &rounded)) return NoMemory();
  // Over-mapping by align - page bytes always leaves room for an aligned
  // block: the kernel returns a page-aligned base, so the distance to the
  // next multiple of `align` is at most align - page.
  const size_t slack = align > page ? align - page : 0;
  if (slack > kMaxMapBytes - rounded) return NoMemory();
  if (internal::ConsumeMapFailure()) return NoMemory();

  const bool hint_huge = huge_pages_ && rounded >= kHugePageSize;
  if (slack == 0) {
    // MAP_POPULATE would fault the pages in before the huge-page hint could
    // apply, so in that case populate after advising instead.
    const bool populate_on_map = commit_ && !hint_huge;
    void* p = internal::SysMap(rounded, perms_, populate_on_map);
    if (p == nullptr) return nullptr;  // errno from mmap
    if (hint_huge) {
      internal::SysAdviseHugePage(p, rounded);
      if (commit_) internal::SysPopulate(p, rounded, perms_);
    }
    return p;
  }

  // Large alignment: map uncommitted (so the slack never gets backed), trim
  // the unaligned head and tail, then commit only what is returned.
  char* const base =
      static_cast<char*>(internal::SysMap(rounded + slack, perms_, false));
  if (base == nullptr) return nullptr;  // errno from mmap
  const uintptr_t base_addr = reinterpret_cast<uintptr_t>(base);
  const uintptr_t aligned_addr = (base_addr + align - 1) & ~(align - 1);
  const size_t head = aligned_addr - base_addr;
  const size_t tail = slack - head;
  char* const aligned = base + head;
  // Trimming the ends of a fresh mapping never splits it, so these cannot
  // fail with ENOMEM (too many mappings).
  if (head != 0) internal::SysUnmap(base, head);
  if (tail != 0) internal::SysUnmap(aligned + rounded, tail);
  if (hint_huge) internal::SysAdviseHugePage(aligned, rounded);
  if (commit_) internal::SysPopulate(aligned, rounded, perms_);
  return aligned;
}

void* MapAlloc::AllocZeroed(size_t size, size_t align) const {
  // Fresh anonymous mappings are always zero-filled.
  return Alloc(size, align);
}

void MapAlloc::Dealloc(void* p, size_t size) const {
  const size_t rounded = CheckBlock("Dealloc", p, size);
  internal::SysUnmap(p, rounded);
}

void* MapAlloc::Realloc(void* p, size_t old_size, size_t new_size) const {
  const size_t old_rounded = CheckBlock("Realloc", p, old_size);
  ALLOC_CHECK(new_size != 0, "mmap_alloc: Realloc to zero length");
  size_t new_rounded = 0;
  if (!RoundToPages(new_size, PageSize(), &new_rounded)) return NoMemory();
  if (new_rounded == old_rounded) return p;
  if (new_rounded > old_rounded && internal::ConsumeMapFailure()) {
    return NoMemory();
  }
  // On failure mremap leaves the old mapping as it was, as promised.
  return internal::SysRemap(p, old_rounded, new_rounded, /*may_move=*/true);
}

bool MapAlloc::GrowInPlace(void* p, size_t old_size, size_t new_size) const {
  const size_t old_rounded = CheckBlock("GrowInPlace", p, old_size);
  ALLOC_CHECK(new_size >= old_size,
              "mmap_alloc: GrowInPlace to a smaller size (%zu < %zu)", new_size,
              old_size);
  size_t new_rounded = 0;
  if (!RoundToPages(new_size, PageSize(), &new_rounded)) return NoMemoryBool();
  if (new_rounded == old_rounded) return true;
  if (internal::ConsumeMapFailure()) return NoMemoryBool();
  return internal::SysRemap(p, old_rounded, new_rounded, /*may_move=*/false) !=
         nullptr;
}

bool MapAlloc::ShrinkInPlace(void* p, size_t old_size, size_t new_size) const {
  const size_t old_rounded = CheckBlock("ShrinkInPlace", p, old_size);
  ALLOC_CHECK(new_size != 0, "mmap_alloc: ShrinkInPlace to zero length");
  ALLOC_CHECK(new_size <= old_size,
              "mmap_alloc: ShrinkInPlace to a larger size (%zu > %zu)",
              new_size, old_size);
  // new_size <= old_size, whose rounding CheckBlock() has validated.
  size_t new_rounded = 0;
  RoundToPages(new_size, PageSize(), &new_rounded);
  if (new_rounded == old_rounded) return true;
  return internal::SysRemap(p, old_rounded, new_rounded, /*may_move=*/false) !=
         nullptr;
}

void MapAlloc::Commit(void* p, size_t size) const {
  const size_t rounded = CheckBlock("Commit", p, size);
  internal::SysAdviseWillNeed(p, rounded);
}

void MapAlloc::Uncommit(void* p, size_t size) const {
  const size_t rounded = CheckBlock("Uncommit", p, size);
  internal::SysAdviseDontNeed(p, rounded);
}

bool MapAlloc::Protect(void* p, size_t size, unsigned perm_mask) const {
  const size_t rounded = CheckBlock("Protect", p, size);
  ALLOC_CHECK((perm_mask & ~kPermAll) == 0,
              "mmap_alloc: permission mask 0x%x has bits other than R, W, X",
              perm_mask);
  return internal::SysProtect(p, rounded, perm_mask);
}

size_t MapAlloc::UsableSize(size_t size) const {
  size_t rounded = 0;
  ALLOC_CHECK(RoundToPages(size, PageSize(), &rounded),
              "mmap_alloc: UsableSize of %zu, larger than any mapping", size);
  return rounded;
}

}  // namespace mmap_alloc
}  // namespace allocators
