// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Bindings (malloc_bind.h) for allocators that do not fit its static
// binding directly: the original's LayoutFinder and its global-instance
// generators.
//
// LayoutBinding<A, F> binds a *sized* allocator, one that must be told a
// block's size and alignment to free it (as munmap, std::pmr and Rust's
// GlobalAlloc must), through a layout finder that recovers them from the
// pointer:
//
//   A: static void* Allocate(size_t size, size_t align);   // nullptr: none
//      static void Deallocate(void* p, size_t size, size_t align);
//   F: static Layout Find(const void* p);   // what p was allocated with
//      static bool Insert(void* p, Layout l);   // optional: after each
//                                               // allocation; false fails it
//      static void Erase(const void* p);        // optional: before each free
//
// AddressLayoutTable<Tag> is a finder for page-aligned blocks (an
// mmap-backed allocator's): an out-of-band table, never the C++ heap.
//
// InstanceBinding<Instance> binds an allocator *object* rather than a type
// with static members: Instance::Get() returns it, and its Alloc,
// AlignedAlloc, Free, Realloc and UsableSize are members. Two instances:
//
//   ConstInstance<T, Tag>   a constant-initialised global T (T needs a
//                           constexpr default constructor): usable before
//                           any constructor of the program has run;
//   LazyInstance<T, Tag>    a T built on first use, once, by whichever
//                           thread gets there first (alloc_fmt::Once), in
//                           static storage: for allocators whose
//                           constructor must run code.
//
// Thread-safety: as A, F and T's.

#ifndef MALLOC_BIND_LAYOUT_BINDING_H_
#define MALLOC_BIND_LAYOUT_BINDING_H_

#include <errno.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>

#include "absl/base/attributes.h"
#include "absl/base/thread_annotations.h"
#include "alloc_fmt/format.h"
#include "alloc_fmt/once.h"
#include "alloc_fmt/spin_lock.h"
#include "mmap_alloc/internal/address_table.h"

namespace allocators {
namespace malloc_bind {

// A block's size and alignment.
struct Layout {
  size_t size;
  size_t align;
};

namespace internal {
template <typename F, typename = void>
struct HasInsert : std::false_type {};
template <typename F>
struct HasInsert<F, std::void_t<decltype(F::Insert(static_cast<void*>(nullptr),
                                                   Layout{}))>>
    : std::true_type {};
template <typename F, typename = void>
struct HasErase : std::false_type {};
template <typename F>
struct HasErase<F, std::void_t<decltype(F::Erase(
                       static_cast<const void*>(nullptr)))>> : std::true_type {
};
}  // namespace internal

template <typename A, typename F>
struct LayoutBinding {
  static void* Alloc(size_t size) {
    return AlignedAlloc(size, size >= 16 ? 16 : 8);
  }
  static void* AlignedAlloc(size_t size, size_t align) {
    void* p = A::Allocate(size, align);
    if (p == nullptr) return nullptr;
    if constexpr (internal::HasInsert<F>::value) {
      if (!F::Insert(p, Layout{size, align})) {
        A::Deallocate(p, size, align);
        errno = ENOMEM;
        return nullptr;
      }
    }
    return p;
  }
  static void Free(void* p) {
    const Layout l = F::Find(p);
    if constexpr (internal::HasErase<F>::value) F::Erase(p);
    A::Deallocate(p, l.size, l.align);
  }
  static void* Realloc(void* p, size_t size) {
    const Layout l = F::Find(p);
    void* q = AlignedAlloc(size, l.align);
    if (q == nullptr) return nullptr;
    std::memcpy(q, p, l.size < size ? l.size : size);
    Free(p);
    return q;
  }
  static size_t UsableSize(const void* p) { return F::Find(p).size; }
};

// A layout finder for page-aligned blocks: one table per Tag type, mapped
// through mmap_alloc and grown at half load, under a spin lock. Find of a
// pointer it does not hold is fatal ("malloc_bind: no layout for 0x...").
template <typename Tag>
class AddressLayoutTable {
 public:
  static Layout Find(const void* p) {
    SpinLockHolder h(&lock_);
    size_t at;
    if (!table_.Find(reinterpret_cast<uintptr_t>(p), &at)) NotFound(p);
    return Layout{table_[at].size, table_[at].align};
  }
  static bool Insert(void* p, Layout l) {
    SpinLockHolder h(&lock_);
    if (2 * (count_ + 1) > table_.capacity() && !table_.Grow()) return false;
    table_.Place(Record{reinterpret_cast<uintptr_t>(p), l.size, l.align});
    ++count_;
    return true;
  }
  static void Erase(const void* p) {
    SpinLockHolder h(&lock_);
    size_t at;
    if (!table_.Find(reinterpret_cast<uintptr_t>(p), &at)) NotFound(p);
    table_.Erase(at);
    --count_;
  }
  // Blocks recorded now (tests).
  static size_t count() {
    SpinLockHolder h(&lock_);
    return count_;
  }

 private:
  struct Record {
    uintptr_t addr;
    size_t size;
    size_t align;
  };
  [[noreturn]] static void NotFound(const void* p);

  ABSL_CONST_INIT static inline SpinLock lock_;
  static inline mmap_alloc::internal::AddressTable<Record, 64> table_
      ABSL_GUARDED_BY(lock_);
  static inline size_t count_ ABSL_GUARDED_BY(lock_) = 0;
};

template <typename Tag>
void AddressLayoutTable<Tag>::NotFound(const void* p) {
  alloc_fmt::Fatal("malloc_bind: no layout for %p (not allocated here)", p);
}

// A binding over the allocator object Instance::Get() returns.
template <typename Instance>
struct InstanceBinding {
  static void* Alloc(size_t size) { return Instance::Get().Alloc(size); }
  static void* AlignedAlloc(size_t size, size_t align) {
    return Instance::Get().AlignedAlloc(size, align);
  }
  static void Free(void* p) { Instance::Get().Free(p); }
  static void* Realloc(void* p, size_t size) {
    return Instance::Get().Realloc(p, size);
  }
  static size_t UsableSize(const void* p) {
    return Instance::Get().UsableSize(p);
  }
};

// A constant-initialised global T, one per Tag.
template <typename T, typename Tag = T>
struct ConstInstance {
  static T& Get() { return instance_; }

 private:
  ABSL_CONST_INIT static inline T instance_{};
};

// A T built on first use, once, in static storage; never destroyed (an
// allocator may be called during exit). One per Tag.
template <typename T, typename Tag = T>
struct LazyInstance {
  static T& Get() {
    once_.Run([] { new (storage_) T(); });
    return *std::launder(reinterpret_cast<T*>(storage_));
  }

 private:
  ABSL_CONST_INIT static inline Once once_;
  alignas(T) static inline unsigned char storage_[sizeof(T)] = {};
};

}  // namespace malloc_bind
}  // namespace allocators

#endif  // MALLOC_BIND_LAYOUT_BINDING_H_
