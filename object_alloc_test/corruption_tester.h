// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// CorruptionTester<T>: an object that can tell whether it has been corrupted,
// moved, copied over, dropped twice or used before construction. The
// conformance suite (conformance.h) allocates these from the allocator under
// test and checks their state at every step.
//
// Representation (kSize = max(sizeof(T), kMinSize) bytes, alignment 1; T only
// chooses the size):
//
//   bytes [0, 4)   state nonce, a uint32 in host byte order: kNonceNew,
//                  kNonceValid or kNonceDropped (random constants, unlikely to
//                  appear in memory by accident)
//   bytes [4, 8)   hash, a uint32 in host byte order
//   bytes [8, kSize)  random payload (at least one byte)
//
//   hash = low 32 bits of XXH64(seed, input), where
//          input = the nonce as 4 little-endian bytes, then the payload;
//          seed = the object's address, except for a New object made by the
//          default constructor, whose final address is unknown: seed 0.
//
// States: New, Valid and Dropped when the nonce is one of the three and the
// hash matches; Invalid otherwise (including zeroed or random memory).
//
// Lifecycle:
//   1. Construction yields New: CorruptionTester<T>() (address-free, seed 0)
//      or UnsafeDefault(where) (in place, seeded with `where`; it first
//      requires that `where` holds no live tester: Invalid or Dropped).
//   2. When an allocator first hands the object out, the suite checks it is
//      New and calls MarkValid(), which binds it to its address.
//   3. The allocator may cache a freed Valid object and hand it out again.
//   4. The destructor requires New or Valid and leaves Dropped; anything else
//      aborts with the object's address and state.
//
// What it detects (with probability 1 - 2^-32 per check): any change to the
// bytes of an object; a Valid or Dropped object (or an UnsafeDefault New one)
// copied or moved to another address, since its hash names the old address;
// destroying an object twice or one never constructed; constructing over a
// live object with UnsafeDefault.
//
// Limitations (as in the original): a New object made by the default
// constructor can be copied elsewhere undetected (its hash has no address);
// an object overwritten or unmapped without being destroyed is not noticed by
// the object itself (the suite's DropAndCheck catches some of these cases);
// a New object is accepted with either seed, so the state of memory does not
// say which constructor made it.
//
// Thread-compatible: one object must not be used by two threads at once;
// different objects are independent. Nothing here allocates.

#ifndef OBJECT_ALLOC_TEST_CORRUPTION_TESTER_H_
#define OBJECT_ALLOC_TEST_CORRUPTION_TESTER_H_

#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>

namespace allocators {
namespace object_alloc_test {

// The state of a tester, computed from its bytes and address.
enum class TesterState { kNew, kValid, kDropped, kInvalid };

// "New", "Valid", "Dropped" or "Invalid".
const char* TesterStateName(TesterState state);

// A header (8 bytes) plus at least one random byte.
inline constexpr size_t kMinSize = 9;
inline constexpr size_t kHeaderSize = 8;

inline constexpr uint32_t kNonceNew = 3254320468u;
inline constexpr uint32_t kNonceValid = 3033817838u;
inline constexpr uint32_t kNonceDropped = 2620515550u;

// The state of a tester of `size` bytes at `p`, without needing its type.
// REQUIRES: size >= kMinSize; [p, p + size) is readable.
TesterState StateAt(const void* p, size_t size);

namespace internal {

// The size-generic implementation behind CorruptionTester<T>. Out of line on
// purpose: a destructor's stores to the dying object are dead to the
// optimiser (GCC's -flifetime-dse), and the Dropped state must reach memory.
// The original used black_box for the same reason.

// Writes a New tester of `size` bytes at `p` with a fresh random payload,
// seeded with p's address if `address_bound`, else with 0.
void WriteNew(void* p, size_t size, bool address_bound);
// Checks that no live tester is at p (Invalid or Dropped) or aborts.
void CheckReusable(const void* p, size_t size);
// Requires New or Valid, then writes Valid. Aborts otherwise.
void MarkValid(void* p, size_t size);
// The destructor's work: requires New or Valid, then writes Dropped.
void Drop(void* p, size_t size);

}  // namespace internal

template <typename T>
class CorruptionTester {
 public:
  using State = TesterState;
  using Payload = T;

  static constexpr size_t kSize = sizeof(T) > kMinSize ? sizeof(T) : kMinSize;

  // A New object with an address-free hash (seed 0): its final address is
  // not known while it is being returned by value.
  CorruptionTester() { internal::WriteNew(bytes_, kSize, false); }

  // Requires New or Valid and leaves the memory Dropped; otherwise aborts
  // with "unexpected state <S> for object at <addr>". Like the original's
  // drop, does nothing while an exception is unwinding the stack, where a
  // second failure would only hide the first.
  ~CorruptionTester() {
    if (std::uncaught_exceptions() > 0) return;
    internal::Drop(bytes_, kSize);
  }

  // Testers are compared by address; copying one is exactly the corruption
  // they detect, so the class is neither copyable nor movable. (Tests copy
  // bytes with memcpy to simulate it.)
  CorruptionTester(const CorruptionTester&) = delete;
  CorruptionTester& operator=(const CorruptionTester&) = delete;

  // Constructs a New tester in place at `where`, bound to that address.
  // REQUIRES: `where` is kSize writable bytes that do not hold a live tester
  // (StateAt is Invalid or Dropped); aborts with a message otherwise.
  static CorruptionTester* UnsafeDefault(void* where) {
    internal::CheckReusable(where, kSize);
    return ::new (where) CorruptionTester(AddressBound{});
  }

  // The current state, from the bytes and this object's address.
  State state() const { return StateAt(bytes_); }

  // Binds the object to its address: New (either seed) or Valid -> Valid.
  // Aborts if the object is Dropped or Invalid.
  void MarkValid() { internal::MarkValid(bytes_, kSize); }

  // The state of a CorruptionTester<T> at p. REQUIRES: p readable for kSize.
  static State StateAt(const void* p) {
    return object_alloc_test::StateAt(p, kSize);
  }

 private:
  struct AddressBound {};
  explicit CorruptionTester(AddressBound) {
    internal::WriteNew(bytes_, kSize, true);
  }

  unsigned char bytes_[kSize];
};

}  // namespace object_alloc_test
}  // namespace allocators

#endif  // OBJECT_ALLOC_TEST_CORRUPTION_TESTER_H_
