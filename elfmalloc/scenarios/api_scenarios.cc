// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// API edge cases (rows 1-16 of info/reliability.md): zero sizes, null
// pointers, overflowing and huge sizes, bad and huge alignments, usable
// sizes, sized frees, operator new's failure paths. Each completes with one
// result line; the table at the end says what the line must be.

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cstddef>
#include <new>
#include <string>
#include <vector>

#include "elfmalloc/scenarios/scenario.h"
#include "platform/testing/proc.h"

namespace allocators {
namespace elfmalloc {
namespace scenarios {
namespace {

// A global address: the sentinel posix_memalign must leave in place.
char g_global_buffer[256];

// Fills every usable byte of p with `b`.
void FillUsable(void* p, unsigned char b) {
  memset(p, b, malloc_usable_size(p));
}

// Resident growth (KiB) over `rounds` of `op`, each handling a fresh
// 1000-byte block whose pages it touches: a leak of every block would add
// about rounds * 1000 bytes.
template <typename Op>
long LeakGrowthKiB(int rounds, Op op) {
  const long before = StatusKiB("VmRSS");
  for (int i = 0; i < rounds; ++i) {
    char* p = static_cast<char*>(malloc(1000));
    if (p == nullptr) SetupFailure("malloc(1000)");
    memset(p, 1, 1000);
    op(p);
  }
  return StatusKiB("VmRSS") - before;
}

// Whether an elfmalloc library is mapped into this process (the test's
// check that LD_PRELOAD took effect).
void Preloaded() {
  const bool found = platform::testing::AnyMappingPathContains("libelfmalloc");
  Result(std::string("preloaded=") + (found ? "1" : "0"));
}

void Malloc0() {
  void* p = malloc(Opaque(0));
  void* q = malloc(Opaque(0));
  const size_t usable = p == nullptr ? 0 : malloc_usable_size(p);
  Result(std::string("ret=") + RetClass(p) + " ret2=" + RetClass(q) +
         " distinct=" + (p != q ? "1" : "0") +
         " usable=" + std::to_string(usable));
  free(p);
  free(q);
}

void FreeNull() {
  free(nullptr);
  void* volatile n = nullptr;
  ::operator delete(n);
  ::operator delete[](n);
  ::operator delete(n, std::nothrow);
  ::operator delete[](n, std::nothrow);
  ::operator delete (n, size_t{16});
  ::operator delete[](n, size_t{16});
  ::operator delete (n, std::align_val_t{64});
  ::operator delete[](n, std::align_val_t{64});
  ::operator delete (n, std::align_val_t{64}, std::nothrow);
  ::operator delete[](n, std::align_val_t{64}, std::nothrow);
  ::operator delete (n, size_t{16}, std::align_val_t{64});
  ::operator delete[](n, size_t{16}, std::align_val_t{64});
  int forms = 13;
  if (FreeSizedFn fs = GetFreeSized()) {
    fs(n, 0);
    ++forms;
  }
  if (FreeAlignedSizedFn fas = GetFreeAlignedSized()) {
    fas(n, 64, 0);
    ++forms;
  }
  // Still a working allocator afterwards.
  void* p = malloc(10);
  Result("ok=" + std::string(p != nullptr ? "1" : "0") +
         " forms=" + std::to_string(forms));
  free(p);
}

void ReallocNull() {
  void* p = realloc(nullptr, Opaque(100));
  void* q = realloc(nullptr, Opaque(0));
  if (p != nullptr) memset(p, 1, 100);
  Result(std::string("ret=") + RetClass(p) + " ret0=" + RetClass(q));
  free(p);
  free(q);
}

void ReallocZero() {
  errno = 0;
  void* p = malloc(100);
  if (p == nullptr) SetupFailure("malloc(100)");
  void* r = realloc(p, Opaque(0));
  const int e = errno;
  // Freed, not leaked: 100k rounds would leak ~100 MiB.
  const long growth = LeakGrowthKiB(100000, [](char* b) {
    if (realloc(b, Opaque(0)) != nullptr) SetupFailure("realloc(p, 0) != NULL");
  });
  Result(std::string("ret=") + RetClass(r) + " errno=" + ErrnoName(e) +
         " freed=" + (growth < 16384 ? "1" : "0") +
         " rss_growth_kib=" + std::to_string(growth));
  if (r != nullptr) free(r);
}

void CallocOverflow() {
  errno = 0;
  void* p = calloc(Opaque(SIZE_MAX / 2), Opaque(3));
  const int e = errno;
  errno = 0;
  void* q = calloc(Opaque(size_t{1} << 33), Opaque(size_t{1} << 31));
  const int e2 = errno;
  Result(std::string("ret=") + RetClass(p) + " errno=" + ErrnoName(e) +
         " ret2=" + RetClass(q) + " errno2=" + ErrnoName(e2));
}

void ReallocarrayOverflow() {
  unsigned char* p = static_cast<unsigned char*>(malloc(64));
  if (p == nullptr) SetupFailure("malloc(64)");
  memset(p, 0xa5, 64);
  errno = 0;
  void* r = g_reallocarray(p, Opaque(SIZE_MAX / 2), Opaque(3));
  const int e = errno;
  const bool intact = CheckFill(p, 64, 0xa5);
  // The block is still owned and resizable.
  void* q = g_reallocarray(p, Opaque(10), Opaque(100));
  Result(std::string("ret=") + RetClass(r) + " errno=" + ErrnoName(e) +
         " intact=" + (intact ? "1" : "0") + " then=" + RetClass(q));
  free(q != nullptr ? q : p);
}

void MallocHuge() {
  // SIZE_MAX, PTRDIFF_MAX+1, and sizes just below the boundaries where a
  // rounding to pages, 2 MiB or 1 GiB could wrap.
  const size_t kPtrdiffMax = static_cast<size_t>(PTRDIFF_MAX);
  const size_t sizes[] = {
      SIZE_MAX,
      SIZE_MAX - 1,
      SIZE_MAX - 4095,
      SIZE_MAX - 4096,
      SIZE_MAX - (1 << 21),
      SIZE_MAX - (1 << 30),
      kPtrdiffMax + 1,
      kPtrdiffMax,
      kPtrdiffMax - 4095,
      kPtrdiffMax - (1 << 21),
      size_t{1} << 62,
      size_t{1} << 48,
  };
  std::string bad;
  for (size_t n : sizes) {
    errno = 0;
    void* p = malloc(Opaque(n));
    const int e = errno;
    if (p != nullptr || e != ENOMEM) {
      bad += (bad.empty() ? "" : ",") + std::to_string(n) + ":" + RetClass(p) +
             "/" + ErrnoName(e);
    }
    free(p);
  }
  errno = 0;
  void* p = malloc(Opaque(SIZE_MAX));
  const int e = errno;
  errno = 0;
  void* q = malloc(Opaque(kPtrdiffMax + 1));
  const int e2 = errno;
  Result(std::string("size_max=") + RetClass(p) + "/" + ErrnoName(e) +
         " ptrdiff_max_plus_1=" + RetClass(q) + "/" + ErrnoName(e2) +
         " sizes=" + std::to_string(sizeof(sizes) / sizeof(sizes[0])) +
         " bad=" + (bad.empty() ? "none" : bad));
}

void PosixMemalignBadAlign() {
  std::string rets;
  bool untouched = true;
  for (size_t align : {size_t{0}, size_t{3}, size_t{4}, 3 * sizeof(void*)}) {
    void* sentinel = &g_global_buffer[0];
    void* out = sentinel;
    const int r = posix_memalign(&out, Opaque(align), 48);
    rets += (rets.empty() ? "" : ",") + std::string(ErrnoName(r));
    if (out != sentinel) untouched = false;
  }
  Result("rets=" + rets + " untouched=" + (untouched ? "1" : "0"));
}

void PosixMemalignHuge() {
  void* sentinel = &g_global_buffer[0];
  void* out = sentinel;
  const int r = posix_memalign(&out, 64, Opaque(SIZE_MAX / 2));
  const bool untouched = out == sentinel;
  void* z = sentinel;
  const int r0 = posix_memalign(&z, 64, Opaque(0));
  const bool z_ok =
      r0 == 0 && z != sentinel && z != nullptr && IsAligned(z, 64);
  Result(std::string("huge=") + ErrnoName(r) +
         " untouched=" + (untouched ? "1" : "0") + " zero=" + ErrnoName(r0) +
         " zero_ptr=" + (z_ok ? "aligned" : "bad"));
  if (r0 == 0) free(z);
}

void AlignedAllocAlign3() {
  errno = 0;
  void* p = aligned_alloc(Opaque(3), 48);
  const int e = errno;
  Result(std::string("ret=") + RetClass(p) + " errno=" + ErrnoName(e));
  free(p);
}

void AlignedAllocNotMultiple() {
  errno = 0;
  void* p = aligned_alloc(64, Opaque(100));
  if (p != nullptr) memset(p, 1, 100);
  Result(std::string("ret=") + RetClass(p) +
         " aligned=" + (p != nullptr && IsAligned(p, 64) ? "1" : "0"));
  free(p);
}

void AlignedAlloc1G() {
  const size_t g = size_t{1} << 30;
  char* p = static_cast<char*>(aligned_alloc(g, Opaque(g)));
  if (p != nullptr) {
    p[0] = 1;  // first and last byte only: two pages resident
    p[g - 1] = 2;
  }
  Result(std::string("ret=") + RetClass(p) +
         " aligned=" + (p != nullptr && IsAligned(p, g) ? "1" : "0"));
  free(p);
}

void MemalignOdd() {
  errno = 0;
  void* a = memalign(Opaque(48), 48);
  void* b = memalign(Opaque(0), 48);
  void* c = valloc(1);
  void* d = pvalloc(0);
  errno = 0;
  void* e = pvalloc(Opaque(SIZE_MAX - 100));
  const int e_errno = errno;
  const size_t page = static_cast<size_t>(4096);
  Result(std::string("memalign48=") + RetClass(a) +
         (a != nullptr && IsAligned(a, 64) ? "/aligned64" : "/unaligned") +
         " memalign0=" + RetClass(b) + " valloc=" + RetClass(c) +
         (c != nullptr && IsAligned(c, page) ? "/page" : "/unaligned") +
         " pvalloc0_usable=" +
         (d != nullptr && malloc_usable_size(d) >= page ? "page" : "short") +
         " pvalloc_huge=" + RetClass(e) + "/" + ErrnoName(e_errno));
  free(a);
  free(b);
  free(c);
  free(d);
}

// Every power-of-two alignment from 1 B to 1 GiB with sizes 0, 1, a-1, a,
// a+1 through aligned_alloc, posix_memalign and aligned operator new (freed
// by free, free, and sized aligned delete).
void HugeAlignments() {
  int checked = 0;
  std::string bad;
  auto check = [&](const char* how, size_t a, size_t n, void* p) {
    ++checked;
    if (p == nullptr || !IsAligned(p, a) || malloc_usable_size(p) < n) {
      bad += std::string(bad.empty() ? "" : ",") + how + ":" +
             std::to_string(a) + ":" + std::to_string(n);
      return false;
    }
    char* c = static_cast<char*>(p);
    if (n > 0) {
      c[0] = 1;
      c[n - 1] = 2;
    }
    return true;
  };
  for (size_t a = 1; a <= (size_t{1} << 30); a <<= 1) {
    for (size_t n : {size_t{0}, size_t{1}, a - 1, a, a + 1}) {
      void* p = aligned_alloc(a, Opaque(n));
      check("aligned_alloc", a, n, p);
      free(p);
      if (a >= sizeof(void*)) {
        void* q = nullptr;
        const int r = posix_memalign(&q, a, Opaque(n));
        if (r != 0) q = nullptr;
        check("posix_memalign", a, n, q);
        free(q);
      }
      void* o = ::operator new (n, std::align_val_t{a}, std::nothrow);
      if (check("new_aligned", a, n, o)) {
        ::operator delete (o, n, std::align_val_t{a});
      }
    }
  }
  Result("checked=" + std::to_string(checked) +
         " bad=" + (bad.empty() ? "none" : bad));
}

void UsableSize() {
  const size_t null_size = malloc_usable_size(nullptr);
  // Every size class region: small steps, then powers of two and their
  // neighbours up to 8 MiB. Several blocks per size, filled to their
  // usable size with distinct bytes, then all verified: a write to the full
  // usable size must not reach a neighbour.
  std::vector<size_t> sizes;
  for (size_t n = 0; n <= 1024; ++n) sizes.push_back(n);
  for (size_t p2 = 2048; p2 <= (size_t{8} << 20); p2 <<= 1) {
    for (size_t n : {p2 - 1, p2, p2 + 1, p2 + p2 / 2}) sizes.push_back(n);
  }
  struct Block {
    void* p;
    size_t n;
    unsigned char b;
  };
  std::vector<Block> blocks;
  std::string bad;
  unsigned char b = 1;
  for (size_t n : sizes) {
    const int copies = n > (size_t{1} << 20) ? 2 : 4;
    for (int i = 0; i < copies; ++i) {
      void* p = malloc(n);
      if (p == nullptr) SetupFailure("malloc in usable_size");
      const size_t u = malloc_usable_size(p);
      if (u < n && bad.size() < 200) {
        bad +=
            std::string(bad.empty() ? "" : ",") + "short:" + std::to_string(n);
      }
      FillUsable(p, b);
      blocks.push_back(Block{p, u, b});
      b = static_cast<unsigned char>(b % 250 + 1);
    }
  }
  for (const Block& bl : blocks) {
    if (!CheckFill(bl.p, bl.n, bl.b) && bad.size() < 200) {
      bad += std::string(bad.empty() ? "" : ",") +
             "overwritten:" + std::to_string(bl.n);
    }
    free(bl.p);
  }
  Result("null=" + std::to_string(null_size) +
         " blocks=" + std::to_string(blocks.size()) +
         " bad=" + (bad.empty() ? "none" : bad));
}

void FreeSizedCorrect() {
  FreeSizedFn fs = GetFreeSized();
  FreeAlignedSizedFn fas = GetFreeAlignedSized();
  if (fs == nullptr || fas == nullptr) {
    Result("exported=0");
    return;
  }
  fs(nullptr, 0);
  fas(nullptr, 64, 0);
  for (size_t n : {size_t{1}, size_t{100}, size_t{5000}, size_t{3} << 20}) {
    void* p = malloc(n);
    if (p == nullptr) SetupFailure("malloc");
    fs(p, n);
    void* q = aligned_alloc(256, n);
    if (q == nullptr) SetupFailure("aligned_alloc");
    fas(q, 256, n);
  }
  const long growth = LeakGrowthKiB(100000, [fs](char* p) { fs(p, 1000); });
  const long growth2 = LeakGrowthKiB(
      100000, [fas](char* p) { fas(p, alignof(std::max_align_t), 1000); });
  Result(std::string("exported=1 freed=") +
         (growth < 16384 && growth2 < 16384 ? "1" : "0") + " rss_growth_kib=" +
         std::to_string(growth) + "," + std::to_string(growth2));
}

void NewHandlerHuge() {
  InstallCountingNewHandler();
  const char* outcome = "returned";
  try {
    void* p = ::operator new(Opaque(size_t{1} << 62));
    ::operator delete(p);
  } catch (const std::bad_alloc&) {
    outcome = "bad_alloc";
  }
  const int calls = NewHandlerCalls();
  // No handler at all: bad_alloc at once, for every throwing form.
  int throws = 0;
  try {
    void* p = ::operator new[](Opaque(size_t{1} << 62));
    ::operator delete[](p);
  } catch (const std::bad_alloc&) {
    ++throws;
  }
  try {
    void* p = ::operator new (Opaque(size_t{1} << 62), std::align_val_t{64});
    ::operator delete (p, std::align_val_t{64});
  } catch (const std::bad_alloc&) {
    ++throws;
  }
  try {
    void* p = ::operator new[](Opaque(size_t{1} << 62), std::align_val_t{64});
    ::operator delete[](p, std::align_val_t{64});
  } catch (const std::bad_alloc&) {
    ++throws;
  }
  Result(std::string("handler_calls=") + std::to_string(calls) + " outcome=" +
         outcome + " no_handler_throws=" + std::to_string(throws));
}

void NothrowHuge() {
  const size_t n = Opaque(size_t{1} << 62);
  int nulls = 0;
  nulls += ::operator new(n, std::nothrow) == nullptr;
  nulls += ::operator new[](n, std::nothrow) == nullptr;
  nulls += ::operator new (n, std::align_val_t{64}, std::nothrow) == nullptr;
  nulls += ::operator new[](n, std::align_val_t{64}, std::nothrow) == nullptr;
  Result("nullptrs=" + std::to_string(nulls));
}

void New0Twice() {
  void* p = ::operator new(Opaque(0));
  void* q = ::operator new(Opaque(0));
  void* r = ::operator new[](Opaque(0));
  Result(std::string("distinct=") + (p != q && p != r && q != r ? "1" : "0"));
  ::operator delete(p);
  ::operator delete(q);
  ::operator delete[](r);
}

const Scenario kScenarios[] = {
    {"preloaded", 0, Preloaded, Exits0("^preloaded=1\n$", 30)},
    {"malloc_0", 1, Malloc0,
     Exits0("^ret=ptr ret2=ptr distinct=1 usable=[0-9]+\n$", 30)},
    {"new_0_twice", 1, New0Twice, Exits0("^distinct=1\n$", 30)},
    {"free_null_all_forms", 2, FreeNull, Exits0("^ok=1 forms=15\n$", 30)},
    {"realloc_null", 3, ReallocNull, Exits0("^ret=ptr ret0=ptr\n$", 30)},
    {"realloc_zero", 4, ReallocZero,
     Exits0("^ret=null errno=\\S+ freed=1 ", 60)},
    {"calloc_overflow", 5, CallocOverflow,
     Exits0("^ret=null errno=ENOMEM ret2=null errno2=ENOMEM\n$", 30)},
    {"reallocarray_overflow", 6, ReallocarrayOverflow,
     Exits0("^ret=null errno=ENOMEM intact=1 then=ptr\n$", 30)},
    {"malloc_huge", 7, MallocHuge,
     Exits0("^size_max=null/ENOMEM ptrdiff_max_plus_1=null/ENOMEM sizes=12 "
            "bad=none\n$",
            30)},
    {"posix_memalign_bad_align", 8, PosixMemalignBadAlign,
     Exits0("^rets=EINVAL,EINVAL,EINVAL,EINVAL untouched=1\n$", 30)},
    {"posix_memalign_huge_and_zero", 9, PosixMemalignHuge,
     Exits0("^huge=ENOMEM untouched=1 zero=0 zero_ptr=aligned\n$", 30)},
    {"aligned_alloc_align_3", 10, AlignedAllocAlign3,
     Exits0("^ret=null errno=EINVAL\n$", 30)},
    {"aligned_alloc_size_not_multiple", 11, AlignedAllocNotMultiple,
     Exits0("^ret=ptr aligned=1\n$", 30)},
    {"memalign_odd", 12, MemalignOdd,
     Exits0("^memalign48=ptr/aligned64 memalign0=ptr valloc=ptr/page "
            "pvalloc0_usable=page pvalloc_huge=null/ENOMEM\n$",
            30)},
    {"aligned_alloc_1g", 13, AlignedAlloc1G,
     Exits0("^ret=ptr aligned=1\n$", 30)},
    {"huge_alignments", 13, HugeAlignments,
     Exits0("^checked=450 bad=none\n$", 120)},
    {"usable_size", 14, UsableSize,
     Exits0("^null=0 blocks=[0-9]+ bad=none\n$", 120)},
    {"free_sized_correct", 15, FreeSizedCorrect,
     Exits0("^exported=1 freed=1 ", 60)},
    {"new_handler_huge", 16, NewHandlerHuge,
     Exits0("^handler_calls=3 outcome=bad_alloc no_handler_throws=3\n$", 30)},
    {"nothrow_huge", 16, NothrowHuge, Exits0("^nullptrs=4\n$", 30)},
};

}  // namespace

Table<Scenario> ApiScenarios() { return TableOf(kScenarios); }

}  // namespace scenarios
}  // namespace elfmalloc
}  // namespace allocators
