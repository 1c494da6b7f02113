// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/internal/sampled_pool.h"

#include <cstddef>
#include <cstdint>

#include "alloc_fmt/format.h"
#include "mmap_alloc/mmap_alloc.h"
#include "platform/platform.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

// The pool whose hook is installed (one per process).
std::atomic<SampledPool*> g_hooked_pool{nullptr};

constexpr unsigned kReadWrite = platform::kPermRead | platform::kPermWrite;

}  // namespace

bool SampledPool::Init(void (*others)(void* addr)) {
  const mmap_alloc::MapAlloc map;
  const size_t page = mmap_alloc::PageSize();
  const size_t bytes = kSlots * 2 * page;
  void* mem = map.Alloc(bytes);
  if (mem == nullptr) return false;
  if (!map.Protect(mem, bytes, 0)) {
    map.Dealloc(mem, bytes);
    return false;
  }
  others_ = others;  // before the hook can run
  SampledPool* expected = nullptr;
  if (!g_hooked_pool.compare_exchange_strong(expected, this) ||
      platform::InstallFaultHook(&SampledPool::OnFault) != 0) {
    if (expected == nullptr) g_hooked_pool.store(nullptr);
    map.Dealloc(mem, bytes);
    return false;
  }
  SpinLockHolder h(&lock_);
  for (size_t i = 0; i < kSlots; ++i) ring_[i] = static_cast<uint32_t>(i);
  ring_head_ = 0;
  ring_count_ = kSlots;
  base_ = reinterpret_cast<uintptr_t>(mem);
  page_ = page;
  bytes_.store(bytes, std::memory_order_release);
  return true;
}

void* SampledPool::Alloc(size_t size, size_t align) {
  if (bytes_.load(std::memory_order_acquire) == 0) return nullptr;
  if (size == 0) size = 1;
  if (align == 0) align = size <= 8 ? 8 : 16;
  if (size > page_ || align > page_) return nullptr;
  Trace trace;
  Capture(&trace);
  const mmap_alloc::MapAlloc map;
  SpinLockHolder h(&lock_);
  if (ring_count_ == 0) return nullptr;
  const size_t i = ring_[ring_head_];
  const uintptr_t page = PageOf(i);
  if (!map.Protect(reinterpret_cast<void*>(page), page_, kReadWrite)) {
    return nullptr;  // out of mappings: the caller allocates normally
  }
  ring_head_ = (ring_head_ + 1) % kSlots;
  --ring_count_;
  // Against the guard page, rounded down to the alignment.
  const uintptr_t block = (page + page_ - size) & ~(uintptr_t{align} - 1);
  Slot& s = slots_[i];
  s.block.store(block, std::memory_order_relaxed);
  s.size.store(size, std::memory_order_relaxed);
  s.allocated = trace;
  s.freed.n = 0;
  s.state.store(kLive, std::memory_order_release);
  return reinterpret_cast<void*>(block);
}

SampledPool::FreeResult SampledPool::Free(void* p) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  const size_t i = (a - base_) / (2 * page_);
  Slot& s = slots_[i];
  Trace trace;
  Capture(&trace);
  const mmap_alloc::MapAlloc map;
  SpinLockHolder h(&lock_);
  if (s.block.load(std::memory_order_relaxed) != a) {
    return FreeResult::kInvalid;
  }
  if (s.state.load(std::memory_order_relaxed) != kLive) {
    return FreeResult::kDoubleFree;
  }
  s.freed = trace;
  s.state.store(kFreed, std::memory_order_release);
  // Inaccessible until reused. A failure (out of mappings) leaves the page
  // readable: the block is still quarantined, only not guarded.
  static_cast<void>(map.Protect(reinterpret_cast<void*>(PageOf(i)), page_, 0));
  ring_[(ring_head_ + ring_count_) % kSlots] = static_cast<uint32_t>(i);
  ++ring_count_;
  return FreeResult::kFreed;
}

size_t SampledPool::BlockSize(const void* p) const {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  const Slot& s = slots_[(a - base_) / (2 * page_)];
  if (s.block.load(std::memory_order_relaxed) != a ||
      s.state.load(std::memory_order_acquire) != kLive) {
    return 0;
  }
  return s.size.load(std::memory_order_relaxed);
}

bool SampledPool::IsFreedBlock(const void* p) const {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  const Slot& s = slots_[(a - base_) / (2 * page_)];
  return s.block.load(std::memory_order_relaxed) == a &&
         s.state.load(std::memory_order_acquire) == kFreed;
}

// Not inlined, so that the frames left out are this one and Alloc's or
// Free's.
__attribute__((noinline)) void SampledPool::Capture(Trace* t) {
  t->n = platform::CaptureStack(t->pcs, kTraceFrames, 2);
}

void SampledPool::PrintTrace(const char* what, const Trace& t) {
  if (t.n == 0) return;
  alloc_fmt::Print(2, "  %s:\n", what);
  alloc_fmt::PrintStack(2, t.pcs, t.n);
}

void SampledPool::OnFault(void* addr) {
  const SampledPool* pool = g_hooked_pool.load(std::memory_order_acquire);
  if (pool == nullptr) return;
  if (pool->Contains(addr)) {
    pool->Report(reinterpret_cast<uintptr_t>(addr));
  } else if (pool->others_ != nullptr) {
    pool->others_(addr);
  }
}

void SampledPool::Report(uintptr_t addr) const {
  const size_t i = (addr - base_) / (2 * page_);
  const Slot& s = slots_[i];
  const uint8_t state = s.state.load(std::memory_order_acquire);
  const uintptr_t block = s.block.load(std::memory_order_relaxed);
  const size_t size = s.size.load(std::memory_order_relaxed);
  const void* b = reinterpret_cast<const void*>(block);
  const void* at = reinterpret_cast<const void*>(addr);
  if (state == kLive && addr >= PageOf(i) + page_) {
    // The guard page after slot i: only its block's end is next to it.
    alloc_fmt::Print(2,
                     "elfmalloc: heap overflow at %p: offset %zu of the "
                     "%zu-byte block %p (sampled)\n",
                     at, static_cast<size_t>(addr - block), size, b);
  } else if (state == kFreed && addr >= block) {
    alloc_fmt::Print(2,
                     "elfmalloc: use after free at %p: offset %zu of the "
                     "freed %zu-byte block %p (sampled)\n",
                     at, static_cast<size_t>(addr - block), size, b);
  } else if (state == kFreed) {
    alloc_fmt::Print(2,
                     "elfmalloc: use after free at %p: %zu bytes before the "
                     "freed %zu-byte block %p (sampled)\n",
                     at, static_cast<size_t>(block - addr), size, b);
  } else {
    alloc_fmt::Print(2, "elfmalloc: fault at %p in the sampled pool, in no "
                     "block\n", at);
    return;
  }
  PrintTrace("allocated at", s.allocated);
  if (state == kFreed) PrintTrace("freed at", s.freed);
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
