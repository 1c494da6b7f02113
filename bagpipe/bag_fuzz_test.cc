// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Runs the fuzz target (bag_fuzz.cc) over the committed corpus in
// bagpipe/testdata/ and over seeded random inputs, so that it is exercised
// in every configuration without libFuzzer. BAGPIPE_FUZZ_RUNS sets the
// number of random inputs.

#include "bagpipe/bag_fuzz.h"

#include <dirent.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "bagpipe/testing/test_util.h"
#include "gtest/gtest.h"

namespace {

std::string TestdataDir() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return "bagpipe/testdata";
  return std::string(srcdir) + "/" + workspace + "/bagpipe/testdata";
}

TEST(BagFuzzTest, ReplaysCorpus) {
  const std::string dir = TestdataDir();
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr) << dir;
  int files = 0;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::ifstream in(dir + "/" + name, std::ios::binary);
    ASSERT_TRUE(in) << name;
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    SCOPED_TRACE(name);
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    ++files;
  }
  closedir(d);
  EXPECT_GE(files, 4);
}

TEST(BagFuzzTest, EmptyInput) { LLVMFuzzerTestOneInput(nullptr, 0); }

TEST(BagFuzzTest, RandomInputs) {
  const size_t runs =
      allocators::bagpipe::testing::Knob("BAGPIPE_FUZZ_RUNS", 100, 5000, 5);
  for (size_t seed = 0; seed < runs; ++seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> bytes(rng() % 1500);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  }
}

}  // namespace
