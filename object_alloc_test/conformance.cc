// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "object_alloc_test/conformance.h"

#include <cstdlib>
#include <cstring>
#include <iterator>

#include "alloc_fmt/format.h"

namespace allocators {
namespace object_alloc_test {
namespace internal {

std::optional<uint64_t> ParseUint(const char* text) {
  if (text == nullptr || *text == '\0') return std::nullopt;
  uint64_t base = 10;
  const char* p = text;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    base = 16;
    p += 2;
    if (*p == '\0') return std::nullopt;
  }
  uint64_t value = 0;
  for (; *p != '\0'; ++p) {
    uint64_t digit;
    if (*p >= '0' && *p <= '9') {
      digit = static_cast<uint64_t>(*p - '0');
    } else if (base == 16 && *p >= 'a' && *p <= 'f') {
      digit = static_cast<uint64_t>(*p - 'a' + 10);
    } else if (base == 16 && *p >= 'A' && *p <= 'F') {
      digit = static_cast<uint64_t>(*p - 'A' + 10);
    } else {
      return std::nullopt;
    }
    if (value > (UINT64_MAX - digit) / base) return std::nullopt;  // overflow
    value = value * base + digit;
  }
  return value;
}

uint64_t UintFromEnv(const char* name, uint64_t default_value,
                     uint64_t min_value) {
  const char* text = std::getenv(name);
  if (text == nullptr) return default_value;
  const std::optional<uint64_t> value = ParseUint(text);
  if (!value.has_value() || *value < min_value) {
    alloc_fmt::Print(2,
                     "object_alloc_test: warning: ignoring %s=\"%s\" (expected "
                     "a decimal or 0x-hex integer >= %llu); using %llu\n",
                     name, text, static_cast<unsigned long long>(min_value),
                     static_cast<unsigned long long>(default_value));
    return default_value;
  }
  return *value;
}

}  // namespace internal

// Each knob is read once per process, so a bad value warns once.
size_t TestIters() {
  static const size_t iters = static_cast<size_t>(
      internal::UintFromEnv("OBJECT_ALLOC_TEST_ITERS", kDefaultTestIters, 1));
  return iters;
}

size_t TestSequences() {
  static const size_t sequences = static_cast<size_t>(internal::UintFromEnv(
      "OBJECT_ALLOC_TEST_SEQUENCES", kDefaultTestSequences, 1));
  return sequences;
}

uint64_t TestSeed() {
  static const uint64_t seed =
      internal::UintFromEnv("OBJECT_ALLOC_TEST_SEED", kDefaultTestSeed, 0);
  return seed;
}

std::vector<AllocOp> GenerateOps(uint64_t seed, size_t max_len) {
  internal::SplitMix64 rng(seed);
  const size_t len = static_cast<size_t>(rng.Below(max_len + 1));
  std::vector<AllocOp> ops;
  ops.reserve(len);
  for (size_t i = 0; i < len; ++i) {
    if (rng.Coin()) {
      ops.push_back(AllocOp::Alloc());
    } else {
      ops.push_back(
          AllocOp::Dealloc(static_cast<size_t>(rng.Below(i > 0 ? i : 1))));
    }
  }
  return ops;
}

namespace internal {

DriverCore::DriverCore(void* allocator, const Ops& ops, size_t size,
                       size_t align)
    : allocator_(allocator), ops_(ops), size_(size), align_(align) {}

void* DriverCore::Alloc() {
  void* raw = ops_.alloc(allocator_);
  if (raw == nullptr) {
    Fail("Alloc returned nullptr with %zu objects live", live_.size());
  }
  const uintptr_t addr = reinterpret_cast<uintptr_t>(raw);
  if (addr % align_ != 0) {
    Fail("Alloc returned %p, not aligned to %zu", raw, align_);
  }
  CheckNotLive(addr);
  const bool recycled = freed_.erase(addr) > 0;
  void* obj;
  if (ops_.construct == nullptr) {  // typed: the allocator constructed it
    obj = raw;
    const TesterState state = StateAt(obj, size_);
    if (state == TesterState::kNew) {
      MarkValid(obj, size_);
    } else if (!(recycled && state == TesterState::kValid)) {
      Fail("Alloc returned %s object at %p in state %s (expected %s)",
           recycled ? "recycled" : "never-seen", raw, TesterStateName(state),
           recycled ? "New or Valid" : "New");
    }
  } else {
    obj = ops_.construct(raw);  // aborts if raw holds a live object
    MarkValid(obj, size_);
  }
  live_.push_back(obj);
  live_set_.insert(addr);
  return obj;
}

void DriverCore::Dealloc(size_t index) {
  if (live_.empty()) Fail("Dealloc with no live objects");
  const size_t i = index % live_.size();
  void* obj = live_[i];
  live_[i] = live_.back();
  live_.pop_back();
  const TesterState state = StateAt(obj, size_);
  if (state != TesterState::kValid) {
    Fail(
        "live object at %p is %s before Dealloc (expected Valid): it was "
        "changed while allocated",
        obj, TesterStateName(state));
  }
  const uintptr_t addr = reinterpret_cast<uintptr_t>(obj);
  live_set_.erase(addr);
  freed_.insert(addr);
  handed_out_.insert(addr);
  if (ops_.destroy != nullptr) ops_.destroy(obj);  // untyped: ours to end
  ops_.dealloc(allocator_, obj);
}

void DriverCore::DeallocAll() {
  while (!live_.empty()) Dealloc(live_.size() - 1);
}

std::vector<const void*> DriverCore::HandedOut() const {
  std::vector<const void*> out;
  out.reserve(handed_out_.size());
  for (uintptr_t a : handed_out_) out.push_back(reinterpret_cast<void*>(a));
  return out;
}

void DriverCore::CheckNotLive(uintptr_t addr) const {
  auto next = live_set_.lower_bound(addr);
  if (next != live_set_.end() && *next == addr) {
    Fail("Alloc returned %p, which is already allocated",
         reinterpret_cast<void*>(addr));
  }
  if (next != live_set_.end() && *next - addr < size_) {
    Fail("Alloc returned %p, overlapping live object at %p",
         reinterpret_cast<void*>(addr), reinterpret_cast<void*>(*next));
  }
  if (next != live_set_.begin()) {
    const uintptr_t prev = *std::prev(next);
    if (addr - prev < size_) {
      Fail("Alloc returned %p, overlapping live object at %p",
           reinterpret_cast<void*>(addr), reinterpret_cast<void*>(prev));
    }
  }
}

void RandomSteps(DriverCore& driver, size_t iters, uint64_t seed) {
  SplitMix64 rng(seed);
  for (size_t i = 0; i < iters; ++i) {
    if (rng.Coin() && driver.live() > 0) {
      driver.Dealloc(static_cast<size_t>(rng.Next()));
    } else {
      driver.Alloc();
    }
  }
  driver.DeallocAll();
}

void ReplayOps(DriverCore& driver, const std::vector<AllocOp>& ops) {
  for (const AllocOp& op : ops) {
    if (op.kind == AllocOp::Kind::kAlloc) {
      driver.Alloc();
    } else if (op.index < driver.live()) {
      driver.Dealloc(op.index);
    }
  }
  driver.DeallocAll();
}

void FillAndCheckDistinct(DriverCore& driver, size_t count) {
  const size_t size = driver.size();
  for (size_t i = 0; i < count; ++i) driver.Alloc();
  const std::vector<void*>& objs = driver.live_objects();
  std::vector<unsigned char> saved(objs.size() * size);
  auto pattern = [](size_t i) {
    return static_cast<unsigned char>(0x5A ^ (i * 37));
  };
  for (size_t i = 0; i < objs.size(); ++i) {
    std::memcpy(&saved[i * size], objs[i], size);
    std::memset(objs[i], pattern(i), size);
  }
  for (size_t i = 0; i < objs.size(); ++i) {
    const unsigned char* bytes = static_cast<const unsigned char*>(objs[i]);
    for (size_t b = 0; b < size; ++b) {
      if (bytes[b] != pattern(i)) {
        Fail(
            "byte %zu of object at %p was changed by writes to other "
            "objects: objects overlap",
            b, objs[i]);
      }
    }
  }
  for (size_t i = 0; i < objs.size(); ++i) {
    std::memcpy(objs[i], &saved[i * size], size);
  }
  driver.DeallocAll();
}

size_t CheckDroppedObjects(const std::vector<const void*>& handed_out,
                           const LeakyAlloc& backing, DropCheck policy,
                           size_t size) {
  size_t inspected = 0;
  for (const void* p : handed_out) {
    if (policy == DropCheck::kBackingOnly && !backing.Owns(p, size)) continue;
    if (!platform::testing::IsReadable(p, size)) continue;
    ++inspected;
    const TesterState state = StateAt(p, size);
    if (state != TesterState::kDropped && state != TesterState::kInvalid) {
      Fail(
          "after the allocator was destroyed, object at %p is %s (expected "
          "Dropped, Invalid or unmapped): a cached object was never destroyed",
          p, TesterStateName(state));
    }
  }
  return inspected;
}

}  // namespace internal

}  // namespace object_alloc_test
}  // namespace allocators
