// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Unit tests for the leased-record epoch-based reclamation.

#include "bagpipe/internal/ebr.h"

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "bagpipe/testing/test_util.h"
#include "gtest/gtest.h"

namespace allocators {
namespace bagpipe {
namespace internal {
namespace {

using ::allocators::bagpipe::testing::Knob;
using ::allocators::bagpipe::testing::RunThreads;

std::atomic<int> g_reclaimed{0};
void CountReclaim(void* p, uintptr_t) {
  g_reclaimed.fetch_add(1);
  delete static_cast<int*>(p);
}

TEST(EbrTest, NestedGuardsShareOneRecord) {
  EbrGuard outer;
  EXPECT_EQ(tls_ebr_depth, 1u);
  EbrRecord* rec = tls_ebr_record;
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->state.load() & 1, 1u);
  {
    EbrGuard inner;
    EXPECT_EQ(tls_ebr_depth, 2u);
    EXPECT_EQ(tls_ebr_record, rec);
  }
  EXPECT_EQ(tls_ebr_depth, 1u);
  EXPECT_NE(rec->state.load(), 0u);  // still leased by `outer`
}

TEST(EbrTest, GuardReleasesItsRecord) {
  EbrRecord* rec;
  {
    EbrGuard g;
    rec = tls_ebr_record;
  }
  EXPECT_EQ(tls_ebr_depth, 0u);
  EXPECT_EQ(rec->state.load(), 0u);
  // The next guard on this thread takes the same record (the TLS hint).
  EbrGuard again;
  EXPECT_EQ(tls_ebr_record, rec);
}

TEST(EbrTest, ReclaimerRunsExactlyOncePerRetiredObject) {
  EbrFlush(false);
  const int before = g_reclaimed.load();
  const EbrStats s0 = GetEbrStats();
  constexpr int kN = 10000;
  for (int i = 0; i < kN; ++i) {
    EbrGuard g;
    g.Retire(new int(i), &CountReclaim, 0);
  }
  EbrFlush(false);
  EXPECT_EQ(g_reclaimed.load() - before, kN);
  const EbrStats s1 = GetEbrStats();
  EXPECT_EQ(s1.retired - s0.retired, static_cast<uint64_t>(kN));
  EXPECT_EQ(s1.reclaimed - s0.reclaimed, static_cast<uint64_t>(kN));
  EXPECT_EQ(s1.pending, 0u);
}

TEST(EbrTest, OlderGuardBlocksReclamation) {
  EbrFlush(false);
  std::atomic<int> phase{0};
  std::thread holder([&] {
    EbrGuard g;  // alive before the retirement below
    phase.store(1);
    while (phase.load() != 2) std::this_thread::yield();
  });
  while (phase.load() != 1) std::this_thread::yield();
  const int before = g_reclaimed.load();
  {
    EbrGuard g;
    g.Retire(new int(1), &CountReclaim, 0);
  }
  for (int i = 0; i < 5; ++i) EbrFlush(false);
  EXPECT_EQ(g_reclaimed.load(), before) << "reclaimed under a live guard";
  EXPECT_GE(GetEbrStats().pending, 1u);
  phase.store(2);
  holder.join();
  EbrFlush(false);
  EXPECT_EQ(g_reclaimed.load(), before + 1);
}

TEST(EbrTest, EpochAdvancesOnlyWhenEveryLeasedRecordIsCurrent) {
  EbrFlush(false);
  std::atomic<int> phase{0};
  std::thread holder([&] {
    EbrGuard g;
    phase.store(1);
    while (phase.load() != 2) std::this_thread::yield();
  });
  while (phase.load() != 1) std::this_thread::yield();
  const uint64_t e0 = GetEbrStats().epoch;
  for (int i = 0; i < 5; ++i) EbrTryAdvance();
  // The holder announced e0 (or e0 - 1): at most one step is possible.
  EXPECT_LE(GetEbrStats().epoch, e0 + 1);
  phase.store(2);
  holder.join();
  EXPECT_TRUE(EbrTryAdvance());
  EXPECT_TRUE(EbrTryAdvance());
  EXPECT_GE(GetEbrStats().epoch, e0 + 2);
}

TEST(EbrTest, RecordsAreReusedNotLeaked) {
  // Warm up, then run many short-lived threads one after another: they
  // all find free records, so the record count does not grow.
  RunThreads(1, [](size_t) { EbrGuard g; });
  const uint64_t records = GetEbrStats().records;
  for (int i = 0; i < 50; ++i) {
    std::thread t([] {
      for (int k = 0; k < 10; ++k) EbrGuard g;
    });
    t.join();
  }
  EXPECT_EQ(GetEbrStats().records, records);
}

TEST(EbrTest, RetiredBlocksAreRecycled) {
  EbrFlush(true);
  const EbrStats start = GetEbrStats();
  void* p;
  {
    EbrGuard g;
    p = g.AllocBlock(1000);
    g.RetireBlock(p, 1000);
  }
  EbrFlush(false);  // grace period over: the block is in this record's cache
  const EbrStats s0 = GetEbrStats();
  EXPECT_GE(s0.blocks_cached, 1u);
  {
    EbrGuard g;
    EXPECT_EQ(g.AllocBlock(1000), p);
    g.FreeUnpublishedBlock(p, 1000);
  }
  EXPECT_EQ(GetEbrStats().blocks_allocated, s0.blocks_allocated);
  EbrFlush(true);  // caches go back to bsalloc
  const EbrStats s1 = GetEbrStats();
  EXPECT_EQ(s1.blocks_cached, 0u);
  EXPECT_EQ(s1.blocks_allocated - s1.blocks_released,
            start.blocks_allocated - start.blocks_released);
}

TEST(EbrTest, AtForkChildFreesOtherThreadsRecords) {
  std::atomic<int> phase{0};
  EbrRecord* held = nullptr;
  std::thread holder([&] {
    EbrGuard g;
    held = tls_ebr_record;
    phase.store(1);
    while (phase.load() != 2) std::this_thread::yield();
  });
  while (phase.load() != 1) std::this_thread::yield();
  EXPECT_NE(held->state.load(), 0u);
  EbrAtForkChild();  // as if `holder` did not exist
  EXPECT_EQ(held->state.load(), 0u);
  phase.store(2);
  holder.join();
}

TEST(EbrDeathTest, FlushInsideAGuardIsFatal) {
  EXPECT_DEATH(
      {
        EbrGuard g;
        EbrFlush(false);
      },
      "bagpipe: EbrFlush\\(\\) called inside a guard");
}

// Readers load a shared object under a guard and check it was not
// reclaimed; writers replace and retire it. The reclaimer marks objects dead
// and parks them (freed at the end), so a premature reclamation is seen as
// a dead object, and under TSan any missing happens-before is reported.
struct Obj {
  static constexpr uint64_t kAlive = 0xA11CE;
  static constexpr uint64_t kDead = 0xDEAD;
  std::atomic<uint64_t> state{kAlive};
  uint64_t payload = 0;  // plain: written before publication, read by readers
  Obj* graveyard_next = nullptr;
};
std::atomic<Obj*> g_current{nullptr};
std::atomic<Obj*> g_graveyard{nullptr};
void BuryObj(void* p, uintptr_t) {
  Obj* o = static_cast<Obj*>(p);
  o->payload = 0;  // a plain write: races with a reader if EBR is wrong
  o->state.store(Obj::kDead, std::memory_order_relaxed);
  o->graveyard_next = g_graveyard.load(std::memory_order_relaxed);
  while (!g_graveyard.compare_exchange_weak(o->graveyard_next, o)) {
  }
}

TEST(EbrTest, ConcurrentReadersNeverSeeReclaimedObjects) {
  const size_t threads = Knob("BAGPIPE_TEST_THREADS", 4, 16);
  const size_t ops = Knob("BAGPIPE_TEST_EBR_OPS", 50000, 1000000, 10);
  Obj* first = new Obj;
  first->payload = 1;
  g_current.store(first);
  std::atomic<size_t> bad{0};
  RunThreads(threads, [&](size_t id) {
    for (size_t i = 0; i < ops; ++i) {
      EbrGuard g;
      if (id % 2 == 0 && i % 4 == 0) {
        Obj* fresh = new Obj;
        fresh->payload = i + 1;
        Obj* old = g_current.exchange(fresh, std::memory_order_seq_cst);
        g.Retire(old, &BuryObj, 0);
      } else {
        Obj* o = g_current.load(std::memory_order_seq_cst);
        if (o->state.load(std::memory_order_relaxed) != Obj::kAlive ||
            o->payload == 0) {
          bad.fetch_add(1);
        }
      }
    }
  });
  EXPECT_EQ(bad.load(), 0u);
  EbrFlush(false);
  EXPECT_EQ(GetEbrStats().pending, 0u);
  delete g_current.exchange(nullptr);
  for (Obj* o = g_graveyard.exchange(nullptr); o != nullptr;) {
    Obj* next = o->graveyard_next;
    delete o;
    o = next;
  }
}

}  // namespace
}  // namespace internal
}  // namespace bagpipe
}  // namespace allocators
