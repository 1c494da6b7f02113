// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// What makes a build of elfmalloc out of a Config (config.h):
//
// * ELFMALLOC_DEFINE_API(Config) defines the public C++ API
//   (elfmalloc.h) over Heap<Config>, and the build's one-time set-up;
// * ELFMALLOC_DEFINE_HEAP_API(Config), which it expands, defines Heap and
//   Heap::Handle (heap.h) over UserHeap<Config>;
// * ElfmallocBinding<Config> (malloc_binding.h) is the same heap as a
//   malloc_bind binding, for the C malloc symbols and C++ operators.
//
// elfmalloc/variants.bzl generates, for each variant, one source file that
// expands ELFMALLOC_DEFINE_API for its Config and one that expands
// malloc_bind's MALLOC_BIND_DEFINE_C/CXX for its binding. The API
// functions are ordinary external symbols, so linking two variants into
// one program is a duplicate-definition error at link time rather than
// two heaps silently sharing the program's pointers.
//
// Thread-safety: the API is thread-safe (see elfmalloc.h).

#ifndef ELFMALLOC_INTERNAL_VARIANT_H_
#define ELFMALLOC_INTERNAL_VARIANT_H_

#include <elfmalloc.h>  // ELFMALLOC_VERSION_STRING

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "alloc_fmt/format.h"
#include "alloc_fmt/once.h"
#include "elfmalloc/elfmalloc.h"
#include "elfmalloc/heap.h"
#include "elfmalloc/internal/heap.h"
#include "elfmalloc/internal/stats_report.h"
#include "elfmalloc/internal/user_heap.h"
#include "malloc_bind/internal/cxx_runtime.h"
#include "platform/platform.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// The pieces of the API of variant Config that are more than a forward.
template <typename Config>
class Variant {
 public:
  using Heap = internal::Heap<Config>;

  // "<name>, <front-end> front-end" and what else sets the build apart
  // (", hardened", ", checks off", ", counters off"): for the start-up line
  // and the statistics header.
  static const char* Description() {
    description_once_.Run([] {
      alloc_fmt::Format(description_, sizeof(description_),
                        "%s, %s front-end%s%s%s", Config::kName,
                        Heap::FE::kFrontEndName,
                        Config::kHardened ? ", hardened" : "",
                        Config::kChecks ? "" : ", checks off",
                        Config::kStats ? "" : ", counters off");
    });
    return description_;
  }

  // One-time set-up, at load time (a static initializer: never inside an
  // allocation, and nothing on the allocation paths): the fork handlers
  // (fork.h), the statistics report at exit (ELFMALLOC_SHOW_STATS) and the
  // start-up line (ELFMALLOC_VERBOSE). The heap itself is built by the
  // first allocation, so a process that never allocates pays nothing for
  // it.
  static bool Initialize() {
    InstallForkHandlers();
    const Options options = GetOptions();
    if (options.show_stats) std::atexit(&PrintStatsAtExit);
    if (options.secure && !Config::kHardened) {
      // Hardening is a build, not a switch; say so rather than let the
      // user believe it is on.
      alloc_fmt::Print(2,
                       "elfmalloc: ELFMALLOC_SECURE=1 has no effect in this "
                       "library; preload libelfmalloc-secure.so (tools/elfrun "
                       "--secure)\n");
    }
    if (options.verbose) {
      alloc_fmt::Print(2,
                       "elfmalloc: %s (%s) active in process %d; "
                       "decay_ms=%lld\n",
                       ELFMALLOC_VERSION_STRING, Description(),
                       platform::ProcessId(),
                       static_cast<long long>(options.decay_ms));
    }
    return true;
  }

  static elfmalloc::Stats GetStats() {
    const HeapStats s = Heap::Instance().Stats();
    return elfmalloc::Stats{s.mapped_bytes, s.dirty_bytes, s.large_bytes,
                            s.large_count, s.large_cached_bytes};
  }

  static elfmalloc::ClassStats GetClassStats(size_t c) {
    const HeapStats s = Heap::Instance().Stats();
    const internal::ClassStats& k = s.classes[c < kNumClasses ? c : 0];
    return elfmalloc::ClassStats{k.object_size, k.allocs, k.frees, k.slags,
                                 k.slag_bytes};
  }

  static void PrintStats(void (*write)(void* opaque, const char* line),
                         void* opaque) {
    WriteStatsReport(Heap::Instance().Stats(), Description(), write, opaque);
  }

 private:
  ABSL_CONST_INIT static inline Once description_once_;
  static inline char description_[128] = {};

  // ELFMALLOC_SHOW_STATS: the report on stderr when the process exits
  // normally. Other threads may still be allocating; it only reads
  // counters.
  static void PrintStatsAtExit() { PrintStats(nullptr, nullptr); }
};

// The pieces of Heap and Heap::Handle (elfmalloc/heap.h) over
// UserHeap<Config> that are more than a forward. The public classes hold
// the build's objects as void*.
template <typename Config>
class UserHeapApi {
 public:
  using User = UserHeap<Config>;
  using Cache = typename User::Cache;

  static User* Of(void* impl) { return static_cast<User*>(impl); }
  static Cache* CacheOf(void* cache) { return static_cast<Cache*>(cache); }

  // A new heap; throws std::bad_alloc if it cannot be mapped.
  static void* Create() {
    User* heap = User::Create();
    if (heap == nullptr) malloc_bind::internal::ThrowBadAlloc(sizeof(User));
    return heap;
  }

  // A new cache of heap `impl`; throws std::bad_alloc if it cannot be
  // mapped.
  static void* NewCache(void* impl) {
    Cache* tc = Of(impl)->NewCache();
    if (tc == nullptr) malloc_bind::internal::ThrowBadAlloc(sizeof(Cache));
    return tc;
  }
  static void DeleteCache(void* impl, void* cache) {
    Of(impl)->DeleteCache(CacheOf(cache));
  }

  static elfmalloc::Heap::Stats GetStats(void* impl) {
    const HeapStats s = Of(impl)->Stats();
    elfmalloc::Heap::Stats out{s.mapped_bytes, s.dirty_bytes, s.large_bytes,
                               s.large_count, 0, 0};
    for (const ClassStats& k : s.classes) {
      out.allocated += k.allocs;
      out.freed += k.frees;
    }
    return out;
  }
};

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

// Defines the functions of elfmalloc.h over Heap<Config> (a fully
// qualified Config type), once per program. Expand at global scope.
#define ELFMALLOC_DEFINE_API(Config)                                          \
  namespace allocators {                                                      \
  namespace elfmalloc {                                                       \
  namespace {                                                                 \
  using VariantHeap = internal::Heap<Config>;                                 \
  using VariantApi = internal::Variant<Config>;                               \
  [[maybe_unused]] const bool g_variant_initialized =                         \
      VariantApi::Initialize();                                               \
  }                                                                           \
  void* Alloc(size_t size) { return VariantHeap::Alloc(size); }               \
  void* AllocZeroed(size_t size) { return VariantHeap::AllocZeroed(size); }   \
  void* AlignedAlloc(size_t size, size_t align) {                             \
    return VariantHeap::AlignedAlloc(size, align);                            \
  }                                                                           \
  void Free(void* p) { VariantHeap::Free(p); }                                \
  void* Realloc(void* p, size_t size) {                                       \
    return VariantHeap::Realloc(p, size, 1);                                  \
  }                                                                           \
  void* AlignedRealloc(void* p, size_t size, size_t align) {                  \
    return VariantHeap::Realloc(p, size, align);                              \
  }                                                                           \
  void FreeSized(void* p, size_t size, size_t align, const char* fn) {        \
    if (p != nullptr) VariantHeap::FreeSized(p, size, align, fn);             \
  }                                                                           \
  size_t UsableSize(const void* p) { return VariantHeap::UsableSize(p); }     \
  BlockLayout Layout(const void* p) {                                         \
    BlockLayout l{0, 0, kNumClasses};                                         \
    if (p != nullptr) VariantHeap::Layout(p, &l.size, &l.align, &l.size_class); \
    return l;                                                                 \
  }                                                                           \
  bool Release() { return VariantHeap::Instance().Release(); }                \
  bool CheckInvariants() {                                                    \
    VariantHeap::Instance().CheckInvariants();                                \
    return true;                                                              \
  }                                                                           \
  void SetDecayMs(int64_t ms) { VariantHeap::Instance().SetDecayMs(ms); }     \
  int64_t DecayMs() { return VariantHeap::Instance().decay_ms(); }            \
  Stats GetStats() { return VariantApi::GetStats(); }                         \
  size_t ClassCount() { return kNumClasses; }                                 \
  ClassStats GetClassStats(size_t c) { return VariantApi::GetClassStats(c); } \
  void PrintStats(void (*write)(void* opaque, const char* line),              \
                  void* opaque) {                                             \
    VariantApi::PrintStats(write, opaque);                                    \
  }                                                                           \
  const char* FrontendName() { return VariantHeap::FE::kFrontEndName; }       \
  const char* BuildName() { return Config::kName; }                           \
  bool IsHardened() { return Config::kHardened; }                             \
  }                                                                           \
  }                                                                           \
  ELFMALLOC_DEFINE_HEAP_API(Config)

// Defines the members of Heap and Heap::Handle (elfmalloc/heap.h) over
// UserHeap<Config>. Expanded by ELFMALLOC_DEFINE_API.
#define ELFMALLOC_DEFINE_HEAP_API(Config)                                     \
  namespace allocators {                                                      \
  namespace elfmalloc {                                                       \
  namespace {                                                                 \
  using VariantUserHeap = internal::UserHeap<Config>;                         \
  using VariantUserApi = internal::UserHeapApi<Config>;                       \
  }                                                                           \
  Heap::Heap() : impl_(VariantUserApi::Create()) {}                           \
  Heap::~Heap() { VariantUserHeap::Delete(VariantUserApi::Of(impl_)); }       \
  void* Heap::Alloc(size_t size) {                                            \
    return VariantUserApi::Of(impl_)->Alloc(nullptr, size);                   \
  }                                                                           \
  void* Heap::AllocZeroed(size_t size) {                                      \
    return VariantUserApi::Of(impl_)->AllocZeroed(nullptr, size);             \
  }                                                                           \
  void* Heap::AlignedAlloc(size_t size, size_t align) {                       \
    return VariantUserApi::Of(impl_)->AlignedAlloc(nullptr, size, align);     \
  }                                                                           \
  void Heap::Free(void* p) { VariantUserApi::Of(impl_)->Free(nullptr, p); }   \
  void Heap::FreeSized(void* p, size_t size, size_t align) {                  \
    VariantUserApi::Of(impl_)->Free(nullptr, p, size, align,                  \
                                    "Heap::FreeSized");                       \
  }                                                                           \
  void* Heap::Realloc(void* p, size_t size) {                                 \
    return VariantUserApi::Of(impl_)->Realloc(nullptr, p, size, 1);           \
  }                                                                           \
  void* Heap::AlignedRealloc(void* p, size_t size, size_t align) {            \
    return VariantUserApi::Of(impl_)->Realloc(nullptr, p, size, align);       \
  }                                                                           \
  size_t Heap::UsableSize(const void* p) const {                              \
    return VariantUserApi::Of(impl_)->UsableSize(p);                          \
  }                                                                           \
  bool Heap::Owns(const void* p) const {                                      \
    return VariantUserApi::Of(impl_)->Owns(p);                                \
  }                                                                           \
  Heap::Stats Heap::GetStats() const {                                        \
    return VariantUserApi::GetStats(impl_);                                   \
  }                                                                           \
  void Heap::Destroy() { VariantUserApi::Of(impl_)->Destroy(); }              \
  Heap::Handle::Handle(Heap& heap)                                            \
      : heap_(&heap), cache_(VariantUserApi::NewCache(heap.impl_)) {}         \
  Heap::Handle::~Handle() {                                                   \
    if (cache_ != nullptr) VariantUserApi::DeleteCache(heap_->impl_, cache_); \
  }                                                                           \
  void* Heap::Handle::Alloc(size_t size) {                                    \
    return VariantUserApi::Of(heap_->impl_)->Alloc(                           \
        VariantUserApi::CacheOf(cache_), size);                               \
  }                                                                           \
  void* Heap::Handle::AllocZeroed(size_t size) {                              \
    return VariantUserApi::Of(heap_->impl_)->AllocZeroed(                     \
        VariantUserApi::CacheOf(cache_), size);                               \
  }                                                                           \
  void* Heap::Handle::AlignedAlloc(size_t size, size_t align) {               \
    return VariantUserApi::Of(heap_->impl_)->AlignedAlloc(                    \
        VariantUserApi::CacheOf(cache_), size, align);                        \
  }                                                                           \
  void Heap::Handle::Free(void* p) {                                          \
    VariantUserApi::Of(heap_->impl_)->Free(VariantUserApi::CacheOf(cache_),   \
                                           p, 0, 0, "Heap::Handle::Free");    \
  }                                                                           \
  void Heap::Handle::FreeSized(void* p, size_t size, size_t align) {          \
    VariantUserApi::Of(heap_->impl_)->Free(VariantUserApi::CacheOf(cache_),   \
                                           p, size, align,                    \
                                           "Heap::Handle::FreeSized");        \
  }                                                                           \
  void* Heap::Handle::Realloc(void* p, size_t size) {                         \
    return VariantUserApi::Of(heap_->impl_)->Realloc(                         \
        VariantUserApi::CacheOf(cache_), p, size, 1);                         \
  }                                                                           \
  void* Heap::Handle::AlignedRealloc(void* p, size_t size, size_t align) {    \
    return VariantUserApi::Of(heap_->impl_)->Realloc(                         \
        VariantUserApi::CacheOf(cache_), p, size, align);                     \
  }                                                                           \
  }                                                                           \
  }

#endif  // ELFMALLOC_INTERNAL_VARIANT_H_
