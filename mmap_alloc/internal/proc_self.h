// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Test helpers (testonly) that look at this process's address space from the
// outside: a parser for /proc/self/maps lines, readers for /proc/self/maps,
// smaps and statm, and a probe that tells whether an address is readable
// without touching it (so an unmapped address does not crash the test).
//
// The maps helpers read into one static buffer without allocating, so that a
// measurement such as TotalMappedBytes() before and after an Alloc() sees
// only the Alloc(): reading through malloc could itself map a new arena.
// Consequently they are NOT thread-safe; call them from one thread at a time.

#ifndef MMAP_ALLOC_INTERNAL_PROC_SELF_H_
#define MMAP_ALLOC_INTERNAL_PROC_SELF_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace allocators {
namespace mmap_alloc {
namespace internal {

// One line of /proc/<pid>/maps: "start-end perms offset dev inode [path]".
struct MapsEntry {
  uintptr_t start = 0;
  uintptr_t end = 0;   // one past the last byte
  char perms[5] = {};  // e.g. "rw-p", NUL-terminated
};

// Parses the mapping range and permissions at the start of `line` (which
// need not be NUL-terminated; `len` bytes are available). Returns false if
// the line does not have that shape, e.g. the "Rss: ..." lines of smaps.
bool ParseMapsLine(const char* line, size_t len, MapsEntry* out);

// Calls fn(const MapsEntry&) for every parsable line of `text[0, len)`.
template <typename Fn>
void ForEachMapsEntry(const char* text, size_t len, Fn fn) {
  size_t i = 0;
  while (i < len) {
    size_t j = i;
    while (j < len && text[j] != '\n') ++j;
    MapsEntry e;
    if (ParseMapsLine(text + i, j - i, &e)) fn(e);
    i = j + 1;
  }
}

// Reads /proc/self/maps and finds the mapping containing `addr`. Returns
// false if `addr` is not mapped. Allocation-free; not thread-safe.
bool FindMapping(const void* addr, MapsEntry* out);

// The permission string ("rw-p", "---p", ...) of the mapping containing
// `addr`, or "" if it is unmapped.
std::string PermsAt(const void* addr);

// The sum of the sizes of all mappings in /proc/self/maps. Allocation-free;
// not thread-safe.
size_t TotalMappedBytes();

// The "VmFlags:" value from /proc/self/smaps for the mapping containing
// `addr` (e.g. "rd wr mr mw me ac hg"), or "" if unmapped or not reported.
std::string VmFlagsAt(const void* addr);

// The resident set size from /proc/self/statm, in bytes.
size_t ResidentBytes();

// True if one byte at `p` can be read. Probed by write(2)-ing it into a pipe
// (the kernel reports EFAULT instead of delivering SIGSEGV), so it is safe on
// unmapped and PROT_NONE addresses. Thread-safe.
bool IsReadable(const void* p);

}  // namespace internal
}  // namespace mmap_alloc
}  // namespace allocators

#endif  // MMAP_ALLOC_INTERNAL_PROC_SELF_H_
