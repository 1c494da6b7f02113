// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "platform/testing/proc.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace allocators {
namespace platform {
namespace testing {
namespace {

bool Parse(const std::string& line, MapsEntry* e) {
  return ParseMapsLine(line.data(), line.size(), e);
}

TEST(ParseMapsLineTest, ParsesAnonymousMapping) {
  MapsEntry e;
  ASSERT_TRUE(Parse("7f6fa9400000-7f6fa9800000 ---p 00000000 00:00 0 ", &e));
  EXPECT_EQ(e.start, uintptr_t{0x7f6fa9400000});
  EXPECT_EQ(e.end, uintptr_t{0x7f6fa9800000});
  EXPECT_STREQ(e.perms, "---p");
}

TEST(ParseMapsLineTest, ParsesFileMappingWithPath) {
  MapsEntry e;
  ASSERT_TRUE(
      Parse("561270d7e000-561270d7f000 r-xp 00001000 fe:00 10953001"
            "                   /tmp/probe",
            &e));
  EXPECT_EQ(e.start, uintptr_t{0x561270d7e000});
  EXPECT_EQ(e.end, uintptr_t{0x561270d7f000});
  EXPECT_STREQ(e.perms, "r-xp");
}

TEST(ParseMapsLineTest, ParsesEveryPermissionLetterAndShared) {
  const char* perms[] = {"---p", "r--p", "-w-p", "rw-p",
                         "--xp", "r-xp", "-wxp", "rwxs"};
  for (const char* p : perms) {
    MapsEntry e;
    ASSERT_TRUE(Parse(std::string("1000-2000 ") + p + " 00000000 00:00 0", &e))
        << p;
    EXPECT_STREQ(e.perms, p);
  }
}

TEST(ParseMapsLineTest, ParsesLineWithoutTrailingFields) {
  MapsEntry e;
  ASSERT_TRUE(Parse("ffffffffff600000-ffffffffff601000 --xp", &e));
  EXPECT_EQ(e.start, uintptr_t{0xffffffffff600000});
  EXPECT_STREQ(e.perms, "--xp");
}

TEST(ParseMapsLineTest, RejectsMalformedAndSmapsLines) {
  MapsEntry e;
  EXPECT_FALSE(Parse("", &e));
  EXPECT_FALSE(Parse("Rss:                   4 kB", &e));
  EXPECT_FALSE(Parse("AnonHugePages:         0 kB", &e));
  EXPECT_FALSE(Parse("FilePmdMapped:         0 kB", &e));
  EXPECT_FALSE(Parse("VmFlags: rd wr mr mw me ac", &e));
  EXPECT_FALSE(Parse("1000-2000", &e));
  EXPECT_FALSE(Parse("1000-2000 rw", &e));
  EXPECT_FALSE(Parse("1000-2000 rwzp 0 0 0", &e));
  EXPECT_FALSE(Parse("1000 2000 rw-p 0 0 0", &e));
  EXPECT_FALSE(Parse("2000-1000 rw-p 0 0 0", &e));  // empty range
  EXPECT_FALSE(Parse("1000-2000 rw-pX 0 0 0", &e));
}

TEST(ForEachMapsEntryTest, VisitsEveryParsableLine) {
  const std::string text =
      "1000-3000 rw-p 00000000 00:00 0\n"
      "garbage line\n"
      "5000-6000 r--p 00000000 fe:00 1 /lib/x.so\n"
      "8000-9000 ---p 00000000 00:00 0";  // no final newline
  std::vector<MapsEntry> seen;
  ForEachMapsEntry(text.data(), text.size(),
                   [&](const MapsEntry& e) { seen.push_back(e); });
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].end - seen[0].start, 0x2000u);
  EXPECT_STREQ(seen[1].perms, "r--p");
  EXPECT_EQ(seen[2].start, 0x8000u);
}

TEST(ProcTest, FindsStackAndHeapButNotPageZero) {
  int on_stack = 0;
  MapsEntry e;
  ASSERT_TRUE(FindMapping(&on_stack, &e));
  EXPECT_LE(e.start, reinterpret_cast<uintptr_t>(&on_stack));
  EXPECT_GT(e.end, reinterpret_cast<uintptr_t>(&on_stack));
  EXPECT_EQ(std::string(e.perms, 2), "rw");
  std::vector<char> heap(100);
  EXPECT_EQ(PermsAt(heap.data()).substr(0, 2), "rw");
  EXPECT_EQ(PermsAt(reinterpret_cast<void*>(16)), "");
  EXPECT_FALSE(FindMapping(reinterpret_cast<void*>(16), &e));
}

TEST(ProcTest, TotalMappedBytesIsPlausible) {
  const size_t total = TotalMappedBytes();
  EXPECT_GT(total, size_t{1} << 20);
}

TEST(ProcTest, VmFlagsOfStackSayReadWrite) {
  int on_stack = 0;
  const std::string flags = VmFlagsAt(&on_stack);
  EXPECT_NE(flags.find("rd"), std::string::npos) << flags;
  EXPECT_NE(flags.find("wr"), std::string::npos) << flags;
  EXPECT_EQ(VmFlagsAt(reinterpret_cast<void*>(16)), "");
}

TEST(ProcTest, ResidentBytesIsPositive) { EXPECT_GT(ResidentBytes(), 0u); }

TEST(ProcTest, IsReadableDistinguishesMappedFromUnmapped) {
  int on_stack = 42;
  EXPECT_TRUE(IsReadable(&on_stack));
  EXPECT_FALSE(IsReadable(nullptr));
  EXPECT_FALSE(IsReadable(reinterpret_cast<void*>(16)));
  // The probe drains the pipe: more probes than its 64 KiB capacity work.
  for (int i = 0; i < 70000; ++i) ASSERT_TRUE(IsReadable(&on_stack));
}

TEST(ParseMapsLineTest, ReadsThePath) {
  MapsEntry e;
  const std::string line =
      "561270d7e000-561270d7f000 r-xp 00001000 fe:00 10953001   /tmp/probe";
  ASSERT_TRUE(Parse(line, &e));
  EXPECT_EQ(std::string(e.path, e.path_len), "/tmp/probe");
  ASSERT_TRUE(Parse("1000-2000 rw-p 00000000 00:00 0", &e));
  EXPECT_EQ(e.path_len, 0u);
}

TEST(ProcTest, MappingCountAndPaths) {
  EXPECT_GT(MappingCount(), 5u);
  EXPECT_TRUE(AnyMappingPathContains("[stack]"));
  EXPECT_TRUE(AnyMappingPathContains("proc_test"));
  EXPECT_FALSE(AnyMappingPathContains("no-such-library-name"));
}

TEST(ProcTest, StatusAndMeminfoFields) {
  EXPECT_GT(StatusKib("VmRSS"), 0);
  EXPECT_GE(StatusKib("VmHWM"), StatusKib("VmRSS") / 2);
  EXPECT_EQ(StatusKib("NoSuchField"), -1);
  EXPECT_GT(MeminfoKib("MemTotal"), 0);
  EXPECT_EQ(MeminfoKib("NoSuchField"), -1);
  EXPECT_GT(ReadProcNumber("/proc/sys/vm/max_map_count"), 0);
  EXPECT_EQ(ReadProcNumber("/nonexistent"), -1);
  EXPECT_GE(ThreadCount(), 1u);
}

TEST(IsReadableTest, HeapArrayIsMapped) {
  auto arr = std::make_unique<size_t[]>(100);
  EXPECT_TRUE(IsReadable(arr.get(), 100 * sizeof(size_t)));
}

TEST(IsReadableTest, LargeRangesAreProbedInChunks) {
  std::vector<unsigned char> big(1 << 20, 0xAB);
  EXPECT_TRUE(IsReadable(big.data(), big.size()));
  EXPECT_TRUE(IsReadable(big.data() + 1, big.size() - 1));
}

TEST(IsReadableTest, StackAndStaticsAreMapped) {
  static const char kStatic[] = "static data";
  char local[64] = {};
  EXPECT_TRUE(IsReadable(local, sizeof(local)));
  EXPECT_TRUE(IsReadable(kStatic, sizeof(kStatic)));
}

TEST(IsReadableTest, LowAndKernelAddressesAreNot) {
  EXPECT_FALSE(IsReadable(reinterpret_cast<void*>(1), 1));
  EXPECT_FALSE(IsReadable(nullptr, 1));
  EXPECT_FALSE(IsReadable(reinterpret_cast<void*>(4096), 4096));
  EXPECT_FALSE(
      IsReadable(reinterpret_cast<void*>(uintptr_t{0xffff800000000000}), 8));
}

TEST(IsReadableTest, EmptyRangeIsReadable) {
  EXPECT_TRUE(IsReadable(nullptr, 0));
}

TEST(IsReadableTest, WrappingRangeIsNot) {
  EXPECT_FALSE(IsReadable(reinterpret_cast<void*>(UINTPTR_MAX - 3), 8));
}

// The end of a run of readable mappings in /proc/self/maps (the first byte
// past it is unmapped or mapped without read permission) whose last bytes
// IsReadable accepts. The second condition matters under ASan, where runs
// such as the shadow memory are readable to the kernel but not program
// memory, so IsReadable rightly rejects them.
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
  ForEachMapping([&](const MapsEntry& e) {
    regions.push_back(Region{e.start, e.end, e.perms[0] == 'r'});
  });
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
    if (!IsReadable(end - 8192, 8192)) continue;
    edge.end = regions[i].end;
    edge.found = true;
  }
  return edge;
}

TEST(IsReadableTest, RangeStraddlingTheEndOfAMappingIsNot) {
  const Edge edge = FindReadableEdge();
  if (!edge.found) {
    GTEST_SKIP() << "no readable mapping edge in /proc/self/maps";
  }
  const char* end = reinterpret_cast<const char*>(edge.end);
  EXPECT_TRUE(IsReadable(end - 16, 16));
  EXPECT_FALSE(IsReadable(end - 16, 32));
  EXPECT_FALSE(IsReadable(end, 1));
  // A straddle beyond the first chunk, so the fault hits a later write.
  EXPECT_FALSE(IsReadable(end - 8192, 8192 + 1));
}

TEST(IsReadableTest, ConcurrentCallsAreSafe) {
  std::vector<unsigned char> buf(10000, 1);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      int good = 0;
      for (int i = 0; i < 200; ++i) {
        good += IsReadable(buf.data(), buf.size()) ? 1 : 0;
        good += IsReadable(reinterpret_cast<void*>(8), 8) ? 0 : 1;
      }
      ok[t] = good;
    });
  }
  for (auto& th : threads) th.join();
  for (int v : ok) EXPECT_EQ(v, 400);
}

}  // namespace
}  // namespace testing
}  // namespace platform
}  // namespace allocators
