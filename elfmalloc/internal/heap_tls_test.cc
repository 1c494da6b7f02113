// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Calls made while a thread's cache is unavailable: from a pthread key
// destructor that runs after elfmalloc's own (the thread-exit order a C++
// runtime or libc can produce), the heap must still allocate and free,
// through its locked fallback cache, and objects of the dead cache must
// still be freeable.

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "elfmalloc/internal/config.h"
#include "elfmalloc/internal/heap.h"
#include "gtest/gtest.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

template <typename Config>
struct LateKey {
  static inline pthread_key_t key;
  static inline std::atomic<int> ok{0};
  static inline std::atomic<int> tls_was_gone{0};

  // Runs at thread exit, after the heap's TlsSlot destructor.
  static void Destructor(void* arg) {
    using H = Heap<Config>;
    if (H::Local() == nullptr) tls_was_gone.fetch_add(1);
    auto* early = static_cast<uint64_t*>(arg);
    if (early[0] != 0x1234) return;
    H::Free(early);
    for (size_t size : {size_t{8}, size_t{100}, size_t{5000}, size_t{3} << 20}) {
      auto* p = static_cast<unsigned char*>(H::Alloc(size));
      if (p == nullptr) return;
      std::memset(p, 0x5a, size);
      if (H::UsableSize(p) < size) return;
      H::Free(p);
    }
    ok.fetch_add(1);
  }
};

template <typename Config>
class HeapTlsTest : public ::testing::Test {};
using Configs = ::testing::Types<MagazineConfig, LocalConfig, HardenedConfig>;
TYPED_TEST_SUITE(HeapTlsTest, Configs);

TYPED_TEST(HeapTlsTest, CallsAfterTheThreadCacheIsGone) {
  using H = Heap<TypeParam>;
  using K = LateKey<TypeParam>;
  // Make the heap create its TLS key first, so ours has a later index and
  // its destructor runs after the heap's.
  H::Free(H::Alloc(16));
  ASSERT_EQ(pthread_key_create(&K::key, &K::Destructor), 0);
  constexpr int kThreads = 8;
  for (int i = 0; i < kThreads; ++i) {
    std::thread([] {
      auto* early = static_cast<uint64_t*>(H::Alloc(64));
      ASSERT_NE(early, nullptr);
      early[0] = 0x1234;
      // Cached objects of this thread, returned by its exit.
      std::vector<void*> keep;
      for (int j = 0; j < 1000; ++j) keep.push_back(H::Alloc(48));
      for (void* p : keep) H::Free(p);
      pthread_setspecific(K::key, early);
    }).join();
  }
  EXPECT_EQ(K::ok.load(), kThreads);
  EXPECT_EQ(K::tls_was_gone.load(), kThreads)
      << "the destructor ran before the heap's: the fallback was not tested";
  pthread_key_delete(K::key);
}

}  // namespace
}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
