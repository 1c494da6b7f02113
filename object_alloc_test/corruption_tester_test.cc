// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "object_alloc_test/corruption_tester.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include "gtest/gtest.h"
#include "object_alloc_test/byte_types.h"
#include "object_alloc_test/internal/xxhash.h"

namespace allocators {
namespace object_alloc_test {
namespace {

// After an object is destroyed in place the compiler treats its bytes as
// dead; reading them inline (memcpy) would be flagged as uninitialised and
// may be optimised away. This barrier tells it memory may have changed.
void MemoryBarrier(void* p) { asm volatile("" : : "r"(p) : "memory"); }

// Raw, suitably sized storage for one tester, zeroed (Invalid).
template <typename T>
struct Storage {
  alignas(16) unsigned char bytes[sizeof(T)] = {};
  void* get() { return bytes; }
  T* as() { return reinterpret_cast<T*>(bytes); }
};

template <typename T>
class CorruptionTesterTest : public ::testing::Test {};

using TesterTypes =
    ::testing::Types<CorruptionTester<Byte1>, CorruptionTester<Byte8>,
                     CorruptionTester<Byte13>, CorruptionTester<Byte64>,
                     CorruptionTester<Byte1277>, CorruptionTester<Byte8192>>;
TYPED_TEST_SUITE(CorruptionTesterTest, TesterTypes);

TYPED_TEST(CorruptionTesterTest, SizeAndAlignment) {
  using T = TypeParam;
  static_assert(T::kSize >= kMinSize);
  static_assert(sizeof(T) == T::kSize);
  static_assert(alignof(T) == 1);
  EXPECT_EQ(T::kSize, std::max(sizeof(typename T::Payload), kMinSize));
}

// New -> Valid -> Dropped, default constructor (address-free New).
TYPED_TEST(CorruptionTesterTest, LifecycleDefaultConstructed) {
  using T = TypeParam;
  Storage<T> s;
  EXPECT_EQ(T::StateAt(s.get()), TesterState::kInvalid);  // zeroed memory
  T* t = ::new (s.get()) T();
  EXPECT_EQ(t->state(), TesterState::kNew);
  t->MarkValid();
  EXPECT_EQ(t->state(), TesterState::kValid);
  t->MarkValid();  // idempotent on Valid
  EXPECT_EQ(t->state(), TesterState::kValid);
  t->~T();
  EXPECT_EQ(T::StateAt(s.get()), TesterState::kDropped);
  EXPECT_EQ(StateAt(s.get(), T::kSize), TesterState::kDropped);
}

// New -> Valid -> Dropped, in place (address-bound New), and reuse of the
// dropped memory.
TYPED_TEST(CorruptionTesterTest, LifecycleUnsafeDefault) {
  using T = TypeParam;
  Storage<T> s;
  T* t = T::UnsafeDefault(s.get());
  EXPECT_EQ(static_cast<void*>(t), s.get());
  EXPECT_EQ(t->state(), TesterState::kNew);
  t->MarkValid();
  EXPECT_EQ(t->state(), TesterState::kValid);
  t->~T();
  EXPECT_EQ(T::StateAt(s.get()), TesterState::kDropped);
  // Dropped memory may be constructed into again.
  t = T::UnsafeDefault(s.get());
  EXPECT_EQ(t->state(), TesterState::kNew);
  t->~T();
  EXPECT_EQ(T::StateAt(s.get()), TesterState::kDropped);
}

TYPED_TEST(CorruptionTesterTest, NewCanBeDestroyedDirectly) {
  using T = TypeParam;
  { T t; }  // New -> Dropped is allowed (constructed, never handed out)
  Storage<T> s;
  T::UnsafeDefault(s.get())->~T();
  EXPECT_EQ(T::StateAt(s.get()), TesterState::kDropped);
}

TYPED_TEST(CorruptionTesterTest, HeaderLayoutMatchesTheSpec) {
  using T = TypeParam;
  Storage<T> s;
  T* t = T::UnsafeDefault(s.get());
  t->MarkValid();
  uint32_t nonce, hash;
  std::memcpy(&nonce, s.bytes, 4);
  std::memcpy(&hash, s.bytes + 4, 4);
  EXPECT_EQ(nonce, kNonceValid);
  // hash = low 32 bits of XXH64(seed = address, LE nonce ++ payload).
  internal::XxHash64 h(reinterpret_cast<uintptr_t>(s.get()));
  const unsigned char le[4] = {static_cast<unsigned char>(nonce),
                               static_cast<unsigned char>(nonce >> 8),
                               static_cast<unsigned char>(nonce >> 16),
                               static_cast<unsigned char>(nonce >> 24)};
  h.Update(le, 4);
  h.Update(s.bytes + kHeaderSize, T::kSize - kHeaderSize);
  EXPECT_EQ(hash, static_cast<uint32_t>(h.Digest()));
  t->~T();
}

TYPED_TEST(CorruptionTesterTest, DefaultNewHashIsSeededWithZero) {
  using T = TypeParam;
  auto t = std::make_unique<T>();
  const auto* bytes = reinterpret_cast<const unsigned char*>(t.get());
  uint32_t nonce, hash;
  std::memcpy(&nonce, bytes, 4);
  std::memcpy(&hash, bytes + 4, 4);
  EXPECT_EQ(nonce, kNonceNew);
  internal::XxHash64 h(0);
  const unsigned char le[4] = {0x54, 0xfd, 0xf8, 0xc1};  // 3254320468 LE
  h.Update(le, 4);
  h.Update(bytes + kHeaderSize, T::kSize - kHeaderSize);
  EXPECT_EQ(hash, static_cast<uint32_t>(h.Digest()));
}

// The original's test_corruption_tester_corruption: copying a Valid object
// over another leaves the source Valid and makes the target Invalid.
TYPED_TEST(CorruptionTesterTest, CopyingAValidObjectIsDetected) {
  using T = TypeParam;
  for (bool in_place : {false, true}) {
    Storage<T> a, b;
    T* ta = in_place ? T::UnsafeDefault(a.get()) : ::new (a.get()) T();
    T* tb = in_place ? T::UnsafeDefault(b.get()) : ::new (b.get()) T();
    EXPECT_EQ(ta->state(), TesterState::kNew);
    EXPECT_EQ(tb->state(), TesterState::kNew);
    ta->MarkValid();
    tb->MarkValid();
    std::memcpy(b.get(), a.get(), T::kSize);
    EXPECT_EQ(ta->state(), TesterState::kValid);
    EXPECT_EQ(tb->state(), TesterState::kInvalid);
    ta->~T();  // b is not destroyed: it would (rightly) abort
  }
}

TYPED_TEST(CorruptionTesterTest, CopyingAnAddressBoundNewObjectIsDetected) {
  using T = TypeParam;
  Storage<T> a, b;
  T* ta = T::UnsafeDefault(a.get());
  std::memcpy(b.get(), a.get(), T::kSize);
  EXPECT_EQ(ta->state(), TesterState::kNew);
  EXPECT_EQ(T::StateAt(b.get()), TesterState::kInvalid);
  ta->~T();
}

// The documented limitation: a default-constructed New object has no
// address in its hash, so a copy of it is New too.
TYPED_TEST(CorruptionTesterTest, CopyingADefaultNewObjectIsNotDetected) {
  using T = TypeParam;
  Storage<T> a, b;
  T* ta = ::new (a.get()) T();
  std::memcpy(b.get(), a.get(), T::kSize);
  EXPECT_EQ(T::StateAt(b.get()), TesterState::kNew);
  ta->~T();
}

TYPED_TEST(CorruptionTesterTest, AnyFlippedBitIsDetected) {
  using T = TypeParam;
  Storage<T> s;
  T* t = T::UnsafeDefault(s.get());
  t->MarkValid();
  for (size_t i = 0; i < T::kSize; i += (T::kSize > 64 ? 61 : 1)) {
    s.bytes[i] ^= 0x10;
    EXPECT_EQ(t->state(), TesterState::kInvalid) << "byte " << i;
    s.bytes[i] ^= 0x10;
    EXPECT_EQ(t->state(), TesterState::kValid);
  }
  t->~T();
}

TYPED_TEST(CorruptionTesterTest, MovingADroppedObjectIsDetected) {
  using T = TypeParam;
  Storage<T> a, b;
  T::UnsafeDefault(a.get())->~T();
  MemoryBarrier(a.get());
  std::memcpy(b.get(), a.get(), T::kSize);
  EXPECT_EQ(T::StateAt(a.get()), TesterState::kDropped);
  EXPECT_EQ(T::StateAt(b.get()), TesterState::kInvalid);
}

TEST(CorruptionTesterTest, StateNames) {
  EXPECT_STREQ(TesterStateName(TesterState::kNew), "New");
  EXPECT_STREQ(TesterStateName(TesterState::kValid), "Valid");
  EXPECT_STREQ(TesterStateName(TesterState::kDropped), "Dropped");
  EXPECT_STREQ(TesterStateName(TesterState::kInvalid), "Invalid");
}

TEST(CorruptionTesterTest, PayloadsDiffer) {
  CorruptionTester<Byte64> a, b;
  EXPECT_NE(std::memcmp(reinterpret_cast<const char*>(&a) + kHeaderSize,
                        reinterpret_cast<const char*>(&b) + kHeaderSize,
                        64 - kHeaderSize),
            0);
}

using T64 = CorruptionTester<Byte64>;

// The original's test_corruption_tester_corruption_panic_on_drop.
TEST(CorruptionTesterDeathTest, DestroyingAZeroedObjectDies) {
  EXPECT_DEATH(
      {
        Storage<T64> s;
        s.as()->~T64();
      },
      "object_alloc_test: destroying object at 0x[0-9a-f]+ in unexpected "
      "state Invalid \\(expected New or Valid\\)");
}

TEST(CorruptionTesterDeathTest, DestroyingTwiceDies) {
  EXPECT_DEATH(
      {
        Storage<T64> s;
        T64* t = T64::UnsafeDefault(s.get());
        t->~T64();
        t->~T64();
      },
      "in unexpected state Dropped \\(expected New or Valid\\)");
}

TEST(CorruptionTesterDeathTest, UnsafeDefaultOverALiveObjectDies) {
  EXPECT_DEATH(
      {
        Storage<T64> s;
        T64::UnsafeDefault(s.get())->MarkValid();
        T64::UnsafeDefault(s.get());
      },
      "UnsafeDefault at 0x[0-9a-f]+: memory holds a live object in state "
      "Valid \\(expected Invalid or Dropped\\)");
  EXPECT_DEATH(
      {
        Storage<T64> s;
        T64::UnsafeDefault(s.get());
        T64::UnsafeDefault(s.get());
      },
      "memory holds a live object in state New");
}

TEST(CorruptionTesterDeathTest, MarkValidOnADroppedObjectDies) {
  EXPECT_DEATH(
      {
        Storage<T64> s;
        T64* t = T64::UnsafeDefault(s.get());
        t->~T64();
        t->MarkValid();
      },
      "MarkValid: object at 0x[0-9a-f]+ in unexpected state Dropped");
}

TEST(CorruptionTesterDeathTest, StateAtRejectsTinySizes) {
  unsigned char buf[16] = {};
  EXPECT_DEATH(StateAt(buf, 8), "below the minimum 9");
}

}  // namespace
}  // namespace object_alloc_test
}  // namespace allocators
