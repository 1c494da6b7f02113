// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/internal/slag.h"

#include <errno.h>

#include <cstring>

namespace allocators {
namespace elfmalloc {
namespace internal {

namespace {

// The free-object mask of bitset word `w` of a fresh slag: one bit at every
// object start, none past the last object.
uint64_t InitialWord(const SlagGeometry& g, size_t w) {
  const size_t total_bits = g.n_objects * g.bits_per_object;
  const size_t lo = w * kBitsPerWord;
  const size_t bpo = g.bits_per_object;
  uint64_t mask;
  if (kBitsPerWord % bpo == 0) {
    mask = g.object_mask;  // the same pattern in every word
  } else {
    const size_t r = lo % bpo;
    mask = 0;
    for (size_t b = r == 0 ? 0 : bpo - r; b < kBitsPerWord; b += bpo) {
      mask |= uint64_t{1} << b;
    }
  }
  if (total_bits < lo + kBitsPerWord) {
    const size_t keep = total_bits - lo;  // 1..63: bits that hold objects
    mask &= (uint64_t{1} << keep) - 1;
  }
  return mask;
}

[[noreturn]] void BadPointer(const char* what, const void* p) {
  alloc_fmt::Fatal("elfmalloc: free(): %s %p", what, p);
}

}  // namespace

void InitSlag(Slag* s, ClassPool* pool) {
  const SlagGeometry& g = pool->geom;
  s->kind = pool->kind;
  s->pool = pool;
  s->handle.store(0, std::memory_order_relaxed);
  std::atomic<uint64_t>* bits = s->bitset();
  for (size_t w = 0; w < g.n_bitset_words; ++w) {
    bits[w].store(InitialWord(g, w), std::memory_order_relaxed);
  }
  s->rc.store(g.n_objects * kRcOne, std::memory_order_release);
}

BitPos BitOf(Slag* s, const void* p) {
  const uintptr_t off = reinterpret_cast<uintptr_t>(p) -
                        reinterpret_cast<uintptr_t>(s);
  const SlagGeometry& g = s->pool->geom;
  if (ABSL_PREDICT_FALSE(off < g.objects_offset)) {
    BadPointer("invalid pointer", p);
  }
  BitPos pos;
  if (ABSL_PREDICT_FALSE(!BitAt(g, off, &pos))) {
    BadPointer("invalid pointer (not the start of an object)", p);
  }
  return pos;
}

void AllocIter::Reset(Slag* s) {
  const SlagGeometry& g = s->pool->geom;
  word_ = 0;
  slag_ = s;
  shift_ = static_cast<uint32_t>(g.bit_shift);
  n_words_ = static_cast<uint32_t>(g.n_bitset_words);
  word_index_ = 0;
  next_word_ = 0;
  base_ = reinterpret_cast<char*>(s) + g.objects_offset;
}

void* AllocIter::NextWord() {
  while (next_word_ < n_words_) {
    const uint32_t w = next_word_++;
    std::atomic<uint64_t>& word = slag_->bitset()[w];
    // Skip empty words without a locked instruction.
    if (word.load(std::memory_order_relaxed) == 0) continue;
    const uint64_t bits = word.exchange(0, std::memory_order_acquire);
    if (bits == 0) continue;
    slag_->rc.fetch_sub(kRcOne * static_cast<uint64_t>(__builtin_popcountll(bits)),
                        std::memory_order_acq_rel);
    word_index_ = w;
    base_ = reinterpret_cast<char*>(slag_) + slag_->pool->geom.objects_offset +
            ((size_t{w} * kBitsPerWord) << shift_);
    word_ = bits & (bits - 1);
    return base_ + (size_t{static_cast<unsigned>(__builtin_ctzll(bits))} << shift_);
  }
  return nullptr;
}

void SlagAllocator::Init(ClassPool* pool, PageAlloc::Handle* pages) {
  ALLOC_DCHECK(pool_ == nullptr, "SlagAllocator initialised twice");
  ALLOC_DCHECK(pages->owner() == pool->pages,
               "elfmalloc: page handle of another page allocator");
  pool_ = pool;
  pages_ = pages;
  new (bag_storage_) AvailableBag(*pool->available);
}

bool SlagAllocator::Refresh(AllocIter* it) {
  ALLOC_DCHECK(it->pending() == 0, "Refresh with objects still pending");
  if (slag_ != nullptr) {
    if (ReleaseCurrent(/*keep=*/true)) {
      it->Reset(slag_);
      return true;
    }
    slag_ = nullptr;
  }
  Slag* s = ClaimNew();
  if (s == nullptr) {
    it->Clear();
    return false;
  }
  slag_ = s;
  it->Reset(s);
  return true;
}

bool SlagAllocator::ReleaseCurrent(bool keep) {
  Slag* s = slag_;
  const SlagGeometry& g = pool_->geom;
  const int64_t cutoff = static_cast<int64_t>(g.cutoff);
  // Enough objects came back while we held it: keep it, no RMW needed.
  if (keep && RcCount(s->rc.load(std::memory_order_acquire)) >= cutoff) {
    return true;
  }
  const uint64_t prev = s->rc.fetch_and(~kClaimed, std::memory_order_acq_rel);
  ALLOC_DCHECK((prev & kClaimed) != 0, "elfmalloc: slag %p was not claimed",
               static_cast<void*>(s));
  const int64_t count = RcCount(prev);
  if (keep && count >= cutoff) {
    // Nobody pushes a slag unclaimed with >= cutoff free (only the crossing
    // free would, and there was none), so it is still ours to re-claim.
    s->rc.fetch_or(kClaimed, std::memory_order_acq_rel);
    return true;
  }
  // Unclaimed now: act as the thread that moved it to `count` free objects.
  if (count == static_cast<int64_t>(g.n_objects)) {
    FreeSlag(s);
  } else if (count >= cutoff) {
    PushAvailable(s);
  }
  // else floating: the free that crosses the cutoff will push it.
  return false;
}

Slag* SlagAllocator::ClaimNew() {
  Slag* s;
  if (bag().PopMut(&s)) {
    const uint64_t prev = s->rc.fetch_or(kClaimed, std::memory_order_acq_rel);
    ALLOC_DCHECK((prev & kClaimed) == 0, "elfmalloc: popped a claimed slag");
    static_cast<void>(prev);
    return s;
  }
  char* page = pages_->Alloc();
  if (page == nullptr) {
    errno = ENOMEM;
    return nullptr;
  }
  s = reinterpret_cast<Slag*>(page);
  if (s->pool != pool_) {
    if (kSecure && s->pool != nullptr) {
      std::memset(page, 0, pool_->secure_clear_bytes);
    }
    InitSlag(s, pool_);
  } else {
    // A dirty page this class freed: it is exactly as InitSlag leaves it.
    ALLOC_DCHECK(s->rc.load(std::memory_order_relaxed) ==
                     pool_->geom.n_objects * kRcOne,
                 "elfmalloc: reused slag %p is not all free",
                 static_cast<void*>(s));
  }
  if (pool_->map_tag != 0 &&
      !GlobalPageMap().Set(s, pool_->slag_bytes(), pool_->map_tag)) {
    pages_->Free(page, /*decommit=*/false);
    errno = ENOMEM;
    return nullptr;
  }
  s->rc.fetch_or(kClaimed, std::memory_order_acq_rel);
  pool_->slags.fetch_add(1, std::memory_order_relaxed);
  return s;
}

void SlagAllocator::Free(void* p) {
  Slag* s = SlagOf(p, pool_->slag_bytes());
  if (ABSL_PREDICT_FALSE(s->pool != pool_)) {
    BadPointer("pointer from another heap or size class", p);
  }
  const BitPos pos = BitOf(s, p);
  const uint64_t old =
      s->bitset()[pos.word].fetch_or(pos.mask, std::memory_order_release);
  if (ABSL_PREDICT_FALSE((old & pos.mask) != 0)) {
    alloc_fmt::Fatal("elfmalloc: free(): double free of %p", p);
  }
  const uint64_t prev = s->rc.fetch_add(kRcOne, std::memory_order_acq_rel);
  if ((prev & kClaimed) == 0) {
    OnUnclaimedFree(s, RcCount(prev), RcCount(prev) + 1);
  }
}

void SlagAllocator::BulkFree(Slag* s, size_t word, uint64_t mask) {
  ALLOC_DCHECK(s->pool == pool_, "BulkFree into a foreign slag");
  const uint64_t old =
      s->bitset()[word].fetch_or(mask, std::memory_order_release);
  if (ABSL_PREDICT_FALSE((old & mask) != 0)) {
    const unsigned bit = static_cast<unsigned>(__builtin_ctzll(old & mask));
    alloc_fmt::Fatal(
        "elfmalloc: free(): double free of %p",
        static_cast<void*>(reinterpret_cast<char*>(s) +
                           pool_->geom.ObjectOffset(word * kBitsPerWord + bit)));
  }
  const int64_t k = __builtin_popcountll(mask);
  const uint64_t prev =
      s->rc.fetch_add(kRcOne * static_cast<uint64_t>(k), std::memory_order_acq_rel);
  if ((prev & kClaimed) == 0) {
    OnUnclaimedFree(s, RcCount(prev), RcCount(prev) + k);
  }
}

void SlagAllocator::OnUnclaimedFree(Slag* s, int64_t before, int64_t after) {
  const int64_t n = static_cast<int64_t>(pool_->geom.n_objects);
  const int64_t cutoff = static_cast<int64_t>(pool_->geom.cutoff);
  if (after == n) {
    if (before < cutoff) {
      // Floating straight to full (a bulk free, or n == 1): never pushed,
      // so nobody else can reach it. The original leaked it here.
      FreeSlag(s);
    } else if (AvailableBag::Revoke(s)) {
      FreeSlag(s);
    }
    // A failed revoke: a thread popped it (and claims it), or the thread
    // that pushes it has not yet, and will see it full when it re-checks.
  } else if (before < cutoff && after >= cutoff) {
    PushAvailable(s);
  }
}

void SlagAllocator::PushAvailable(Slag* s) {
  bag().PushMut(s);
  // If the slag became full before the push landed, its full transition's
  // revoke failed; finish that transition here.
  if (s->rc.load(std::memory_order_acquire) ==
          pool_->geom.n_objects * kRcOne &&
      AvailableBag::Revoke(s)) {
    FreeSlag(s);
  }
}

void SlagAllocator::FreeSlag(Slag* s) {
  pool_->slags.fetch_sub(1, std::memory_order_relaxed);
  s->handle.store(0, std::memory_order_relaxed);
  if (pool_->map_tag != 0) GlobalPageMap().Set(s, pool_->slag_bytes(), 0);
  pages_->Free(reinterpret_cast<char*>(s),
               pool_->geom.usable_bytes >= pool_->eager_decommit_bytes);
}

void SlagAllocator::Shutdown(AllocIter* it) {
  if (pool_ == nullptr) return;
  if (slag_ != nullptr) {
    if (it->pending() != 0) BulkFree(slag_, it->pending_word(), it->pending());
    it->Clear();
    ReleaseCurrent(/*keep=*/false);
    slag_ = nullptr;
  }
  bag().~AvailableBag();
  pool_ = nullptr;
  pages_ = nullptr;
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
