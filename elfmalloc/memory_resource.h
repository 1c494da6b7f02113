// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// elfmalloc under the C++ allocator interfaces.
//
//   #include "elfmalloc/memory_resource.h"
//   std::pmr::vector<int> v(elfmalloc::ProcessResource());    // process heap
//   elfmalloc::Heap heap;
//   elfmalloc::HeapResource<elfmalloc::Heap> arena(heap);     // a heap
//   std::pmr::map<int, std::pmr::string> m(&arena);
//   std::vector<int, elfmalloc::StlAllocator<int>> w;         // stateless
//   elfmalloc::Heap::Handle h(heap);
//   std::vector<int, elfmalloc::HeapAllocator<int>> x(          // stateful
//       elfmalloc::HeapAllocator<int>(h));
//
// * HeapResource<H>: a std::pmr::memory_resource over H, one of
//   ProcessHandle (the process heap; ProcessResource() is a shared
//   instance), Heap (thread-safe: its calls take the heap's lock) or
//   Heap::Handle (one thread's cache of a heap, no lock; the resource is
//   then as thread-compatible as the handle). Unlike
//   std::pmr::synchronized_pool_resource it takes no lock of its own, and a
//   Heap's memory goes back whole with Heap::Destroy().
// * StlAllocator<T>: the stateless std::allocator replacement over the
//   process heap (mimalloc's mi_stl_allocator); all instances are equal.
//   libstdc++ relocates a growing vector with memmove only for
//   std::allocator, element by element for this and every other allocator.
// * HeapAllocator<T, H>: a stateful allocator over a Heap or a
//   Heap::Handle (H); two are equal when they use the same heap.
//
// Every adapter passes the size and alignment back on deallocation, so a
// deallocation with another size, or of another heap's block, is a fatal
// one-line error from the heap ("elfmalloc: <fn>(): size mismatch 0x..." or
// "... belongs to ..."; heap.h). Alignments above 16 are honoured (any
// power of two). Allocation failure throws std::bad_alloc (in a program
// built without exceptions: one line, then abort).
//
// Thread-safety: as the H they use; ProcessResource() is thread-safe.

#ifndef ELFMALLOC_MEMORY_RESOURCE_H_
#define ELFMALLOC_MEMORY_RESOURCE_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory_resource>
#include <new>
#include <type_traits>

#include "elfmalloc/elfmalloc.h"
#include "elfmalloc/heap.h"

namespace allocators {
namespace elfmalloc {

namespace adapters_internal {

// std::bad_alloc, or without exceptions one line on stderr and abort.
[[noreturn]] inline void ThrowBadAlloc() {
#if defined(__cpp_exceptions)
  throw std::bad_alloc();
#else
  static const char kMsg[] = "elfmalloc: out of memory in an allocator\n";
  static_cast<void>(std::fwrite(kMsg, 1, sizeof(kMsg) - 1, stderr));
  std::abort();
#endif
}

// `bytes` aligned to `align` from `h` (Alloc's 16-byte alignment needs no
// aligned call); throws std::bad_alloc on failure.
template <typename H>
void* Allocate(H& h, size_t bytes, size_t align) {
  void* p = align <= 16 ? h.Alloc(bytes) : h.AlignedAlloc(bytes, align);
  if (p == nullptr) ThrowBadAlloc();
  return p;
}

// The sized free of a block from Allocate(h, bytes, align).
template <typename H>
void Deallocate(H& h, void* p, size_t bytes, size_t align) {
  h.FreeSized(p, bytes, align <= 16 ? 0 : align);
}

// The heap an H allocates from, for equality (nullptr: the process heap).
inline const void* HeapOf(const ProcessHandle&) { return nullptr; }
inline const void* HeapOf(const Heap& heap) { return &heap; }
inline const void* HeapOf(const Heap::Handle& h) { return &h.heap(); }

}  // namespace adapters_internal

template <typename H>
class HeapResource final : public std::pmr::memory_resource {
 public:
  static_assert(std::is_same_v<H, ProcessHandle> || std::is_same_v<H, Heap> ||
                    std::is_same_v<H, Heap::Handle>,
                "HeapResource<H>: H is ProcessHandle, Heap or Heap::Handle");

  // A resource over `h`, which must outlive it.
  explicit HeapResource(H& h) : h_(&h) {}
  // The process heap (H = ProcessHandle only).
  template <typename X = H,
            typename = std::enable_if_t<std::is_same_v<X, ProcessHandle>>>
  HeapResource() : h_(&process_) {}

  H& heap() const { return *h_; }

 private:
  void* do_allocate(size_t bytes, size_t align) override {
    return adapters_internal::Allocate(*h_, bytes, align);
  }
  void do_deallocate(void* p, size_t bytes, size_t align) override {
    adapters_internal::Deallocate(*h_, p, bytes, align);
  }
  // Equal to any HeapResource over the same heap: either may free the
  // other's blocks.
  bool do_is_equal(const memory_resource& other) const noexcept override {
    if (this == &other) return true;
    const void* mine = adapters_internal::HeapOf(*h_);
    if (const auto* o = dynamic_cast<const HeapResource<ProcessHandle>*>(&other))
      return mine == adapters_internal::HeapOf(o->heap());
    if (const auto* o = dynamic_cast<const HeapResource<Heap>*>(&other))
      return mine == adapters_internal::HeapOf(o->heap());
    if (const auto* o = dynamic_cast<const HeapResource<Heap::Handle>*>(&other))
      return mine == adapters_internal::HeapOf(o->heap());
    return false;
  }

  ProcessHandle process_;
  H* h_;
};

// The process heap as a memory resource, shared and never destroyed (so
// containers in static objects may use it until the process ends).
inline std::pmr::memory_resource* ProcessResource() {
  alignas(HeapResource<ProcessHandle>) static unsigned char
      storage[sizeof(HeapResource<ProcessHandle>)];
  static HeapResource<ProcessHandle>* const resource =
      new (storage) HeapResource<ProcessHandle>();
  return resource;
}

template <typename T>
class StlAllocator {
 public:
  using value_type = T;
  using is_always_equal = std::true_type;

  StlAllocator() noexcept = default;
  template <typename U>
  StlAllocator(const StlAllocator<U>&) noexcept {}  // NOLINT: rebinding

  T* allocate(size_t n) {
    if (n > std::numeric_limits<size_t>::max() / sizeof(T)) {
      adapters_internal::ThrowBadAlloc();
    }
    ProcessHandle h;
    return static_cast<T*>(
        adapters_internal::Allocate(h, n * sizeof(T), alignof(T)));
  }
  void deallocate(T* p, size_t n) noexcept {
    ProcessHandle h;
    adapters_internal::Deallocate(h, p, n * sizeof(T), alignof(T));
  }

  friend bool operator==(const StlAllocator&, const StlAllocator&) {
    return true;
  }
  friend bool operator!=(const StlAllocator&, const StlAllocator&) {
    return false;
  }
};

template <typename T, typename H = Heap::Handle>
class HeapAllocator {
 public:
  static_assert(std::is_same_v<H, Heap> || std::is_same_v<H, Heap::Handle>,
                "HeapAllocator<T, H>: H is Heap or Heap::Handle");
  using value_type = T;
  // Containers keep their allocator when copied, moved or swapped, so their
  // blocks never move to another heap behind the program's back.
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;

  // An allocator over `h`, which must outlive every container using it.
  explicit HeapAllocator(H& h) noexcept : h_(&h) {}
  template <typename U>
  HeapAllocator(const HeapAllocator<U, H>& other) noexcept  // NOLINT
      : h_(&other.heap()) {}

  H& heap() const noexcept { return *h_; }

  T* allocate(size_t n) {
    if (n > std::numeric_limits<size_t>::max() / sizeof(T)) {
      adapters_internal::ThrowBadAlloc();
    }
    return static_cast<T*>(
        adapters_internal::Allocate(*h_, n * sizeof(T), alignof(T)));
  }
  void deallocate(T* p, size_t n) noexcept {
    adapters_internal::Deallocate(*h_, p, n * sizeof(T), alignof(T));
  }

  template <typename U>
  friend bool operator==(const HeapAllocator& a, const HeapAllocator<U, H>& b) {
    return adapters_internal::HeapOf(a.heap()) ==
           adapters_internal::HeapOf(b.heap());
  }
  template <typename U>
  friend bool operator!=(const HeapAllocator& a, const HeapAllocator<U, H>& b) {
    return !(a == b);
  }

 private:
  H* h_;
};

}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_MEMORY_RESOURCE_H_
