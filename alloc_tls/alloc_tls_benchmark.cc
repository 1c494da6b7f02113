// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// What TlsSlot<T>::Get() costs on its fast path, next to the C++
// thread_local forms it replaces: a trivially destructible one (no guard)
// and one with a destructor (the compiler checks an init guard on every
// access through a wrapper function). Each iteration reads the slot's value
// and bumps a counter in it; ClobberMemory keeps the compiler from hoisting
// the access out of the loop.
//   ./bazelw run -c opt //alloc_tls:alloc_tls_benchmark

#include <cstdint>

#include "absl/base/attributes.h"
#include "alloc_tls/alloc_tls.h"
#include "benchmark/benchmark.h"

namespace allocators {
namespace alloc_tls {
namespace {

struct Counter {
  uint64_t n = 0;
};

struct CounterWithDestructor {
  uint64_t n = 0;
  ~CounterWithDestructor() { benchmark::DoNotOptimize(n); }
};

ABSL_CONST_INIT ALLOC_TLS_INITIAL_EXEC thread_local TlsSlot<Counter> g_slot;
ABSL_CONST_INIT ALLOC_TLS_INITIAL_EXEC thread_local Counter g_plain;
thread_local CounterWithDestructor g_guarded;

void BM_TlsSlotGet(benchmark::State& state) {
  for (auto _ : state) {
    Counter* c = g_slot.Get();
    ++c->n;
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_TlsSlotGet)->ThreadRange(1, 2);

void BM_TlsSlotGetIfInitialized(benchmark::State& state) {
  g_slot.Get();
  for (auto _ : state) {
    if (Counter* c = g_slot.GetIfInitialized()) ++c->n;
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_TlsSlotGetIfInitialized)->ThreadRange(1, 2);

void BM_ThreadLocalTrivial(benchmark::State& state) {
  for (auto _ : state) {
    ++g_plain.n;
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_ThreadLocalTrivial)->ThreadRange(1, 2);

void BM_ThreadLocalWithDestructor(benchmark::State& state) {
  for (auto _ : state) {
    ++g_guarded.n;
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_ThreadLocalWithDestructor)->ThreadRange(1, 2);

}  // namespace
}  // namespace alloc_tls
}  // namespace allocators
