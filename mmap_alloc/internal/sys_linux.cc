// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Linux implementation of mmap_alloc/internal/sys.h. See that header for the
// error policy; this file only maps errno values onto it.

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>

#include "alloc_fmt/check.h"
#include "mmap_alloc/internal/sys.h"

// The populate advice values are part of the kernel ABI (Linux 5.14). Older C
// libraries do not name them; the kernel answers EINVAL if it does not know
// them either, which SysPopulate() handles.
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

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

int ToProt(unsigned perms) {
  ALLOC_CHECK((perms & ~kSysPermAll) == 0,
              "mmap_alloc: permission mask 0x%x has bits other than R, W, X",
              perms);
  int prot = PROT_NONE;
  if (perms & kSysPermRead) prot |= PROT_READ;
  if (perms & kSysPermWrite) prot |= PROT_WRITE;
  if (perms & kSysPermExec) prot |= PROT_EXEC;
  return prot;
}

// The errno values that mean "the system said no", as opposed to "the caller
// asked for something impossible".
bool IsResourceError(int err) { return err == ENOMEM || err == EAGAIN; }

}  // namespace

size_t SysPageSize() {
  // glibc answers from the auxiliary vector: no allocation, no system call,
  // so this is safe before main and inside malloc.
  const long page = sysconf(_SC_PAGESIZE);
  ALLOC_CHECK(page > 0 && (page & (page - 1)) == 0,
              "mmap_alloc: sysconf(_SC_PAGESIZE) returned %ld", page);
  return static_cast<size_t>(page);
}

void* SysMap(size_t len, unsigned perms, bool populate) {
  int flags = MAP_PRIVATE | MAP_ANONYMOUS;
  if (populate) flags |= MAP_POPULATE;
  void* p = mmap(nullptr, len, ToProt(perms), flags, -1, 0);
  if (p != MAP_FAILED) {
    // Without MAP_FIXED the kernel never picks page 0 (mmap_min_addr), and a
    // null result would be indistinguishable from failure to our callers.
    ALLOC_CHECK(p != nullptr, "mmap_alloc: mmap returned address 0");
    return p;
  }
  const int err = errno;
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
  const int saved = errno;
  if (munmap(p, len) == 0) return;
  const int err = errno;
  ALLOC_CHECK(err == ENOMEM,
              "mmap_alloc: munmap(%p, %zu) failed: errno %d (%s)", p, len, err,
              ErrnoName(err));
  // At vm.max_map_count, unmapping the middle of a mapping is refused (it
  // would split it in two). Discarding the pages releases the memory all
  // the same; the range stays mapped, zero-filled on the next touch.
  const int rc = madvise(p, len, MADV_DONTNEED);
  const int advise_err = errno;
  ALLOC_CHECK(rc == 0,
              "mmap_alloc: munmap(%p, %zu) refused (ENOMEM) and "
              "madvise(MADV_DONTNEED) failed: errno %d (%s)",
              p, len, advise_err, ErrnoName(advise_err));
  unmaps_refused.fetch_add(1, std::memory_order_relaxed);
  errno = saved;
}

size_t SysUnmapsRefused() {
  return unmaps_refused.load(std::memory_order_relaxed);
}

void* SysRemap(void* p, size_t old_len, size_t new_len, bool may_move) {
  void* q = mremap(p, old_len, new_len, may_move ? MREMAP_MAYMOVE : 0);
  if (q != MAP_FAILED) return q;
  int err = errno;
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
  if (mprotect(p, len, ToProt(perms)) == 0) return true;
  const int err = errno;
  ALLOC_CHECK(IsResourceError(err) || err == EPERM || err == EACCES,
              "mmap_alloc: mprotect(%p, %zu, 0x%x) failed: errno %d (%s)", p,
              len, perms, err, ErrnoName(err));
  errno = err;
  return false;
}

void SysAdviseWillNeed(void* p, size_t len) {
  const int saved = errno;  // a hint must not disturb errno
  if (madvise(p, len, MADV_WILLNEED) != 0) {
    const int err = errno;
    ALLOC_CHECK(err != EINVAL,
                "mmap_alloc: madvise(%p, %zu, MADV_WILLNEED) failed: errno %d "
                "(%s)",
                p, len, err, ErrnoName(err));
  }
  errno = saved;
}

void SysAdviseDontNeed(void* p, size_t len) {
  if (madvise(p, len, MADV_DONTNEED) == 0) return;
  const int err = errno;
  ALLOC_CHECK(false,
              "mmap_alloc: madvise(%p, %zu, MADV_DONTNEED) failed: errno %d "
              "(%s); is the range mapped and not locked?",
              p, len, err, ErrnoName(err));
}

void SysAdviseHugePage(void* p, size_t len) {
  const int saved = errno;
  // Ignored on purpose: EINVAL means no transparent huge pages, and the
  // mapping is just as valid without the hint.
  (void)madvise(p, len, MADV_HUGEPAGE);
  errno = saved;
}

void SysPopulate(void* p, size_t len, unsigned perms) {
  const int saved = errno;
  int rc = 0;
  if (perms & kSysPermWrite) {
    rc = madvise(p, len, MADV_POPULATE_WRITE);
  } else if (perms & kSysPermRead) {
    rc = madvise(p, len, MADV_POPULATE_READ);
  } else {
    // Nothing the kernel would populate (PROT_NONE, exec-only); MAP_POPULATE
    // does not populate these either.
    rc = -1;
    errno = EINVAL;
  }
  if (rc != 0 && errno == EINVAL) {
    // Pre-5.14 kernel, or permissions the populate advice refuses. The hint
    // is the most we can do without touching the memory ourselves (which
    // would fault on write-only or inaccessible pages).
    (void)madvise(p, len, MADV_WILLNEED);
  }
  // Other failures (ENOMEM under memory pressure, EINTR, EFAULT/EHWPOISON)
  // are ignored: the pages stay valid and fault in on first touch, which is
  // exactly what MAP_POPULATE does when it cannot prefault.
  errno = saved;
}

}  // namespace internal
}  // namespace mmap_alloc
}  // namespace allocators
