// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Word-sized cell encoding shared by the low-level queues.
//
// Every queue cell is one std::atomic<uintptr_t> with two reserved values:
//
//   0           kEmptyCell: nothing was ever stored here.
//   all ones    kSentinel:  a popper (or a revoker) got here first; the cell
//                           is dead and is never written again.
//
// Items are mapped onto the remaining values:
//   * pointers are stored as their address, so they must be non-null and not
//     all ones (checked);
//   * integers of at most word size are stored as value + 1, so that 0 can be
//     pushed; signed integers first have their sign bit flipped (an order-
//     preserving bijection onto the unsigned range), so that -1 stays
//     representable. For word-sized integers the two largest values cannot
//     be represented (checked): UINT64_MAX and UINT64_MAX - 1, or INT64_MAX
//     and INT64_MAX - 1. (The original stored signed values as value + 1 too,
//     which made -1 collide with the empty cell.)
//
// The original rejected those values only in debug builds; here the check is
// always on because it is one compare on a path that is about to issue an
// atomic read-modify-write anyway.

#ifndef BAGPIPE_INTERNAL_WORD_H_
#define BAGPIPE_INTERNAL_WORD_H_

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "absl/base/optimization.h"
#include "alloc_fmt/check.h"

namespace allocators {
namespace bagpipe {
namespace internal {

inline constexpr uintptr_t kEmptyCell = 0;
inline constexpr uintptr_t kSentinel = ~uintptr_t{0};

// WordCodec<T>::Encode / Decode convert between T and a cell value. Only the
// specialisations below exist; any other T is not word-storable (see
// kIsWordStorable), and the boxing adaptors (boxed_queue.h) handle it.
template <typename T, typename = void>
struct WordCodec;

template <typename U>
struct WordCodec<U*> {
  static uintptr_t Encode(U* p) {
    const uintptr_t w = reinterpret_cast<uintptr_t>(p);
    ALLOC_CHECK(w != kEmptyCell && w != kSentinel,
                "bagpipe: cannot store a null or all-ones pointer");
    return w;
  }
  static U* Decode(uintptr_t w) { return reinterpret_cast<U*>(w); }
};

template <typename I>
struct WordCodec<
    I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool> &&
                        sizeof(I) <= sizeof(uintptr_t)>> {
  using Unsigned = std::make_unsigned_t<I>;
  static constexpr Unsigned kFlip =
      std::is_signed_v<I> ? Unsigned{1} << (8 * sizeof(I) - 1) : 0;
  static uintptr_t Encode(I v) {
    const uintptr_t w =
        static_cast<uintptr_t>(static_cast<Unsigned>(v) ^ kFlip) + 1;
    ALLOC_CHECK(w != kEmptyCell && w != kSentinel,
                "bagpipe: cannot store the two largest word values");
    return w;
  }
  static I Decode(uintptr_t w) {
    return static_cast<I>(static_cast<Unsigned>(w - 1) ^ kFlip);
  }
};

template <typename T, typename = void>
struct IsWordStorableImpl : std::false_type {};
template <typename T>
struct IsWordStorableImpl<
    T, std::void_t<decltype(WordCodec<T>::Encode(std::declval<T>()))>>
    : std::true_type {};

// True if T can live directly in a queue cell (pointers and integers).
template <typename T>
inline constexpr bool kIsWordStorable = IsWordStorableImpl<T>::value;

// Revocable items (the original's `Revocable` trait). An item type U* is
// revocable if U has a member
//
//   std::atomic<uintptr_t>& revocation_handle();
//
// naming a word inside the object that a revocable queue uses to remember
// which cell holds the object (0 when it is in no cell). The owner must
// initialise the word to 0 and must not write it while the object may be in
// a revocable bag.
template <typename T, typename = void>
struct IsRevocableImpl : std::false_type {};
template <typename U>
struct IsRevocableImpl<
    U*, std::void_t<decltype(std::declval<U&>().revocation_handle())>>
    : std::is_same<decltype(std::declval<U&>().revocation_handle()),
                   std::atomic<uintptr_t>&> {};

template <typename T>
inline constexpr bool kIsRevocable = IsRevocableImpl<T>::value;

// The revocation handle of a revocable item.
template <typename U>
std::atomic<uintptr_t>& HandleOf(U* item) {
  return item->revocation_handle();
}

static_assert(kIsWordStorable<int*>);
static_assert(kIsWordStorable<uint64_t>);
static_assert(kIsWordStorable<int32_t>);
static_assert(!kIsWordStorable<bool>);
static_assert(!kIsWordStorable<double>);

}  // namespace internal
}  // namespace bagpipe
}  // namespace allocators

#endif  // BAGPIPE_INTERNAL_WORD_H_
