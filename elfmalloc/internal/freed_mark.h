// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The freed mark: how the default build (Config::kChecks, not hardened)
// recognises a second free of a small block that is still free.
//
// A free checks the block's first word against FreedMark(p) and stores the
// mark there; an allocation stores zero there before it hands the block
// out. A block that is free, wherever it waits (a thread's cache, another
// thread's cache, its slag's bitset), therefore starts with its mark, and
// a live block does not, so the second free finds the mark and is fatal,
// whatever was freed in between and whichever thread freed it first.
// This is glibc's tcache key, with two changes:
//   * The mark is the process secret XOR the block's address. A program
//     cannot produce it by storing a pointer, since the secret is odd and
//     blocks are 8-aligned, so it is never an aligned address. It cannot
//     produce it by copying a freed block's bytes to another address
//     either. So the mark is taken as proof and needs no search of the
//     caches.
//   * The mark does not depend on the thread, so a free on another thread
//     is caught too.
// Costs: one load, one compare and one store per free, on the block's
// first line, and one store per allocation, on the line the program is
// about to write.
//
// What stays undetectable: a stale pointer freed after its block was
// handed out again (the mark was cleared for the new owner); and two
// threads freeing one block at the same instant. Hardened builds do not use
// the mark: they zero freed blocks and check their canaries instead
// (hardening.h).
//
// Thread-safety: the secret is written once, before the first allocation;
// the mark is read and written only by the thread freeing or allocating
// the block.

#ifndef ELFMALLOC_INTERNAL_FREED_MARK_H_
#define ELFMALLOC_INTERNAL_FREED_MARK_H_

#include <cstdint>
#include <cstring>

#include "absl/base/attributes.h"
#include "elfmalloc/internal/hardening.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// The first word of free small block `p`. REQUIRES: InitSecret() ran.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint64_t FreedMark(const void* p) {
  return g_secure_key ^ reinterpret_cast<uintptr_t>(p);
}

// True if block `p` starts with its freed mark.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool HasFreedMark(const void* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  return w == FreedMark(p);
}

// Marks block `p` free.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void SetFreedMark(void* p) {
  const uint64_t mark = FreedMark(p);
  std::memcpy(p, &mark, sizeof(mark));
}

// Clears the mark of block `p`, which is being handed out.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void ClearFreedMark(void* p) {
  const uint64_t zero = 0;
  std::memcpy(p, &zero, sizeof(zero));
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_FREED_MARK_H_
