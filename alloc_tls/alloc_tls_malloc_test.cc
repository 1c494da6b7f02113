// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// TlsSlot inside a real malloc. This binary defines malloc & co. itself,
// forwarding to glibc, and makes every call consult a TlsSlot the way an
// allocator's fast path does. It proves:
//  * the fast path and first-use path allocate nothing themselves when the
//    pthread key is one of the first 32 (glibc keeps those inline);
//  * when registration does allocate (keys beyond 32 make glibc calloc a
//    second-level array), the nested malloc sees Get() == nullptr instead of
//    recursing, and the slot still ends up initialised;
//  * free() called from the value's destructor at thread exit sees nullptr.

#include <pthread.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

#include "alloc_tls/alloc_tls.h"
#include "gtest/gtest.h"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
}

namespace {

struct PerThread {
  ~PerThread() {
    // An allocator's thread cache returns memory here.
    void* p = malloc(32);
    free(p);
  }
  int allocations = 0;
};

ABSL_CONST_INIT ALLOC_TLS_INITIAL_EXEC thread_local
    allocators::alloc_tls::TlsSlot<PerThread> g_slot;

std::atomic<bool> g_hook{false};
std::atomic<int> g_calls_with_value{0};
std::atomic<int> g_calls_while_initializing{0};
std::atomic<int> g_calls_after_drop{0};
std::atomic<int> g_calls_total{0};

void Hook() {
  if (!g_hook.load(std::memory_order_relaxed)) return;
  g_calls_total++;
  using allocators::alloc_tls::SlotState;
  const SlotState state = g_slot.state();
  PerThread* t = g_slot.Get();
  if (t != nullptr) {
    t->allocations++;
    g_calls_with_value++;
  } else if (state == SlotState::kInitializing) {
    g_calls_while_initializing++;
  } else if (state == SlotState::kDropped) {
    g_calls_after_drop++;
  }
}

}  // namespace

extern "C" {
void* malloc(size_t n) {
  Hook();
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t s) {
  Hook();
  return __libc_calloc(n, s);
}
void* realloc(void* p, size_t n) {
  Hook();
  return __libc_realloc(p, n);
}
void* memalign(size_t a, size_t n) { return __libc_memalign(a, n); }
void* aligned_alloc(size_t a, size_t n) { return __libc_memalign(a, n); }
int posix_memalign(void** out, size_t a, size_t n) {
  void* p = __libc_memalign(a, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
void free(void* p) {
  Hook();
  __libc_free(p);
}
}

namespace allocators {
namespace alloc_tls {
namespace {

TEST(TlsSlotInMallocTest, RegistrationThatAllocatesDoesNotRecurse) {
  // Use up the inline keys so that the slot's key needs glibc's calloc'd
  // second level (its first key is created lazily, on first Get below).
  std::vector<pthread_key_t> fillers;
  for (int i = 0; i < 40; ++i) {
    pthread_key_t k;
    ASSERT_EQ(pthread_key_create(&k, nullptr), 0);
    fillers.push_back(k);
  }
  std::thread t([] {
    g_hook = true;
    void* p = malloc(16);  // first use on this thread: builds PerThread
    free(p);
    // The hook stays on through thread exit, where ~PerThread allocates.
  });
  t.join();
  g_hook = false;
  // The registration's calloc re-entered malloc while initialising and got
  // nullptr; the outer call then saw the value.
  EXPECT_GE(g_calls_while_initializing.load(), 1);
  EXPECT_GE(g_calls_with_value.load(), 1);
  // The destructor's malloc/free ran after the slot was dropped.
  EXPECT_GE(g_calls_after_drop.load(), 2);
  for (pthread_key_t k : fillers) pthread_key_delete(k);
}

}  // namespace
}  // namespace alloc_tls
}  // namespace allocators
