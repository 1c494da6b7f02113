// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Exhaustion and limits (rows 26-30 of info/reliability.md): requests
// beyond RAM, an address-space limit (RLIMIT_AS, set in the probe's own
// process only), operator new under that limit, and the number of mappings
// against vm.max_map_count. Each completes with one result line: failures
// must be NULL with ENOMEM (or bad_alloc), and allocation must work again
// once memory is freed.

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cstddef>
#include <new>
#include <string>
#include <vector>

#include "elfmalloc/scenarios/scenario.h"
#include "mmap_alloc/testing/mapping_limit.h"
#include "platform/testing/proc.h"

namespace allocators {
namespace elfmalloc {
namespace scenarios {
namespace {

// Whether the kernel's overcommit policy must refuse a single private
// writable mapping of `bytes` on this host.
bool KernelMustRefuse(size_t bytes) {
  const int64_t mode =
      platform::testing::ReadProcNumber("/proc/sys/vm/overcommit_memory");
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

// Blocks linked through their first word (FillUntilNull makes them,
// FreeChain frees them), the count and the errno of the failure that ended
// the chain. Used by one thread.
struct Chain {
  size_t count = 0;
  void* head = nullptr;
  int err = 0;
};

// Allocates `size`-byte blocks, at most max_count, until malloc fails.
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
  InstallCountingNewHandler();
  try {
    for (int i = 0; i < 4096; ++i) blocks.push_back(::operator new(1 << 20));
  } catch (const std::bad_alloc&) {
    outcome = "bad_alloc";
  }
  const int calls = NewHandlerCalls();
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

int CountMappings() {
  return static_cast<int>(platform::testing::MappingCount());
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

const Scenario kScenarios[] = {
    // Host-dependent: skipped where the overcommit policy may grant it.
    {"malloc_64g", 26, [] { MallocBeyondRam(size_t{64} << 30); },
     Exits0("^ret=null errno=ENOMEM ", 60, "ms<=1000", "kernel_must_refuse=1")},
    {"malloc_1t", 26, [] { MallocBeyondRam(size_t{1} << 40); },
     Exits0("^ret=null errno=ENOMEM ", 60, "ms<=1000", "kernel_must_refuse=1")},
    {"rlimit_as_1m_blocks", 27,
     [] { RlimitExhaustion(1 << 20, size_t{1} << 30); },
     Exits0("^limit_hit=1 errno=ENOMEM errno2=ENOMEM recovered=1 ", 120)},
    {"rlimit_as_48b_objects", 28,
     [] { RlimitExhaustion(48, size_t{512} << 20); },
     Exits0("^limit_hit=1 errno=ENOMEM errno2=ENOMEM recovered=1 ", 300)},
    {"new_under_rlimit_as", 29, NewUnderExhaustion,
     Exits0("^outcome=bad_alloc handler_calls=3 nothrow=null recovered=1\n$",
            60)},
    {"mapping_count", 30, MappingCount,
     Exits0("^small_objects=60000 small_mappings=-?[0-9]+ large_objects=256 "
            "large_mappings=-?[0-9]+ mappings_after_free=-?[0-9]+\n$",
            60,
            "small_mappings<=4096;large_mappings<=528;"
            "mappings_after_free<=4096")},
    // At vm.max_map_count (the probe fills the mapping table itself):
    // every allocation succeeds or gives ENOMEM, no free fails, and
    // allocation works again below the limit. Skipped where the table
    // cannot be filled (an unreadable or very high limit).
    {"mapping_limit", 30, MappingLimit,
     Exits0("^at_limit=1 ok=[0-9]+ enomem=[0-9]+ other=0 recovered=1\n$", 120,
            "", "at_limit=1")},
};

}  // namespace

Table<Scenario> ExhaustionScenarios() { return TableOf(kScenarios); }

}  // namespace scenarios
}  // namespace elfmalloc
}  // namespace allocators
