// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The error policy of mmap_alloc over the platform's memory calls
// (platform/platform.h): one function per call (map, unmap, remap, protect,
// the advice, the page size). The OS calls themselves are platform's.
//
// Every function follows one error policy, so the layer above never has to
// look at errno values itself:
//   * Failures the caller must be able to survive (ENOMEM and its relatives:
//     out of memory, out of address space, too many mappings, a neighbour in
//     the way of an in-place resize) return nullptr / false with errno left
//     exactly as the kernel set it.
//   * Failures that can only mean a bug in the caller (EINVAL, EFAULT, ...)
//     are fatal ALLOC_CHECK failures naming the call, its arguments and the
//     errno.
//
// Arguments are NOT validated here beyond that: callers (mmap_alloc.cc) check
// alignment, zero lengths and overflow first, with better messages.
//
// All functions are thread-safe (the kernel serialises address-space changes)
// and never allocate, so they can run inside malloc.

#ifndef MMAP_ALLOC_INTERNAL_SYS_H_
#define MMAP_ALLOC_INTERNAL_SYS_H_

#include <cstddef>

namespace allocators {
namespace mmap_alloc {
namespace internal {

// Permission bits as passed to this layer. They have the values of
// mmap_alloc::Perm (mmap_alloc.cc static_asserts that), but are spelled out
// here so the OS layer does not depend on the public header.
inline constexpr unsigned kSysPermRead = 1;
inline constexpr unsigned kSysPermWrite = 2;
inline constexpr unsigned kSysPermExec = 4;
inline constexpr unsigned kSysPermAll =
    kSysPermRead | kSysPermWrite | kSysPermExec;

// sysconf(_SC_PAGESIZE). Not cached: mmap_alloc::PageSize() caches it.
size_t SysPageSize();

// Maps `len` bytes of fresh, zero-filled, private anonymous memory with the
// permissions of `perms` (kSysPerm* bits). With `populate`, asks the
// kernel to prefault the pages (MAP_POPULATE; best effort, as in the kernel).
// REQUIRES: len > 0 and a multiple of the page size.
// Returns the address, or nullptr with errno set (ENOMEM, EAGAIN, and also
// EPERM/EACCES when a security policy forbids the permissions).
void* SysMap(size_t len, unsigned perms, bool populate);

// Unmaps [p, p + len). Unmapped pages inside the range are fine.
// REQUIRES: p page-aligned, len > 0.
// ENOMEM (the range is part of a larger mapping, and splitting that would
// exceed vm.max_map_count) is survived: the pages are discarded instead
// (MADV_DONTNEED, which never splits), so their memory goes back to the
// system and only the address range stays mapped, and SysUnmapsRefused()
// counts the event. Freeing memory must not kill a process that is at its
// mapping limit. Any other failure is fatal.
void SysUnmap(void* p, size_t len);

// How many SysUnmap calls the kernel refused with ENOMEM, ever.
size_t SysUnmapsRefused();

// mremap(p, old_len, new_len) with MREMAP_MAYMOVE when `may_move`.
// REQUIRES: [p, p + old_len) is one mapping with uniform permissions, both
// lengths > 0 and page multiples.
// Returns the (possibly new) address, or nullptr with errno ENOMEM/EAGAIN
// (no room to grow in place, or no address space); the old mapping is then
// untouched. EINVAL while growing means the new length exceeds the address
// space and is reported as ENOMEM; otherwise EINVAL and EFAULT (range not one
// mapping) are fatal.
void* SysRemap(void* p, size_t old_len, size_t new_len, bool may_move);

// mprotect(p, len, perms). Returns false with errno set on ENOMEM (range not
// mapped, or too many mappings) and EACCES/EPERM (forbidden by policy);
// EINVAL is fatal.
bool SysProtect(void* p, size_t len, unsigned perms);

// madvise(MADV_WILLNEED). A hint: only EINVAL (misuse) is fatal. Other errors
// are ignored, because they are either "no swap to read ahead from" (EBADF on
// kernels built without swap) or transient.
void SysAdviseWillNeed(void* p, size_t len);

// madvise(MADV_DONTNEED): drops the pages; the next read of private anonymous
// memory sees zeros. Any failure is fatal (ENOMEM here means "not mapped").
void SysAdviseDontNeed(void* p, size_t len);

// madvise(MADV_HUGEPAGE). A hint: every failure is ignored (EINVAL when the
// kernel has no transparent huge pages).
void SysAdviseHugePage(void* p, size_t len);

// Best-effort prefault of [p, p + len) for a mapping with permissions
// `perms`: MADV_POPULATE_WRITE when writable, MADV_POPULATE_READ when only
// readable (Linux 5.14+). Falls back to MADV_WILLNEED when those are refused
// with EINVAL (older kernels, or permissions such as exec-only that cannot be
// populated). Errors are ignored, exactly as MAP_POPULATE ignores them: the
// memory stays valid and is faulted in on first touch instead.
void SysPopulate(void* p, size_t len, unsigned perms);

}  // namespace internal
}  // namespace mmap_alloc
}  // namespace allocators

#endif  // MMAP_ALLOC_INTERNAL_SYS_H_
