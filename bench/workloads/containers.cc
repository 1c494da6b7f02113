// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// containers: std::map<std::string, std::vector<int>> built and torn down.
//
// Models: ordinary C++ code using standard containers through operator new
// and delete: tree nodes, strings past the small-string buffer, and vectors
// growing by doubling. It measures the allocator as typical C++ programs see
// it, including sized delete and many differently sized short-lived buffers.
//
// Work: kRounds * S rounds split across the threads. A round inserts
// kInserts random keys of 4..40 characters (keys repeat sometimes) into a
// fresh map, appending 1..32 ints to each key's vector; then looks up
// kInserts / 2 random keys; erases every other key; and destroys the map.
// ops = insertions (a count of work, not of allocation calls, which depend
// on the C++ library). check = sum of the ints and key
// bytes seen by lookups and during teardown.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bench/workloads/common.h"

namespace allocators {
namespace bench {
namespace {

constexpr uint64_t kRounds = 200;
constexpr uint64_t kInserts = 5000;
constexpr uint64_t kKeySpace = 4000;  // Distinct keys per round; < kInserts.

using Map = std::map<std::string, std::vector<int>>;

// Key number `k` of a round with seed `seed`: 4..40 letters and digits.
std::string MakeKey(uint64_t seed, uint64_t k) {
  Rng rng(seed ^ (k * 0x9e3779b97f4a7c15ULL));
  std::string key(rng.Uniform(4, 40), ' ');
  for (char& c : key) c = static_cast<char>('0' + rng.Uniform(0, 74));
  return key;
}

uint64_t Digest(const std::string& key, const std::vector<int>& values) {
  uint64_t d = key.size();
  for (char c : key) d = d * 31 + static_cast<unsigned char>(c);
  for (int v : values) d = d * 17 + static_cast<unsigned>(v);
  return d;
}

void Round(Rng& rng, Checksum& check) {
  const uint64_t seed = rng.Next();
  Map map;
  for (uint64_t i = 0; i < kInserts; ++i) {
    std::vector<int>& values =
        map[MakeKey(seed, rng.Uniform(0, kKeySpace - 1))];
    const uint64_t n = rng.Uniform(1, 32);
    for (uint64_t j = 0; j < n; ++j) {
      values.push_back(static_cast<int>(rng.Next() & 0x7fffffff));
    }
  }
  for (uint64_t i = 0; i < kInserts / 2; ++i) {
    const std::string key = MakeKey(seed, rng.Uniform(0, kKeySpace - 1));
    auto it = map.find(key);
    check.Add(it == map.end() ? key.size() : Digest(it->first, it->second));
  }
  bool erase = false;
  for (auto it = map.begin(); it != map.end();) {
    if (erase) {
      it = map.erase(it);
    } else {
      ++it;
    }
    erase = !erase;
  }
  for (const auto& [key, values] : map) check.Add(Digest(key, values));
}

void Worker(int thread, uint64_t rounds, ThreadResult* result) {
  Rng rng(0x436f'0000 + thread);
  for (uint64_t r = 0; r < rounds; ++r) Round(rng, result->check);
  result->ops = rounds * kInserts;
}

int Main(int argc, char** argv) {
  const Options options = ParseArgs(argc, argv, "containers");
  const int n = options.threads;
  const uint64_t total = Scaled(kRounds, options.scale);
  const Totals totals = RunThreads(n, [&](int i, ThreadResult* result) {
    Worker(i, Share(total, n, i), result);
  });
  return PrintResult(options, totals);
}

}  // namespace
}  // namespace bench
}  // namespace allocators

int main(int argc, char** argv) { return allocators::bench::Main(argc, argv); }
