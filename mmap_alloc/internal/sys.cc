// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// mmap_alloc/internal/sys.h over the platform contract: the OS calls are
// platform's; this file decides which of their errors are fatal.

#include "mmap_alloc/internal/sys.h"

#include <atomic>
#include <cerrno>
#include <cstddef>

#include "alloc_fmt/check.h"
#include "platform/platform.h"

namespace allocators {
namespace mmap_alloc {
namespace internal {
namespace {

// A name for the errno values these calls can produce. strerror() is not used
// because it may allocate (for unknown values) and is not async-signal-safe.
const char* ErrnoName(int err) {
  switch (err) {
    case ENOMEM:
      return "ENOMEM";
    case EINVAL:
      return "EINVAL";
    case EFAULT:
      return "EFAULT";
    case EAGAIN:
      return "EAGAIN";
    case EPERM:
      return "EPERM";
    case EACCES:
      return "EACCES";
    case EBADF:
      return "EBADF";
    case EINTR:
      return "EINTR";
    default:
      return "unexpected errno";
  }
}

unsigned CheckedPerms(unsigned perms) {
  ALLOC_CHECK((perms & ~kSysPermAll) == 0,
              "mmap_alloc: permission mask 0x%x has bits other than R, W, X",
              perms);
  return perms;
}

static_assert(kSysPermRead == platform::kPermRead &&
                  kSysPermWrite == platform::kPermWrite &&
                  kSysPermExec == platform::kPermExec,
              "the permission bits pass through unchanged");

// The errno values that mean "the system said no", as opposed to "the caller
// asked for something impossible".
bool IsResourceError(int err) { return err == ENOMEM || err == EAGAIN; }

}  // namespace

size_t SysPageSize() {
  const size_t page = platform::PageSize();
  ALLOC_CHECK(page > 0 && (page & (page - 1)) == 0,
              "mmap_alloc: the OS page size is %zu", page);
  return page;
}

void* SysMap(size_t len, unsigned perms, bool populate) {
  void* p = nullptr;
  const int err = platform::Map(len, CheckedPerms(perms), populate, &p);
  if (err == 0) {
    // The kernel never picks page 0 (mmap_min_addr), and a null result
    // would be indistinguishable from failure to our callers.
    ALLOC_CHECK(p != nullptr, "mmap_alloc: mmap returned address 0");
    return p;
  }
  // EPERM/EACCES: a security policy (SELinux execmem, PaX, seccomp) refused
  // the permissions. Not a bug in the caller, so report it like exhaustion.
  ALLOC_CHECK(IsResourceError(err) || err == EPERM || err == EACCES,
              "mmap_alloc: mmap(len %zu, perms 0x%x) failed: errno %d (%s)",
              len, perms, err, ErrnoName(err));
  errno = err;
  return nullptr;
}

namespace {

// Constant-initialised: SysUnmap may run before main.
std::atomic<size_t> unmaps_refused{0};

}  // namespace

void SysUnmap(void* p, size_t len) {
  const int err = platform::Unmap(p, len);
  if (err == 0) return;
  ALLOC_CHECK(err == ENOMEM,
              "mmap_alloc: munmap(%p, %zu) failed: errno %d (%s)", p, len, err,
              ErrnoName(err));
  // At vm.max_map_count, unmapping the middle of a mapping is refused (it
  // would split it in two). Discarding the pages releases the memory all
  // the same; the range stays mapped, zero-filled on the next touch.
  const int advise_err = platform::Advise(p, len, platform::Advice::kDontNeed);
  ALLOC_CHECK(advise_err == 0,
              "mmap_alloc: munmap(%p, %zu) refused (ENOMEM) and "
              "madvise(MADV_DONTNEED) failed: errno %d (%s)",
              p, len, advise_err, ErrnoName(advise_err));
  unmaps_refused.fetch_add(1, std::memory_order_relaxed);
}

size_t SysUnmapsRefused() {
  return unmaps_refused.load(std::memory_order_relaxed);
}

void* SysRemap(void* p, size_t old_len, size_t new_len, bool may_move) {
  void* q = nullptr;
  int err = platform::Remap(p, old_len, new_len, may_move, &q);
  if (err == 0) return q;
  // A growth beyond the size of the user address space is refused with
  // EINVAL rather than ENOMEM (mmap says ENOMEM for the same request). The
  // caller has already checked alignment and lengths, so when growing, EINVAL
  // can only mean "too large": report it as the exhaustion it is.
  if (err == EINVAL && new_len > old_len) err = ENOMEM;
  ALLOC_CHECK(IsResourceError(err),
              "mmap_alloc: mremap(%p, %zu, %zu) failed: errno %d (%s); is the "
              "block one mapping with the same permissions throughout?",
              p, old_len, new_len, err, ErrnoName(err));
  errno = err;
  return nullptr;
}

bool SysProtect(void* p, size_t len, unsigned perms) {
  const int err = platform::Protect(p, len, CheckedPerms(perms));
  if (err == 0) return true;
  ALLOC_CHECK(IsResourceError(err) || err == EPERM || err == EACCES,
              "mmap_alloc: mprotect(%p, %zu, 0x%x) failed: errno %d (%s)", p,
              len, perms, err, ErrnoName(err));
  errno = err;
  return false;
}

void SysAdviseWillNeed(void* p, size_t len) {
  const int err = platform::Advise(p, len, platform::Advice::kWillNeed);
  ALLOC_CHECK(err != EINVAL,
              "mmap_alloc: madvise(%p, %zu, MADV_WILLNEED) failed: errno %d "
              "(%s)",
              p, len, err, ErrnoName(err));
}

void SysAdviseDontNeed(void* p, size_t len) {
  const int err = platform::Advise(p, len, platform::Advice::kDontNeed);
  if (err == 0) return;
  ALLOC_CHECK(false,
              "mmap_alloc: madvise(%p, %zu, MADV_DONTNEED) failed: errno %d "
              "(%s); is the range mapped and not locked?",
              p, len, err, ErrnoName(err));
}

void SysAdviseHugePage(void* p, size_t len) {
  // Ignored on purpose: EINVAL means no transparent huge pages, and the
  // mapping is just as valid without the hint.
  (void)platform::Advise(p, len, platform::Advice::kHugePage);
}

void SysPopulate(void* p, size_t len, unsigned perms) {
  int err = EINVAL;
  if (perms & kSysPermWrite) {
    err = platform::Advise(p, len, platform::Advice::kPopulateWrite);
  } else if (perms & kSysPermRead) {
    err = platform::Advise(p, len, platform::Advice::kPopulateRead);
  }
  // Otherwise nothing the kernel would populate (PROT_NONE, exec-only);
  // MAP_POPULATE does not populate these either.
  if (err == EINVAL) {
    // Pre-5.14 kernel, or permissions the populate advice refuses. The hint
    // is the most we can do without touching the memory ourselves (which
    // would fault on write-only or inaccessible pages).
    (void)platform::Advise(p, len, platform::Advice::kWillNeed);
  }
  // Other failures (ENOMEM under memory pressure, EINTR, EFAULT/EHWPOISON)
  // are ignored: the pages stay valid and fault in on first touch, which is
  // exactly what MAP_POPULATE does when it cannot prefault.
}

}  // namespace internal
}  // namespace mmap_alloc
}  // namespace allocators
