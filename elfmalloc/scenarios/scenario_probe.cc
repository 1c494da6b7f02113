// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// scenario_probe NAME: runs one bad-input or fault scenario of
// info/reliability.md (scenario.h lists them by file) against whatever
// malloc the process has, normally libelfmalloc.so through LD_PRELOAD. It
// uses only the C and C++ allocation API (it does not link elfmalloc).
//
// A scenario that completes prints one result line of key=value fields on
// stdout and exits 0, e.g. "ret=null errno=ENOMEM". A scenario that hands
// the allocator an invalid pointer first prints "ptr=0x..." (the pointer it
// is about to pass, flushed) and is expected to die; if it survives it
// prints "survived=1 ..." and exits 0. Exit 2: unknown scenario or a setup
// failure (reported on stderr).
//
// scenario_probe --list prints every scenario's name, one a line.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>

#include "elfmalloc/scenarios/scenario.h"

namespace allocators {
namespace elfmalloc {
namespace scenarios {
namespace {

// Allocates g_before_main's blocks from a global constructor, before main.
// Runs once, before any thread exists.
class BeforeMain {
 public:
  BeforeMain() {
    g_before_main.small = static_cast<char*>(malloc(100));
    g_before_main.large = static_cast<char*>(malloc(3 << 20));
    g_before_main.object = new std::string(200, 'x');
    if (g_before_main.small != nullptr) memset(g_before_main.small, 0x11, 100);
    if (g_before_main.large != nullptr) {
      memset(g_before_main.large, 0x22, 3 << 20);
    }
  }
};
BeforeMain g_allocate_before_main;

}  // namespace
}  // namespace scenarios
}  // namespace elfmalloc
}  // namespace allocators

int main(int argc, char** argv) {
  namespace sc = allocators::elfmalloc::scenarios;
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (const auto category : sc::kCategories) {
      for (const sc::Scenario& s : category()) printf("%s\n", s.name);
    }
    return 0;
  }
  if (argc != 2) {
    fprintf(stderr, "usage: scenario_probe NAME | --list\n");
    return 2;
  }
  if (const sc::Scenario* s = sc::FindScenario(argv[1])) {
    s->run();
    return 0;
  }
  for (auto children : {sc::LifecycleChildren, sc::InvalidFreeChildren}) {
    for (const sc::ProbeChild& c : children()) {
      if (strcmp(c.name, argv[1]) == 0) {
        c.run();
        return 0;
      }
    }
  }
  fprintf(stderr, "scenario_probe: unknown scenario %s\n", argv[1]);
  return 2;
}
