// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Allocation-free assertions for allocator code.
//
//   ALLOC_CHECK(cond);                         // always on
//   ALLOC_CHECK(cond, "bad size %zu", size);   // with a printf-style message
//   ALLOC_CHECK_EQ(a, b);  _NE _LT _LE _GT _GE // print both values on failure
//   ALLOC_DCHECK(...), ALLOC_DCHECK_EQ(...)    // only when NDEBUG is unset
//
// A failure writes one line to stderr and aborts:
//
//   mmap_alloc/mmap_alloc.cc:120: CHECK failed: size != 0: zero-length unmap
//   bsalloc/bsalloc.cc:40: CHECK failed: a == b (8 vs 16)
//
// The message is formatted by alloc_fmt/format.h on the stack and written with
// write(2): no malloc, stdio or iostream is touched, so the macros are safe
// inside malloc and free. The message must be a string literal: it is pasted
// onto ": ", so that a missing message also compiles and printf-style format
// checking still applies to the arguments.

#ifndef ALLOC_FMT_CHECK_H_
#define ALLOC_FMT_CHECK_H_

#include <cstdint>
#include <type_traits>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "alloc_fmt/format.h"

namespace allocators {
namespace alloc_fmt {
namespace internal {

// Reports "<file>:<line>: CHECK failed: <cond>[: <message>]" and aborts.
// `fmt` is ": " followed by the caller's message format (see ALLOC_CHECK).
[[noreturn]] ABSL_ATTRIBUTE_NOINLINE void CheckFailed(const char* file,
                                                      int line,
                                                      const char* cond,
                                                      const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

// Reports "<file>:<line>: CHECK failed: <expr> (<a> vs <b>)" and aborts.
// Values are shown as signed decimal when the operand type is signed, as
// unsigned decimal otherwise, and pointers in hex.
[[noreturn]] ABSL_ATTRIBUTE_NOINLINE void CheckOpFailed(
    const char* file, int line, const char* expr, const char* fmt,
    unsigned long long a, unsigned long long b);

template <typename T>
constexpr const char* OpFormat() {
  if constexpr (std::is_pointer_v<T> || std::is_null_pointer_v<T>) {
    return "0x%llx vs 0x%llx";
  } else if constexpr (std::is_signed_v<T>) {
    return "%lld vs %lld";
  } else {
    return "%llu vs %llu";
  }
}

template <typename T>
unsigned long long OpValue(const T& v) {
  if constexpr (std::is_null_pointer_v<T>) {
    return 0;
  } else if constexpr (std::is_pointer_v<T>) {
    return reinterpret_cast<uintptr_t>(v);
  } else if constexpr (std::is_enum_v<T>) {
    return static_cast<unsigned long long>(
        static_cast<std::underlying_type_t<T>>(v));
  } else {
    return static_cast<unsigned long long>(v);
  }
}

}  // namespace internal
}  // namespace alloc_fmt
}  // namespace allocators

#define ALLOC_CHECK(cond, ...)                                          \
  (ABSL_PREDICT_TRUE(cond)                                              \
       ? static_cast<void>(0)                                           \
       : ::allocators::alloc_fmt::internal::CheckFailed(                \
             __FILE__, __LINE__, #cond, ": " __VA_ARGS__))

// Evaluates each operand exactly once.
#define ALLOC_CHECK_OP_(op, a, b)                                         \
  do {                                                                    \
    const auto& alloc_check_a_ = (a);                                     \
    const auto& alloc_check_b_ = (b);                                     \
    if (ABSL_PREDICT_FALSE(!(alloc_check_a_ op alloc_check_b_))) {        \
      using AllocCheckT_ = std::decay_t<decltype(alloc_check_a_)>;        \
      ::allocators::alloc_fmt::internal::CheckOpFailed(                   \
          __FILE__, __LINE__, #a " " #op " " #b,                          \
          ::allocators::alloc_fmt::internal::OpFormat<AllocCheckT_>(),    \
          ::allocators::alloc_fmt::internal::OpValue(alloc_check_a_),     \
          ::allocators::alloc_fmt::internal::OpValue(alloc_check_b_));    \
    }                                                                     \
  } while (0)

#define ALLOC_CHECK_EQ(a, b) ALLOC_CHECK_OP_(==, a, b)
#define ALLOC_CHECK_NE(a, b) ALLOC_CHECK_OP_(!=, a, b)
#define ALLOC_CHECK_LT(a, b) ALLOC_CHECK_OP_(<, a, b)
#define ALLOC_CHECK_LE(a, b) ALLOC_CHECK_OP_(<=, a, b)
#define ALLOC_CHECK_GT(a, b) ALLOC_CHECK_OP_(>, a, b)
#define ALLOC_CHECK_GE(a, b) ALLOC_CHECK_OP_(>=, a, b)

// Debug-only variants. When disabled the condition is still compiled (so it
// cannot rot) but never evaluated.
#ifndef NDEBUG
#define ALLOC_DCHECK_IS_ON 1
#define ALLOC_DCHECK(cond, ...) ALLOC_CHECK(cond, __VA_ARGS__)
#define ALLOC_DCHECK_OP_(op, a, b) ALLOC_CHECK_OP_(op, a, b)
#else
#define ALLOC_DCHECK_IS_ON 0
#define ALLOC_DCHECK(cond, ...)                 \
  while (false && (cond)) ALLOC_CHECK(cond, __VA_ARGS__)
#define ALLOC_DCHECK_OP_(op, a, b) \
  while (false) ALLOC_CHECK_OP_(op, a, b)
#endif

#define ALLOC_DCHECK_EQ(a, b) ALLOC_DCHECK_OP_(==, a, b)
#define ALLOC_DCHECK_NE(a, b) ALLOC_DCHECK_OP_(!=, a, b)
#define ALLOC_DCHECK_LT(a, b) ALLOC_DCHECK_OP_(<, a, b)
#define ALLOC_DCHECK_LE(a, b) ALLOC_DCHECK_OP_(<=, a, b)
#define ALLOC_DCHECK_GT(a, b) ALLOC_DCHECK_OP_(>, a, b)
#define ALLOC_DCHECK_GE(a, b) ALLOC_DCHECK_OP_(>=, a, b)

#endif  // ALLOC_FMT_CHECK_H_
