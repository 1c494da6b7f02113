// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The logging build's event counters (events.h) on Heap<EventsConfig>:
// each event counts where it happens, the statistics report carries the
// totals, and a thread logs its counters about every kEventLogAllocs
// allocations.

#include "elfmalloc/internal/events.h"

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "elfmalloc/internal/config.h"
#include "elfmalloc/internal/heap.h"
#include "elfmalloc/internal/stats_report.h"
#include "gtest/gtest.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

using EventsHeap = Heap<EventsConfig>;

uint64_t Total(Event e) {
  return EventsHeap::Instance().Stats().events[static_cast<size_t>(e)];
}

TEST(EventsTest, NamesAndFormat) {
  EXPECT_STREQ(EventName(Event::kCacheAlloc), "cache_alloc");
  EXPECT_STREQ(EventName(Event::kGrabbedClean), "grabbed_clean");
  EventCounters c;
  c.Add(Event::kLocalFree, 3);
  c.Add(Event::kGrabbedDirty);
  char line[512];
  FormatEvents(line, sizeof(line), "x:", c);
  EXPECT_EQ(std::string(line),
            "x: cache_alloc=0 slag_alloc=0 local_free=3 remote_free=0 "
            "bulk_remote_free=0 transition_available=0 transition_full=0 "
            "grabbed_available=0 grabbed_dirty=1 grabbed_clean=0");
}

TEST(EventsTest, EachEventCountsWhereItHappens) {
  EventsHeap::Instance();
  // A thread of its own, so that its whole life is in the totals.
  std::thread([] {
    const size_t c = SizeToClass(256);
    const size_t n = 3 * kGeneralGeometry<false>[c].n_objects;
    std::vector<void*> objs;
    for (size_t i = 0; i < n; ++i) objs.push_back(EventsHeap::Alloc(256));
    for (void* p : objs) EventsHeap::Free(p);
    for (size_t i = 0; i < 100; ++i) objs[i] = EventsHeap::Alloc(256);
    for (size_t i = 0; i < 100; ++i) EventsHeap::Free(objs[i]);
    // Another thread's free of this thread's object, through its cache.
    void* p = EventsHeap::Alloc(256);
    std::thread([p] { EventsHeap::Free(p); }).join();
  }).join();
  const HeapStats s = EventsHeap::Instance().Stats();
  ASSERT_TRUE(s.has_events);
  EXPECT_GE(Total(Event::kSlagAlloc), 3 * 255u);  // three fresh slags
  EXPECT_GE(Total(Event::kCacheAlloc), 100u);     // the second round
  EXPECT_GE(Total(Event::kLocalFree), 3 * 255u);
  EXPECT_GE(Total(Event::kGrabbedClean), 3u);     // fresh pages
  EXPECT_GT(Total(Event::kBulkRemoteFree), 0u);   // caches returned at exit
  EXPECT_GT(Total(Event::kTransitionFull), 0u);   // whole slags went back
}

TEST(EventsTest, TheReportCarriesTheTotals) {
  EventsHeap::Free(EventsHeap::Alloc(64));
  std::string report;
  WriteStatsReport(
      EventsHeap::Instance().Stats(), "test",
      [](void* out, const char* line) {
        static_cast<std::string*>(out)->append(line);
      },
      &report);
  EXPECT_NE(report.find("\nevents: cache_alloc="), std::string::npos)
      << report;
  EXPECT_NE(report.find(" grabbed_clean="), std::string::npos) << report;
}

TEST(EventsDeathTest, AThreadLogsItsCountersPeriodically) {
  EXPECT_EXIT(
      {
        std::thread([] {
          // Enough allocations to pass the log threshold, through slow
          // paths: fresh slags keep coming.
          std::vector<void*> objs;
          for (uint64_t i = 0; i < kEventLogAllocs + 65536; ++i) {
            void* p = EventsHeap::Alloc(16);
            if (i % 4 == 0) {
              objs.push_back(p);
            } else {
              EventsHeap::Free(p);
            }
          }
          for (void* p : objs) EventsHeap::Free(p);
        }).join();
        std::exit(0);
      },
      ::testing::ExitedWithCode(0),
      "elfmalloc: events of thread [0-9]+: cache_alloc=[0-9]+ "
      "slag_alloc=[0-9]+ local_free=[0-9]+ .* grabbed_clean=[0-9]+\n");
}

}  // namespace
}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
