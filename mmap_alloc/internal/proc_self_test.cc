// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "mmap_alloc/internal/proc_self.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace allocators {
namespace mmap_alloc {
namespace internal {
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

TEST(ProcSelfTest, FindsStackAndHeapButNotPageZero) {
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

TEST(ProcSelfTest, TotalMappedBytesIsPlausible) {
  const size_t total = TotalMappedBytes();
  EXPECT_GT(total, size_t{1} << 20);
}

TEST(ProcSelfTest, VmFlagsOfStackSayReadWrite) {
  int on_stack = 0;
  const std::string flags = VmFlagsAt(&on_stack);
  EXPECT_NE(flags.find("rd"), std::string::npos) << flags;
  EXPECT_NE(flags.find("wr"), std::string::npos) << flags;
  EXPECT_EQ(VmFlagsAt(reinterpret_cast<void*>(16)), "");
}

TEST(ProcSelfTest, ResidentBytesIsPositive) { EXPECT_GT(ResidentBytes(), 0u); }

TEST(ProcSelfTest, IsReadableDistinguishesMappedFromUnmapped) {
  int on_stack = 42;
  EXPECT_TRUE(IsReadable(&on_stack));
  EXPECT_FALSE(IsReadable(nullptr));
  EXPECT_FALSE(IsReadable(reinterpret_cast<void*>(16)));
  // The probe drains the pipe: more probes than its 64 KiB capacity work.
  for (int i = 0; i < 70000; ++i) ASSERT_TRUE(IsReadable(&on_stack));
}

}  // namespace
}  // namespace internal
}  // namespace mmap_alloc
}  // namespace allocators
