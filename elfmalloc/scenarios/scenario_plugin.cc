// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// A library that scenario_probe's dlopen_plugin scenario (row 35 of
// info/reliability.md) loads and unloads: its static constructor allocates
// (a vector of strings) and its destructor frees at dlclose, and it hands
// blocks across the library boundary both ways.

#include <cstddef>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct Holder {
  Holder() {
    for (size_t i = 0; i < 100; ++i) strings.emplace_back(100 + i, 'p');
  }
  std::vector<std::string> strings;
};
Holder g_holder;  // built at dlopen, destroyed at dlclose

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void* scenario_plugin_alloc(size_t n) {
  return malloc(n);
}

__attribute__((visibility("default"))) void scenario_plugin_free(void* p) {
  free(p);
}

// 1 if the constructor's allocations are intact.
__attribute__((visibility("default"))) int scenario_plugin_check() {
  return g_holder.strings.size() == 100 &&
                 g_holder.strings[99] == std::string(199, 'p')
             ? 1
             : 0;
}

}  // extern "C"
