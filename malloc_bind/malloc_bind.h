// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// malloc_bind: the C malloc family and C++ operator new/delete over any
// allocator, with the C semantics implemented once.
//
// An allocator is bound through a *binding*: a type B with static members
//
//   static void* Alloc(size_t size);                  // >= size bytes
//   static void* AlignedAlloc(size_t size, size_t align);  // align: 2^k
//   static void Free(void* p);                        // p != nullptr
//   static void* Realloc(void* p, size_t size);       // p != nullptr, size > 0
//   static size_t UsableSize(const void* p);          // p != nullptr
//
// and optionally
//
//   // p != nullptr; size 0: not known; align 0: not given. `fn` names the
//   // entry point ("free_sized", "operator delete") for diagnostics.
//   static void FreeSized(void* p, size_t size, size_t align, const char* fn);
//
// which free_sized, free_aligned_sized and the sized and aligned operator
// delete forms call, so the binding can check what the caller claims about
// the block. Without it they call Free. And optionally
//
//   // As Alloc, and the first `size` bytes read as zero.
//   static void* AllocZeroed(size_t size);
//
// which calloc calls, so the binding can leave alone memory it knows is
// zero (pages fresh from the OS). Without it calloc is Alloc plus memset.
//
// Any C function may also be replaced whole (the original's per-function
// overrides): a binding that declares one of
//
//   static void* CMalloc(size_t n);
//   static void* CCalloc(size_t n, size_t size);
//   static void* CRealloc(void* p, size_t n);
//   static int CPosixMemalign(void** out, size_t align, size_t n);
//   static void* CAlignedAlloc(size_t align, size_t n);
//   static void* CMemalign(size_t align, size_t n);
//   static void* CValloc(size_t n);
//   static void* CPvalloc(size_t n);
//   static size_t CMallocUsableSize(const void* p);
//
// gets it called for that function, with the C arguments as they came,
// and owns the C semantics of that function; the others keep CApi's.
//
// Allocators that need a layout to free a block, and allocator objects
// rather than types, are bound through layout_binding.h.
//
// Alloc/AllocZeroed/AlignedAlloc/Realloc return nullptr on exhaustion
// (Realloc leaving p untouched) and may set errno; Alloc(0) may return
// nullptr or a unique pointer. Alloc must give alignof(max_align_t) for
// sizes of 16 or more and 8 below (the glibc guarantee). CApi<B> adds
// everything else:
//
//   malloc(0) is a unique pointer; every size computation is checked, and a
//   request above PTRDIFF_MAX fails at once with NULL + ENOMEM (before any
//   rounding can wrap); realloc(NULL, n) allocates; realloc(p, 0) frees and
//   returns NULL (glibc); calloc and reallocarray detect n * size overflow
//   (NULL + ENOMEM, the block untouched); posix_memalign returns EINVAL for
//   an alignment that is not a power-of-two multiple of sizeof(void*) and
//   leaves *out alone on any error; aligned_alloc with a non-power-of-two
//   alignment gives NULL + EINVAL (glibc >= 2.38 and the C standard's
//   defect report 460) but accepts sizes that are not multiples of it;
//   memalign rounds a non-power-of-two alignment up as glibc does;
//   valloc/pvalloc are page aligned and pvalloc(0) is one page.
//
// C++: throwing operator new calls the installed new_handler in a loop and
// throws std::bad_alloc when there is none; the nothrow forms return
// nullptr; every delete form (sized, aligned, nothrow) frees through B.
//
// The exported symbols come from the macros at the bottom of this file:
// MALLOC_BIND_DEFINE_C(prefix, B) defines prefix##malloc, prefix##free, ...
// (an empty prefix overrides the C library's malloc), and
// MALLOC_BIND_DEFINE_CXX(B) defines the replaceable operator new/delete.
// Each definition is a one-line forwarder to CApi<B>.
//
// Thread-safety: as B's (the bindings in this project are thread-safe).

#ifndef MALLOC_BIND_MALLOC_BIND_H_
#define MALLOC_BIND_MALLOC_BIND_H_

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <cstring>
#include <new>
#include <type_traits>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "malloc_bind/internal/cxx_runtime.h"
#include "mmap_alloc/mmap_alloc.h"

namespace allocators {
namespace malloc_bind {

namespace internal {

inline bool IsPow2(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

// True (and *out = a * b) if the product does not overflow.
inline bool Mul(size_t a, size_t b, size_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}

// Requests no object can satisfy: refuse before any rounding.
inline bool TooBig(size_t n) { return n > static_cast<size_t>(PTRDIFF_MAX); }

// HasFreeSized<B>::value: B declares the optional FreeSized hook.
template <typename B, typename = void>
struct HasFreeSized : std::false_type {};
template <typename B>
struct HasFreeSized<B, std::void_t<decltype(B::FreeSized(
                           static_cast<void*>(nullptr), size_t{0}, size_t{0},
                           static_cast<const char*>(nullptr)))>>
    : std::true_type {};

// HasC<Name><B>::value: B replaces the C function <Name> whole.
#define MALLOC_BIND_OVERRIDE_DETECTOR_(name, ...)                        \
  template <typename B, typename = void>                                 \
  struct HasC##name : std::false_type {};                                \
  template <typename B>                                                  \
  struct HasC##name<B, std::void_t<decltype(B::C##name(__VA_ARGS__))>>   \
      : std::true_type {};
MALLOC_BIND_OVERRIDE_DETECTOR_(Malloc, size_t{0})
MALLOC_BIND_OVERRIDE_DETECTOR_(Calloc, size_t{0}, size_t{0})
MALLOC_BIND_OVERRIDE_DETECTOR_(Realloc, static_cast<void*>(nullptr),
                               size_t{0})
MALLOC_BIND_OVERRIDE_DETECTOR_(PosixMemalign, static_cast<void**>(nullptr),
                               size_t{0}, size_t{0})
MALLOC_BIND_OVERRIDE_DETECTOR_(AlignedAlloc, size_t{0}, size_t{0})
MALLOC_BIND_OVERRIDE_DETECTOR_(Memalign, size_t{0}, size_t{0})
MALLOC_BIND_OVERRIDE_DETECTOR_(Valloc, size_t{0})
MALLOC_BIND_OVERRIDE_DETECTOR_(Pvalloc, size_t{0})
MALLOC_BIND_OVERRIDE_DETECTOR_(MallocUsableSize,
                               static_cast<const void*>(nullptr))
#undef MALLOC_BIND_OVERRIDE_DETECTOR_

// HasAllocZeroed<B>::value: B declares the optional AllocZeroed hook.
template <typename B, typename = void>
struct HasAllocZeroed : std::false_type {};
template <typename B>
struct HasAllocZeroed<B, std::void_t<decltype(B::AllocZeroed(size_t{0}))>>
    : std::true_type {};

}  // namespace internal

template <typename B>
class CApi {
 public:
  // malloc, free and operator new are inlined whole into their C and C++
  // entry points (with the binding's fast paths, where it inlines them):
  // one function per call, no call into a second one.
  ABSL_ATTRIBUTE_ALWAYS_INLINE static void* Malloc(size_t n) {
    if constexpr (internal::HasCMalloc<B>::value) return B::CMalloc(n);
    if (ABSL_PREDICT_FALSE(internal::TooBig(n))) return NoMemory();
    void* p = B::Alloc(n == 0 ? 1 : n);
    if (ABSL_PREDICT_FALSE(p == nullptr)) return NoMemory();
    return p;
  }

  ABSL_ATTRIBUTE_ALWAYS_INLINE static void Free(void* p) {
    if (p != nullptr) B::Free(p);
  }

  // Zeroed memory through the binding's AllocZeroed if it has one (which
  // knows which memory is already zero), else Malloc plus memset.
  static void* Calloc(size_t n, size_t size) {
    if constexpr (internal::HasCCalloc<B>::value) return B::CCalloc(n, size);
    size_t total;
    if (ABSL_PREDICT_FALSE(!internal::Mul(n, size, &total))) return NoMemory();
    if constexpr (internal::HasAllocZeroed<B>::value) {
      if (ABSL_PREDICT_FALSE(internal::TooBig(total))) return NoMemory();
      void* p = B::AllocZeroed(total == 0 ? 1 : total);
      if (ABSL_PREDICT_FALSE(p == nullptr)) return NoMemory();
      return p;
    } else {
      void* p = Malloc(total);
      if (p != nullptr) std::memset(p, 0, total);
      return p;
    }
  }

  static void* Realloc(void* p, size_t n) {
    if constexpr (internal::HasCRealloc<B>::value) return B::CRealloc(p, n);
    if (p == nullptr) return Malloc(n);
    if (n == 0) {  // glibc: free and return NULL
      B::Free(p);
      return nullptr;
    }
    if (ABSL_PREDICT_FALSE(internal::TooBig(n))) return NoMemory();
    void* q = B::Realloc(p, n);
    if (ABSL_PREDICT_FALSE(q == nullptr)) return NoMemory();
    return q;
  }

  static void* ReallocArray(void* p, size_t n, size_t size) {
    size_t total;
    if (ABSL_PREDICT_FALSE(!internal::Mul(n, size, &total))) return NoMemory();
    return Realloc(p, total);
  }

  static int PosixMemalign(void** out, size_t align, size_t n) {
    if constexpr (internal::HasCPosixMemalign<B>::value) {
      return B::CPosixMemalign(out, align, n);
    }
    if (!internal::IsPow2(align) || align % sizeof(void*) != 0) return EINVAL;
    const int saved = errno;  // the error is the return value, not errno
    void* p = Aligned(align, n);
    if (p == nullptr) {
      errno = saved;
      return ENOMEM;
    }
    *out = p;
    return 0;
  }

  static void* AlignedAlloc(size_t align, size_t n) {
    if constexpr (internal::HasCAlignedAlloc<B>::value) {
      return B::CAlignedAlloc(align, n);
    }
    if (!internal::IsPow2(align)) {
      errno = EINVAL;
      return nullptr;
    }
    return Aligned(align, n);
  }

  // glibc: alignments that are not powers of two are rounded up; ones that
  // cannot be rounded (above SIZE_MAX / 2 + 1) give EINVAL.
  static void* Memalign(size_t align, size_t n) {
    if constexpr (internal::HasCMemalign<B>::value) {
      return B::CMemalign(align, n);
    }
    if (align > SIZE_MAX / 2 + 1) {
      errno = EINVAL;
      return nullptr;
    }
    size_t a = 1;
    while (a < align) a <<= 1;
    return Aligned(a, n);
  }

  static void* Valloc(size_t n) {
    if constexpr (internal::HasCValloc<B>::value) return B::CValloc(n);
    return Aligned(mmap_alloc::PageSize(), n);
  }

  static void* Pvalloc(size_t n) {
    if constexpr (internal::HasCPvalloc<B>::value) return B::CPvalloc(n);
    const size_t page = mmap_alloc::PageSize();
    if (ABSL_PREDICT_FALSE(internal::TooBig(n))) return NoMemory();
    const size_t rounded = n == 0 ? page : (n + page - 1) & ~(page - 1);
    return Aligned(page, rounded);
  }

  static size_t MallocUsableSize(const void* p) {
    if constexpr (internal::HasCMallocUsableSize<B>::value) {
      return B::CMallocUsableSize(p);
    }
    return p == nullptr ? 0 : B::UsableSize(p);
  }

  // C23 free_sized / free_aligned_sized and the sized and aligned operator
  // delete forms. The size (0: not given) and alignment (0: not given)
  // must be those the block was allocated with; a binding with FreeSized
  // checks them, others just free.
  static void FreeSized(void* p, size_t n, const char* fn = "free_sized") {
    FreeAlignedSized(p, 0, n, fn);
  }
  static void FreeAlignedSized(void* p, size_t align, size_t n,
                               const char* fn = "free_aligned_sized") {
    if (p == nullptr) return;
    if constexpr (internal::HasFreeSized<B>::value) {
      B::FreeSized(p, n, align, fn);
    } else {
      B::Free(p);
    }
  }

  // --- C++ ---------------------------------------------------------------

  // The C++ runtime's part (the new_handler, std::bad_alloc) is in
  // internal/cxx_runtime.h, so that this header needs no exceptions.
  ABSL_ATTRIBUTE_ALWAYS_INLINE static void* New(size_t n) {
    if (void* p = TryAlloc(n); ABSL_PREDICT_TRUE(p != nullptr)) return p;
    return NewRetry(n);
  }
  static void* NewNothrow(size_t n) noexcept {
    for (;;) {
      if (void* p = TryAlloc(n)) return p;
      if (!internal::CallNewHandlerNothrow()) return nullptr;
    }
  }
  static void* NewAligned(size_t n, std::align_val_t align) {
    for (;;) {
      if (void* p = Aligned(static_cast<size_t>(align), n)) return p;
      if (!internal::CallNewHandler()) internal::ThrowBadAlloc(n);
    }
  }
  static void* NewAlignedNothrow(size_t n, std::align_val_t align) noexcept {
    for (;;) {
      if (void* p = Aligned(static_cast<size_t>(align), n)) return p;
      if (!internal::CallNewHandlerNothrow()) return nullptr;
    }
  }

 private:
  static void* NoMemory() {
    errno = ENOMEM;
    return nullptr;
  }

  // operator new after a failed attempt: calls the new_handler and tries
  // again until it succeeds, or throws std::bad_alloc if there is no
  // handler.
  ABSL_ATTRIBUTE_NOINLINE static void* NewRetry(size_t n) {
    for (;;) {
      if (!internal::CallNewHandler()) internal::ThrowBadAlloc(n);
      if (void* p = TryAlloc(n)) return p;
    }
  }

  ABSL_ATTRIBUTE_ALWAYS_INLINE static void* TryAlloc(size_t n) {
    if (ABSL_PREDICT_FALSE(internal::TooBig(n))) return nullptr;
    return B::Alloc(n == 0 ? 1 : n);
  }

  // REQUIRES: align is a power of two.
  static void* Aligned(size_t align, size_t n) {
    if (ABSL_PREDICT_FALSE(internal::TooBig(n) || internal::TooBig(align))) {
      return NoMemory();
    }
    // Alloc guarantees 16 bytes of alignment only from 16 bytes up.
    const bool plain = align <= 8 || (align <= 16 && n >= 16);
    void* p = plain ? B::Alloc(n == 0 ? 1 : n)
                    : B::AlignedAlloc(n == 0 ? 1 : n, align);
    if (ABSL_PREDICT_FALSE(p == nullptr)) return NoMemory();
    return p;
  }
};

}  // namespace malloc_bind
}  // namespace allocators

// Defines the C allocation functions prefix##malloc, prefix##free, ... over
// binding B (a fully qualified type name). With an empty prefix this
// replaces the C library's allocator in the linked program or preloaded
// library. Use at namespace scope, in exactly one translation unit.
#define MALLOC_BIND_DEFINE_C(prefix, B)                                        \
  extern "C" {                                                                 \
  MALLOC_BIND_EXPORT void* prefix##malloc(size_t n) noexcept {                 \
    return ::allocators::malloc_bind::CApi<B>::Malloc(n);                      \
  }                                                                            \
  MALLOC_BIND_EXPORT void prefix##free(void* p) noexcept {                     \
    ::allocators::malloc_bind::CApi<B>::Free(p);                               \
  }                                                                            \
  MALLOC_BIND_EXPORT void prefix##cfree(void* p) noexcept {                    \
    ::allocators::malloc_bind::CApi<B>::Free(p);                               \
  }                                                                            \
  MALLOC_BIND_EXPORT void* prefix##calloc(size_t n, size_t size) noexcept {    \
    return ::allocators::malloc_bind::CApi<B>::Calloc(n, size);                \
  }                                                                            \
  MALLOC_BIND_EXPORT void* prefix##realloc(void* p, size_t n) noexcept {       \
    return ::allocators::malloc_bind::CApi<B>::Realloc(p, n);                  \
  }                                                                            \
  MALLOC_BIND_EXPORT void* prefix##reallocarray(void* p, size_t n,             \
                                                size_t size) noexcept {        \
    return ::allocators::malloc_bind::CApi<B>::ReallocArray(p, n, size);       \
  }                                                                            \
  MALLOC_BIND_EXPORT int prefix##posix_memalign(void** out, size_t align,      \
                                                size_t n) noexcept {           \
    return ::allocators::malloc_bind::CApi<B>::PosixMemalign(out, align, n);   \
  }                                                                            \
  MALLOC_BIND_EXPORT void* prefix##aligned_alloc(size_t align,                 \
                                                 size_t n) noexcept {          \
    return ::allocators::malloc_bind::CApi<B>::AlignedAlloc(align, n);         \
  }                                                                            \
  MALLOC_BIND_EXPORT void* prefix##memalign(size_t align, size_t n) noexcept { \
    return ::allocators::malloc_bind::CApi<B>::Memalign(align, n);             \
  }                                                                            \
  MALLOC_BIND_EXPORT void* prefix##valloc(size_t n) noexcept {                 \
    return ::allocators::malloc_bind::CApi<B>::Valloc(n);                      \
  }                                                                            \
  MALLOC_BIND_EXPORT void* prefix##pvalloc(size_t n) noexcept {                \
    return ::allocators::malloc_bind::CApi<B>::Pvalloc(n);                     \
  }                                                                            \
  MALLOC_BIND_EXPORT size_t prefix##malloc_usable_size(void* p) noexcept {     \
    return ::allocators::malloc_bind::CApi<B>::MallocUsableSize(p);            \
  }                                                                            \
  MALLOC_BIND_EXPORT void prefix##free_sized(void* p, size_t n) noexcept {     \
    ::allocators::malloc_bind::CApi<B>::FreeSized(p, n);                       \
  }                                                                            \
  MALLOC_BIND_EXPORT void prefix##free_aligned_sized(void* p, size_t align,    \
                                                     size_t n) noexcept {      \
    ::allocators::malloc_bind::CApi<B>::FreeAlignedSized(p, align, n);         \
  }                                                                            \
  }  // extern "C"

// Defines the 20 replaceable C++ operator new/delete functions over binding
// B. Use at global scope, in exactly one translation unit of a program or
// shared library that overrides the allocator.
#define MALLOC_BIND_DEFINE_CXX(B)                                             \
  MALLOC_BIND_EXPORT void* operator new(size_t n) {                           \
    return ::allocators::malloc_bind::CApi<B>::New(n);                        \
  }                                                                           \
  MALLOC_BIND_EXPORT void* operator new[](size_t n) {                         \
    return ::allocators::malloc_bind::CApi<B>::New(n);                        \
  }                                                                           \
  MALLOC_BIND_EXPORT void* operator new(size_t n,                             \
                                        const std::nothrow_t&) noexcept {     \
    return ::allocators::malloc_bind::CApi<B>::NewNothrow(n);                 \
  }                                                                           \
  MALLOC_BIND_EXPORT void* operator new[](size_t n,                           \
                                          const std::nothrow_t&) noexcept {   \
    return ::allocators::malloc_bind::CApi<B>::NewNothrow(n);                 \
  }                                                                           \
  MALLOC_BIND_EXPORT void* operator new(size_t n, std::align_val_t a) {       \
    return ::allocators::malloc_bind::CApi<B>::NewAligned(n, a);              \
  }                                                                           \
  MALLOC_BIND_EXPORT void* operator new[](size_t n, std::align_val_t a) {     \
    return ::allocators::malloc_bind::CApi<B>::NewAligned(n, a);              \
  }                                                                           \
  MALLOC_BIND_EXPORT void* operator new(size_t n, std::align_val_t a,         \
                                        const std::nothrow_t&) noexcept {     \
    return ::allocators::malloc_bind::CApi<B>::NewAlignedNothrow(n, a);       \
  }                                                                           \
  MALLOC_BIND_EXPORT void* operator new[](size_t n, std::align_val_t a,       \
                                          const std::nothrow_t&) noexcept {   \
    return ::allocators::malloc_bind::CApi<B>::NewAlignedNothrow(n, a);       \
  }                                                                           \
  MALLOC_BIND_EXPORT void operator delete(void* p) noexcept {                 \
    ::allocators::malloc_bind::CApi<B>::Free(p);                              \
  }                                                                           \
  MALLOC_BIND_EXPORT void operator delete[](void* p) noexcept {               \
    ::allocators::malloc_bind::CApi<B>::Free(p);                              \
  }                                                                           \
  MALLOC_BIND_EXPORT void operator delete(void* p,                            \
                                          const std::nothrow_t&) noexcept {   \
    ::allocators::malloc_bind::CApi<B>::Free(p);                              \
  }                                                                           \
  MALLOC_BIND_EXPORT void operator delete[](void* p,                          \
                                            const std::nothrow_t&) noexcept { \
    ::allocators::malloc_bind::CApi<B>::Free(p);                              \
  }                                                                           \
  MALLOC_BIND_EXPORT void operator delete(void* p, size_t n) noexcept {       \
    ::allocators::malloc_bind::CApi<B>::FreeSized(p, n, "operator delete");   \
  }                                                                           \
  MALLOC_BIND_EXPORT void operator delete[](void* p, size_t n) noexcept {     \
    ::allocators::malloc_bind::CApi<B>::FreeSized(p, n, "operator delete[]"); \
  }                                                                           \
  MALLOC_BIND_EXPORT void operator delete(void* p,                            \
                                          std::align_val_t a) noexcept {      \
    ::allocators::malloc_bind::CApi<B>::FreeAlignedSized(                     \
        p, static_cast<size_t>(a), 0, "operator delete");                     \
  }                                                                           \
  MALLOC_BIND_EXPORT void operator delete[](void* p,                          \
                                            std::align_val_t a) noexcept {    \
    ::allocators::malloc_bind::CApi<B>::FreeAlignedSized(                     \
        p, static_cast<size_t>(a), 0, "operator delete");                     \
  }                                                                           \
  MALLOC_BIND_EXPORT void operator delete(void* p, std::align_val_t a,        \
                                          const std::nothrow_t&) noexcept {   \
    ::allocators::malloc_bind::CApi<B>::FreeAlignedSized(                     \
        p, static_cast<size_t>(a), 0, "operator delete");                     \
  }                                                                           \
  MALLOC_BIND_EXPORT void operator delete[](void* p, std::align_val_t a,      \
                                            const std::nothrow_t&) noexcept { \
    ::allocators::malloc_bind::CApi<B>::FreeAlignedSized(                     \
        p, static_cast<size_t>(a), 0, "operator delete");                     \
  }                                                                           \
  MALLOC_BIND_EXPORT void operator delete(void* p, size_t n,                  \
                                          std::align_val_t a) noexcept {      \
    ::allocators::malloc_bind::CApi<B>::FreeAlignedSized(                     \
        p, static_cast<size_t>(a), n, "operator delete");                     \
  }                                                                           \
  MALLOC_BIND_EXPORT void operator delete[](void* p, size_t n,                \
                                            std::align_val_t a) noexcept {    \
    ::allocators::malloc_bind::CApi<B>::FreeAlignedSized(                     \
        p, static_cast<size_t>(a), n, "operator delete");                     \
  }

#define MALLOC_BIND_EXPORT __attribute__((visibility("default"), used))

#endif  // MALLOC_BIND_MALLOC_BIND_H_
