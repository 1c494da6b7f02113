// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// A GoogleTest main that replays a libFuzzer target without libFuzzer: it
// runs LLVMFuzzerTestOneInput over every file of the corpus directories (or
// single files) named on the command line, one registered test per file,
// then over the empty input and FUZZ_REPLAY_RANDOM_RUNS (default 16) seeded
// random inputs. Relative paths are resolved from the test's working
// directory, which under `bazel test` is the workspace's runfiles root, so
// BUILD files pass package paths such as `elfmalloc/fuzz/corpus/c_api_fuzzer`.
//
// A fuzz target reports a violated property by crashing (__builtin_trap or
// a fatal check); the test's name says which input did it.
//
//   bazel-bin/elfmalloc/fuzz/c_api_fuzzer_replay_test elfmalloc/fuzz/corpus/c_api_fuzzer
//   bazel-bin/elfmalloc/fuzz/c_api_fuzzer_replay_test crash-1234   # one file

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace allocators {
namespace fuzz {
namespace {

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
}

void RunOne(const std::vector<uint8_t>& bytes) {
  // A heap copy of exactly the input's size, as libFuzzer passes it, so an
  // overread is an AddressSanitizer error. nullptr for the empty input.
  std::unique_ptr<uint8_t[]> copy;
  if (!bytes.empty()) {
    copy.reset(new uint8_t[bytes.size()]);
    std::copy(bytes.begin(), bytes.end(), copy.get());
  }
  EXPECT_EQ(LLVMFuzzerTestOneInput(copy.get(), bytes.size()), 0);
}

class FileReplay : public ::testing::Test {
 public:
  explicit FileReplay(std::string path) : path_(std::move(path)) {}
  void TestBody() override {
    std::fprintf(stderr, "replaying %s\n", path_.c_str());
    RunOne(ReadFile(path_));
  }

 private:
  std::string path_;
};

// The files named by `arg`: itself if it is a file, else its directory's
// regular files, sorted (a deterministic order).
std::vector<std::string> FilesOf(const std::string& arg) {
  struct stat st;
  if (stat(arg.c_str(), &st) != 0) return {};
  if (!S_ISDIR(st.st_mode)) return {arg};
  std::vector<std::string> files;
  if (DIR* d = opendir(arg.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string path = arg + "/" + e->d_name;
      if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        files.push_back(path);
      }
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Test names may only contain [A-Za-z0-9_].
std::string TestName(const std::string& path) {
  std::string name = path.substr(path.rfind('/') + 1);
  for (char& c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9');
    if (!ok) c = '_';
  }
  return name;
}

size_t RandomRuns() {
  const char* s = std::getenv("FUZZ_REPLAY_RANDOM_RUNS");
  return s != nullptr ? static_cast<size_t>(std::atoll(s)) : 16;
}

TEST(FuzzReplay, EmptyInput) { RunOne({}); }

// Inputs of 0..2 KiB from a fixed-seed generator, so the run is the same
// every time; half of them are biased towards small byte values, which the
// targets read as small sizes and low opcodes.
TEST(FuzzReplay, SeededRandomInputs) {
  const size_t runs = RandomRuns();
  for (size_t seed = 0; seed < runs; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<uint8_t> bytes(rng() % 2048);
    for (uint8_t& b : bytes) {
      b = static_cast<uint8_t>(seed % 2 == 0 ? rng() : rng() % 16);
    }
    SCOPED_TRACE(seed);
    RunOne(bytes);
  }
}

}  // namespace
}  // namespace fuzz
}  // namespace allocators

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);  // removes the gtest flags
  using allocators::fuzz::FileReplay;
  size_t files = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const std::vector<std::string> found = allocators::fuzz::FilesOf(arg);
    if (found.empty()) {
      std::fprintf(stderr, "replay: no corpus files at %s\n", arg.c_str());
      return 1;
    }
    for (const std::string& path : found) {
      ::testing::RegisterTest(
          "Corpus", allocators::fuzz::TestName(path).c_str(), nullptr,
          path.c_str(), __FILE__, __LINE__,
          [path]() -> ::testing::Test* { return new FileReplay(path); });
      ++files;
    }
  }
  if (files == 0) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 1;
  }
  return RUN_ALL_TESTS();
}
