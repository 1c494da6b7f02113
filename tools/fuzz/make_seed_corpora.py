#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Copyright 2026 the allocators authors.
#
# Writes the committed seed corpora of the fuzz targets, deterministically:
#
#   elfmalloc/fuzz/corpus/c_api_fuzzer/
#   elfmalloc/fuzz/corpus/size_class_fuzzer/
#   bagpipe/fuzz/corpus/bagpipe_fuzzer/
#
# Each seed is built from the target's input format (see the file comments
# of the *_fuzzer.cc files) to reach one behaviour or edge case; a few are
# seeded pseudo-random bytes. Run from the repository root after changing an
# input format:  python3 tools/fuzz/make_seed_corpora.py
import os
import random
import shutil
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_corpus(rel, seeds):
    d = os.path.join(ROOT, rel)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(bytes(data))
    print(f"{rel}: {len(seeds)} seeds")


def u16(v):
    return list(struct.pack("<H", v))


def u64(v):
    return list(struct.pack("<Q", v & (2**64 - 1)))


# --- c_api_fuzzer -----------------------------------------------------------
# Sizes (DrawSize): a selector byte, then its payload.
def s_small(n):            # 0..255
    return [0, n]


def s_u16(n):              # 0..4096
    return [6] + u16(n)


def s_pow2(e, d=2):        # 2^e, then -2..+2 as d = 0..4 (0: -1, 1: -2)
    return [9, e, d]


def s_med(v, low=0):       # v * 16 + low, up to 1 MiB
    return [10] + u16(v) + [low]


def s_large(k):            # 1 MiB + k * 48
    return [12] + u16(k)


def s_huge(i, sub=0):      # must fail; index 6 (2^47) takes no subtrahend
    return [13, i] + ([] if i == 6 else [sub])


def s_maybe(e, k=0):       # 2^(30 + e) + k: may fail
    return [14, e] + u16(k)


def s_raw(v):
    return [15] + u64(v)


# Alignments (DrawAlign).
def a_pow2(e):             # 2^e, e < 17
    return [4, e]


def a_big(e):              # 2^(17 + e), e < 6
    return [3, e]


def a_odd(i):              # 0, 3, 4, 24, 48, SIZE_MAX, 2^63, 2^63 + 1,
    return [2, i]          # PTRDIFF_MAX, 2^40


def a_u8(v):
    return [0, v]


def malloc(slot, size):
    return [0, slot] + size


def calloc(slot, n, size):
    return [1, slot] + n + size


def realloc(slot, size):
    return [2, slot] + size


def reallocarray(slot, n, size):
    return [3, slot] + n + size


def posix_memalign(slot, align, size):
    return [4, slot] + align + size


def aligned_alloc(slot, align, size):
    return [5, slot] + align + size


def memalign(slot, align, size):
    return [6, slot] + align + size


def free(slot):
    return [7, slot]


def free_sized(slot):
    return [8, slot]


def use_usable(slot):
    return [9, slot]


def edge(which):
    return [10, 0, which]


def release():
    return [11, 0]


def c_api_seeds():
    s = {}
    s["small_sizes"] = sum((malloc(i % 16, s_small(n)) for i, n in
                            enumerate([0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33,
                                       48, 100, 128, 192, 193, 255])), [])
    s["sizes_u16"] = sum((malloc(i % 16, s_u16(n)) for i, n in
                          enumerate([256, 257, 511, 512, 1024, 1025, 2048,
                                     4095, 4096])), []) + free(3) + free(4)
    s["pow2_boundaries"] = sum((malloc(e % 16, s_pow2(e, d)) for e in range(23)
                                for d in range(5)), [])
    s["medium"] = sum((malloc(i, s_med(v, i)) for i, v in
                       enumerate([4096, 8191, 16384, 32767, 65535])), [])
    s["large_objects"] = sum((malloc(i, s_large(k)) for i, k in
                              enumerate([0, 1, 100, 21845, 43690, 65535])), []) \
        + sum((free(i) for i in range(6)), [])
    s["all_slots_replaced"] = sum((malloc(i, s_small(i * 13)) for i in range(16)), []) \
        + sum((malloc(i, s_u16(i * 200)) for i in range(16)), [])
    s["realloc_chain"] = (malloc(1, s_small(1)) + realloc(1, s_small(100))
                          + realloc(1, s_u16(4000)) + realloc(1, s_large(10))
                          + realloc(1, s_large(60000)) + realloc(1, s_small(10))
                          + realloc(1, s_small(0)))
    s["realloc_null"] = realloc(5, s_small(0)) + realloc(6, s_u16(3000)) + \
        realloc(7, s_huge(0)) + realloc(8, s_huge(6))
    s["realloc_huge_keeps_block"] = malloc(2, s_u16(777)) + \
        sum((realloc(2, s_huge(i, 3)) for i in range(8)), []) + free(2)
    s["realloc_zero_frees"] = malloc(0, s_small(64)) + realloc(0, s_small(0)) + \
        realloc(0, s_small(0)) + malloc(0, s_large(5)) + realloc(0, s_small(0))
    s["calloc"] = (calloc(0, s_small(0), s_u16(4096)) + calloc(1, s_small(7), s_small(9))
                   + calloc(2, s_u16(1000), s_small(100)) + calloc(3, s_huge(0), s_small(2))
                   + calloc(4, s_small(2), s_huge(3)) + calloc(5, s_raw(2**32), s_raw(2**32))
                   + calloc(6, s_large(1), s_small(3)))
    s["reallocarray"] = (malloc(3, s_small(40)) + reallocarray(3, s_small(10), s_small(16))
                         + reallocarray(3, s_huge(0), s_small(2))
                         + reallocarray(3, s_raw(2**33), s_raw(2**33))
                         + reallocarray(3, s_small(0), s_small(0))
                         + reallocarray(4, s_small(0), s_small(16)))
    s["posix_memalign"] = sum((posix_memalign(e % 16, a_pow2(e), s_small(e * 7))
                               for e in range(17)), []) + \
        sum((posix_memalign(0, a_odd(i), s_small(8)) for i in range(10)), [])
    s["aligned_alloc"] = sum((aligned_alloc(e % 16, a_pow2(e), s_u16(e * 111))
                              for e in range(17)), []) + \
        sum((aligned_alloc(1, a_odd(i), s_small(1)) for i in range(10)), []) + \
        aligned_alloc(2, a_u8(0), s_small(5)) + aligned_alloc(3, a_u8(12), s_small(5))
    s["memalign_rounding"] = sum((memalign(i % 16, a_u8(v), s_small(v))
                                  for i, v in enumerate([0, 1, 3, 5, 24, 48, 100, 129, 255])), []) + \
        sum((memalign(0, a_odd(i), s_small(1)) for i in range(10)), [])
    s["big_alignments"] = sum((aligned_alloc(e, a_big(e), s_large(e * 1000))
                               for e in range(6)), []) + \
        sum((posix_memalign(8 + e, a_big(e), s_small(1)) for e in range(6)), []) + \
        sum((free(e) for e in range(6)), [])
    s["huge_sizes"] = sum((malloc(0, s_huge(i, 7)) for i in range(8)), []) + \
        sum((posix_memalign(1, a_pow2(4), s_huge(i)) for i in range(8)), []) + \
        sum((aligned_alloc(2, a_pow2(6), s_huge(i)) for i in range(8)), []) + \
        sum((memalign(3, a_pow2(12), s_huge(i)) for i in range(8)), [])
    s["maybe_sizes"] = malloc(0, s_maybe(0)) + malloc(1, s_maybe(9, 65535)) + \
        aligned_alloc(2, a_odd(9), s_small(16)) + posix_memalign(3, a_odd(9), s_small(16))
    s["raw_sizes"] = sum((malloc(i, s_raw(v)) for i, v in
                          enumerate([0, 1, 2**20, 2**20 + 1, 2**23, 2**23 + 1, 2**47 - 1,
                                     2**63 - 1, 2**64 - 1])), [])
    s["usable_size"] = (malloc(0, s_small(1)) + use_usable(0) + realloc(0, s_small(200))
                        + use_usable(0) + malloc(1, s_large(7)) + use_usable(1)
                        + use_usable(2) + free(1) + free_sized(0))
    s["edge_cases"] = sum((edge(w) for w in range(6)), [])
    s["release"] = sum((malloc(i, s_u16(i * 250)) for i in range(16)), []) + release() + \
        sum((free(i) for i in range(0, 16, 2)), []) + release() + release()
    s["free_sized"] = sum((malloc(i, s_pow2(i + 3)) for i in range(16)), []) + \
        sum((free_sized(i) for i in range(16)), [])
    s["free_empty_slots"] = sum((free(i) + free_sized(i) for i in range(16)), [])
    s["interleaved"] = (malloc(0, s_small(24)) + posix_memalign(1, a_pow2(6), s_small(24))
                        + realloc(1, s_u16(5000)) + free(0) + calloc(0, s_small(3), s_small(5))
                        + memalign(2, a_u8(200), s_u16(1)) + realloc(2, s_small(2))
                        + release() + free_sized(1) + free(2) + free(0))
    s["empty"] = []
    s["one_byte"] = [0]
    for seed in range(6):
        rng = random.Random(1000 + seed)
        s[f"random_{seed}"] = [rng.randrange(256) if seed % 2 == 0 else rng.randrange(16)
                               for _ in range(64 + 96 * seed)]
    return s


# --- size_class_fuzzer ------------------------------------------------------
def rec(sel, v, align_byte=0):
    return [sel] + u64(v) + [align_byte]


def size_class_seeds():
    s = {}
    s["zero"] = rec(0, 0)
    s["size_max"] = rec(0, 2**64 - 1, 63)
    s["class_boundaries"] = sum((rec(2, c | (4 << 8), c % 22) for c in range(26)), [])
    s["class_boundaries_minus"] = sum((rec(2, c, 4) for c in range(26)), [])
    s["pow2_all"] = sum((rec(3, e | (4 << 8), e % 64) for e in range(64)), [])
    s["max_small"] = rec(1, 2**20, 20) + rec(1, 2**20 + 1, 20) + rec(1, 2**20 - 1, 21)
    s["small_steps"] = sum((rec(4, n, 4) for n in range(0, 1100, 37)), [])
    s["lookup_switch"] = rec(4, 1024, 0) + rec(4, 1025, 10) + rec(1, 1023, 11)
    s["large_aligns"] = sum((rec(1, 100, a) for a in range(17, 64, 3)), [])
    s["align_equals_size"] = sum((rec(3, e | (4 << 8), e) for e in range(24)), [])
    s["big_raw"] = rec(0, 2**63) + rec(0, 2**63 - 1, 62) + rec(0, 2**47, 47)
    s["empty"] = []
    s["one_byte"] = [3]
    for seed in range(8):
        rng = random.Random(2000 + seed)
        s[f"random_{seed}"] = [rng.randrange(256) for _ in range(10 * (1 + 5 * seed))]
    return s


# --- bagpipe_fuzzer ---------------------------------------------------------
PUSH, TRYPUSH, BULK, TRYPOP, POP, POP2, COPY, DROP, GUESS, RPUSH, REVOKE, RPOP = range(12)


def op(o, arg=0):
    return [o, arg]


def bagpipe_seeds():
    s = {}
    for p in range(5):
        pipes = [p]
        s[f"push_pop_pipes{1 << p}"] = pipes + sum((op(PUSH, i) for i in range(10)), []) + \
            sum((op(POP, i) for i in range(12)), []) + op(GUESS) + op(POP2)
        s[f"trypop_empty_pipes{1 << p}"] = pipes + sum((op(TRYPOP, i) for i in range(20)), []) + \
            op(TRYPUSH) + sum((op(TRYPOP) for _ in range(20)), []) + op(POP)
    s["bulk"] = [2] + sum((op(BULK, n) for n in (0, 1, 5, 18)), []) + op(GUESS) + \
        sum((op(POP, i) for i in range(30)), []) + op(GUESS) + op(POP)
    s["handles"] = [3] + op(COPY) + op(COPY, 1) + op(COPY, 2) + op(COPY, 3) + op(COPY, 5) + \
        sum((op(PUSH, i) for i in range(16)), []) + op(GUESS, 2) + op(DROP, 1) + op(DROP, 0) + \
        sum((op(TRYPOP, i) for i in range(16)), []) + op(GUESS) + op(POP2, 0)
    s["handle_churn"] = [4] + sum((op(COPY, i) + op(PUSH, i) + op(DROP, i * 3)
                                   for i in range(12)), []) + op(GUESS) + op(POP)
    s["size_guess"] = [1] + sum((op(PUSH, i % 4) + op(COPY, i) + op(GUESS, i)
                                 for i in range(10)), []) + \
        sum((op(POP, i % 4) + op(GUESS, i) for i in range(12)), []) + op(POP2)
    s["revoke"] = [2] + sum((op(RPUSH, i) for i in range(10)), []) + \
        sum((op(REVOKE, i) for i in range(0, 12, 2)), []) + \
        sum((op(RPOP) for _ in range(8)), []) + op(REVOKE, 1) + op(POP)
    s["revoke_repush"] = [0] + op(RPUSH, 3) + op(REVOKE, 3) + op(REVOKE, 3) + op(RPUSH, 3) + \
        op(RPOP) + op(RPUSH, 3) + op(RPUSH, 4) + op(REVOKE, 4) + op(RPOP) + op(RPOP) + op(GUESS)
    s["revoke_never_pushed"] = [1] + sum((op(REVOKE, i) for i in range(64)), []) + op(RPOP)
    s["cleanup_leftovers"] = [3] + sum((op(PUSH, i) for i in range(20)), []) + op(BULK, 7) + \
        op(POP) + op(COPY) + op(GUESS)
    s["cleanup_after_drain"] = [3] + sum((op(PUSH, i) for i in range(20)), []) + op(POP2)
    s["mixed"] = [2] + sum((op(o, a) for o, a in
                            [(PUSH, 1), (RPUSH, 9), (COPY, 0), (BULK, 9), (TRYPOP, 1),
                             (REVOKE, 9), (RPUSH, 10), (GUESS, 0), (DROP, 0), (POP, 0),
                             (TRYPUSH, 0), (RPOP, 0), (GUESS, 1), (POP2, 0)]), [])
    s["empty"] = []
    s["one_byte"] = [4]
    for seed in range(6):
        rng = random.Random(3000 + seed)
        s[f"random_{seed}"] = [rng.randrange(256) for _ in range(40 + 120 * seed)]
    return s


def main():
    write_corpus("elfmalloc/fuzz/corpus/c_api_fuzzer", c_api_seeds())
    write_corpus("elfmalloc/fuzz/corpus/size_class_fuzzer", size_class_seeds())
    write_corpus("bagpipe/fuzz/corpus/bagpipe_fuzzer", bagpipe_seeds())


if __name__ == "__main__":
    main()
