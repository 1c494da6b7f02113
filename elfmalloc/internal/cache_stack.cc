// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/internal/cache_stack.h"

#include "alloc_fmt/spin_lock.h"
#include "bsalloc/bsalloc.h"
#include "mmap_alloc/mmap_alloc.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

constexpr size_t kStackColors = 64;
constexpr size_t kStackColorBytes = 64;

// A spare stack of `bytes` for `pool`, with the bytes its earlier owners
// may have written in *touched; nullptr if none.
void* TakeSpareStack(ClassPool* pool, size_t bytes, size_t* touched) {
  StackSpares* spares = pool->spares;
  if (spares == nullptr) return nullptr;
  SpinLockHolder h(&spares->lock);
  for (uint32_t i = pool->n_spare_stacks; i-- > 0;) {
    SpareStack& s = pool->spare_stacks[i];
    if (s.map_bytes != bytes) continue;
    void* mem = s.mem;
    *touched = s.touched;
    spares->touched_bytes -= s.touched;
    s = pool->spare_stacks[--pool->n_spare_stacks];
    return mem;
  }
  return nullptr;
}

// Keeps stack mapping `mem` for the next cache of `pool`; false if the
// class has kPerClass spares already or the touched bytes would exceed the
// budget.
bool KeepSpareStack(ClassPool* pool, void* mem, size_t bytes, size_t touched) {
  StackSpares* spares = pool->spares;
  if (spares == nullptr) return false;
  // Whole OS pages are what stays resident.
  const size_t page = mmap_alloc::PageSize();
  touched = (touched + page - 1) & ~(page - 1);
  SpinLockHolder h(&spares->lock);
  if (pool->n_spare_stacks == StackSpares::kPerClass ||
      spares->touched_bytes + touched > StackSpares::kMaxTouchedBytes) {
    return false;
  }
  spares->touched_bytes += touched;
  pool->spare_stacks[pool->n_spare_stacks++] = SpareStack{mem, bytes, touched};
  return true;
}

}  // namespace

size_t StackOffset(const ClassPool* pool) {
  return (pool->map_tag % kStackColors) * kStackColorBytes;
}

size_t StackMapBytes(size_t capacity) {
  return capacity * sizeof(void*) + kStackColors * kStackColorBytes;
}

void* TakeStack(ClassPool* pool, size_t bytes, size_t* touched) {
  if (void* mem = TakeSpareStack(pool, bytes, touched)) return mem;
  *touched = 0;
  const mmap_alloc::MapAlloc map;
  return map.Alloc(bytes);
}

void ReturnStack(ClassPool* pool, void* mem, size_t bytes, size_t touched) {
  if (KeepSpareStack(pool, mem, bytes, touched)) return;
  const mmap_alloc::MapAlloc map;
  map.Dealloc(mem, bytes);
}

size_t DrainSpareStacks(ClassPool* pool) {
  StackSpares* spares = pool->spares;
  if (spares == nullptr) return 0;
  const mmap_alloc::MapAlloc map;
  size_t n = 0;
  for (;;) {
    SpareStack s;
    {
      SpinLockHolder h(&spares->lock);
      if (pool->n_spare_stacks == 0) return n;
      s = pool->spare_stacks[--pool->n_spare_stacks];
      spares->touched_bytes -= s.touched;
    }
    map.Dealloc(s.mem, s.map_bytes);  // outside the (leaf) lock
    ++n;
  }
}

FirstStacks::~FirstStacks() {
  if (base_ != nullptr) bsalloc::Free(base_, kBytes);
}

void** FirstStacks::Get(size_t c) {
  if (base_ == nullptr) {
    base_ = static_cast<void**>(bsalloc::Alloc(kBytes));
    if (base_ == nullptr) return nullptr;
  }
  return base_ + c * kStride;
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
