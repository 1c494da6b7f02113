// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// scenario_probe NAME: runs one bad-input or fault scenario of
// info/reliability.md (spec section E) against whatever malloc the process
// has, normally libelfmalloc.so through LD_PRELOAD. It uses only the C and
// C++ allocation API (it does not link elfmalloc).
//
// A scenario that completes prints one result line of key=value fields on
// stdout and exits 0, e.g. "ret=null errno=ENOMEM". A scenario that hands
// the allocator an invalid pointer first prints "ptr=0x..." (the pointer it
// is about to pass, flushed) and is expected to die; if it survives it
// prints "survived=1 ..." and exits 0. Exit 2: unknown scenario or a setup
// failure (reported on stderr).
//
// The foreign-mapping and unmapped-address scenarios need memory the
// allocator never handed out: they map it with mmap_alloc directly.

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <new>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "mmap_alloc/mmap_alloc.h"
#include "mmap_alloc/testing/mapping_limit.h"

namespace {

// --- helpers -----------------------------------------------------------------

// Hides a pointer's provenance from the compiler, so that freeing a stack
// or global address or using a freed pointer compiles (-Wfree-nonheap-object,
// -Wuse-after-free) and is not optimised away.
template <typename T>
T* Launder(T* p) {
  asm volatile("" : "+r"(p));
  return p;
}

// The entry points of the misuse scenarios, called through volatile
// pointers so that the compiler neither diagnoses nor removes the misuse.
void (*volatile g_free)(void*) = free;
void* (*volatile g_realloc)(void*, size_t) = realloc;
void* (*volatile g_reallocarray)(void*, size_t, size_t) = reallocarray;

size_t Opaque(size_t n) {
  asm volatile("" : "+r"(n));
  return n;
}

const char* ErrnoName(int e) {
  switch (e) {
    case 0:
      return "0";
    case ENOMEM:
      return "ENOMEM";
    case EINVAL:
      return "EINVAL";
    case EOVERFLOW:
      return "EOVERFLOW";
    default:
      return "other";
  }
}

const char* RetClass(const void* p) { return p == nullptr ? "null" : "ptr"; }

double NowSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) +
         static_cast<double>(ts.tv_nsec) * 1e-9;
}

// A field of /proc/self/status ("VmRSS", "VmSize") in KiB; -1 if missing.
long StatusKiB(const char* field) {
  FILE* f = fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  long v = -1;
  const size_t n = strlen(field);
  while (fgets(line, sizeof(line), f) != nullptr) {
    if (strncmp(line, field, n) == 0 && line[n] == ':') {
      v = strtol(line + n + 1, nullptr, 10);
      break;
    }
  }
  fclose(f);
  return v;
}

// A field of /proc/meminfo in KiB; -1 if missing.
long MeminfoKiB(const char* field) {
  FILE* f = fopen("/proc/meminfo", "r");
  if (f == nullptr) return -1;
  char line[256];
  long v = -1;
  const size_t n = strlen(field);
  while (fgets(line, sizeof(line), f) != nullptr) {
    if (strncmp(line, field, n) == 0 && line[n] == ':') {
      v = strtol(line + n + 1, nullptr, 10);
      break;
    }
  }
  fclose(f);
  return v;
}

[[noreturn]] void SetupFailure(const char* what) {
  fprintf(stderr, "scenario_probe: setup failed: %s (errno %d)\n", what, errno);
  _exit(2);
}

void Result(const std::string& line) {
  printf("%s\n", line.c_str());
  fflush(stdout);
}

// Announces the pointer about to be passed to the allocator (the expected
// diagnostic names it); flushed so it survives an abort.
void Announce(void* p) {
  printf("ptr=%p\n", p);
  fflush(stdout);
}

void Survived(const char* extra) {
  printf("survived=1 %s\n", extra);
  fflush(stdout);
}

bool IsAligned(const void* p, size_t a) {
  return (reinterpret_cast<uintptr_t>(p) & (a - 1)) == 0;
}

// Fills every usable byte of p with `b`.
void FillUsable(void* p, unsigned char b) {
  memset(p, b, malloc_usable_size(p));
}

bool CheckFill(const void* p, size_t n, unsigned char b) {
  const unsigned char* c = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) {
    if (c[i] != b) return false;
  }
  return true;
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

// free_sized/free_aligned_sized (C23) are looked up at run time: glibc
// 2.36 neither declares nor exports them, the preloaded allocator does.
using FreeSizedFn = void (*)(void*, size_t);
using FreeAlignedSizedFn = void (*)(void*, size_t, size_t);

FreeSizedFn GetFreeSized() {
  return reinterpret_cast<FreeSizedFn>(dlsym(RTLD_DEFAULT, "free_sized"));
}
FreeAlignedSizedFn GetFreeAlignedSized() {
  return reinterpret_cast<FreeAlignedSizedFn>(
      dlsym(RTLD_DEFAULT, "free_aligned_sized"));
}

// Runs fn on a new thread and waits for it.
template <typename Fn>
void OnThread(Fn fn) {
  std::thread t(fn);
  t.join();
}

// --- before main (E.4 #34) ------------------------------------------------

// Allocated by a global constructor on every run; alloc_before_main checks
// and frees them.
struct BeforeMain {
  BeforeMain() {
    small = static_cast<char*>(malloc(100));
    large = static_cast<char*>(malloc(3 << 20));
    object = new std::string(200, 'x');
    if (small != nullptr) memset(small, 0x11, 100);
    if (large != nullptr) memset(large, 0x22, 3 << 20);
  }
  char* small;
  char* large;
  std::string* object;
};
BeforeMain g_before_main;

char g_global_buffer[256];

// Whether an elfmalloc library is mapped into this process (the test's
// check that LD_PRELOAD took effect).
void Preloaded() {
  FILE* f = fopen("/proc/self/maps", "r");
  if (f == nullptr) SetupFailure("/proc/self/maps");
  char line[512];
  bool found = false;
  while (fgets(line, sizeof(line), f) != nullptr) {
    if (strstr(line, "libelfmalloc") != nullptr) found = true;
  }
  fclose(f);
  Result(std::string("preloaded=") + (found ? "1" : "0"));
}

// --- E.1 API edge cases
// -------------------------------------------------------

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

int g_handler_calls = 0;

void CountingHandler() {
  if (++g_handler_calls >= 3) std::set_new_handler(nullptr);
}

void NewHandlerHuge() {
  std::set_new_handler(CountingHandler);
  const char* outcome = "returned";
  try {
    void* p = ::operator new(Opaque(size_t{1} << 62));
    ::operator delete(p);
  } catch (const std::bad_alloc&) {
    outcome = "bad_alloc";
  }
  const int calls = g_handler_calls;
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

// --- E.2 invalid frees and corruption (expected to die) ---------------------

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

// --- E.3 exhaustion
// -----------------------------------------------------------

// Whether the kernel's overcommit policy must refuse a single private
// writable mapping of `bytes` on this host.
bool KernelMustRefuse(size_t bytes) {
  FILE* f = fopen("/proc/sys/vm/overcommit_memory", "r");
  int mode = -1;
  if (f != nullptr) {
    if (fscanf(f, "%d", &mode) != 1) mode = -1;
    fclose(f);
  }
  const long total_kib = MeminfoKiB("MemTotal") + MeminfoKiB("SwapTotal");
  const size_t total = static_cast<size_t>(total_kib) * 1024;
  // Mode 0 (heuristic) refuses one request larger than RAM + swap; mode 2
  // (strict) refuses anything beyond its commit limit (<= RAM + swap here).
  return (mode == 0 || mode == 2) && bytes > total;
}

void MallocBeyondRam(size_t bytes) {
  errno = 0;
  const double t0 = NowSeconds();
  void* p = malloc(Opaque(bytes));
  const double ms = (NowSeconds() - t0) * 1e3;
  const int e = errno;
  char buf[64];
  snprintf(buf, sizeof(buf), "%.3f", ms);
  Result(std::string("ret=") + RetClass(p) + " errno=" + ErrnoName(e) + " ms=" +
         buf + " kernel_must_refuse=" + (KernelMustRefuse(bytes) ? "1" : "0"));
  free(p);
}

// Sets RLIMIT_AS to the current address-space size plus `extra` bytes (this
// process only: the probe runs in a child of the test).
void LimitAddressSpace(size_t extra) {
  const long vsz_kib = StatusKiB("VmSize");
  if (vsz_kib < 0) SetupFailure("VmSize");
  rlimit rl;
  rl.rlim_cur = rl.rlim_max = static_cast<rlim_t>(vsz_kib) * 1024 + extra;
  if (setrlimit(RLIMIT_AS, &rl) != 0) SetupFailure("setrlimit");
}

// Allocates `size`-byte blocks, linked through their first word, until
// malloc fails; returns the count, the chain and the failure's errno.
struct Chain {
  size_t count = 0;
  void* head = nullptr;
  int err = 0;
};

Chain FillUntilNull(size_t size, size_t max_count) {
  Chain c;
  while (c.count < max_count) {
    errno = 0;
    void** p = static_cast<void**>(malloc(size));
    if (p == nullptr) {
      c.err = errno;
      break;
    }
    *p = c.head;
    c.head = p;
    ++c.count;
  }
  return c;
}

void FreeChain(Chain* c) {
  while (c->head != nullptr) {
    void* next = *static_cast<void**>(c->head);
    free(c->head);
    c->head = next;
  }
}

void RlimitExhaustion(size_t size, size_t extra) {
  LimitAddressSpace(extra);
  const size_t cap = extra / size * 4;  // the limit must stop us first
  Chain first = FillUntilNull(size, cap);
  FreeChain(&first);
  Chain second = FillUntilNull(size, cap);
  FreeChain(&second);
  // After freeing everything, the other paths work again too.
  void* small = malloc(100);
  void* medium = malloc(100000);
  void* big = malloc(8 << 20);
  const bool after = small != nullptr && medium != nullptr && big != nullptr;
  const std::string after_detail = std::string(RetClass(small)) + "," +
                                   RetClass(medium) + "," + RetClass(big);
  free(small);
  free(medium);
  free(big);
  const bool hit = first.count < cap && second.count < cap;
  const bool recovered = second.count * 10 >= first.count * 9;
  Result(std::string("limit_hit=") + (hit ? "1" : "0") +
         " errno=" + ErrnoName(first.err) + " errno2=" + ErrnoName(second.err) +
         " recovered=" + (recovered && after ? "1" : "0") +
         " mib_first=" + std::to_string(first.count * size >> 20) +
         " mib_second=" + std::to_string(second.count * size >> 20) +
         " after=" + after_detail);
}

void NewUnderExhaustion() {
  LimitAddressSpace(size_t{256} << 20);
  std::vector<void*> blocks;
  blocks.reserve(4096);
  const char* outcome = "never_failed";
  g_handler_calls = 0;
  std::set_new_handler(CountingHandler);
  try {
    for (int i = 0; i < 4096; ++i) blocks.push_back(::operator new(1 << 20));
  } catch (const std::bad_alloc&) {
    outcome = "bad_alloc";
  }
  const int calls = g_handler_calls;
  bool nothrow_null = false;
  for (int i = 0; i < 4096 && !nothrow_null; ++i) {
    void* p = ::operator new(1 << 20, std::nothrow);
    if (p == nullptr) {
      nothrow_null = true;
    } else {
      blocks.push_back(p);
    }
  }
  for (void* p : blocks) ::operator delete(p);
  void* again = ::operator new(1 << 20);
  Result(std::string("outcome=") + outcome + " handler_calls=" +
         std::to_string(calls) + " nothrow=" + (nothrow_null ? "null" : "ptr") +
         " recovered=" + (again != nullptr ? "1" : "0"));
  ::operator delete(again);
}

// --- E.4 concurrency and lifecycle ------------------------------------------

void AllocBeforeMain() {
  const bool ok = g_before_main.small != nullptr &&
                  g_before_main.large != nullptr &&
                  CheckFill(g_before_main.small, 100, 0x11) &&
                  CheckFill(g_before_main.large, 3 << 20, 0x22) &&
                  *g_before_main.object == std::string(200, 'x');
  free(g_before_main.small);
  free(g_before_main.large);
  delete g_before_main.object;
  g_before_main.small = g_before_main.large = nullptr;
  g_before_main.object = nullptr;
  Result(std::string("ok=") + (ok ? "1" : "0"));
}

bool AllocWorks() {
  bool ok = true;
  for (size_t n : {size_t{16}, size_t{100}, size_t{5000}, size_t{4} << 20}) {
    char* p = static_cast<char*>(malloc(n));
    if (p == nullptr) return false;
    memset(p, 7, n);
    char* q = static_cast<char*>(realloc(p, n * 2));
    if (q == nullptr) {
      free(p);
      return false;
    }
    ok = ok && CheckFill(q, n, 7);
    free(q);
  }
  std::string* s = new std::string(300, 'y');
  ok = ok && s->size() == 300;
  delete s;
  return ok;
}

void AtexitHandler() {
  printf("atexit_ok=%d\n", AllocWorks() ? 1 : 0);
  fflush(stdout);
}

void AllocInAtexit() {
  atexit(AtexitHandler);
  Result("registered=1");
}

std::atomic<int> g_dtor_ok{0};
std::atomic<int> g_dtor_runs{0};

// A thread_local whose destructor allocates and frees, and frees what the
// thread allocated first.
struct TlsUser {
  TlsUser() : early(static_cast<char*>(malloc(200))) {}
  ~TlsUser() {
    const bool ok = early != nullptr && AllocWorks();
    free(early);
    if (ok) g_dtor_ok.fetch_add(1);
    g_dtor_runs.fetch_add(1);
  }
  char* early;
};

thread_local TlsUser* g_tls_user_touch = nullptr;

void TouchTlsUser() {
  thread_local TlsUser user;
  g_tls_user_touch = &user;
}

// pthread key destructors run after the C++ thread_local destructors and,
// with elfmalloc's own cache teardown, possibly after it: allocate there too.
pthread_key_t g_key;

void KeyDestructor(void* v) {
  const bool ok = AllocWorks();
  free(v);
  if (ok) g_dtor_ok.fetch_add(1);
  g_dtor_runs.fetch_add(1);
}

void MainTlsReport() {
  // Runs at exit, after main returned.
  printf("dtor_runs_at_exit=%d dtor_ok_at_exit=%d\n", g_dtor_runs.load(),
         g_dtor_ok.load());
  fflush(stdout);
}

void AllocInTlsDtor() {
  if (pthread_key_create(&g_key, KeyDestructor) != 0) SetupFailure("key");
  for (int i = 0; i < 8; ++i) {
    OnThread([] {
      TouchTlsUser();
      pthread_setspecific(g_key, malloc(64));
      for (int j = 0; j < 1000; ++j) free(malloc(j % 300 + 1));
    });
  }
  const int runs = g_dtor_runs.load();
  const int ok = g_dtor_ok.load();
  // A free as a thread's very first allocator call, of a block another
  // thread allocated.
  void* p = malloc(500);
  bool first_free_ok = false;
  OnThread([p, &first_free_ok] {
    free(p);
    first_free_ok = AllocWorks();
  });
  Result("thread_dtors=" + std::to_string(runs) +
         " thread_dtors_ok=" + std::to_string(ok) +
         " first_op_free_ok=" + (first_free_ok ? "1" : "0"));
  // The main thread's own thread_local is destroyed at exit.
  TouchTlsUser();
  atexit(MainTlsReport);
}

void ShortThreads() {
  constexpr int kThreads = 2000;
  constexpr int kConcurrent = 16;
  constexpr int kSlots = 1024;
  // Blocks handed from thread to thread: each thread frees what earlier
  // threads left in its slots and leaves its own there.
  std::vector<std::atomic<void*>> slots(kSlots);
  for (auto& s : slots) s.store(nullptr);
  const long rss0 = StatusKiB("VmRSS");
  const double t0 = NowSeconds();
  std::atomic<int> failures{0};
  long rss_half = 0;
  for (int batch = 0; batch < kThreads / kConcurrent; ++batch) {
    if (batch == kThreads / kConcurrent / 2) rss_half = StatusKiB("VmRSS");
    std::vector<std::thread> threads;
    for (int t = 0; t < kConcurrent; ++t) {
      const int id = batch * kConcurrent + t;
      threads.emplace_back([id, &slots, &failures] {
        std::vector<void*> own;
        for (int i = 0; i < 500; ++i) {
          const size_t n = static_cast<size_t>((id * 131 + i * 17) % 2000 + 8);
          void* p = malloc(n);
          if (p == nullptr) {
            failures.fetch_add(1);
            continue;
          }
          memset(p, 3, n < 64 ? n : 64);
          if (i % 4 == 0) {
            void* old = slots[(id * 7 + i) % kSlots].exchange(p);
            free(old);  // usually another thread's block
          } else {
            own.push_back(p);
          }
        }
        for (void* p : own) free(p);
      });
    }
    for (auto& th : threads) th.join();
  }
  const double secs = NowSeconds() - t0;
  for (auto& s : slots) free(s.exchange(nullptr));
  const long rss_end = StatusKiB("VmRSS");
  // Bounded independently of the thread count: the second thousand threads
  // must not add what the first did.
  char buf[200];
  snprintf(buf, sizeof(buf),
           "threads=%d failures=%d seconds=%.2f rss_growth_mib=%.1f "
           "second_half_growth_mib=%.1f",
           kThreads, failures.load(), secs,
           static_cast<double>(rss_end - rss0) / 1024.0,
           static_cast<double>(rss_end - rss_half) / 1024.0);
  Result(buf);
}

void ForkWhileThreadsAllocate() {
  constexpr int kForks = 100;
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < 3; ++t) {
    workers.emplace_back([t, &stop] {
      std::vector<void*> held(64, nullptr);
      unsigned i = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        // Small objects mostly; every 64th a large one (the global paths).
        const size_t n = i % 64 == 0 ? (size_t{1} << 20) + (i % 7) * 4096
                                     : (i * 37 + t) % 3000 + 1;
        void*& slot = held[i % held.size()];
        free(slot);
        slot = malloc(n);
        if (slot != nullptr) static_cast<char*>(slot)[0] = 1;
        ++i;
      }
      for (void* p : held) free(p);
    });
  }
  int ok = 0;
  int hung = 0;
  int failed = 0;
  for (int f = 0; f < kForks; ++f) {
    const pid_t pid = fork();
    if (pid < 0) SetupFailure("fork");
    if (pid == 0) {
      alarm(10);  // a deadlock becomes SIGALRM
      const bool good = AllocWorks();
      bool thread_ok = false;
      std::thread th([&thread_ok] { thread_ok = AllocWorks(); });
      th.join();
      _exit(good && thread_ok ? 0 : 1);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) SetupFailure("waitpid");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      ++ok;
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
      ++hung;
    } else {
      ++failed;
    }
  }
  stop.store(true);
  for (auto& w : workers) w.join();
  Result("forks=" + std::to_string(kForks) + " ok=" + std::to_string(ok) +
         " deadlocks=" + std::to_string(hung) +
         " failed=" + std::to_string(failed));
}

// --- E.2 #21: double free after reuse --------------------------------------

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

// --- E.3 #30: mappings (vm.max_map_count) ----------------------------------

int CountMappings() {
  FILE* f = fopen("/proc/self/maps", "r");
  if (f == nullptr) SetupFailure("/proc/self/maps");
  int n = 0;
  for (int ch; (ch = fgetc(f)) != EOF;) n += ch == '\n';
  fclose(f);
  return n;
}

// How many mappings (VMAs, which vm.max_map_count limits, 65530 by
// default) live objects cost: 60 000 small objects of every class up to
// 32 KiB, then 256 large objects of 1-2 MiB (touched once each).
void MappingCount() {
  constexpr int kSmall = 60000;
  constexpr int kLarge = 256;
  std::vector<void*> small(kSmall);
  std::vector<void*> large(kLarge);
  const int m0 = CountMappings();
  for (int i = 0; i < kSmall; ++i) {
    const size_t n = (size_t{16} << (i % 12)) - static_cast<size_t>(i % 7);
    small[i] = malloc(n);
    if (small[i] == nullptr) SetupFailure("malloc (small)");
  }
  const int m1 = CountMappings();
  for (int i = 0; i < kLarge; ++i) {
    large[i] = malloc((size_t{1} << 20) + static_cast<size_t>(i) * 4096);
    if (large[i] == nullptr) SetupFailure("malloc (large)");
    static_cast<char*>(large[i])[0] = 1;
  }
  const int m2 = CountMappings();
  for (void* p : large) free(p);
  for (void* p : small) free(p);
  const int m3 = CountMappings();
  char buf[200];
  snprintf(buf, sizeof(buf),
           "small_objects=%d small_mappings=%d large_objects=%d "
           "large_mappings=%d mappings_after_free=%d",
           kSmall, m1 - m0, kLarge, m2 - m1, m3 - m0);
  Result(buf);
}

// The process at vm.max_map_count (MappingLimitFiller: no root needed, and
// the system-wide limit is left alone): there the kernel refuses new
// mappings and also the unmapping of part of a mapping. Objects made
// before are freed there, and allocations of every kind are tried and
// freed again: each must succeed or return NULL with ENOMEM, and no free
// may fail. Below the limit again, allocation must work.
void MappingLimit() {
  constexpr int kBefore = 2000;
  constexpr int kRounds = 300;
  std::vector<void*> before;
  std::vector<void*> at;
  before.reserve(kBefore);
  at.reserve(kRounds * 4);
  for (int i = 0; i < kBefore; ++i) {
    const size_t n = i % 8 == 0
                         ? (size_t{1} << 20) + static_cast<size_t>(i) * 4096
                         : size_t{16} << (i % 12);
    void* p = malloc(n);
    if (p == nullptr) SetupFailure("malloc (before)");
    memset(p, 1, n < 4096 ? n : 4096);
    before.push_back(p);
  }
  int ok = 0;
  int enomem = 0;
  int other = 0;
  auto count = [&](void* p) {
    if (p != nullptr) {
      ++ok;
      static_cast<char*>(p)[0] = 2;
      at.push_back(p);
    } else if (errno == ENOMEM) {
      ++enomem;
    } else {
      ++other;
    }
  };
  bool full;
  {
    allocators::mmap_alloc::testing::MappingLimitFiller filler;
    full = filler.full();
    if (full) {
      for (size_t i = 0; i < before.size(); i += 2) free(before[i]);
      for (int r = 0; r < kRounds; ++r) {
        errno = 0;
        count(malloc(size_t{16} << (r % 12)));
        errno = 0;
        count(malloc((size_t{1} << 20) + static_cast<size_t>(r % 7) * 65536));
        errno = 0;
        count(memalign(size_t{2} << 20, size_t{3} << 20));
        void* grown = malloc(100000);
        errno = 0;
        void* q = grown == nullptr ? nullptr : realloc(grown, size_t{5} << 20);
        if (grown != nullptr && q == nullptr) {
          if (errno == ENOMEM) {
            ++enomem;
          } else {
            ++other;
          }
          free(grown);
        } else if (q != nullptr) {
          count(q);
        }
        if (r % 3 == 0) {
          for (void* p : at) free(p);
          at.clear();
        }
      }
      for (void* p : at) free(p);
      at.clear();
      for (size_t i = 1; i < before.size(); i += 2) free(before[i]);
    }
  }
  if (!full) {
    Result("at_limit=0");
    return;
  }
  bool recovered = true;
  for (int i = 0; i < 100 && recovered; ++i) {
    void* big = malloc(size_t{8} << 20);
    void* small = malloc(48);
    recovered = big != nullptr && small != nullptr;
    free(big);
    free(small);
  }
  char buf[160];
  snprintf(buf, sizeof(buf), "at_limit=1 ok=%d enomem=%d other=%d recovered=%d",
           ok, enomem, other, recovered ? 1 : 0);
  Result(buf);
}

// --- E.4 #33: producer/consumer and remote-free storms ----------------------

// A bounded single-producer single-consumer ring of pointers.
class Ring {
 public:
  bool Push(void* p) {
    const size_t h = head_.load(std::memory_order_relaxed);
    if (h - tail_.load(std::memory_order_acquire) == kSlots) return false;
    slots_[h % kSlots] = p;
    head_.store(h + 1, std::memory_order_release);
    return true;
  }
  void* Pop() {
    const size_t t = tail_.load(std::memory_order_relaxed);
    if (t == head_.load(std::memory_order_acquire)) return nullptr;
    void* p = slots_[t % kSlots];
    tail_.store(t + 1, std::memory_order_release);
    return p;
  }

 private:
  static constexpr size_t kSlots = 4096;
  void* slots_[kSlots] = {};
  alignas(64) std::atomic<size_t> head_{0};
  alignas(64) std::atomic<size_t> tail_{0};
};

// Each object carries its size and a cookie in its first 16 bytes.
void* NewCookied(size_t n, uint64_t cookie) {
  uint64_t* p = static_cast<uint64_t*>(malloc(n));
  if (p != nullptr) {
    p[0] = n;
    p[1] = cookie ^ n;
  }
  return p;
}
bool FreeCookied(void* v, uint64_t cookie) {
  const uint64_t* p = static_cast<const uint64_t*>(v);
  const bool ok = p[1] == (cookie ^ p[0]);
  free(v);
  return ok;
}

// Two producer/consumer pairs (xmalloc-test's shape: every object is freed
// by another thread), then remote-free storms (each of 4 threads allocates
// 50 000 objects that one other thread frees, 10 rounds). Peak and final
// resident growth, and every cookie intact.
void ProducerConsumer() {
  constexpr int kPairs = 2;
  constexpr int kPerProducer = 1000000;
  constexpr uint64_t kCookie = 0x5ca1ab1e0ddba11;
  void* const kEnd = reinterpret_cast<void*>(uintptr_t{1});  // the last push
  const long rss0 = StatusKiB("VmRSS");
  std::atomic<int> bad{0};
  std::atomic<int> failures{0};
  const double t0 = NowSeconds();
  {
    std::vector<Ring> rings(kPairs);
    std::vector<std::thread> threads;
    for (int i = 0; i < kPairs; ++i) {
      Ring* ring = &rings[i];
      threads.emplace_back([ring, i, kEnd, &failures] {
        for (int k = 0; k < kPerProducer; ++k) {
          const size_t n = 16 + static_cast<size_t>((k * 37 + i) % 1000);
          void* p = NewCookied(n, kCookie);
          if (p == nullptr) {
            failures.fetch_add(1);
            continue;
          }
          while (!ring->Push(p)) std::this_thread::yield();
        }
        while (!ring->Push(kEnd)) std::this_thread::yield();
      });
      threads.emplace_back([ring, kEnd, &bad] {
        for (;;) {
          void* p = ring->Pop();
          if (p == nullptr) {  // empty
            std::this_thread::yield();
            continue;
          }
          if (p == kEnd) break;
          if (!FreeCookied(p, kCookie)) bad.fetch_add(1);
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  const double pc_seconds = NowSeconds() - t0;
  const long pc_peak = StatusKiB("VmHWM") - rss0;
  const long pc_end = StatusKiB("VmRSS") - rss0;

  constexpr int kStormThreads = 4;
  constexpr int kStormObjects = 50000;
  constexpr int kRounds = 10;
  long after_first = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::vector<void*>> made(kStormThreads);
    std::vector<std::thread> makers;
    for (int t = 0; t < kStormThreads; ++t) {
      makers.emplace_back([&made, t, &failures] {
        made[t].reserve(kStormObjects);
        for (int k = 0; k < kStormObjects; ++k) {
          void* p = NewCookied(16 + static_cast<size_t>(k % 200), kCookie);
          if (p == nullptr) {
            failures.fetch_add(1);
            continue;
          }
          made[t].push_back(p);
        }
      });
    }
    for (auto& t : makers) t.join();
    std::vector<std::thread> freers;
    for (int t = 0; t < kStormThreads; ++t) {
      // Thread t frees what maker (t + 1) % kStormThreads made.
      freers.emplace_back([&made, t, &bad] {
        for (void* p : made[(t + 1) % kStormThreads]) {
          if (!FreeCookied(p, kCookie)) bad.fetch_add(1);
        }
      });
    }
    for (auto& t : freers) t.join();
    if (round == 0) after_first = StatusKiB("VmRSS");
  }
  const long storm_growth = StatusKiB("VmRSS") - after_first;
  char buf[300];
  snprintf(buf, sizeof(buf),
           "objects=%d failures=%d bad_cookies=%d seconds=%.2f "
           "peak_growth_mib=%.1f end_growth_mib=%.1f storm_rounds=%d "
           "storm_growth_mib=%.1f",
           kPairs * kPerProducer, failures.load(), bad.load(), pc_seconds,
           static_cast<double>(pc_peak) / 1024.0,
           static_cast<double>(pc_end) / 1024.0, kRounds,
           static_cast<double>(storm_growth) / 1024.0);
  Result(buf);
}

// --- E.4 #35: dlopen, and an interposer that calls dlsym during init --------

// SCENARIO_PLUGIN names a library (scenario_plugin.cc) whose static
// constructor and destructor allocate and free; it is loaded and unloaded
// 50 times, and blocks cross the library boundary both ways each time.
void DlopenPlugin() {
  const char* path = getenv("SCENARIO_PLUGIN");
  if (path == nullptr) SetupFailure("SCENARIO_PLUGIN is not set");
  constexpr int kCycles = 50;
  int ok = 0;
  for (int i = 0; i < kCycles; ++i) {
    void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) SetupFailure(dlerror());
    using AllocFn = void* (*)(size_t);
    using FreeFn = void (*)(void*);
    using CheckFn = int (*)();
    auto alloc = reinterpret_cast<AllocFn>(dlsym(h, "scenario_plugin_alloc"));
    auto release = reinterpret_cast<FreeFn>(dlsym(h, "scenario_plugin_free"));
    auto check = reinterpret_cast<CheckFn>(dlsym(h, "scenario_plugin_check"));
    if (alloc == nullptr || release == nullptr || check == nullptr) {
      SetupFailure("plugin symbols");
    }
    char* p = static_cast<char*>(alloc(1000 + static_cast<size_t>(i)));
    void* q = malloc(3000);
    if (p != nullptr && q != nullptr && check() == 1) {
      memset(p, 7, 1000);
      free(p);     // the plugin's block, freed here
      release(q);  // this block, freed by the plugin
      ++ok;
    }
    if (dlclose(h) != 0) SetupFailure("dlclose");
  }
  Result("cycles=" + std::to_string(kCycles) + " ok=" + std::to_string(ok) +
         " after=" + (AllocWorks() ? "1" : "0"));
}

// Runs this program again as `scenario_probe <scenario>`, with `name=value`
// added to its environment, and waits for it (at most 30 s). Its stdout
// and stderr are returned; the exit status is the result.
int RunSelf(const char* scenario, const char* name, const std::string& value,
            std::string* out, std::string* err) {
  char out_path[] = "/tmp/scenario_probe_outXXXXXX";
  char err_path[] = "/tmp/scenario_probe_errXXXXXX";
  const int out_fd = mkstemp(out_path);
  const int err_fd = mkstemp(err_path);
  if (out_fd < 0 || err_fd < 0) SetupFailure("mkstemp");
  unlink(out_path);
  unlink(err_path);
  const pid_t pid = fork();
  if (pid < 0) SetupFailure("fork");
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    setenv(name, value.c_str(), 1);
    alarm(30);  // a deadlock becomes SIGALRM
    execl("/proc/self/exe", "scenario_probe", scenario,
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) SetupFailure("waitpid");
  const auto slurp = [](int fd) {
    std::string s;
    char buf[4096];
    lseek(fd, 0, SEEK_SET);
    for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) s.append(buf, n);
    close(fd);
    return s;
  };
  *out = slurp(out_fd);
  *err = slurp(err_fd);
  return status;
}

std::string StatusName(int status) {
  if (WIFEXITED(status)) return "exit" + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal" + std::to_string(WTERMSIG(status));
  return "other";
}

// SCENARIO_INTERPOSER names a library (scenario_interposer.c) that
// interposes malloc and free and resolves the real ones with dlsym from
// its constructor, which allocates through the allocator under test before
// that has initialised (jemalloc #443's deadlock). The child runs with
// LD_PRELOAD=interposer:<the allocator>.
void InterposerDlsym() {
  const char* path = getenv("SCENARIO_INTERPOSER");
  const char* preload = getenv("LD_PRELOAD");
  if (path == nullptr || preload == nullptr) {
    SetupFailure("SCENARIO_INTERPOSER or LD_PRELOAD is not set");
  }
  std::string out, err;
  const int status = RunSelf("interposed_child", "LD_PRELOAD",
                             std::string(path) + ":" + preload, &out, &err);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  Result("child=" + StatusName(status) + " " + out +
         " child_stderr_bytes=" + std::to_string(err.size()));
}

// The child: every allocation path works, and went through the interposer.
void InterposedChild() {
  using CallsFn = long (*)();
  auto calls = reinterpret_cast<CallsFn>(
      dlsym(RTLD_DEFAULT, "scenario_interposer_calls"));
  bool ok = AllocWorks();
  OnThread([&ok] { ok = ok && AllocWorks(); });
  void* p = calloc(100, 10);
  p = realloc(p, 5000);
  ok = ok && p != nullptr;
  free(p);
  auto* s = new std::string(300, 'y');
  ok = ok && (*s)[299] == 'y';
  delete s;
  Result(std::string("interposed=") +
         (calls != nullptr && calls() > 0 ? "1" : "0") +
         " ok=" + (ok ? "1" : "0"));
}

// --- E.4 #38: memory return --------------------------------------------------

// The spec's probe: 256 MiB of live objects, free all, sleep, small
// activity, sleep and activity again, then the purge API (malloc_trim, as
// glibc's). RSS above the start, in MiB, at each step. The sleeps are 2 s
// each (the spec's second was 10 s; elfmalloc's decay period is 1 s), or
// SCENARIO_IDLE_MS.
void MemoryReturn() {
  const char* idle_env = getenv("SCENARIO_IDLE_MS");
  const long idle_ms = idle_env != nullptr ? atol(idle_env) : 2000;
  const timespec idle = {idle_ms / 1000, (idle_ms % 1000) * 1000000};
  using TrimFn = int (*)(size_t);
  auto trim = reinterpret_cast<TrimFn>(dlsym(RTLD_DEFAULT, "malloc_trim"));
  const auto activity = [] {
    for (int i = 0; i < 20000; ++i) {
      void* p = malloc(static_cast<size_t>(16 + i % 100));
      free(Launder(p));
    }
  };
  const auto mib = [](long kib) { return static_cast<double>(kib) / 1024.0; };
  std::string line =
      std::string("purge_api=") + (trim != nullptr ? "malloc_trim" : "none");
  for (const size_t size : {size_t{64}, size_t{1} << 20}) {
    const size_t count = (size_t{256} << 20) / size;
    const long base = StatusKiB("VmRSS");
    // The objects are chained through their first word: no side table.
    void* head = nullptr;
    for (size_t i = 0; i < count; ++i) {
      void** p = static_cast<void**>(malloc(size));
      if (p == nullptr) SetupFailure("malloc");
      memset(p, 1, size);
      *p = head;
      head = p;
    }
    const long live = StatusKiB("VmRSS") - base;
    while (head != nullptr) {
      void* next = *static_cast<void**>(head);
      free(head);
      head = next;
    }
    const long freed = StatusKiB("VmRSS") - base;
    nanosleep(&idle, nullptr);
    activity();
    nanosleep(&idle, nullptr);
    activity();
    const long idle = StatusKiB("VmRSS") - base;
    if (trim != nullptr) trim(0);
    const long purged = StatusKiB("VmRSS") - base;
    char buf[200];
    const char* kind = size == 64 ? "small" : "large";
    snprintf(buf, sizeof(buf),
             " %s_live_mib=%.0f %s_freed_mib=%.0f %s_idle_mib=%.0f "
             "%s_purged_mib=%.0f",
             kind, mib(live), kind, mib(freed), kind, mib(idle), kind,
             mib(purged));
    line += buf;
  }
  Result(line);
}

// memory_return again in a child with ELFMALLOC_BACKGROUND_THREAD=1: the
// decay then runs without allocator calls, so the idle steps return memory
// too. A 250 ms decay period and 1 s sleeps keep it short. Prints the
// child's line.
void MemoryReturnBackground() {
  std::string out, err;
  setenv("ELFMALLOC_DECAY_MS", "250", 1);  // inherited by the child
  setenv("SCENARIO_IDLE_MS", "1000", 1);
  const int status =
      RunSelf("memory_return", "ELFMALLOC_BACKGROUND_THREAD", "1", &out, &err);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  Result("child=" + StatusName(status) + " " + out +
         " child_stderr_bytes=" + std::to_string(err.size()));
}

// --- E.4 #39: statistics at exit, with threads still allocating -------------

// The child prints ELFMALLOC_SHOW_STATS's report at exit while two threads
// still allocate; it must exit 0 (no deadlock) and the report must hold no
// negative count.
void StatsAtExitWithThreads() {
  std::string out, err;
  const int status =
      RunSelf("stats_child", "ELFMALLOC_SHOW_STATS", "1", &out, &err);
  const bool report = err.find("elfmalloc statistics") != std::string::npos;
  const bool negative = std::regex_search(err, std::regex("(^|[ \\t])-[0-9]"));
  Result("child=" + StatusName(status) + " report=" + (report ? "1" : "0") +
         " negative=" + (negative ? "1" : "0"));
}

void StatsChild() {
  for (int t = 0; t < 2; ++t) {
    std::thread([t] {
      std::vector<void*> held(256, nullptr);
      for (unsigned i = 0;; ++i) {
        void*& slot = held[i % held.size()];
        free(slot);
        slot = malloc((i * 53 + static_cast<unsigned>(t)) % 5000 + 1);
      }
    }).detach();
  }
  usleep(100 * 1000);  // both threads are allocating
  Result("main_done=1");
}

struct Entry {
  const char* name;
  void (*run)();
};

const Entry kScenarios[] = {
    {"preloaded", Preloaded},
    // E.1
    {"malloc_0", Malloc0},
    {"free_null_all_forms", FreeNull},
    {"realloc_null", ReallocNull},
    {"realloc_zero", ReallocZero},
    {"calloc_overflow", CallocOverflow},
    {"reallocarray_overflow", ReallocarrayOverflow},
    {"malloc_huge", MallocHuge},
    {"posix_memalign_bad_align", PosixMemalignBadAlign},
    {"posix_memalign_huge_and_zero", PosixMemalignHuge},
    {"aligned_alloc_align_3", AlignedAllocAlign3},
    {"aligned_alloc_size_not_multiple", AlignedAllocNotMultiple},
    {"aligned_alloc_1g", AlignedAlloc1G},
    {"memalign_odd", MemalignOdd},
    {"huge_alignments", HugeAlignments},
    {"usable_size", UsableSize},
    {"free_sized_correct", FreeSizedCorrect},
    {"new_handler_huge", NewHandlerHuge},
    {"nothrow_huge", NothrowHuge},
    {"new_0_twice", New0Twice},
    {"sized_delete_wrong_size", SizedDeleteWrong},
    // E.2
    {"free_stack", FreeStack},
    {"free_global", FreeGlobal},
    {"free_foreign_mmap", FreeForeignMmap},
    {"free_wild", FreeWild},
    {"free_interior_small", FreeInteriorSmall},
    {"free_interior_large", FreeInteriorLarge},
    {"double_free_small", DoubleFreeSmall},
    {"double_free_large", DoubleFreeLarge},
    {"double_free_cross_thread", DoubleFreeCrossThread},
    {"realloc_freed_small", [] { ReallocFreed(48); }},
    {"realloc_freed_large", [] { ReallocFreed(4 << 20); }},
    {"free_sized_wrong_size", FreeSizedWrong},
    {"double_free_after_reuse", DoubleFreeAfterReuse},
    // E.3
    {"malloc_64g", [] { MallocBeyondRam(size_t{64} << 30); }},
    {"malloc_1t", [] { MallocBeyondRam(size_t{1} << 40); }},
    {"rlimit_as_1m_blocks", [] { RlimitExhaustion(1 << 20, size_t{1} << 30); }},
    {"rlimit_as_48b_objects", [] { RlimitExhaustion(48, size_t{512} << 20); }},
    {"new_under_rlimit_as", NewUnderExhaustion},
    {"mapping_count", MappingCount},
    {"mapping_limit", MappingLimit},
    // E.4
    {"alloc_before_main", AllocBeforeMain},
    {"alloc_in_atexit", AllocInAtexit},
    {"alloc_in_thread_dtors", AllocInTlsDtor},
    {"short_threads_2000", ShortThreads},
    {"fork_while_threads_allocate", ForkWhileThreadsAllocate},
    {"producer_consumer", ProducerConsumer},
    {"dlopen_plugin", DlopenPlugin},
    {"interposer_dlsym", InterposerDlsym},
    {"memory_return", MemoryReturn},
    {"memory_return_background_thread", MemoryReturnBackground},
    {"stats_at_exit_with_threads", StatsAtExitWithThreads},
};

// The processes some scenarios start (RunSelf); not scenarios of their own,
// so --list leaves them out.
const Entry kChildren[] = {
    {"interposed_child", InterposedChild},
    {"stats_child", StatsChild},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (const Entry& e : kScenarios) printf("%s\n", e.name);
    return 0;
  }
  if (argc != 2) {
    fprintf(stderr, "usage: scenario_probe NAME | --list\n");
    return 2;
  }
  for (const Entry& e : kScenarios) {
    if (strcmp(e.name, argv[1]) == 0) {
      e.run();
      return 0;
    }
  }
  for (const Entry& e : kChildren) {
    if (strcmp(e.name, argv[1]) == 0) {
      e.run();
      return 0;
    }
  }
  fprintf(stderr, "scenario_probe: unknown scenario %s\n", argv[1]);
  return 2;
}
