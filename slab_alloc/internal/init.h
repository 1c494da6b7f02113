// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Init policies: how a slab cache initialises the objects it hands out, and
// whether it remembers which objects are already initialised (the original's
// InitSystem / Initializer pair).
//
// A policy P provides:
//
//   static constexpr bool kTracks;       // remembers per-object init status
//   static constexpr bool kDestroys;     // runs a destructor on release
//   static constexpr size_t kMinAlign;   // 2 when kTracks (bit 0 is the
//                                        //   status), else 1
//   void Construct(void* p);             // kTracks only: make an object at p
//   void Destroy(void* p);               // kDestroys only: end its lifetime
//
// Tracking policies are what makes a slab cache an *object* cache: the
// status bit of a free-stack entry says whether the memory already holds a
// constructed object; Construct runs only for never-initialised memory, a
// freed object goes back on the stack marked initialised (it stays
// constructed), and Destroy runs only when a slab is released to the
// backing.
//
// Construct may throw; the cache then puts the memory back uninitialised and
// lets the exception propagate. Destroy must not throw.
//
// Policies are small value types (they hold the user's callable, if any);
// thread-compatible, like the caches that own them.

#ifndef SLAB_ALLOC_INTERNAL_INIT_H_
#define SLAB_ALLOC_INTERNAL_INIT_H_

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace allocators {
namespace slab_alloc {
namespace internal {

// No initialisation and no tracking: the cache hands out raw memory (fresh
// or in whatever state it was freed in).
struct NoInit {
  static constexpr bool kTracks = false;
  static constexpr bool kDestroys = false;
  static constexpr size_t kMinAlign = 1;
};

// Common part of the tracking policies for a T: destruction on release.
template <typename T>
struct TypedTracking {
  static constexpr bool kTracks = true;
  static constexpr bool kDestroys = !std::is_trivially_destructible_v<T>;
  static constexpr size_t kMinAlign = 2;
  static_assert(std::is_nothrow_destructible_v<T>,
                "cached objects are destroyed on slab release, which cannot "
                "report an exception");

  static void Destroy(void* p) { static_cast<T*>(p)->~T(); }
};

// Value-initialises new objects: `::new (p) T()` (the original's
// DefaultInitializer, T::default()).
template <typename T>
struct DefaultInit : TypedTracking<T> {
  void Construct(void* p) { ::new (p) T(); }
};

// Initialises new objects with the value returned by a factory: `::new (p)
// T(f())`. With C++17's guaranteed copy elision T need not be movable when f
// returns a prvalue (the original's FnInitializer).
template <typename T, typename F>
struct FuncInit : TypedTracking<T> {
  explicit FuncInit(F f) : f(std::move(f)) {}
  void Construct(void* p) { ::new (p) T(f()); }
  F f;
};

// Initialises new objects in place: f(T* p) must construct a T at p (the
// original's UnsafeFnInitializer). Unsafe because nothing checks that it
// does; the cache destroys the object as a T on release.
template <typename T, typename F>
struct UnsafeFuncInit : TypedTracking<T> {
  explicit UnsafeFuncInit(F f) : f(std::move(f)) {}
  void Construct(void* p) { f(static_cast<T*>(p)); }
  F f;
};

// Untyped in-place initialiser: f(void* p) prepares layout().size bytes at
// p. Nothing is destroyed on release (the original's untyped unsafe_func
// over bytes had no destructor either).
template <typename F>
struct UntypedFuncInit {
  static constexpr bool kTracks = true;
  static constexpr bool kDestroys = false;
  static constexpr size_t kMinAlign = 2;

  explicit UntypedFuncInit(F f) : f(std::move(f)) {}
  void Construct(void* p) { f(p); }
  static void Destroy(void*) {}
  F f;
};

}  // namespace internal
}  // namespace slab_alloc
}  // namespace allocators

#endif  // SLAB_ALLOC_INTERNAL_INIT_H_
