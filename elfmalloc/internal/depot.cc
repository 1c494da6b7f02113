// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/internal/depot.h"

#include <new>

#include "bsalloc/bsalloc.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

size_t MagazineBytes(uint32_t capacity) {
  return sizeof(Magazine) + size_t{capacity} * sizeof(void*);
}

}  // namespace

Magazine* NewMagazine(uint32_t capacity) {
  void* mem = bsalloc::Alloc(MagazineBytes(capacity));
  if (mem == nullptr) return nullptr;
  return new (mem) Magazine{nullptr, nullptr, 0, capacity};
}

void DeleteMagazine(Magazine* m) {
  if (m != nullptr) bsalloc::Free(m, MagazineBytes(m->capacity));
}

MagazineDepot::~MagazineDepot() {
  // The heap is being destroyed: no other thread can reach the depot.
  for (Magazine* lists : {full_, empty_}) {
    while (lists != nullptr) {
      Magazine* next = lists->next;
      DeleteMagazine(lists);
      lists = next;
    }
  }
}

void MagazineDepot::Init(SpinLock* lock, size_t object_size) {
  lock_ = lock;
  const size_t per = DepotMagazineRounds(object_size) * object_size;
  const size_t n = kDepotBytes / per;
  max_ = n < 2 ? 2 : n > 64 ? 64 : n;
}

Magazine* MagazineDepot::TakeFull() {
  SpinLockHolder h(lock_);
  Magazine* m = full_;
  if (m == nullptr) return nullptr;
  full_ = m->next;
  if (full_ == nullptr) {
    full_tail_ = nullptr;
  } else {
    full_->prev = nullptr;
  }
  --n_full_;
  if (n_full_ < min_full_) min_full_ = n_full_;
  m->next = nullptr;
  return m;
}

Magazine* MagazineDepot::PutFull(Magazine* m) {
  SpinLockHolder h(lock_);
  m->prev = nullptr;
  m->next = full_;
  if (full_ != nullptr) {
    full_->prev = m;
  } else {
    full_tail_ = m;
  }
  full_ = m;
  if (++n_full_ <= max_) return nullptr;
  // Over the bound: the oldest goes, its objects the longest unused.
  Magazine* oldest = full_tail_;
  full_tail_ = oldest->prev;
  full_tail_->next = nullptr;
  oldest->prev = nullptr;
  --n_full_;
  if (n_full_ < min_full_) min_full_ = n_full_;
  return oldest;
}

Magazine* MagazineDepot::TakeEmpty() {
  SpinLockHolder h(lock_);
  Magazine* m = empty_;
  if (m == nullptr) return nullptr;
  empty_ = m->next;
  --n_empty_;
  m->next = nullptr;
  return m;
}

bool MagazineDepot::PutEmpty(Magazine* m) {
  SpinLockHolder h(lock_);
  if (n_empty_ >= max_) return false;
  m->count = 0;
  m->next = empty_;
  empty_ = m;
  ++n_empty_;
  return true;
}

Magazine* MagazineDepot::TakeAllFull() {
  SpinLockHolder h(lock_);
  Magazine* all = full_;
  full_ = full_tail_ = nullptr;
  n_full_ = 0;
  min_full_ = 0;
  return all;
}

Magazine* MagazineDepot::TakeIdle() {
  SpinLockHolder h(lock_);
  Magazine* idle = nullptr;
  for (size_t n = min_full_; n > 0; --n) {
    Magazine* m = full_tail_;
    full_tail_ = m->prev;
    if (full_tail_ == nullptr) {
      full_ = nullptr;
    } else {
      full_tail_->next = nullptr;
    }
    m->prev = nullptr;
    m->next = idle;
    idle = m;
    --n_full_;
  }
  min_full_ = n_full_;
  return idle;
}

size_t MagazineDepot::full_count() const {
  SpinLockHolder h(lock_);
  return n_full_;
}

size_t MagazineDepot::empty_count() const {
  SpinLockHolder h(lock_);
  return n_empty_;
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
