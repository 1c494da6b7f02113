// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "slab_alloc/backing.h"

#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <utility>

#include "alloc_fmt/check.h"
#include "mmap_alloc/mmap_alloc.h"
#include "object_alloc/object_alloc.h"

namespace allocators {
namespace slab_alloc {

using object_alloc::Layout;

// A run: per_run_ blocks from `base`. Blocks below `fresh` have been handed
// out at least once; the free ones among them are linked through their first
// word.
// A run is on partial_ exactly while it has a free block (HasFree).
struct HeapRunAlloc::Run {
  uintptr_t base;
  size_t fresh;       // blocks [fresh, per_run) were never handed out
  size_t listed;      // blocks on free_list
  void* free_list;
  Run* next_partial;  // links in partial_
  Run* prev_partial;
};

HeapRunAlloc::HeapRunAlloc(Layout layout) : layout_(layout) {
  ALLOC_CHECK(layout.IsValid() && layout.size % layout.align == 0 &&
                  layout.align >= alignof(void*),
              "slab_alloc: invalid heap block layout (size %zu, align %zu)",
              layout.size, layout.align);
  per_run_ = layout.size >= kRunBytes ? 1 : kRunBytes / layout.size;
}

HeapRunAlloc::HeapRunAlloc(HeapRunAlloc&& other) noexcept
    : layout_(other.layout_),
      per_run_(other.per_run_),
      runs_(std::exchange(other.runs_, nullptr)),
      num_runs_(std::exchange(other.num_runs_, 0)),
      cap_(std::exchange(other.cap_, 0)),
      partial_(std::exchange(other.partial_, nullptr)) {}

HeapRunAlloc& HeapRunAlloc::operator=(HeapRunAlloc&& other) noexcept {
  if (this == &other) return *this;
  ALLOC_CHECK(num_runs_ == 0,
              "slab_alloc: heap backing replaced with blocks in use (%zu "
              "runs)",
              num_runs_);
  if (runs_ != nullptr) ::operator delete(runs_, cap_ * sizeof(Run*));
  layout_ = other.layout_;
  per_run_ = other.per_run_;
  runs_ = std::exchange(other.runs_, nullptr);
  num_runs_ = std::exchange(other.num_runs_, 0);
  cap_ = std::exchange(other.cap_, 0);
  partial_ = std::exchange(other.partial_, nullptr);
  return *this;
}

HeapRunAlloc::~HeapRunAlloc() {
  ALLOC_CHECK(num_runs_ == 0,
              "slab_alloc: heap backing destroyed with blocks in use (%zu "
              "runs)",
              num_runs_);
  if (runs_ != nullptr) ::operator delete(runs_, cap_ * sizeof(Run*));
}

HeapRunAlloc::Run* HeapRunAlloc::NewRun() {
  if (num_runs_ == cap_) {
    const size_t cap = cap_ == 0 ? 16 : cap_ * 2;
    auto** grown =
        static_cast<Run**>(::operator new(cap * sizeof(Run*), std::nothrow));
    if (grown == nullptr) return nullptr;
    for (size_t i = 0; i < num_runs_; ++i) grown[i] = runs_[i];
    if (runs_ != nullptr) ::operator delete(runs_, cap_ * sizeof(Run*));
    runs_ = grown;
    cap_ = cap;
  }
  // The record lives apart from the blocks: appended to them, it would make
  // the aligned allocation round up to a whole extra page.
  Run* run = ::new (std::nothrow) Run{0, 0, 0, nullptr, nullptr, nullptr};
  if (run == nullptr) return nullptr;
  // per_run_ * size is at most max(size, kRunBytes): no overflow.
  void* mem = ::operator new(per_run_ * layout_.size,
                             std::align_val_t(layout_.align), std::nothrow);
  if (mem == nullptr) {
    ::delete run;
    return nullptr;
  }
  const uintptr_t base = reinterpret_cast<uintptr_t>(mem);
  run->base = base;
  // Keep runs_ sorted by address.
  size_t i = num_runs_;
  while (i > 0 && runs_[i - 1]->base > base) {
    runs_[i] = runs_[i - 1];
    --i;
  }
  runs_[i] = run;
  ++num_runs_;
  return run;
}

bool HeapRunAlloc::HasFree(const Run* run) const {
  return run->listed != 0 || run->fresh < per_run_;
}

void HeapRunAlloc::PushPartial(Run* run) {
  run->prev_partial = nullptr;
  run->next_partial = partial_;
  if (partial_ != nullptr) partial_->prev_partial = run;
  partial_ = run;
}

void HeapRunAlloc::UnlinkPartial(Run* run) {
  if (run->prev_partial != nullptr) {
    run->prev_partial->next_partial = run->next_partial;
  } else {
    partial_ = run->next_partial;
  }
  if (run->next_partial != nullptr) {
    run->next_partial->prev_partial = run->prev_partial;
  }
  run->next_partial = nullptr;
  run->prev_partial = nullptr;
}

void HeapRunAlloc::ReleaseRun(size_t index) {
  Run* run = runs_[index];
  UnlinkPartial(run);  // all its blocks are free, so it is on partial_
  for (size_t i = index; i + 1 < num_runs_; ++i) runs_[i] = runs_[i + 1];
  --num_runs_;
  ::operator delete(reinterpret_cast<void*>(run->base),
                    per_run_ * layout_.size, std::align_val_t(layout_.align));
  ::delete run;
}

size_t HeapRunAlloc::FindRun(uintptr_t p) const {
  // The last run starting at or below p.
  size_t lo = 0, hi = num_runs_;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (runs_[mid]->base <= p) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return num_runs_;
  const Run* run = runs_[lo - 1];
  return p - run->base < per_run_ * layout_.size ? lo - 1 : num_runs_;
}

void* HeapRunAlloc::Alloc() {
  Run* run = partial_;
  if (run == nullptr) {
    run = NewRun();
    if (run == nullptr) return nullptr;
    PushPartial(run);
  }
  void* block;
  if (run->free_list != nullptr) {
    block = run->free_list;
    run->free_list = *static_cast<void**>(block);
    --run->listed;
  } else {
    block = reinterpret_cast<void*>(run->base + run->fresh * layout_.size);
    ++run->fresh;
  }
  if (!HasFree(run)) UnlinkPartial(run);
  return block;
}

void HeapRunAlloc::Dealloc(void* p) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  const size_t index = FindRun(a);
  ALLOC_CHECK(index < num_runs_ &&
                  (a - runs_[index]->base) % layout_.size == 0 &&
                  (a - runs_[index]->base) / layout_.size < runs_[index]->fresh,
              "slab_alloc: heap backing free of a block it does not own: %p",
              p);
  Run* run = runs_[index];
  for (void* f = run->free_list; f != nullptr; f = *static_cast<void**>(f)) {
    ALLOC_CHECK(f != p, "slab_alloc: heap backing double free: %p", p);
  }
  const bool had_free = HasFree(run);
  *static_cast<void**>(p) = run->free_list;
  run->free_list = p;
  ++run->listed;
  if (!had_free) PushPartial(run);
  if (run->listed == run->fresh) ReleaseRun(index);  // every block is back
}

std::optional<HeapRunAlloc> HeapBacking::GetAligned(Layout layout) const {
  if (layout.size > mmap_alloc::PageSize()) return std::nullopt;
  return HeapRunAlloc(layout);
}

HeapRunAlloc HeapBacking::GetLarge(Layout layout) const {
  return HeapRunAlloc(layout);
}

std::optional<mmap_alloc::MapAlloc> MmapBacking::GetAligned(
    Layout layout) const {
  if (layout.size != mmap_alloc::PageSize()) return std::nullopt;
  return mmap_alloc::MapAllocBuilder()
      .obj_size(layout.size)
      .obj_align(layout.align)
      .Build();
}

mmap_alloc::MapAlloc MmapBacking::GetLarge(Layout layout) const {
  return mmap_alloc::MapAllocBuilder()
      .obj_size(layout.size)
      .obj_align(layout.align)
      .Build();
}

}  // namespace slab_alloc
}  // namespace allocators
