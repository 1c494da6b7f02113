// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// A fuzz target for bagpipe: bytes are an op sequence applied to several
// bags at once and checked against simple models (see bag_fuzz.cc).

#ifndef BAGPIPE_BAG_FUZZ_H_
#define BAGPIPE_BAG_FUZZ_H_

#include <cstddef>
#include <cstdint>

// libFuzzer's entry point. Always returns 0; a model mismatch is fatal
// ("bagpipe fuzz: ..."), which is what a fuzzer reports as a crash.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#endif  // BAGPIPE_BAG_FUZZ_H_
