// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// elfmalloc: a scalable multi-threaded general-purpose allocator.
//
//   #include "elfmalloc/elfmalloc.h"
//   void* p = allocators::elfmalloc::Alloc(100);
//   p = allocators::elfmalloc::Realloc(p, 1000);
//   allocators::elfmalloc::Free(p);
//
// Link `//elfmalloc` for the default build (MagazineCache front-end),
// `//elfmalloc:elfmalloc_local` for the LocalCache one ("elfmalloc-l") or
// `//elfmalloc:elfmalloc_secure` for the hardened one; a program links one
// of them (two are a duplicate-symbol error at link time). The C malloc
// symbols come from //elfmalloc:malloc (and its _local, _secure variants).
//
// Semantics follow C's malloc family where they overlap:
// * Allocation failure returns nullptr with errno ENOMEM; nothing aborts.
// * Alloc(0) returns a unique, freeable pointer.
// * Objects of 16 bytes or more are 16-byte aligned; smaller ones 8.
// * Free(nullptr) is a no-op. Freeing a pointer elfmalloc did not hand out
//   (foreign, interior) aborts with one line: "elfmalloc: free(): invalid
//   pointer 0x...". A double free is reported as "double free of 0x..."
//   when the object is the one the thread freed last (held back from reuse
//   until the next free, so allocations between do not hide it), when it
//   reaches the object's slag bitset, or for a large object freed lately.
//
// Thread-safety: every function is thread-safe and async-signal-unsafe.

#ifndef ELFMALLOC_ELFMALLOC_H_
#define ELFMALLOC_ELFMALLOC_H_

#include <cstddef>
#include <cstdint>

namespace allocators {
namespace elfmalloc {

// At least `size` bytes; nullptr (errno ENOMEM) on exhaustion.
void* Alloc(size_t size);

// Alloc whose first `size` bytes read as zero (calloc without the
// multiplication). Memory fresh from the OS is not written, so a large
// object's untouched pages cost no memory.
void* AllocZeroed(size_t size);

// At least `size` bytes aligned to `align`. Every power of two is honoured
// for every size (including align > size). Returns nullptr with errno
// EINVAL if align is not a power of two, ENOMEM on exhaustion.
void* AlignedAlloc(size_t size, size_t align);

// Frees `p` from Alloc/AlignedAlloc/Realloc/AlignedRealloc (nullptr: no-op).
void Free(void* p);

// Frees `p` (nullptr: no-op), which the caller says was allocated with
// `size` bytes (0: not given) aligned to `align` (0: not given), as C23's
// free_sized and C++'s sized delete do. A size or alignment p cannot have
// been allocated with is fatal: "elfmalloc: <fn>(): size mismatch 0x...".
// Sizes that Realloc kept the block for are accepted.
void FreeSized(void* p, size_t size, size_t align, const char* fn);

// Resizes: Realloc(nullptr, n) = Alloc(n); Realloc(p, 0) frees p and returns
// nullptr (glibc's behaviour); otherwise returns a block of at least `size`
// bytes holding p's contents (p itself when it already fits and is not much
// too large). On failure returns nullptr (errno ENOMEM) and p is untouched.
void* Realloc(void* p, size_t size);

// Realloc that also guarantees `align` (a power of two; else nullptr and
// EINVAL with p untouched).
void* AlignedRealloc(void* p, size_t size, size_t align);

// The number of usable bytes at `p` (>= the size asked for); 0 for nullptr.
size_t UsableSize(const void* p);

// What a block is, from its address alone (the original's layout lookup).
struct BlockLayout {
  size_t size;        // usable bytes: UsableSize(p)
  size_t align;       // a power of two p is aligned to, at least the
                      // alignment it was asked for when that was at most
                      // its class's (or, outside the classes, the page's)
  size_t size_class;  // its class (see GetClassStats), or ClassCount() for
                      // a large or sampled block
};
// The layout of block `p`, which FreeSized(p, size, align) accepts. All
// zero but size_class = ClassCount() for nullptr. A pointer elfmalloc did
// not hand out is fatal, as for UsableSize.
BlockLayout Layout(const void* p);

// Returns the calling thread's cached objects to the shared pools and gives
// every free page's memory back to the OS now, except the few pages other
// live threads keep for their own next use (at most 2 MiB of small pages
// and one 2 MiB page each, kept after they trimmed idle caches). True if
// any memory went back.
bool Release();

// Testing hook: checks elfmalloc's internal invariants (the calling
// thread's caches, the page allocators' counts against their bags, every
// available slag's header and bitset, the large-object registry, per-class
// counters; internal/heap.h) and returns true; on a violation it aborts
// with one line, "elfmalloc: invariant violated: <what>".
// REQUIRES: no other thread allocates or frees while it runs (they may
// exist); the caller holds no elfmalloc lock (it is not called from inside
// the allocator).
bool CheckInvariants();

// Free pages unused for `ms` milliseconds give their memory back to the OS
// (default 1000, or ELFMALLOC_DECAY_MS when the library initializes; 0: as
// soon as freed; -1: never, until Release()).
void SetDecayMs(int64_t ms);

// The decay period in force (the last SetDecayMs, else the initial one).
int64_t DecayMs();

struct Stats {
  size_t slag_bytes_mapped;   // address space mapped for slags now
  size_t dirty_bytes;         // free slag pages still holding memory
  size_t large_bytes;         // mapped for live large objects
  size_t large_count;         // live large objects
  size_t large_cached_bytes;  // freed large blocks kept mapped for reuse
};
Stats GetStats();

// Allocations and frees of one size class, summed over every thread (see
// info/stats.md). Live objects = allocated - freed.
struct ClassStats {
  size_t object_size;
  uint64_t allocated;  // objects handed out, ever
  uint64_t freed;      // objects freed, ever
  size_t slags;        // pages (slags) holding objects of the class now
  size_t slag_bytes;   // the size of each of them
};
// The number of size classes: valid indices for GetClassStats.
size_t ClassCount();
// Counters of class `c` (REQUIRES: c < ClassCount()).
ClassStats GetClassStats(size_t c);

// Writes the statistics report (per-class counters, pages, large objects,
// resident memory) line by line to `write(opaque, line)`; a null `write`
// prints to stderr. Never allocates; safe while other threads allocate and
// at exit.
void PrintStats(void (*write)(void* opaque, const char* line), void* opaque);

// "magazine" or "local": the front-end this library was built with.
const char* FrontendName();

// The build this library is: "elfmalloc", "elfmalloc-l", "elfmalloc-secure"
// (the names of their shared libraries, without "lib" and ".so").
const char* BuildName();

// True in the hardened build (libelfmalloc-secure.so).
bool IsHardened();

}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_ELFMALLOC_H_
