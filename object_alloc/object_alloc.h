// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Object allocators: allocators that hand out objects of one fixed type or
// layout, and may cache freed objects in their constructed state so that a
// later allocation can skip the constructor (Bonwick's "object caching").
//
// This package is interface only. An allocator joins by providing members
// with the right shape; the traits below check that shape at compile time, so
// there are no virtual calls on the hot path.
//
// Typed object allocator of T (ObjectAlloc<T>):
//
//   using value_type = T;
//   T* Alloc();           // a T, or nullptr when memory is exhausted
//   void Dealloc(T* p);   // REQUIRES: p came from this allocator's Alloc()
//                         //   and has not been freed since
//   [[noreturn]] void Oom();  // optional; the default prints and aborts
//
//   If the allocator was built by a *safe* constructor, every object Alloc()
//   returns is a valid T: either freshly initialised, or in exactly the state
//   it was in when it was passed to Dealloc(). Allocators built by an *unsafe*
//   constructor may return uninitialised memory. An initialising allocator
//   destroys every object it still caches before or during its own
//   destruction.
//
// Untyped object allocator (UntypedObjectAlloc):
//
//   Layout layout() const;  // size and alignment of every object
//   void* Alloc();          // layout().size bytes aligned to layout().align,
//                           //   or nullptr; no initialisation guarantee
//   void Dealloc(void* p);  // REQUIRES: as for the typed Dealloc
//   [[noreturn]] void Oom();  // optional
//
// Any typed allocator can be used through the untyped interface with
// UntypedView, whose layout is {sizeof(T), alignof(T)}.
//
// Misuse (foreign pointer, double free) is undefined at this level; concrete
// allocators document what they detect.

#ifndef OBJECT_ALLOC_OBJECT_ALLOC_H_
#define OBJECT_ALLOC_OBJECT_ALLOC_H_

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace allocators {
namespace object_alloc {

// The size and alignment of a block of memory.
struct Layout {
  size_t size = 0;
  size_t align = 1;

  // True if `align` is a power of two, `size` is non-zero and rounding `size`
  // up to `align` cannot overflow.
  static constexpr bool IsValid(size_t size, size_t align) {
    return size != 0 && align != 0 && (align & (align - 1)) == 0 &&
           size <= SIZE_MAX - (align - 1);
  }
  constexpr bool IsValid() const { return IsValid(size, align); }

  template <typename T>
  static constexpr Layout Of() {
    return Layout{sizeof(T), alignof(T)};
  }

  constexpr bool operator==(const Layout& o) const {
    return size == o.size && align == o.align;
  }
  constexpr bool operator!=(const Layout& o) const { return !(*this == o); }
};

// The out-of-memory handler used when an allocator has no Oom() of its own:
// writes "object allocator out of memory (size N, align A)" to stderr without
// allocating, then aborts.
[[noreturn]] void DefaultOom(Layout layout);

namespace internal {

template <typename A, typename = void>
struct HasOom : std::false_type {};
template <typename A>
struct HasOom<A, std::void_t<decltype(std::declval<A&>().Oom())>>
    : std::true_type {};

template <typename A, typename T, typename = void>
struct IsObjectAllocImpl : std::false_type {};
template <typename A, typename T>
struct IsObjectAllocImpl<
    A, T,
    std::void_t<typename A::value_type, decltype(std::declval<A&>().Alloc()),
                decltype(std::declval<A&>().Dealloc(std::declval<T*>()))>>
    : std::bool_constant<
          std::is_same_v<typename A::value_type, T> &&
          std::is_same_v<decltype(std::declval<A&>().Alloc()), T*>> {};

template <typename A, typename = void>
struct IsUntypedObjectAllocImpl : std::false_type {};
template <typename A>
struct IsUntypedObjectAllocImpl<
    A, std::void_t<decltype(std::declval<const A&>().layout()),
                   decltype(std::declval<A&>().Alloc()),
                   decltype(std::declval<A&>().Dealloc(
                       std::declval<void*>()))>>
    : std::bool_constant<
          std::is_same_v<decltype(std::declval<const A&>().layout()),
                         Layout> &&
          std::is_same_v<decltype(std::declval<A&>().Alloc()), void*>> {};

}  // namespace internal

// True if A is a typed object allocator of T (see the file comment).
template <typename A, typename T>
inline constexpr bool kIsObjectAlloc = internal::IsObjectAllocImpl<A, T>::value;

// True if A is an untyped object allocator (see the file comment).
template <typename A>
inline constexpr bool kIsUntypedObjectAlloc =
    internal::IsUntypedObjectAllocImpl<A>::value;

// Calls a.Oom() if A has one, else DefaultOom(layout). Never returns.
template <typename A>
[[noreturn]] void Oom(A& a, Layout layout) {
  if constexpr (internal::HasOom<A>::value) {
    a.Oom();
  }
  DefaultOom(layout);
}

// Presents a typed object allocator through the untyped interface, with
// layout {sizeof(T), alignof(T)}. Holds a non-owning pointer: the typed
// allocator must outlive the view. As thread-safe as the underlying allocator.
template <typename A>
class UntypedView {
 public:
  using Typed = A;
  using T = typename A::value_type;
  static_assert(kIsObjectAlloc<A, T>,
                "UntypedView needs a typed object allocator");

  explicit UntypedView(A* typed) : typed_(typed) {}

  Layout layout() const { return Layout::Of<T>(); }
  void* Alloc() { return static_cast<void*>(typed_->Alloc()); }
  // REQUIRES: p came from Alloc() on this view or on the typed allocator.
  void Dealloc(void* p) { typed_->Dealloc(static_cast<T*>(p)); }
  [[noreturn]] void Oom() { object_alloc::Oom(*typed_, layout()); }

 private:
  A* typed_;
};

static_assert(Layout::IsValid(1, 1));
static_assert(!Layout::IsValid(0, 8));
static_assert(!Layout::IsValid(8, 3));
static_assert(!Layout::IsValid(SIZE_MAX, 16));

}  // namespace object_alloc
}  // namespace allocators

#endif  // OBJECT_ALLOC_OBJECT_ALLOC_H_
