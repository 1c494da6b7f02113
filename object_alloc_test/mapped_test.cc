// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "object_alloc_test/mapped.h"

#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace allocators {
namespace object_alloc_test {
namespace {

TEST(IsMappedRangeTest, HeapArrayIsMapped) {
  auto arr = std::make_unique<size_t[]>(100);
  EXPECT_TRUE(IsMappedRange(arr.get(), 100 * sizeof(size_t)));
}

TEST(IsMappedRangeTest, LargeRangesAreProbedInChunks) {
  std::vector<unsigned char> big(1 << 20, 0xAB);
  EXPECT_TRUE(IsMappedRange(big.data(), big.size()));
  EXPECT_TRUE(IsMappedRange(big.data() + 1, big.size() - 1));
}

TEST(IsMappedRangeTest, StackAndStaticsAreMapped) {
  static const char kStatic[] = "static data";
  char local[64] = {};
  EXPECT_TRUE(IsMappedRange(local, sizeof(local)));
  EXPECT_TRUE(IsMappedRange(kStatic, sizeof(kStatic)));
}

TEST(IsMappedRangeTest, LowAndKernelAddressesAreNot) {
  EXPECT_FALSE(IsMappedRange(reinterpret_cast<void*>(1), 1));
  EXPECT_FALSE(IsMappedRange(nullptr, 1));
  EXPECT_FALSE(IsMappedRange(reinterpret_cast<void*>(4096), 4096));
  EXPECT_FALSE(
      IsMappedRange(reinterpret_cast<void*>(uintptr_t{0xffff800000000000}), 8));
}

TEST(IsMappedRangeTest, EmptyRangeIsReadable) {
  EXPECT_TRUE(IsMappedRange(nullptr, 0));
}

TEST(IsMappedRangeTest, WrappingRangeIsNot) {
  EXPECT_FALSE(IsMappedRange(reinterpret_cast<void*>(UINTPTR_MAX - 3), 8));
}

// The end of a run of readable mappings in /proc/self/maps (the first byte
// past it is unmapped or mapped without read permission) whose last bytes
// IsMappedRange accepts. The second condition matters under ASan, where runs
// such as the shadow memory are readable to the kernel but not program
// memory, so IsMappedRange rightly rejects them.
struct Edge {
  uintptr_t end = 0;
  bool found = false;
};

Edge FindReadableEdge() {
  struct Region {
    uintptr_t begin, end;
    bool readable;
  };
  std::vector<Region> regions;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string range, perms;
    in >> range >> perms;
    const size_t dash = range.find('-');
    Region r;
    r.begin = std::stoull(range.substr(0, dash), nullptr, 16);
    r.end = std::stoull(range.substr(dash + 1), nullptr, 16);
    r.readable = !perms.empty() && perms[0] == 'r';
    regions.push_back(r);
  }
  Edge edge;
  for (size_t i = 0; i < regions.size() && !edge.found; ++i) {
    if (!regions[i].readable) continue;
    // [vsyscall] and other high kernel-provided pages are odd; skip them.
    if (regions[i].end >= uintptr_t{0x800000000000}) continue;
    const bool next_adjacent_readable =
        i + 1 < regions.size() && regions[i + 1].begin == regions[i].end &&
        regions[i + 1].readable;
    if (next_adjacent_readable) continue;
    if (regions[i].end - regions[i].begin < 8192 + 16) continue;
    const char* end = reinterpret_cast<const char*>(regions[i].end);
    if (!IsMappedRange(end - 8192, 8192)) continue;
    edge.end = regions[i].end;
    edge.found = true;
  }
  return edge;
}

TEST(IsMappedRangeTest, RangeStraddlingTheEndOfAMappingIsNot) {
  const Edge edge = FindReadableEdge();
  if (!edge.found) {
    GTEST_SKIP() << "no readable mapping edge in /proc/self/maps";
  }
  const char* end = reinterpret_cast<const char*>(edge.end);
  EXPECT_TRUE(IsMappedRange(end - 16, 16));
  EXPECT_FALSE(IsMappedRange(end - 16, 32));
  EXPECT_FALSE(IsMappedRange(end, 1));
  // A straddle beyond the first chunk, so the fault hits a later write.
  EXPECT_FALSE(IsMappedRange(end - 8192, 8192 + 1));
}

TEST(IsMappedRangeTest, ConcurrentCallsAreSafe) {
  std::vector<unsigned char> buf(10000, 1);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      int good = 0;
      for (int i = 0; i < 200; ++i) {
        good += IsMappedRange(buf.data(), buf.size()) ? 1 : 0;
        good += IsMappedRange(reinterpret_cast<void*>(8), 8) ? 0 : 1;
      }
      ok[t] = good;
    });
  }
  for (auto& th : threads) th.join();
  for (int v : ok) EXPECT_EQ(v, 400);
}

}  // namespace
}  // namespace object_alloc_test
}  // namespace allocators
