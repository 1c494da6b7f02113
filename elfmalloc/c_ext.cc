// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The C extension API (include/elfmalloc.h) over the elfmalloc API of
// whichever front-end the target links. Part of //elfmalloc:malloc and
// :malloc_local, so libelfmalloc.so and libelfmalloc.a export it.

#include <elfmalloc.h>
#include <errno.h>

#include <cstdint>
#include <cstring>

#include "elfmalloc/elfmalloc.h"
#include "elfmalloc/internal/options.h"

namespace {

namespace elf = ::allocators::elfmalloc;

bool IsDecayMs(const char* name) {
  return std::strcmp(name, "decay_ms") == 0;
}

}  // namespace

extern "C" {

void elfmalloc_release(void) noexcept { elf::Release(); }

size_t elfmalloc_usable_size(const void* p) noexcept {
  return p == nullptr ? 0 : elf::UsableSize(p);
}

const char* elfmalloc_version(void) noexcept { return ELFMALLOC_VERSION_STRING; }

int elfmalloc_option_get(const char* name, long long* value) noexcept {
  if (name == nullptr || value == nullptr) return EINVAL;
  if (IsDecayMs(name)) {
    *value = elf::DecayMs();
    return 0;
  }
  return EINVAL;
}

int elfmalloc_option_set(const char* name, long long value) noexcept {
  if (name == nullptr) return EINVAL;
  if (IsDecayMs(name)) {
    if (value < -1 || value > elf::internal::kMaxDecayMs) return EINVAL;
    elf::SetDecayMs(value);
    return 0;
  }
  return EINVAL;
}

}  // extern "C"
