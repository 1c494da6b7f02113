// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Fuzz target: the input is a sequence of calls to elfmalloc's C API
// (malloc_bind's CApi over the public API, as prefixed symbols fuzz_elf_*
// that leave the process's own malloc alone) on a table of 16 slots. Every
// live block is filled with a pattern unique to its slot and lifetime and
// verified before it is freed or reallocated, at every Release() and at the
// end; realloc must keep the first min(old, new) bytes. Only pointers the
// API handed out are ever passed back (invalid frees are the death tests'
// business).
//
// Sizes come from the input: small, around powers of two, up to 4 MiB, and
// huge or overflowing values. Sizes of at least 2^47 bytes (beyond the
// x86-64 user address space; this includes everything above PTRDIFF_MAX)
// must fail with NULL + ENOMEM, as must calloc/reallocarray products that
// overflow; alignments that are not powers of two give EINVAL
// (posix_memalign, aligned_alloc) as malloc_bind documents. Sizes up to
// 8 MiB must succeed. Sizes in between (1 GiB..128 TiB) may do either; a
// block that succeeds is touched at both ends and freed at once (skipped
// under ThreadSanitizer, whose mmap interceptor maps shadow for the range).
//
// Input format (a missing byte reads as 0): a sequence of ops, each
//   op byte (op % 12), slot byte (slot % 16), then the op's arguments:
//   sizes are a selector byte plus 0..8 bytes, alignments likewise (see
//   DrawSize and DrawAlign). At most 2048 ops run.
//
// Any violated property is reported on stderr and ends the process with
// __builtin_trap(), which libFuzzer and the replay test report as a crash.

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <cstdio>
#include <cstring>

#include "elfmalloc/elfmalloc.h"
#include "elfmalloc/testing/api_binding.h"
#include "malloc_bind/malloc_bind.h"
#include "platform/testing/sanitizers.h"

MALLOC_BIND_DEFINE_C(fuzz_elf_, ::allocators::elfmalloc::testing::ApiBinding)

namespace allocators {
namespace elfmalloc {
namespace {

using platform::testing::kTsan;

constexpr size_t kSlots = 16;
constexpr size_t kMaxOps = 2048;
constexpr size_t kMiB = size_t{1} << 20;
// Requests up to this size (and alignment) must succeed.
constexpr size_t kFeasible = 8 * kMiB;
// Requests of this size or more must fail: x86-64 Linux gives a process
// 128 TiB of address space.
constexpr size_t kImpossible = size_t{1} << 47;

[[noreturn]] void Fail(const char* what, size_t a, size_t b) {
  std::fprintf(stderr, "c_api_fuzzer: %s (%zu, %zu)\n", what, a, b);
  __builtin_trap();
}

void Check(bool ok, const char* what, size_t a = 0, size_t b = 0) {
  if (__builtin_expect(!ok, 0)) Fail(what, a, b);
}

bool IsPow2(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

bool Aligned(const void* p, size_t align) {
  return (reinterpret_cast<uintptr_t>(p) & (align - 1)) == 0;
}

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return size_ == 0; }
  uint8_t U8() {
    if (size_ == 0) return 0;
    --size_;
    return *data_++;
  }
  uint16_t U16() {
    const uint16_t lo = U8();
    return static_cast<uint16_t>(lo | (U8() << 8));
  }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{U8()} << (8 * i);
    return v;
  }

 private:
  const uint8_t* data_;
  size_t size_;
};

// A request size; see the file comment for the three ranges.
size_t DrawSize(Reader& r) {
  const uint8_t sel = r.U8() % 16;
  switch (sel) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
      return r.U8();  // 0..255, the small classes
    case 6:
    case 7:
    case 8:
      return r.U16() % 4097;
    case 9: {  // a power of two from 1 B to 4 MiB, -2..+2
      const size_t p = size_t{1} << (r.U8() % 23);
      const size_t d = r.U8() % 5;
      return d >= 2 ? p + (d - 2) : (p > d ? p - d - 1 : p);
    }
    case 10:
    case 11:
      return size_t{r.U16()} * 16 + r.U8() % 16;  // up to 1 MiB
    case 12:
      return kMiB + size_t{r.U16()} * 48;  // 1 MiB to 4 MiB: large objects
    case 13: {  // must fail
      static constexpr size_t kHuge[] = {
          SIZE_MAX,
          SIZE_MAX - 15,
          static_cast<size_t>(PTRDIFF_MAX),
          static_cast<size_t>(PTRDIFF_MAX) + 1,
          static_cast<size_t>(PTRDIFF_MAX) - 4095,
          SIZE_MAX / 2 + 1,
          kImpossible,
          size_t{1} << 50,
      };
      const size_t v = kHuge[r.U8() % (sizeof(kHuge) / sizeof(kHuge[0]))];
      return v - (v > kImpossible + 255 ? r.U8() : 0);
    }
    case 14:  // 1 GiB .. 512 GiB: may fail
      return (size_t{1} << (30 + r.U8() % 10)) + r.U16();
    default:
      return r.U64();
  }
}

// An alignment: mostly powers of two up to 64 KiB, also up to 4 MiB, values
// that are not powers of two, and absurd ones.
size_t DrawAlign(Reader& r) {
  const uint8_t sel = r.U8() % 8;
  switch (sel) {
    case 0:
      return r.U8();
    case 1:
      return r.U16();
    case 2: {
      static constexpr size_t kOdd[] = {
          0,  3,  4,  24, 48, SIZE_MAX, SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 2,
          static_cast<size_t>(PTRDIFF_MAX), size_t{1} << 40,
      };
      return kOdd[r.U8() % (sizeof(kOdd) / sizeof(kOdd[0]))];
    }
    case 3:
      return size_t{1} << (17 + r.U8() % 6);  // 128 KiB .. 4 MiB
    default:
      return size_t{1} << (r.U8() % 17);  // 1 B .. 64 KiB
  }
}

enum class Range { kFeasible, kMaybe, kImpossible };

Range RangeOf(size_t n) {
  if (n <= kFeasible) return Range::kFeasible;
  if (n >= kImpossible) return Range::kImpossible;
  return Range::kMaybe;
}

// An aligned request is as hard as its harder part.
Range RangeOf(size_t n, size_t align) {
  const Range a = RangeOf(n), b = RangeOf(align);
  return a > b ? a : b;
}

// The pattern loops run over megabytes per input: keep libFuzzer's
// comparison tracing out of them (it only measures the data, not the code).
#if defined(__clang__)
#define C_API_FUZZER_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define C_API_FUZZER_NO_COVERAGE
#endif

// The pattern is a sequence of 8-byte words (a function of the seed and
// the word's index), so filling and checking take one step per word.
C_API_FUZZER_NO_COVERAGE uint64_t PatternWord(uint32_t seed, size_t w) {
  uint64_t x = (uint64_t{seed} << 32) ^ (w * 0x9e3779b97f4a7c15u);
  x ^= x >> 29;
  return x * 0xbf58476d1ce4e5b9u;
}

C_API_FUZZER_NO_COVERAGE uint8_t PatternByte(uint32_t seed, size_t i) {
  return static_cast<uint8_t>(PatternWord(seed, i / 8) >> (8 * (i % 8)));
}

C_API_FUZZER_NO_COVERAGE void Fill(void* p, uint32_t seed, size_t from,
                                   size_t to) {
  uint8_t* b = static_cast<uint8_t*>(p);
  size_t i = from;
  for (; i < to && i % 8 != 0; ++i) b[i] = PatternByte(seed, i);
  for (; i + 8 <= to; i += 8) {
    const uint64_t w = PatternWord(seed, i / 8);
    std::memcpy(b + i, &w, 8);
  }
  for (; i < to; ++i) b[i] = PatternByte(seed, i);
}

// Traps unless [from, to) of p holds the pattern of `seed`.
C_API_FUZZER_NO_COVERAGE void Verify(const void* p, uint32_t seed, size_t from,
                                     size_t to, const char* when) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  size_t i = from;
  for (; i + 8 <= to; i += (i % 8 == 0 ? 8 : 1)) {
    if (i % 8 != 0) {
      if (b[i] != PatternByte(seed, i)) break;
      continue;
    }
    uint64_t w;
    std::memcpy(&w, b + i, 8);
    if (w != PatternWord(seed, i / 8)) break;
  }
  for (; i < to; ++i) {
    if (b[i] != PatternByte(seed, i)) {
      std::fprintf(stderr, "c_api_fuzzer: block %p byte %zu of %zu changed %s\n",
                   p, i, to, when);
      __builtin_trap();
    }
  }
}

C_API_FUZZER_NO_COVERAGE size_t FirstNonZero(const void* p, size_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) {
    if (b[i] != 0) return i;
  }
  return n;
}

struct Slot {
  void* p = nullptr;
  size_t size = 0;  // bytes holding the pattern
  uint32_t seed = 0;
  // The alignment the block was asked for, when more than malloc gives
  // for its size: it is then freed with free_aligned_sized (C23 allows
  // free_sized only for malloc, calloc and realloc blocks).
  size_t align = 0;
};

class Harness {
 public:
  ~Harness() {
    for (size_t i = 0; i < kSlots; ++i) FreeSlot(i, false);
  }

  void Run(Reader& r) {
    for (size_t op = 0; op < kMaxOps && !r.empty(); ++op) {
      ++ops_;
      const uint8_t code = r.U8() % 12;
      const size_t slot = r.U8() % kSlots;
      switch (code) {
        case 0:
          Malloc(slot, DrawSize(r));
          break;
        case 1: {
          const size_t n = DrawSize(r);
          Calloc(slot, n, DrawSize(r));
          break;
        }
        case 2:
          Realloc(slot, DrawSize(r));
          break;
        case 3: {
          const size_t n = DrawSize(r);
          ReallocArray(slot, n, DrawSize(r));
          break;
        }
        case 4: {
          const size_t align = DrawAlign(r);
          PosixMemalign(slot, align, DrawSize(r));
          break;
        }
        case 5: {
          const size_t align = DrawAlign(r);
          AlignedAlloc(slot, align, DrawSize(r));
          break;
        }
        case 6: {
          const size_t align = DrawAlign(r);
          Memalign(slot, align, DrawSize(r));
          break;
        }
        case 7:
          FreeSlot(slot, false);
          break;
        case 8:
          FreeSlot(slot, true);
          break;
        case 9:
          UseUsableSize(slot);
          break;
        case 10:
          EdgeCases(r.U8());
          break;
        case 11:
          ReleaseAll();
          break;
      }
    }
  }

 private:
  void VerifySlot(size_t i, const char* when) {
    const Slot& s = slots_[i];
    if (s.p != nullptr) Verify(s.p, s.seed, 0, s.size, when);
  }

  void FreeSlot(size_t i, bool sized) {
    Slot& s = slots_[i];
    if (s.p == nullptr) return;
    VerifySlot(i, "before free");
    if (sized && s.align != 0) {
      fuzz_elf_free_aligned_sized(s.p, s.align, s.size);
    } else if (sized) {
      fuzz_elf_free_sized(s.p, s.size);
    } else {
      fuzz_elf_free(s.p);
    }
    s = Slot();
  }

  // Checks a new block of `n` bytes (aligned to `align`) and puts it in
  // slot i, whose old block is freed first.
  void Place(size_t i, void* p, size_t n, size_t align) {
    Check(p != nullptr, "feasible request failed", n, align);
    Check(Aligned(p, align), "misaligned block", reinterpret_cast<uintptr_t>(p),
          align);
    Check(fuzz_elf_malloc_usable_size(p) >= n, "usable size below request",
          fuzz_elf_malloc_usable_size(p), n);
    CheckDisjoint(p, n, kSlots);  // the slot's old block is still live
    FreeSlot(i, false);
    slots_[i] = Slot{p, n, NewSeed(i), align > MallocAlign(n) ? align : 0};
    Fill(p, slots_[i].seed, 0, n);
  }

  // Traps if [p, p + n) overlaps a live block other than slot `except`.
  void CheckDisjoint(const void* p, size_t n, size_t except) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    const uintptr_t a_end = a + (n == 0 ? 1 : n);
    for (size_t j = 0; j < kSlots; ++j) {
      const Slot& s = slots_[j];
      if (j == except || s.p == nullptr) continue;
      const uintptr_t b = reinterpret_cast<uintptr_t>(s.p);
      const uintptr_t b_end = b + (s.size == 0 ? 1 : s.size);
      Check(a_end <= b || b_end <= a, "overlapping blocks", a, b);
    }
  }

  uint32_t NewSeed(size_t i) {
    return static_cast<uint32_t>(ops_ * kSlots + i) * 2 + 1;
  }

  // Malloc-family alignment: 16 bytes from 16 bytes on, else 8.
  static size_t MallocAlign(size_t n) { return n >= 16 ? 16 : 8; }

  // A request in the "may fail" range: on success touch both ends, free.
  static void MaybeBlock(void* p, size_t n, const char* what) {
    if (p == nullptr) {
      Check(errno == ENOMEM, what, n, errno);
      return;
    }
    static_cast<volatile uint8_t*>(p)[0] = 1;
    static_cast<volatile uint8_t*>(p)[n - 1] = 2;
    fuzz_elf_free(p);
  }

  void Malloc(size_t i, size_t n) {
    const Range range = RangeOf(n);
    if (range == Range::kMaybe && kTsan) return;
    errno = 0;
    void* p = fuzz_elf_malloc(n);
    switch (range) {
      case Range::kImpossible:
        Check(p == nullptr && errno == ENOMEM, "malloc(huge) must fail", n,
              errno);
        return;
      case Range::kMaybe:
        MaybeBlock(p, n, "malloc(big) failed without ENOMEM");
        return;
      case Range::kFeasible:
        Place(i, p, n, MallocAlign(n == 0 ? 1 : n));
        return;
    }
  }

  void Calloc(size_t i, size_t n, size_t size) {
    size_t total;
    const bool overflow = __builtin_mul_overflow(n, size, &total);
    // A successful calloc clears every byte: never ask for gigabytes.
    if (!overflow && RangeOf(total) == Range::kMaybe) return;
    errno = 0;
    void* p = fuzz_elf_calloc(n, size);
    if (overflow || RangeOf(total) == Range::kImpossible) {
      Check(p == nullptr && errno == ENOMEM, "calloc overflow must fail", n,
            size);
      return;
    }
    Check(p != nullptr, "calloc failed", n, size);
    Check(FirstNonZero(p, total) == total, "calloc not zeroed", total);
    Place(i, p, total, MallocAlign(total == 0 ? 1 : total));
  }

  void Realloc(size_t i, size_t n) {
    Resize(i, n, [](void* p, size_t m) { return fuzz_elf_realloc(p, m); });
  }

  void ReallocArray(size_t i, size_t n, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
      VerifySlot(i, "before reallocarray");
      errno = 0;
      void* q = fuzz_elf_reallocarray(slots_[i].p, n, size);
      Check(q == nullptr && errno == ENOMEM, "reallocarray overflow", n, size);
      VerifySlot(i, "after a failed reallocarray");
      return;
    }
    Resize(i, total, [n, size](void* p, size_t) {
      return fuzz_elf_reallocarray(p, n, size);
    });
  }

  // call(slot's block, n): realloc or reallocarray of n bytes in all.
  template <typename Fn>
  void Resize(size_t i, size_t n, Fn call) {
    Slot& s = slots_[i];
    const Range range = RangeOf(n);
    if (range == Range::kMaybe && kTsan) return;
    VerifySlot(i, "before realloc");
    errno = 0;
    void* q = call(s.p, n);
    if (s.p == nullptr) {  // realloc(NULL, n) is malloc(n)
      if (range == Range::kImpossible) {
        Check(q == nullptr && errno == ENOMEM, "realloc(NULL, huge)", n);
      } else if (range == Range::kMaybe) {
        MaybeBlock(q, n, "realloc(NULL, big) failed without ENOMEM");
      } else {
        Place(i, q, n, MallocAlign(n == 0 ? 1 : n));
      }
      return;
    }
    if (n == 0) {  // frees the block (glibc)
      Check(q == nullptr, "realloc(p, 0) returned a block");
      s = Slot();
      return;
    }
    if (q == nullptr) {
      Check(range != Range::kFeasible, "realloc failed", s.size, n);
      Check(errno == ENOMEM, "failed realloc without ENOMEM", n, errno);
      VerifySlot(i, "after a failed realloc");
      return;
    }
    Check(range != Range::kImpossible, "realloc(huge) succeeded", n);
    const size_t keep = s.size < n ? s.size : n;
    Verify(q, s.seed, 0, keep, "by realloc");
    if (range == Range::kMaybe) {
      MaybeBlock(q, n, "");
      s = Slot();
      return;
    }
    Check(Aligned(q, MallocAlign(n)), "misaligned realloc", n);
    Check(fuzz_elf_malloc_usable_size(q) >= n, "usable size below realloc", n);
    CheckDisjoint(q, n, i);  // the old block is gone
    s.p = q;
    s.size = n;
    s.align = 0;  // a realloc'd block is a malloc block
    Fill(q, s.seed, keep, n);
  }

  void PosixMemalign(size_t i, size_t align, size_t n) {
    const Range range = RangeOf(n, IsPow2(align) ? align : 0);
    if (range == Range::kMaybe && kTsan) return;
    void* const kUntouched = reinterpret_cast<void*>(uintptr_t{0x5a5a5a50});
    void* out = kUntouched;
    const int err = fuzz_elf_posix_memalign(&out, align, n);
    if (!IsPow2(align) || align % sizeof(void*) != 0) {
      Check(err == EINVAL && out == kUntouched, "posix_memalign EINVAL", align,
            err);
      return;
    }
    if (range == Range::kImpossible) {
      Check(err == ENOMEM && out == kUntouched, "posix_memalign ENOMEM", n,
            err);
      return;
    }
    if (err != 0) {
      Check(err == ENOMEM && out == kUntouched, "posix_memalign error", n, err);
      Check(range == Range::kMaybe, "posix_memalign failed", n, align);
      return;
    }
    Check(Aligned(out, align), "posix_memalign misaligned", align);
    if (range == Range::kMaybe) {
      MaybeBlock(out, n, "");
      return;
    }
    Place(i, out, n, align);
  }

  void AlignedAlloc(size_t i, size_t align, size_t n) {
    AlignedCommon(i, align, n, IsPow2(align) ? align : 0,
                  [](size_t a, size_t m) { return fuzz_elf_aligned_alloc(a, m); });
  }

  void Memalign(size_t i, size_t align, size_t n) {
    size_t a = 0;  // 0: EINVAL expected
    if (align <= SIZE_MAX / 2 + 1) {
      a = 1;
      while (a < align) a <<= 1;
    }
    AlignedCommon(i, align, n, a,
                  [](size_t al, size_t m) { return fuzz_elf_memalign(al, m); });
  }

  // aligned_alloc / memalign: `effective` is the alignment the result must
  // have, or 0 when the call must fail with EINVAL.
  template <typename Fn>
  void AlignedCommon(size_t i, size_t align, size_t n, size_t effective,
                     Fn fn) {
    const Range range = RangeOf(n, effective);
    if (range == Range::kMaybe && kTsan) return;
    errno = 0;
    void* p = fn(align, n);
    if (effective == 0) {
      Check(p == nullptr && errno == EINVAL, "bad alignment must give EINVAL",
            align, errno);
      return;
    }
    if (range == Range::kImpossible) {
      Check(p == nullptr && errno == ENOMEM, "huge aligned request", n, align);
      return;
    }
    if (p != nullptr) Check(Aligned(p, effective), "misaligned", align, n);
    if (range == Range::kMaybe) {
      MaybeBlock(p, n, "aligned big request failed without ENOMEM");
      return;
    }
    Place(i, p, n, effective);
  }

  // Programs may use every byte malloc_usable_size reports.
  void UseUsableSize(size_t i) {
    Slot& s = slots_[i];
    if (s.p == nullptr) {
      Check(fuzz_elf_malloc_usable_size(nullptr) == 0, "usable_size(NULL)");
      return;
    }
    const size_t usable = fuzz_elf_malloc_usable_size(s.p);
    Check(usable >= s.size, "usable size shrank", usable, s.size);
    Check(usable <= 2 * kFeasible, "absurd usable size", usable, s.size);
    VerifySlot(i, "before using the usable size");
    CheckDisjoint(s.p, usable, i);
    Fill(s.p, s.seed, s.size, usable);
    s.size = usable;
  }

  void EdgeCases(uint8_t which) {
    errno = 0;
    switch (which % 6) {
      case 0:
        fuzz_elf_free(nullptr);
        fuzz_elf_free_sized(nullptr, 16);
        Check(fuzz_elf_malloc_usable_size(nullptr) == 0, "usable_size(NULL)");
        break;
      case 1: {  // malloc(0): unique, freeable pointers
        void* a = fuzz_elf_malloc(0);
        void* b = fuzz_elf_malloc(0);
        Check(a != nullptr && b != nullptr && a != b, "malloc(0) not unique");
        CheckDisjoint(a, 1, kSlots);
        CheckDisjoint(b, 1, kSlots);
        fuzz_elf_free(a);
        fuzz_elf_free(b);
        break;
      }
      case 2: {
        void* p = fuzz_elf_realloc(nullptr, 0);
        Check(p != nullptr, "realloc(NULL, 0) is malloc(0)");
        fuzz_elf_free(p);
        break;
      }
      case 3: {
        void* p = fuzz_elf_calloc(0, 4096);
        Check(p != nullptr, "calloc(0, n)");
        fuzz_elf_free(p);
        break;
      }
      case 4: {
        void* p = fuzz_elf_reallocarray(nullptr, 0, 16);
        Check(p != nullptr, "reallocarray(NULL, 0, 16)");
        fuzz_elf_free(p);
        break;
      }
      case 5: {
        void* out = nullptr;
        Check(fuzz_elf_posix_memalign(&out, sizeof(void*), 0) == 0 &&
                  out != nullptr,
              "posix_memalign(8, 0)");
        fuzz_elf_free(out);
        break;
      }
    }
  }

  // Giving free pages back must not touch live blocks.
  void ReleaseAll() {
    Release();
    for (size_t i = 0; i < kSlots; ++i) VerifySlot(i, "by Release()");
  }

  Slot slots_[kSlots];
  size_t ops_ = 0;
};

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  allocators::elfmalloc::Reader reader(data, size);
  allocators::elfmalloc::Harness harness;
  harness.Run(reader);
  return 0;
}
