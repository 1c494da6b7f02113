// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Invalid frees, double frees and size mismatches (rows 15 and 17-22 of
// info/reliability.md). Each scenario announces the pointer it is about to
// misuse ("ptr=0x...") and is expected to die with one diagnostic line
// naming it; one that survives prints "survived=1 ..." and exits 0.
//
// The foreign-mapping and unmapped-address scenarios need memory the
// allocator never handed out: they map it with mmap_alloc directly.

#include <stdlib.h>
#include <string.h>

#include <cstddef>
#include <new>
#include <regex>
#include <string>
#include <vector>

#include "elfmalloc/scenarios/scenario.h"
#include "mmap_alloc/mmap_alloc.h"
#include "platform/testing/proc.h"

namespace allocators {
namespace elfmalloc {
namespace scenarios {
namespace {

constexpr const char* kInvalidFree =
    "elfmalloc: free\\(\\): invalid pointer {ptr}";
constexpr const char* kDoubleFree =
    "elfmalloc: free\\(\\): double free of {ptr}";

char g_global_buffer[256];

void FreeStack() {
  char buf[64];
  memset(buf, 0, sizeof(buf));
  void* p = Launder(static_cast<void*>(buf + 16));
  Announce(p);
  g_free(p);
  Survived("");
}

void FreeGlobal() {
  void* p = Launder(static_cast<void*>(g_global_buffer + 64));
  Announce(p);
  g_free(p);
  Survived("");
}

void FreeInteriorSmall() {
  char* p = static_cast<char*>(malloc(64));
  if (p == nullptr) SetupFailure("malloc(64)");
  void* bad = Launder(p + 16);
  Announce(bad);
  g_free(bad);
  // Survived: is the interior address handed out later?
  bool reissued = false;
  std::vector<void*> got;
  for (int i = 0; i < 10000; ++i) {
    void* q = malloc(48);
    if (q == bad) reissued = true;
    got.push_back(q);
  }
  for (void* q : got) free(q);
  Survived(reissued ? "reissued=1" : "reissued=0");
}

void FreeInteriorLarge() {
  char* p = static_cast<char*>(malloc(1 << 20));
  if (p == nullptr) SetupFailure("malloc(1 MiB)");
  memset(p, 1, 1 << 20);
  void* bad = Launder(p + 4096);
  Announce(bad);
  g_free(bad);
  Survived("");
}

void FreeForeignMmap() {
  const allocators::mmap_alloc::MapAlloc map;
  void* m = map.Alloc(1 << 16);
  if (m == nullptr) SetupFailure("map");
  void* bad = static_cast<char*>(m) + 64;
  Announce(bad);
  g_free(bad);
  Survived("");
}

void FreeWild() {
  // An address that was mapped a moment ago and is not any more.
  const allocators::mmap_alloc::MapAlloc map;
  void* m = map.Alloc(1 << 20);
  if (m == nullptr) SetupFailure("map");
  map.Dealloc(m, 1 << 20);
  void* bad = static_cast<char*>(m) + 4096 + 32;
  Announce(bad);
  g_free(bad);
  Survived("");
}

// After a double free that was not caught: does malloc hand the block out
// twice?
bool HandedOutTwice(size_t n, void* block) {
  std::vector<void*> got;
  int hits = 0;
  for (int i = 0; i < 20000; ++i) {
    void* q = malloc(n);
    if (q == block) ++hits;
    got.push_back(q);
  }
  for (void* q : got) free(q);
  return hits >= 2;
}

void DoubleFreeSmall() {
  void* p = malloc(48);
  if (p == nullptr) SetupFailure("malloc(48)");
  Announce(p);
  g_free(p);
  g_free(p);
  const bool dup = HandedOutTwice(48, p);
  Survived(dup ? "dup=1" : "dup=0");
}

void DoubleFreeLarge() {
  void* p = malloc(4 << 20);
  if (p == nullptr) SetupFailure("malloc(4 MiB)");
  memset(p, 1, 4 << 20);
  Announce(p);
  g_free(p);
  g_free(p);
  Survived("");
}

// glibc's tcache case: "free(a); free(b); free(a)", another free of the
// same size between the two frees of a.
void DoubleFreeWithAnotherBetween(size_t n) {
  void* a = malloc(n);
  void* b = malloc(n);
  if (a == nullptr || b == nullptr) SetupFailure("malloc");
  Announce(a);
  g_free(a);
  g_free(b);
  g_free(a);
  const bool dup = HandedOutTwice(n, a);
  Survived(dup ? "dup=1" : "dup=0");
}

// The block's first free is followed by 64 frees of its size: no longer
// the block a cache freed last.
void DoubleFreeAfter64Frees() {
  void* p = malloc(48);
  if (p == nullptr) SetupFailure("malloc(48)");
  std::vector<void*> others;
  for (int i = 0; i < 64; ++i) others.push_back(malloc(48));
  Announce(p);
  g_free(p);
  for (void* o : others) free(o);
  g_free(p);
  const bool dup = HandedOutTwice(48, p);
  Survived(dup ? "dup=1" : "dup=0");
}

void DoubleFreeCrossThread() {
  void* p = malloc(48);
  if (p == nullptr) SetupFailure("malloc(48)");
  Announce(p);
  OnThread([p] { g_free(p); });
  g_free(p);
  // Both frees went to different thread caches; let the freeing thread's
  // cache reach the shared pools, as it does when it exits.
  OnThread([] {
    for (int i = 0; i < 1000; ++i) free(malloc(48));
  });
  const bool dup = HandedOutTwice(48, p);
  Survived(dup ? "dup=1" : "dup=0");
}

void ReallocFreed(size_t size) {
  void* p = malloc(size);
  if (p == nullptr) SetupFailure("malloc");
  memset(p, 1, size);
  Announce(p);
  g_free(p);
  void* q = g_realloc(p, size * 2 + 100);
  Survived((std::string("ret=") + RetClass(q)).c_str());
}

void FreeSizedWrong() {
  FreeSizedFn fs = GetFreeSized();
  if (fs == nullptr) SetupFailure("free_sized is not exported");
  void* p = malloc(64);
  if (p == nullptr) SetupFailure("malloc(64)");
  Announce(p);
  fs(p, Opaque(4000));
  Survived("");
}

void SizedDeleteWrong() {
  void* p = ::operator new(64);
  Announce(p);
  ::operator delete(p, Opaque(4000));
  Survived("");
}

// If the block was reused, the stale pointer frees its new owner:
// undetectable in principle. An allocator that delays reuse hands q out
// from elsewhere, so the stale free is an ordinary double free it may
// catch. If it survives, the line records whether the block was reused and
// whether the next allocation hands the live block out a second time.
void DoubleFreeAfterReuse() {
  void* p = malloc(48);
  if (p == nullptr) SetupFailure("malloc(48)");
  g_free(p);
  void* q = malloc(48);  // with LIFO reuse, p again: the block's new owner
  if (q == nullptr) SetupFailure("malloc(48)");
  Announce(p);
  g_free(Launder(p));  // the bug: frees q's block if q == p
  void* x = malloc(48);
  Survived((std::string("reused=") + (q == p ? "1" : "0") +
            " next_is_live_block=" + (x == q ? "1" : "0"))
               .c_str());
}

// Sampled guarded allocation: a child run with ELFMALLOC_SAMPLE_RATE=1
// (every allocation sampled while the pool has room; an allocator without
// sampling ignores the variable) makes one memory error. The line gives
// how the child ended, which report its stderr holds, and how many lines.
void SampledChildVerdict(const char* child) {
  std::string out, err;
  const int status = RunSelf(child, "ELFMALLOC_SAMPLE_RATE", "1", &out, &err);
  const char* report = "none";
  if (std::regex_search(err, std::regex("heap overflow at 0x[0-9a-f]+: "
                                        "offset [0-9]+ of the [0-9]+-byte "
                                        "block 0x[0-9a-f]+ \\(sampled\\)"))) {
    report = "overflow";
  } else if (std::regex_search(err, std::regex("use after free at 0x[0-9a-f]+"
                                               ": offset [0-9]+ of the freed "
                                               "[0-9]+-byte block 0x[0-9a-f]+ "
                                               "\\(sampled\\)"))) {
    report = "use_after_free";
  } else if (std::regex_search(err, std::regex("heap overflow at 0x[0-9a-f]+:"
                                               " offset [0-9]+ of the [0-9]+-"
                                               "byte block 0x[0-9a-f]+ \\(past "
                                               "a large block\\)"))) {
    report = "large_overflow";
  } else if (!err.empty()) {
    report = "other";
  }
  // After the report's line, only the stacks: which of them came, and how
  // many lines were neither a stack's header nor one of its frames.
  std::string stacks;
  size_t others = 0;
  const std::regex frame("    #[0-9]+ 0x[0-9a-f]+( in [^ ]+)?( \\(.+\\+0x[0-9a-f]+\\))?");
  size_t start = err.find('\n');
  while (start != std::string::npos && start + 1 < err.size()) {
    const size_t end = err.find('\n', start + 1);
    const std::string line = err.substr(start + 1, end - start - 1);
    if (line == "  allocated at:" || line == "  freed at:") {
      stacks += (stacks.empty() ? "" : ",") + line.substr(2, line.find(' ', 2) - 2);
    } else if (!std::regex_match(line, frame)) {
      ++others;
    }
    start = end;
  }
  Result("child=" + StatusName(status) + " report=" + report + " stacks=" +
         (stacks.empty() ? "none" : stacks) +
         " other_lines=" + std::to_string(others));
}

// The children. Each first frees one block, so that the thread's cache
// exists (a thread's first allocation is never sampled).
void SampledOverflowChild() {
  free(malloc(8));
  char* p = static_cast<char*>(malloc(96));
  if (p == nullptr) SetupFailure("malloc(96)");
  Launder(p)[96] = 1;  // one byte past the end
  Survived("");
}

void SampledUseAfterFreeChild() {
  free(malloc(8));
  char* p = static_cast<char*>(malloc(100));
  if (p == nullptr) SetupFailure("malloc(100)");
  g_free(p);
  Launder(p)[8] = 1;
  Survived("");
}

// One byte past an 8 MiB block whose end meets an unmapped page (an
// aligned block's mapping is trimmed, which leaves a hole after it).
void SampledLargeOverflowChild() {
  constexpr size_t kSize = size_t{8} << 20;
  char* p = nullptr;
  for (int i = 0; i < 16 && p == nullptr; ++i) {
    char* q = static_cast<char*>(aligned_alloc(2 * kSize, kSize));
    if (q == nullptr) SetupFailure("aligned_alloc(16 MiB, 8 MiB)");
    if (!platform::testing::IsReadable(q + kSize)) p = q;
  }
  if (p == nullptr) SetupFailure("no 8 MiB block ends at an unmapped page");
  Launder(p)[kSize] = 1;
  Survived("");
}

const Scenario kScenarios[] = {
    {"free_sized_wrong_size", 15, FreeSizedWrong,
     Aborts("elfmalloc: free_sized\\(\\): size mismatch {ptr}")},
    {"sized_delete_wrong_size", 17, SizedDeleteWrong,
     Aborts("elfmalloc: operator delete\\(\\): size mismatch {ptr}")},
    {"free_stack", 18, FreeStack, Aborts(kInvalidFree)},
    {"free_global", 18, FreeGlobal, Aborts(kInvalidFree)},
    {"free_foreign_mmap", 18, FreeForeignMmap, Aborts(kInvalidFree)},
    {"free_wild", 18, FreeWild, Aborts(kInvalidFree)},
    {"free_interior_small", 19, FreeInteriorSmall, Aborts(kInvalidFree)},
    {"free_interior_large", 19, FreeInteriorLarge, Aborts(kInvalidFree)},
    {"double_free_small", 20, DoubleFreeSmall, Aborts(kDoubleFree)},
    {"double_free_large", 20, DoubleFreeLarge, Aborts(kDoubleFree)},
    {"double_free_between_32", 20, [] { DoubleFreeWithAnotherBetween(32); },
     Aborts(kDoubleFree)},
    {"double_free_between_200", 20,
     [] { DoubleFreeWithAnotherBetween(200); }, Aborts(kDoubleFree)},
    {"double_free_between_3000", 20,
     [] { DoubleFreeWithAnotherBetween(3000); }, Aborts(kDoubleFree)},
    {"double_free_after_64_frees", 20, DoubleFreeAfter64Frees,
     Aborts(kDoubleFree)},
    // The other thread's free marks the block free (the hardened build:
    // zeroes its canary); the owner's free finds the mark.
    {"double_free_cross_thread", 20, DoubleFreeCrossThread,
     Aborts(kDoubleFree)},
    // Undetectable once the block has a new owner (the stale pointer frees
    // it), so reuse is delayed: the cache holds the last freed block back
    // while mallocs take the others, and the stale free is caught.
    {"double_free_after_reuse", 21, DoubleFreeAfterReuse, Aborts(kDoubleFree)},
    {"realloc_freed_small", 22, [] { ReallocFreed(48); },
     Aborts("elfmalloc: realloc\\(\\): freed pointer {ptr}")},
    {"realloc_freed_large", 22, [] { ReallocFreed(4 << 20); },
     Aborts("elfmalloc: realloc\\(\\): freed pointer {ptr}")},
    // The fault hook prints one line, then the default action ends the
    // child with SIGSEGV.
    {"sampled_overflow", 24, [] { SampledChildVerdict("sampled_overflow_child"); },
     Exits0("^child=signal11 report=overflow stacks=allocated "
            "other_lines=0\n$", 30)},
    {"sampled_use_after_free", 24,
     [] { SampledChildVerdict("sampled_use_after_free_child"); },
     Exits0("^child=signal11 report=use_after_free stacks=allocated,"
            "freed other_lines=0\n$", 30)},
    {"sampled_large_overflow", 24,
     [] { SampledChildVerdict("sampled_large_overflow_child"); },
     Exits0("^child=signal11 report=large_overflow stacks=none "
            "other_lines=0\n$", 30)},
};

const ProbeChild kChildren[] = {
    {"sampled_overflow_child", SampledOverflowChild},
    {"sampled_use_after_free_child", SampledUseAfterFreeChild},
    {"sampled_large_overflow_child", SampledLargeOverflowChild},
};

}  // namespace

Table<Scenario> InvalidFreeScenarios() { return TableOf(kScenarios); }

Table<ProbeChild> InvalidFreeChildren() { return TableOf(kChildren); }

}  // namespace scenarios
}  // namespace elfmalloc
}  // namespace allocators
