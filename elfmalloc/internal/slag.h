// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Slags: the slab + bitset at the heart of elfmalloc, and the per-thread,
// per-size-class SlagAllocator that claims them.
//
// A slag is one PageAlloc page holding objects of one size (geometry in
// slag_geometry.h). Its header is
//
//   kind | pool (the "metadata pointer") | rc | revocation handle
//
// * rc: bit 0 is CLAIMED (a thread allocates from the slag); the other
//   bits hold a signed count of free objects (rc = count * 2 | claimed).
// * The bitset marks free objects. Any thread frees an object by setting its
//   bit (fetch_or) and *then* adding 2 to rc.
// * The claiming thread allocates with an AllocIter: it swaps a whole
//   bitset word with 0, subtracts twice its popcount from rc, and hands out
//   the word's objects lowest bit first. No other thread ever allocates from
//   a claimed slag, so local allocation needs no atomics beyond one swap per
//   64 objects.
//
// Deviation from the original's order (rc first, then the bit): there, the
// thread whose increment made a slag full could free the slag's page while
// another free had incremented rc but not yet set its bit; that late bit
// then landed in a reused page. With the bit first, "count reached
// n_objects" implies every free of the slag has finished. The price is that
// a claimer can take a bit whose increment is still pending, so the count
// may dip below zero briefly; it is signed (arithmetic shift), and the
// claimed bit is the low bit so the dip cannot disturb it.
//
// Lifecycle (the original's, with its leak fixed):
//
//   PageAlloc --claim--> CLAIMED --unclaim, < cutoff free--> FLOATING
//      ^                    ^                                   | frees reach
//      |                    | pop                               v cutoff
//      +--- all free -- AVAILABLE (in the class's available bag)
//
// Transitions happen only on an unclaimed slag and are decided by the one
// thread whose rc update crossed the threshold, so each is taken exactly
// once:
// * crossing the cutoff (free count goes from < cutoff to >= cutoff): push
//   the slag to the available bag;
// * reaching n_objects (every object free):
//   - from >= cutoff, the slag is in the bag: revoke it (one CAS); if that
//     fails a thread popped it (and will claim it), so do nothing;
//   - from < cutoff (one bulk free jumped straight from floating to full):
//     nobody else can reach the slag, so return its page at once. The
//     original called the revoke path here, which always failed, and
//     leaked the slag.
// * A pusher re-checks after pushing: if the slag became full meanwhile (its
//   full transition's revoke ran before the push), it revokes and frees the
//   page itself.
//
// Out of memory: the available bag needs memory for its nodes, so a push
// can fail. Such a slag goes on its pool's overflow list instead (linked
// through Slag::overflow_next under a spin lock), which needs no memory:
// it counts as available, ClaimNew takes from it before the bag, and the
// full transition that fails to revoke a slag also looks for it there (the
// pusher re-checks after filing it, as after a bag push, so exactly one of
// the two frees its page). Each side reads the other's location with a
// read-modify-write, so "filed" and "became full" cannot both be missed.
//
// Double frees are detected where the bitset shows them: a free whose bit
// is already set is a fatal error with a one-line message.
//
// Thread-safety: Slag operations are lock-free and callable from any thread
// on unclaimed or claimed slags. A SlagAllocator and AllocIter belong to one
// thread (thread-compatible).

#ifndef ELFMALLOC_INTERNAL_SLAG_H_
#define ELFMALLOC_INTERNAL_SLAG_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "alloc_fmt/check.h"
#include "alloc_fmt/format.h"
#include "alloc_fmt/spin_lock.h"
#include "bagpipe/bagpipe.h"
#include "bagpipe/faa_queue.h"
#include "elfmalloc/internal/page_alloc.h"
#include "elfmalloc/internal/page_map.h"
#include "elfmalloc/internal/slag_geometry.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// The slag's type tag: its size, as an index in kSlagBytes (config.h).
// kSmall must be 0, so that an uncommitted (zeroed) header still reads as
// a small slag, as in the original.
enum class SlagKind : uint8_t { kSmall = 0, kMedium = 1, kBig = 2 };

struct ClassPool;
class MagazineDepot;

// How a typed object pool makes and ends its objects. An object is
// constructed when a slag first hands it out, stays constructed while it is
// free (in a cache or in its slag), and is destroyed when its slag's page
// goes back to the page allocator, on whichever thread freed the slag's
// last object. Neither function may throw. `destroy` is null for types
// with nothing to destroy.
struct ObjectInit {
  void (*construct)(void* ctx, void* object) = nullptr;
  void (*destroy)(void* ctx, void* object) = nullptr;
  void* ctx = nullptr;
};

inline constexpr uint64_t kClaimed = 1;
inline constexpr uint64_t kRcOne = 2;  // rc units per free object

// The signed free-object count held in an rc value.
constexpr int64_t RcCount(uint64_t rc) { return static_cast<int64_t>(rc) >> 1; }

struct alignas(kSlagHeaderBytes) Slag {
  SlagKind kind;    // type tag: first, as in the original
  ClassPool* pool;  // the size class (geometry, bags); null if fresh
  std::atomic<uint64_t> rc;
  std::atomic<uintptr_t> handle;  // BagPipe revocation handle
  // Next slag on the pool's overflow list (only while on it; else null).
  Slag* overflow_next;
  // Pools with an ObjectInit: objects [0, constructed) hold constructed
  // objects, and no object at or above it was ever handed out. Written by
  // the thread that claims the slag, and by the one that frees its page.
  std::atomic<uint32_t> constructed;

  std::atomic<uintptr_t>& revocation_handle() { return handle; }

  std::atomic<uint64_t>* bitset() {
    return reinterpret_cast<std::atomic<uint64_t>*>(
        reinterpret_cast<char*>(this) + kSlagHeaderBytes);
  }
};
static_assert(sizeof(Slag) == kSlagHeaderBytes);

using AvailableBag = bagpipe::BagPipe<bagpipe::RevocableFAAQueue<Slag*>>;

// Thread-cache stacks whose caches shut down (a thread exited), kept for
// the next thread's caches of the same class: a stack costs an mmap, page
// faults on its first writes, and an munmap that flushes the TLB of every
// CPU the process ran on, which dominates programs that start many short
// threads. Shared by the classes of one heap; each class keeps
// at most kPerClass (ClassPool::spare_stacks), and all of them together
// at most kMaxTouchedBytes of memory their owners may have written.
// Thread-safe: `lock` is a leaf lock (nothing is mapped or unmapped while
// it is held).
struct StackSpares {
  static constexpr size_t kPerClass = 16;
  static constexpr size_t kMaxTouchedBytes = size_t{4} << 20;
  SpinLock lock;
  size_t touched_bytes ABSL_GUARDED_BY(lock) = 0;
};

struct SpareStack {
  void* mem;         // the mapping
  size_t map_bytes;  // its size
  size_t touched;    // bytes from its start its owners may have written
};

// Shared state of one size class in one heap. Immutable after setup except
// for the bag's contents, the overflow list, the spare stacks and the
// statistics counter.
struct ClassPool {
  SlagGeometry geom;
  SlagKind kind = SlagKind::kSmall;
  // Page-map tag of this class's slags (class index + 1), or 0 if the pool's
  // slags are not entered in the page map (size-specific allocators).
  uint8_t map_tag = 0;
  // Freed slags with at least this many usable bytes are eagerly decommitted.
  size_t eager_decommit_bytes = SIZE_MAX;
  PageAlloc* pages = nullptr;
  // Prototype handle of the class's available bag: each thread copies it
  // (a BagPipe handle per thread). Built by the first thread that has a
  // slag to put in it (SlagAllocator::EnsureBag) unless the owner sets it:
  // an empty bag holds a first node per pipe, 4 KiB each, so building every
  // class's bag up front would cost every process hundreds of KiB of
  // resident memory. Never freed once set.
  std::atomic<AvailableBag*> available{nullptr};
  // The pipes of the bag EnsureBag builds.
  size_t bag_pipes = 1;
  // Hardened build: bytes at the start of a page to clear before it becomes
  // a slag of this class (the largest header of any class it may have
  // been), so its objects read as zero like every freed object. 0 in other
  // builds.
  size_t secure_clear_bytes = 0;
  // Typed object pools only (Config::kConstructs front-ends); empty for raw
  // memory.
  ObjectInit init;
  // Pages that are slags of this class now (statistics; slow paths only).
  std::atomic<size_t> slags{0};
  // Available slags the bag had no memory for (see the file comment).
  SpinLock overflow_lock;
  Slag* overflow ABSL_GUARDED_BY(overflow_lock) = nullptr;
  std::atomic<size_t> overflow_count{0};
  // Unused stacks of this class's caches (see StackSpares), guarded by
  // spares->lock. Null `spares`: a cache unmaps its stack when it shuts
  // down.
  StackSpares* spares = nullptr;
  SpareStack spare_stacks[StackSpares::kPerClass] = {};
  uint32_t n_spare_stacks = 0;
  // The class's magazine depot (DepotCache); null for other front-ends.
  MagazineDepot* depot = nullptr;

  size_t slag_bytes() const { return geom.slag_bytes; }
};

ABSL_ATTRIBUTE_ALWAYS_INLINE inline Slag* SlagOf(const void* p,
                                                 size_t slag_bytes) {
  return reinterpret_cast<Slag*>(reinterpret_cast<uintptr_t>(p) &
                                 ~(uintptr_t{slag_bytes} - 1));
}

namespace testing {
// Makes the next `n` builds of a class's available bag fail as if out of
// memory (SlagAllocator then files slags on the overflow list). Exhausting
// the bootstrap allocator instead is not deterministic: its epoch-based
// reclamation returns blocks at times of its own.
void FailNextBagBuilds(size_t n);
}  // namespace testing

// Writes a fresh slag's header and bitset for `pool` (every object free,
// unclaimed, not in any bag).
void InitSlag(Slag* s, ClassPool* pool);

// Gives the page of slag `s` of `pool`, all of whose objects are free and
// which no bag or thread holds, back to the page allocator through
// `pages`, destroying its constructed objects first (ObjectInit).
void ReleaseSlagPage(ClassPool* pool, PageAlloc::Handle* pages, Slag* s);

// Pools with an ObjectInit: makes sure `p`, an object the claimed slag it
// lies in is handing out, is constructed. A slag hands out the objects at
// or above its `constructed` mark in address order, so only an object at
// or past the mark needs constructing (with any unused one below it).
// REQUIRES: the caller has claimed p's slag.
void ConstructThrough(const ClassPool& pool, Slag* s, char* p);
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void* EnsureConstructed(
    const ClassPool& pool, void* p) {
  const SlagGeometry& g = pool.geom;
  Slag* s = SlagOf(p, g.slag_bytes);
  const size_t done = s->constructed.load(std::memory_order_relaxed);
  if (ABSL_PREDICT_FALSE(reinterpret_cast<char*>(s) + g.objects_offset +
                             done * g.object_size <=
                         static_cast<char*>(p))) {
    ConstructThrough(pool, s, static_cast<char*>(p));
  }
  return p;
}

struct BitPos {
  size_t word;
  uint64_t mask;
};

// The bitset position of the object starting `off` bytes into a slag of
// geometry `g`; false if no object starts there (an offset below the
// objects wraps and fails the range test). A shift, a multiply and three
// compares: cheap enough for loops over many objects.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool BitAt(const SlagGeometry& g,
                                               uintptr_t off, BitPos* pos) {
  const uintptr_t rel = off - g.objects_offset;
  const size_t bit = rel >> g.bit_shift;
  if ((rel & ((uintptr_t{1} << g.bit_shift) - 1)) != 0 ||
      bit >= g.n_objects * g.bits_per_object ||
      bit * g.div_magic > g.div_magic - 1) {
    return false;
  }
  *pos = BitPos{bit / kBitsPerWord, uint64_t{1} << (bit % kBitsPerWord)};
  return true;
}

// True if `p`, an object of a slag of `pool`'s class, is free in that slag
// (its bit is set); false also if no object starts at `p`. One relaxed
// load: the checks that use it (a cached object must not be free in its
// slag) look at objects their caller owns, whose bits nobody may set.
inline bool IsFreeInSlag(const ClassPool& pool, const void* p) {
  BitPos pos;
  return BitAt(pool.geom,
               reinterpret_cast<uintptr_t>(p) & (pool.slag_bytes() - 1),
               &pos) &&
         (SlagOf(p, pool.slag_bytes())
              ->bitset()[pos.word]
              .load(std::memory_order_relaxed) &
          pos.mask) != 0;
}

// The bitset position of `p` in `s`. Fatal (one line, naming the pointer)
// if p is not the start of an object of `s`: an interior or foreign pointer
// would otherwise corrupt a neighbour's bit.
BitPos BitOf(Slag* s, const void* p);

// Files available slag `s` on its pool's overflow list.
void AddOverflow(ClassPool* pool, Slag* s);
// Takes `s` off the overflow list; false if it is not on it.
bool RemoveOverflow(ClassPool* pool, Slag* s);
// Takes any slag off the overflow list, or nullptr.
Slag* PopOverflow(ClassPool* pool);

// Checks the header of slag `s` of `pool`: pool pointer, kind, free count
// within [0, n_objects] (unclaimed slags: exactly the bitset's popcount,
// and no bit outside the object starts). Returns false with a description
// in `what`. REQUIRES: no thread frees into or allocates from `s`
// concurrently (quiescent), unless `s` is claimed, where only the static
// fields and bounds are checked.
bool CheckSlag(const ClassPool* pool, Slag* s, const char** what);

// Checks every slag in `pool`'s available bag and overflow list with
// CheckSlag, and that each is unclaimed with at least one free object and
// in the bag at most once; the bag is emptied into mapped scratch memory
// and refilled (a slag the bag has no memory for goes to the overflow
// list). False with `what` set on a violation. REQUIRES: quiescent (no
// other thread uses the pool); the caller holds no lock.
bool CheckAvailableSlags(ClassPool* pool, const char** what);

// One thread's allocation cursor over the words of its claimed slag.
class AllocIter {
 public:
  // The next free object, or nullptr when the slag's words are exhausted.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void* Next() {
    if (ABSL_PREDICT_TRUE(word_ != 0)) {
      const unsigned bit = static_cast<unsigned>(__builtin_ctzll(word_));
      word_ &= word_ - 1;
      return base_ + (size_t{bit} << shift_);
    }
    return NextWord();
  }

  // Next() for the hardened build: a random one of the current word's
  // objects, so even a fresh slag hands out its objects in an unpredictable
  // order (which of 64 neighbours comes next cannot be guessed from the
  // last).
  void* NextRandom();

  // Starts iterating over claimed slag `s` from its first word.
  void Reset(Slag* s);
  void Clear() { *this = AllocIter(); }

  // Bits taken from the bitset but not yet handed out, with their word.
  uint64_t pending() const { return word_; }
  size_t pending_word() const { return word_index_; }

 private:
  void* NextWord();
  // Takes the next non-empty bitset word into word_ (and base_); false when
  // the slag's words are exhausted.
  bool LoadWord();

  uint64_t word_ = 0;     // untaken objects of the current word
  char* base_ = nullptr;  // address of bit 0 of the current word
  Slag* slag_ = nullptr;
  uint32_t shift_ = 0;
  uint32_t word_index_ = 0;  // index of the current word
  uint32_t next_word_ = 0;   // next word to load
  uint32_t n_words_ = 0;
  uint32_t rng_ = 0;  // hardened build: NextRandom's xorshift state
};

// The per-thread, per-class view of a ClassPool: owns at most one claimed
// slag and a handle on the class's available bag. Thread-compatible.
class SlagAllocator {
 public:
  SlagAllocator() = default;
  ~SlagAllocator() {
    ALLOC_DCHECK(pool_ == nullptr, "SlagAllocator not shut down");
  }
  SlagAllocator(const SlagAllocator&) = delete;
  SlagAllocator& operator=(const SlagAllocator&) = delete;

  bool initialized() const { return pool_ != nullptr; }
  // REQUIRES: !initialized(). `pages` is this thread's handle on
  // pool->pages and must outlive Shutdown().
  void Init(ClassPool* pool, PageAlloc::Handle* pages);

  // Gives up the current slag (if any) and claims one with free objects:
  // the current one again if enough objects were freed into it, else one
  // from the available bag, else a page from the PageAlloc. Points `it` at
  // it. Returns false (errno ENOMEM) if no page could be had.
  bool Refresh(AllocIter* it);

  // Frees one object of this class (from any thread's slag).
  void Free(void* p);
  // Frees the objects of `mask` in bitset word `word` of slag `s` at once.
  void BulkFree(Slag* s, size_t word, uint64_t mask);

  // True if `p` lies in this thread's claimed slag.
  bool Contains(const void* p) const {
    return slag_ != nullptr && SlagOf(p, pool_->slag_bytes()) == slag_;
  }
  Slag* slag() const { return slag_; }
  ClassPool* pool() const { return pool_; }

  // Returns everything: the iterator's untaken objects go back to the
  // bitset and the slag is unclaimed (and pushed or freed as its free count
  // says). Leaves the allocator uninitialised.
  void Shutdown(AllocIter* it);

 private:
  // Acts on the rc change (before -> after free objects) of unclaimed `s`.
  void OnUnclaimedFree(Slag* s, int64_t before, int64_t after);
  void PushAvailable(Slag* s);
  void FreeSlag(Slag* s);
  // Counts event `e` for the logging build (PageAlloc::Handle::events).
  void Count(Event e) {
    if (EventCounters* c = pages_->events()) c->Add(e);
  }
  // Unclaims the current slag and deals with it (keep: re-claim it if it has
  // at least `cutoff` free objects). Returns true if it was kept.
  bool ReleaseCurrent(bool keep);
  Slag* ClaimNew();
  // Makes bag() usable: copies the class's bag handle, building the bag
  // first (with `create`) if no thread has. False if there is no bag and
  // `create` is false (so it is empty), or if it could not be built (out of
  // memory: callers use the overflow list instead).
  bool EnsureBag(bool create);

  ClassPool* pool_ = nullptr;
  PageAlloc::Handle* pages_ = nullptr;
  Slag* slag_ = nullptr;
  bool has_bag_ = false;  // bag_storage_ holds a handle
  alignas(AvailableBag) unsigned char bag_storage_[sizeof(AvailableBag)];
  AvailableBag& bag() {
    return *std::launder(reinterpret_cast<AvailableBag*>(bag_storage_));
  }
};

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_SLAG_H_
