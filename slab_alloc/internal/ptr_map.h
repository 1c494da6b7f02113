// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// PtrHashMap: the pointer -> slab map behind large slabs.
//
// Large slabs are only page-aligned, so an object's slab cannot be found by
// masking its address. Each large-slab cache keeps one of these maps, keyed
// by page address (objects smaller than a page: one entry per page of every
// slab) or by object address (larger objects: one entry per object).
//
// The workload shapes the design (as in the original):
//   * Lookups (one per free) dominate; inserts and deletes happen only when a
//     whole slab is created or released, and the working-set policy keeps
//     that from thrashing.
//   * Keys are distinct, non-null and share an alignment, so the hash is
//     just (key >> log2(align)) & (buckets - 1): consecutive pages land in
//     consecutive buckets. Without the shift every key would hit the first
//     1/align of the table.
//   * Space is cheap next to the objects (the smallest large-slab objects
//     are about 512 bytes with 4 KiB pages), so a bucket holds 4 slots and
//     the table doubles as soon as it holds as many entries as buckets; it
//     halves when, at a delete, it holds half as many. Chains then almost
//     never overflow.
//   * Chains are kept coalesced: the occupied slots of a chain are always a
//     prefix of its slots, so a lookup stops at the first empty slot (a miss
//     costs no more than a hit) and overflow buckets are never empty. Growth
//     and shrinking rebuild chains compactly; a delete moves the chain's last
//     entry into the hole and frees an overflow bucket that becomes empty.
//
// Memory: the bucket table and the overflow buckets come from MetaAlloc, a
// type with `void* Alloc(size_t size, size_t align)` (nullptr on failure)
// and `void Dealloc(void* p, size_t size)`; mmap_alloc::MapAlloc by default.
// Nothing here touches malloc. The table is allocated on the first Insert,
// so a map that is never used costs nothing. Overflow buckets are carved
// from 4 KiB chunks that are kept until the map is destroyed.
//
// Failure: Insert returns false if it needs memory it cannot get (the map is
// unchanged); growth and shrinking are best effort and are skipped when
// memory is short. Misuse (a null key, inserting a key twice, deleting a
// missing key) is a fatal ALLOC_CHECK.
//
// Thread-compatible.

#ifndef SLAB_ALLOC_INTERNAL_PTR_MAP_H_
#define SLAB_ALLOC_INTERNAL_PTR_MAP_H_

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "alloc_fmt/check.h"
#include "mmap_alloc/mmap_alloc.h"

namespace allocators {
namespace slab_alloc {
namespace internal {

template <typename V, typename MetaAlloc = mmap_alloc::MapAlloc>
class PtrHashMap {
 public:
  static constexpr size_t kSlotsPerBucket = 4;
  // The original's DEFAULT_MAP_SIZE: initial buckets of a slab cache's map.
  static constexpr size_t kDefaultBuckets = 256;
  // Bytes per chunk of overflow buckets.
  static constexpr size_t kChunkBytes = 4096;

  // `size_hint`: expected number of entries; the first table has
  // next_pow2(size_hint) buckets (at least 1). `key_align`: a power of two
  // that divides every key (a liberal estimate is fine; it only shapes the
  // hash). `resize`: false keeps the table at its first size forever (the
  // original's hashmap-no-resize feature).
  PtrHashMap(size_t size_hint, size_t key_align, MetaAlloc meta = MetaAlloc(),
             bool resize = true)
      : shift_(key_align == 0
                   ? 0
                   : static_cast<unsigned>(__builtin_ctzll(key_align))),
        meta_(std::move(meta)),
        initial_buckets_(NextPow2(size_hint)),
        resize_(resize) {
    ALLOC_CHECK(key_align != 0 && (key_align & (key_align - 1)) == 0,
                "slab_alloc: PtrHashMap key alignment %zu is not a power of "
                "two",
                key_align);
  }

  ~PtrHashMap() {
    if (table_ != EmptyTable()) FreeTable(table_, nbuckets_);
    while (chunks_ != nullptr) {
      Chunk* next = chunks_->next;
      meta_.Dealloc(chunks_, kChunkBytes);
      chunks_ = next;
    }
  }

  PtrHashMap(const PtrHashMap&) = delete;
  PtrHashMap& operator=(const PtrHashMap&) = delete;

  // The value stored under `key`, or nullptr if there is none.
  ABSL_ATTRIBUTE_ALWAYS_INLINE V* Find(uintptr_t key) const {
    const Bucket* b = &table_[Hash(key)];
    do {
      for (size_t j = 0; j < kSlotsPerBucket; ++j) {
        if (b->slots[j].key == key) return b->slots[j].value;
        // Chains are coalesced: nothing follows an empty slot.
        if (b->slots[j].key == 0) return nullptr;
      }
      b = b->next;
    } while (b != nullptr);
    return nullptr;
  }

  // Adds key -> value. Doubles the table first if it holds as many entries
  // as buckets (best effort). Returns false, leaving the map unchanged, if
  // memory for the table or an overflow bucket cannot be had.
  // REQUIRES: key != 0 and not present (fatal otherwise).
  bool Insert(uintptr_t key, V* value) {
    ALLOC_CHECK(key != 0, "slab_alloc: PtrHashMap insert of a null key");
    if (table_ == EmptyTable()) {
      Bucket* t = AllocTable(initial_buckets_);
      if (t == nullptr) return false;
      table_ = t;
      nbuckets_ = initial_buckets_;
      mask_ = nbuckets_ - 1;
    } else if (resize_ && size_ == nbuckets_) {
      Resize(nbuckets_ * 2);
    }
    if (!InsertInto(table_, mask_, key, value)) return false;
    ++size_;
    return true;
  }

  // Removes `key`. Halves the table first if it holds exactly half as many
  // entries as buckets (best effort). REQUIRES: key present (fatal
  // otherwise).
  void Delete(uintptr_t key) {
    if (resize_ && nbuckets_ > 1 && size_ == nbuckets_ / 2) {
      Resize(nbuckets_ / 2);
    }
    Bucket* const head = &table_[Hash(key)];
    Bucket* hole_bucket = nullptr;
    size_t hole = 0;
    // Find the key and the chain's last occupied slot (and its bucket's
    // predecessor, to unlink it if it empties).
    Bucket* last_bucket = head;
    Bucket* before_last = nullptr;
    size_t last = 0;
    bool any = false;
    for (Bucket *b = head, *prev = nullptr; b != nullptr;
         prev = b, b = b->next) {
      for (size_t j = 0; j < kSlotsPerBucket && b->slots[j].key != 0; ++j) {
        if (b->slots[j].key == key) {
          hole_bucket = b;
          hole = j;
        }
        last_bucket = b;
        before_last = prev;
        last = j;
        any = true;
      }
    }
    ALLOC_CHECK(any && hole_bucket != nullptr,
                "slab_alloc: PtrHashMap delete of a missing key 0x%zx",
                static_cast<size_t>(key));
    // Coalesce: the last entry of the chain fills the hole. (The original
    // meant to do this too, but its remove_last scanned an empty range and
    // only ever nulled the slot.)
    hole_bucket->slots[hole] = last_bucket->slots[last];
    last_bucket->slots[last] = Slot{};
    if (last == 0 && last_bucket != head) {
      before_last->next = nullptr;
      ReturnOverflow(last_bucket);
    }
    --size_;
  }

  // Number of entries.
  size_t size() const { return size_; }
  // Number of buckets in the table (1 before the first insert).
  size_t bucket_count() const { return nbuckets_; }
  // Overflow buckets in use, and free in the pool.
  size_t overflow_buckets() const { return overflow_in_use_; }
  size_t free_overflow_buckets() const { return free_count_; }

  // Calls f(bucket_index, key, value) for every entry, chain by chain, in
  // slot order. For tests and diagnostics (the original's dump_by_bucket).
  template <typename F>
  void ForEach(F&& f) const {
    for (size_t i = 0; i < nbuckets_; ++i) {
      for (const Bucket* b = &table_[i]; b != nullptr; b = b->next) {
        for (size_t j = 0; j < kSlotsPerBucket && b->slots[j].key != 0; ++j) {
          f(i, b->slots[j].key, b->slots[j].value);
        }
      }
    }
  }

  // Number of buckets (1 + overflow) in chain `i`. REQUIRES: i <
  // bucket_count().
  size_t ChainLength(size_t i) const {
    size_t n = 0;
    for (const Bucket* b = &table_[i]; b != nullptr; b = b->next) ++n;
    return n;
  }

  // Checks every structural invariant (fatal on violation): each chain's
  // entries are a prefix of its slots, every overflow bucket is non-empty,
  // every key hashes to its chain and appears once in it, and the entry and
  // overflow counts match. O(size + buckets).
  void CheckInvariants() const {
    ALLOC_CHECK((nbuckets_ & (nbuckets_ - 1)) == 0 && mask_ == nbuckets_ - 1);
    size_t entries = 0;
    size_t overflow = 0;
    for (size_t i = 0; i < nbuckets_; ++i) {
      bool seen_empty = false;
      for (const Bucket* b = &table_[i]; b != nullptr; b = b->next) {
        if (b != &table_[i]) {
          ++overflow;
          ALLOC_CHECK(!seen_empty && b->slots[0].key != 0,
                      "slab_alloc: PtrHashMap chain %zu has an empty or "
                      "misplaced overflow bucket",
                      i);
        }
        for (size_t j = 0; j < kSlotsPerBucket; ++j) {
          const uintptr_t k = b->slots[j].key;
          if (k == 0) {
            seen_empty = true;
            continue;
          }
          ALLOC_CHECK(!seen_empty,
                      "slab_alloc: PtrHashMap chain %zu has a hole", i);
          ALLOC_CHECK(Hash(k) == i,
                      "slab_alloc: PtrHashMap key 0x%zx is in chain %zu",
                      static_cast<size_t>(k), i);
          ++entries;
        }
      }
    }
    ALLOC_CHECK_EQ(entries, size_);
    ALLOC_CHECK_EQ(overflow, overflow_in_use_);
  }

 private:
  struct Slot {
    uintptr_t key = 0;  // 0: empty
    V* value = nullptr;
  };
  struct Bucket {
    Slot slots[kSlotsPerBucket];
    Bucket* next = nullptr;  // overflow chain
  };
  // Header of an overflow chunk; occupies the chunk's first bucket.
  struct Chunk {
    Chunk* next;
  };
  static constexpr size_t kBucketsPerChunk = kChunkBytes / sizeof(Bucket) - 1;
  static_assert(kBucketsPerChunk >= 1);

  // The table of a map that has never held anything: one empty bucket that
  // is only ever read, so Find and Delete need no "no table yet" branch.
  static Bucket* EmptyTable() {
    static Bucket empty;
    return &empty;
  }

  static size_t NextPow2(size_t x) {
    size_t p = 1;
    while (p < x && p <= SIZE_MAX / 2) p *= 2;
    return p;
  }

  size_t Hash(uintptr_t key) const {
    return static_cast<size_t>(key >> shift_) & mask_;
  }

  // (e - 1) / 4 overflow buckets hold e entries beyond the head bucket.
  static size_t OverflowFor(size_t entries) {
    return entries == 0 ? 0 : (entries - 1) / kSlotsPerBucket;
  }

  Bucket* AllocTable(size_t n) {
    if (n > SIZE_MAX / sizeof(Bucket)) return nullptr;
    void* mem = meta_.Alloc(n * sizeof(Bucket), alignof(Bucket));
    if (mem == nullptr) return nullptr;
    Bucket* t = static_cast<Bucket*>(mem);
    for (size_t i = 0; i < n; ++i) ::new (&t[i]) Bucket();
    return t;
  }

  void FreeTable(Bucket* t, size_t n) { meta_.Dealloc(t, n * sizeof(Bucket)); }

  // Adds a chunk's buckets to the free pool. Returns false on exhaustion.
  bool AddChunk() {
    void* mem = meta_.Alloc(kChunkBytes, alignof(Bucket));
    if (mem == nullptr) return false;
    Chunk* chunk = ::new (mem) Chunk{chunks_};
    chunks_ = chunk;
    Bucket* first = reinterpret_cast<Bucket*>(static_cast<char*>(mem)) + 1;
    for (size_t i = 0; i < kBucketsPerChunk; ++i) {
      Bucket* b = ::new (&first[i]) Bucket();
      b->next = free_;
      free_ = b;
    }
    free_count_ += kBucketsPerChunk;
    return true;
  }

  bool ReserveOverflow(size_t n) {
    while (free_count_ < n) {
      if (!AddChunk()) return false;
    }
    return true;
  }

  // An empty overflow bucket, or nullptr on exhaustion.
  Bucket* TakeOverflow() {
    if (free_ == nullptr && !AddChunk()) return nullptr;
    Bucket* b = free_;
    free_ = b->next;
    --free_count_;
    ++overflow_in_use_;
    ::new (b) Bucket();
    return b;
  }

  void ReturnOverflow(Bucket* b) {
    b->next = free_;
    free_ = b;
    ++free_count_;
    --overflow_in_use_;
  }

  // Puts key -> value in the first empty slot of its chain in table `t`.
  // Returns false only if an overflow bucket was needed and none could be
  // had. Fatal if the key is already there.
  bool InsertInto(Bucket* t, size_t mask, uintptr_t key, V* value) {
    Bucket* b = &t[static_cast<size_t>(key >> shift_) & mask];
    for (;;) {
      for (size_t j = 0; j < kSlotsPerBucket; ++j) {
        Slot& s = b->slots[j];
        if (s.key == 0) {
          s.key = key;
          s.value = value;
          return true;
        }
        ALLOC_CHECK(s.key != key,
                    "slab_alloc: PtrHashMap insert of a duplicate key 0x%zx",
                    static_cast<size_t>(key));
      }
      if (b->next == nullptr) break;
      b = b->next;
    }
    Bucket* nb = TakeOverflow();
    if (nb == nullptr) return false;
    nb->slots[0].key = key;
    nb->slots[0].value = value;
    b->next = nb;
    return true;
  }

  // Entries in chain `i` of the current table, split by one hash bit when
  // `split_bit` != 0 (entries whose key has that bit go to *high).
  size_t CountChain(size_t i, size_t split_bit, size_t* high) const {
    size_t n = 0;
    *high = 0;
    for (const Bucket* b = &table_[i]; b != nullptr; b = b->next) {
      for (size_t j = 0; j < kSlotsPerBucket && b->slots[j].key != 0; ++j) {
        ++n;
        if ((b->slots[j].key >> shift_) & split_bit) ++*high;
      }
    }
    return n;
  }

  // Rebuilds the map into a table of `new_n` buckets (twice or half the
  // current size). Best effort: if the new table, or the overflow buckets
  // the new chains will need, cannot be allocated, nothing changes.
  void Resize(size_t new_n) {
    // Count exactly how many overflow buckets the new table needs, and
    // reserve them before moving anything, so the rebuild cannot fail half
    // way. The old overflow buckets go back to the pool afterwards.
    size_t needed = 0;
    if (new_n > nbuckets_) {
      for (size_t i = 0; i < nbuckets_; ++i) {
        size_t high;
        const size_t n = CountChain(i, nbuckets_, &high);
        needed += OverflowFor(n - high) + OverflowFor(high);
      }
    } else {
      for (size_t i = 0; i < new_n; ++i) {
        size_t unused;
        needed += OverflowFor(CountChain(i, 0, &unused) +
                              CountChain(i + new_n, 0, &unused));
      }
    }
    if (!ReserveOverflow(needed)) return;
    Bucket* nt = AllocTable(new_n);
    if (nt == nullptr) return;
    const size_t new_mask = new_n - 1;
    for (size_t i = 0; i < nbuckets_; ++i) {
      for (Bucket* b = &table_[i]; b != nullptr; b = b->next) {
        for (size_t j = 0; j < kSlotsPerBucket && b->slots[j].key != 0; ++j) {
          const bool ok =
              InsertInto(nt, new_mask, b->slots[j].key, b->slots[j].value);
          ALLOC_CHECK(ok, "slab_alloc: PtrHashMap overflow reserve too small");
        }
      }
    }
    for (size_t i = 0; i < nbuckets_; ++i) {
      Bucket* b = table_[i].next;
      while (b != nullptr) {
        Bucket* next = b->next;
        ReturnOverflow(b);
        b = next;
      }
    }
    FreeTable(table_, nbuckets_);
    table_ = nt;
    nbuckets_ = new_n;
    mask_ = new_mask;
  }

  // Lookup fields first: they share a cache line.
  Bucket* table_ = EmptyTable();
  size_t mask_ = 0;
  unsigned shift_ = 0;
  size_t nbuckets_ = 1;
  size_t size_ = 0;

  MetaAlloc meta_;
  size_t initial_buckets_;
  bool resize_;
  Bucket* free_ = nullptr;  // overflow pool
  size_t free_count_ = 0;
  size_t overflow_in_use_ = 0;
  Chunk* chunks_ = nullptr;
};

}  // namespace internal
}  // namespace slab_alloc
}  // namespace allocators

#endif  // SLAB_ALLOC_INTERNAL_PTR_MAP_H_
