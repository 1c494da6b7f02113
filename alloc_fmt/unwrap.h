// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Allocation-free unwrapping: the value inside a std::optional, or a
// pointer known not to be null, or a fatal one-line error (alloc_fmt's
// Fatal) naming the place and the expression:
//
//   int n = ALLOC_UNWRAP(ParseCount(text));             // std::optional<int>
//   Slab* s = ALLOC_EXPECT(FindSlab(p), "no slab for %p", p);  // Slab*
//
//   bsalloc/bsalloc.cc:40: ALLOC_UNWRAP(ParseCount(text)) on an empty value
//   bsalloc/bsalloc.cc:41: no slab for 0x7f0000001000
//
// ALLOC_UNWRAP(e) and ALLOC_EXPECT(e, fmt, ...) evaluate `e` once and are
// expressions of e's value type: for an optional, its contained value (a
// reference into an lvalue optional, moved out of an rvalue one); for a
// pointer, the pointer. Like the CHECK macros, they never allocate (the
// value's own move constructor aside).

#ifndef ALLOC_FMT_UNWRAP_H_
#define ALLOC_FMT_UNWRAP_H_

#include <optional>
#include <type_traits>
#include <utility>

#include "alloc_fmt/format.h"

namespace allocators {
namespace alloc_fmt {
namespace internal {

// Reports "<file>:<line>: ALLOC_UNWRAP(<expr>) on an empty value" and
// aborts.
[[noreturn]] void UnwrapFailed(const char* file, int line, const char* expr);

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};

// True if `v` (an optional or a pointer) holds a value.
template <typename V>
bool HasValue(const V& v) {
  using D = std::decay_t<V>;
  static_assert(IsOptional<D>::value || std::is_pointer_v<D>,
                "ALLOC_UNWRAP and ALLOC_EXPECT take a std::optional or a "
                "pointer");
  if constexpr (IsOptional<D>::value) {
    return v.has_value();
  } else {
    return v != nullptr;
  }
}

// The value in `v`, which holds one: a reference into an lvalue optional,
// the value moved out of an rvalue one (so no reference outlives a
// temporary), or the pointer.
template <typename V>
decltype(auto) ValueOf(V&& v) {
  using D = std::decay_t<V>;
  if constexpr (IsOptional<D>::value && std::is_lvalue_reference_v<V>) {
    return *v;
  } else if constexpr (IsOptional<D>::value) {
    return typename D::value_type(*std::move(v));
  } else {
    return D(v);
  }
}

template <typename V>
decltype(auto) Unwrap(V&& v, const char* file, int line, const char* expr) {
  if (!HasValue(v)) UnwrapFailed(file, line, expr);
  return ValueOf(std::forward<V>(v));
}

}  // namespace internal
}  // namespace alloc_fmt
}  // namespace allocators

#define ALLOC_UNWRAP(e) \
  (::allocators::alloc_fmt::internal::Unwrap((e), __FILE__, __LINE__, #e))

// `fmt` is a string literal; the message is "<file>:<line>: <fmt...>".
#define ALLOC_EXPECT(e, fmt, ...)                                        \
  ([&]() -> decltype(auto) {                                             \
    auto&& alloc_expect_v_ = (e);                                        \
    if (!::allocators::alloc_fmt::internal::HasValue(alloc_expect_v_)) { \
      ::allocators::alloc_fmt::internal::FatalSkipping(                  \
          1, "%s:%d: " fmt, __FILE__, __LINE__, ##__VA_ARGS__);          \
    }                                                                    \
    return ::allocators::alloc_fmt::internal::ValueOf(                   \
        std::forward<decltype(alloc_expect_v_)>(alloc_expect_v_));       \
  }())

#endif  // ALLOC_FMT_UNWRAP_H_
