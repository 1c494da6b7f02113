// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The hardened build (Config::kHardened, libelfmalloc-secure.so): every
// defence it adds over the default build, in one place.
//
// * A process secret, random, set when the first heap is built.
// * Thread-cache pointers are stored XORed with the secret, so a stray
//   write into a cache cannot plant a chosen pointer (EncodeCached).
// * Reuse order is random: a cache pops one of its top 8 entries
//   (HardenedPop), and a slag hands out a random object of its current
//   bitset word (AllocIter::NextRandom, with SecureRandomStep).
// * Every object popped from a cache is checked to be an object of the
//   cache's class before it is handed out (CheckCachedObject).
// * Every small object ends in an 8-byte canary (the secret XOR its
//   address), written when it is handed out and checked when it is freed
//   or reallocated; a freed object is zeroed at once, and its first cache
//   line must still be zero when it is handed out again. So a write past
//   the usable size, a double free (the second free finds a zeroed canary,
//   even across threads), realloc of a freed block and a write after free
//   are fatal with a one-line message.
// * A page that becomes a slag of another class is cleared up to the
//   largest header first, so its objects read as zero (ClassPool::
//   secure_clear_bytes, slag.cc).
// * Guard pages: every slag ends in an inaccessible page (the heap's
//   PageAllocOptions::guard_bytes) and every large object is followed by
//   one (large_alloc.h), and freed large blocks are never cached.
//
// The default build compiles all of it out: each hook below is behind
// `if constexpr (kHardened)` or is only called from such a branch.
//
// Thread-safety: the secret is written once, before any hardened cache
// exists; everything else is pure or works on memory the caller owns.

#ifndef ELFMALLOC_INTERNAL_HARDENING_H_
#define ELFMALLOC_INTERNAL_HARDENING_H_

#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "elfmalloc/internal/slag.h"
#include "elfmalloc/size_classes.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// The process secret: the key of the encoded cache pointers, of the
// canaries and of the default build's freed marks (freed_mark.h). 0 until
// the first heap that needs it is built (InitSecret).
inline uint64_t g_secure_key = 0;

// Sets g_secure_key to 64 random bits (odd, so never 0) once per process:
// the OS's random bytes, or the clock and an address if the OS has none to
// give yet. Thread-safe; returns once the secret is set.
void InitSecret();

// Thread-cache pointers as stored: XORed with the secret when hardened.
template <bool kHardened>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void* EncodeCached(void* p) {
  if constexpr (!kHardened) {
    return p;
  } else {
    return reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(p) ^
                                   g_secure_key);
  }
}
template <bool kHardened>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void* DecodeCached(void* p) {
  return EncodeCached<kHardened>(p);
}

// Cheap randomness for the reuse order: a xorshift32 step on `*state`,
// which starts at 0 and is then seeded from the secret and `salt` (the
// owner's address, so that threads' sequences differ). Not a cryptographic
// generator; the order only has to be unpredictable to code that cannot
// read the heap's memory.
inline uint32_t SecureRandomStep(uint32_t* state, const void* salt) {
  uint32_t x = *state;
  if (x == 0) {
    x = static_cast<uint32_t>(g_secure_key ^
                              (reinterpret_cast<uintptr_t>(salt) >> 4)) |
        1;
  }
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *state = x;
  return x;
}

// Pops a random one of the top 8 entries of the stack [stack, stack +
// *top) (all of them if fewer), decoded. REQUIRES: *top > 0, the entries
// are encoded.
inline void* HardenedPop(void** stack, uint32_t* top, uint32_t* rng,
                         const void* salt) {
  const uint32_t x = SecureRandomStep(rng, salt);
  const uint32_t n = *top;
  const uint32_t pick = n >= 8 ? n - 1 - (x & 7) : n - 1 - x % n;
  void* const chosen = stack[pick];
  stack[pick] = stack[--*top];
  return DecodeCached<true>(chosen);
}

// Fatal ("corrupted thread cache entry") unless `p`, taken from a cache of
// `pool`, is an object start of that class; checked without touching the
// slag, whose header line is usually cold.
void CheckCachedObject(const ClassPool& pool, const void* p);

// --- Canaries --------------------------------------------------------------

// The bytes at the end of every small object that hold its canary (not
// usable by the program).
template <bool kHardened>
inline constexpr size_t kCanaryBytes = kHardened ? sizeof(uint64_t) : 0;

// For object `p` of class c, just handed out: fatal ("write after free")
// unless its first cache line (or all of it, if smaller) is still zero as
// the free left it; then writes its canary.
void CanaryOnAlloc(size_t c, void* p);

// Fatal unless p's canary is intact: "<fn>(): <freed_what> <p>" if it is
// zero (an earlier free zeroed the object: "double free of", "freed
// pointer"), "<fn>(): heap overflow detected <p>" otherwise.
void CanaryCheckLive(size_t c, void* p, const char* fn, const char* freed_what);

// CanaryCheckLive as a double free, then zeroes the object.
void CanaryOnFree(size_t c, void* p, const char* fn);

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_HARDENING_H_
