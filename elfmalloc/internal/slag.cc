// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/internal/slag.h"

#include <errno.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "bagpipe/lazy_bag_pipe.h"
#include "elfmalloc/internal/hardening.h"
#include "mmap_alloc/mmap_alloc.h"

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
  s->overflow_next = nullptr;
  s->constructed.store(0, std::memory_order_relaxed);
  std::atomic<uint64_t>* bits = s->bitset();
  for (size_t w = 0; w < g.n_bitset_words; ++w) {
    bits[w].store(InitialWord(g, w), std::memory_order_relaxed);
  }
  s->rc.store(g.n_objects * kRcOne, std::memory_order_release);
}

void ReleaseSlagPage(ClassPool* pool, PageAlloc::Handle* pages, Slag* s) {
  const SlagGeometry& g = pool->geom;
  if (pool->init.destroy != nullptr) {
    char* o = reinterpret_cast<char*>(s) + g.objects_offset;
    const size_t n = s->constructed.load(std::memory_order_relaxed);
    for (size_t i = 0; i < n; ++i, o += g.object_size) {
      pool->init.destroy(pool->init.ctx, o);
    }
  }
  // A reused page must read as InitSlag left it (see ClaimNew).
  s->constructed.store(0, std::memory_order_relaxed);
  pool->slags.fetch_sub(1, std::memory_order_relaxed);
  s->handle.store(0, std::memory_order_relaxed);
  if (pool->map_tag != 0) GlobalPageMap().Set(s, g.slag_bytes, 0);
  pages->Free(reinterpret_cast<char*>(s),
              g.usable_bytes >= pool->eager_decommit_bytes);
}

void ConstructThrough(const ClassPool& pool, Slag* s, char* p) {
  const SlagGeometry& g = pool.geom;
  char* const first = reinterpret_cast<char*>(s) + g.objects_offset;
  const size_t done = s->constructed.load(std::memory_order_relaxed);
  const size_t upto = static_cast<size_t>(p - first) / g.object_size + 1;
  for (size_t i = done; i < upto; ++i) {
    pool.init.construct(pool.init.ctx, first + i * g.object_size);
  }
  s->constructed.store(static_cast<uint32_t>(upto), std::memory_order_relaxed);
}

void AddOverflow(ClassPool* pool, Slag* s) {
  SpinLockHolder h(&pool->overflow_lock);
  s->overflow_next = pool->overflow;
  pool->overflow = s;
  pool->overflow_count.fetch_add(1, std::memory_order_relaxed);
}

bool RemoveOverflow(ClassPool* pool, Slag* s) {
  SpinLockHolder h(&pool->overflow_lock);
  for (Slag** link = &pool->overflow; *link != nullptr;
       link = &(*link)->overflow_next) {
    if (*link == s) {
      *link = s->overflow_next;
      s->overflow_next = nullptr;
      pool->overflow_count.fetch_sub(1, std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

Slag* PopOverflow(ClassPool* pool) {
  if (pool->overflow_count.load(std::memory_order_relaxed) == 0) {
    return nullptr;
  }
  SpinLockHolder h(&pool->overflow_lock);
  Slag* s = pool->overflow;
  if (s != nullptr) {
    pool->overflow = s->overflow_next;
    s->overflow_next = nullptr;
    pool->overflow_count.fetch_sub(1, std::memory_order_relaxed);
  }
  return s;
}

bool CheckSlag(const ClassPool* pool, Slag* s, const char** what) {
  const SlagGeometry& g = pool->geom;
  if ((reinterpret_cast<uintptr_t>(s) & (g.slag_bytes - 1)) != 0) {
    *what = "slag not aligned to its size";
    return false;
  }
  if (s->pool != pool) {
    *what = "slag header names another pool";
    return false;
  }
  if (s->kind != pool->kind) {
    *what = "slag kind differs from its pool's";
    return false;
  }
  const uint64_t rc = s->rc.load(std::memory_order_acquire);
  const int64_t count = RcCount(rc);
  if (count > static_cast<int64_t>(g.n_objects)) {
    *what = "slag free count above n_objects";
    return false;
  }
  // A claimed slag's count may dip below 0 while a free's increment is in
  // flight, and its owner holds bits taken from the bitset: bounds only.
  if ((rc & kClaimed) != 0) return true;
  if (count < 0) {
    *what = "unclaimed slag has a negative free count";
    return false;
  }
  int64_t bits = 0;
  std::atomic<uint64_t>* bitset = s->bitset();
  for (size_t w = 0; w < g.n_bitset_words; ++w) {
    const uint64_t word = bitset[w].load(std::memory_order_acquire);
    if ((word & ~InitialWord(g, w)) != 0) {
      *what = "slag bitset has a bit that is no object start";
      return false;
    }
    bits += __builtin_popcountll(word);
  }
  if (bits != count) {
    *what = "slag free count differs from its bitset's popcount";
    return false;
  }
  return true;
}

bool CheckAvailableSlags(ClassPool* pool, const char** what) {
  bool ok = true;
  auto check = [&](Slag* s, const char* where) {
    if (!ok) return;
    if (!CheckSlag(pool, s, what)) {
      ok = false;
      return;
    }
    const uint64_t rc = s->rc.load(std::memory_order_acquire);
    if ((rc & kClaimed) != 0 || RcCount(rc) < 1) {
      *what = where;
      ok = false;
    }
  };
  {
    SpinLockHolder h(&pool->overflow_lock);
    size_t n = 0;
    for (Slag* s = pool->overflow; s != nullptr; s = s->overflow_next) {
      check(s, "slag on the overflow list is claimed or has no free object");
      ++n;
    }
    if (ok && n != pool->overflow_count.load(std::memory_order_relaxed)) {
      *what = "overflow_count differs from the overflow list";
      ok = false;
    }
  }
  if (!ok) return false;
  AvailableBag* proto = pool->available.load(std::memory_order_acquire);
  if (proto == nullptr) return true;  // never built: nothing was pushed
  // Every slag of the class is in the bag at most once, so slags + 1 slots
  // are enough; more means a slag is in the bag twice (or slags is wrong).
  const size_t cap = pool->slags.load(std::memory_order_relaxed) + 1;
  const size_t scratch_bytes = cap * sizeof(Slag*);
  const mmap_alloc::MapAlloc map;
  Slag** slags = static_cast<Slag**>(map.Alloc(scratch_bytes));
  if (slags == nullptr) return true;  // no memory to look: nothing checked
  AvailableBag bag(*proto);
  size_t n = 0;
  while (n < cap && bag.PopMut(&slags[n])) ++n;
  if (n == cap) {
    *what = "available bag holds more slags than the class has";
    ok = false;
  }
  for (size_t i = 0; i < n; ++i) {
    check(slags[i],
          "slag in the available bag is claimed or has no free "
          "object");
  }
  const size_t filed = bag.BulkAdd(slags, slags + n);
  for (size_t i = filed; i < n; ++i) AddOverflow(pool, slags[i]);
  std::sort(slags, slags + n);
  for (size_t i = 1; ok && i < n; ++i) {
    if (slags[i] == slags[i - 1]) {
      *what = "slag in the available bag twice";
      ok = false;
    }
  }
  map.Dealloc(slags, scratch_bytes);
  return ok;
}

BitPos BitOf(Slag* s, const void* p) {
  const uintptr_t off =
      reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(s);
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

bool AllocIter::LoadWord() {
  while (next_word_ < n_words_) {
    const uint32_t w = next_word_++;
    std::atomic<uint64_t>& word = slag_->bitset()[w];
    // Skip empty words without a locked instruction.
    if (word.load(std::memory_order_relaxed) == 0) continue;
    const uint64_t bits = word.exchange(0, std::memory_order_acquire);
    if (bits == 0) continue;
    slag_->rc.fetch_sub(
        kRcOne * static_cast<uint64_t>(__builtin_popcountll(bits)),
        std::memory_order_acq_rel);
    word_index_ = w;
    base_ = reinterpret_cast<char*>(slag_) + slag_->pool->geom.objects_offset +
            ((size_t{w} * kBitsPerWord) << shift_);
    word_ = bits;
    return true;
  }
  return false;
}

void* AllocIter::NextWord() {
  if (!LoadWord()) return nullptr;
  const unsigned bit = static_cast<unsigned>(__builtin_ctzll(word_));
  word_ &= word_ - 1;
  return base_ + (size_t{bit} << shift_);
}

void* AllocIter::NextRandom() {
  if (word_ == 0 && !LoadWord()) return nullptr;
  const uint32_t x = SecureRandomStep(&rng_, this);
  // Drop a random number of the lowest set bits, then take the lowest left.
  uint64_t w = word_;
  for (unsigned k = x % static_cast<unsigned>(__builtin_popcountll(w)); k != 0;
       --k) {
    w &= w - 1;
  }
  const uint64_t pick = w & (~w + 1);
  word_ &= ~pick;
  return base_ +
         (size_t{static_cast<unsigned>(__builtin_ctzll(pick))} << shift_);
}

void SlagAllocator::Init(ClassPool* pool, PageAlloc::Handle* pages) {
  ALLOC_DCHECK(pool_ == nullptr, "SlagAllocator initialised twice");
  ALLOC_DCHECK(pages->owner() == pool->pages,
               "elfmalloc: page handle of another page allocator");
  pool_ = pool;
  pages_ = pages;
}

namespace {

// testing::FailNextBagBuilds.
std::atomic<size_t> g_failing_bag_builds{0};

bool TakeInjectedBagFailure() {
  size_t n = g_failing_bag_builds.load(std::memory_order_relaxed);
  while (n != 0 && !g_failing_bag_builds.compare_exchange_weak(
                       n, n - 1, std::memory_order_relaxed)) {
  }
  return n != 0;
}

// The class's bag, built now if no thread has built it; nullptr if out of
// memory. Lock-free (bagpipe::PublishBagPipe): a lock held across fork
// would need a handler.
AvailableBag* BuildAvailableBag(ClassPool* pool) {
  if (ABSL_PREDICT_FALSE(pool->available.load(std::memory_order_acquire) ==
                             nullptr &&
                         TakeInjectedBagFailure())) {
    return nullptr;
  }
  return bagpipe::PublishBagPipe(&pool->available, pool->bag_pipes);
}

}  // namespace

bool SlagAllocator::EnsureBag(bool create) {
  if (ABSL_PREDICT_TRUE(has_bag_)) return true;
  AvailableBag* proto = pool_->available.load(std::memory_order_acquire);
  if (proto == nullptr) {
    if (!create) return false;
    proto = BuildAvailableBag(pool_);
    if (proto == nullptr) return false;
  }
  new (bag_storage_) AvailableBag(*proto);
  has_bag_ = true;
  return true;
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
  // Slags the bag had no memory for first, so they rejoin the normal path.
  Slag* s = PopOverflow(pool_);
  if (s != nullptr || (EnsureBag(/*create=*/false) && bag().PopMut(&s))) {
    Count(Event::kGrabbedAvailable);
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
    if (pool_->secure_clear_bytes != 0 && s->pool != nullptr) {
      // Not the header: InitSlag rewrites all of it, and a thread that
      // pushed this page's previous slag may still read its rc and handle
      // (PushAvailable's re-check), which are atomics.
      std::memset(page + kSlagHeaderBytes, 0,
                  pool_->secure_clear_bytes - kSlagHeaderBytes);
    }
    InitSlag(s, pool_);
  } else {
    // A dirty page this class freed: it is exactly as InitSlag leaves it.
    ALLOC_DCHECK(
        s->rc.load(std::memory_order_relaxed) == pool_->geom.n_objects * kRcOne,
        "elfmalloc: reused slag %p is not all free", static_cast<void*>(s));
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
  Count(Event::kRemoteFree);
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
    alloc_fmt::Fatal("elfmalloc: free(): double free of %p",
                     static_cast<void*>(
                         reinterpret_cast<char*>(s) +
                         pool_->geom.ObjectOffset(word * kBitsPerWord + bit)));
  }
  const int64_t k = __builtin_popcountll(mask);
  const uint64_t prev = s->rc.fetch_add(kRcOne * static_cast<uint64_t>(k),
                                        std::memory_order_acq_rel);
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
    } else {
      // Not in the bag: maybe on the overflow list (out of memory). Read
      // the count with an RMW: PushAvailable files the slag and then reads
      // rc with an RMW, so either our rc RMW reads from its (and we see
      // the count it raised) or its rc RMW sees this free. (No fences:
      // TSan does not model them.)
      if (pool_->overflow_count.fetch_add(0, std::memory_order_acq_rel) != 0 &&
          RemoveOverflow(pool_, s)) {
        FreeSlag(s);
      }
    }
    // Otherwise: a thread popped it (and claims it), or the thread that
    // pushes it has not yet, and will see it full when it re-checks.
  } else if (before < cutoff && after >= cutoff) {
    PushAvailable(s);
  }
}

void SlagAllocator::PushAvailable(Slag* s) {
  Count(Event::kTransitionAvailable);
  if (ABSL_PREDICT_FALSE(!EnsureBag(/*create=*/true) || !bag().PushMut(s))) {
    // No memory for the bag or a node of it: file the slag on the overflow
    // list, where ClaimNew and the full transition find it, and re-check
    // as below, reading rc with an RMW (see OnUnclaimedFree).
    AddOverflow(pool_, s);
    if (s->rc.fetch_add(0, std::memory_order_acq_rel) ==
            pool_->geom.n_objects * kRcOne &&
        RemoveOverflow(pool_, s)) {
      FreeSlag(s);
    }
    return;
  }
  // If the slag became full before the push landed, its full transition's
  // revoke failed; finish that transition here.
  if (s->rc.load(std::memory_order_acquire) == pool_->geom.n_objects * kRcOne &&
      AvailableBag::Revoke(s)) {
    FreeSlag(s);
  }
}

void SlagAllocator::FreeSlag(Slag* s) {
  Count(Event::kTransitionFull);
  ReleaseSlagPage(pool_, pages_, s);
}

void SlagAllocator::Shutdown(AllocIter* it) {
  if (pool_ == nullptr) return;
  if (slag_ != nullptr) {
    if (it->pending() != 0) BulkFree(slag_, it->pending_word(), it->pending());
    it->Clear();
    ReleaseCurrent(/*keep=*/false);
    slag_ = nullptr;
  }
  if (has_bag_) bag().~AvailableBag();
  has_bag_ = false;
  pool_ = nullptr;
  pages_ = nullptr;
}

namespace testing {

void FailNextBagBuilds(size_t n) {
  g_failing_bag_builds.store(n, std::memory_order_relaxed);
}

}  // namespace testing
}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
