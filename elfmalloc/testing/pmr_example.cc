// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The C++ example of the top README, built and run by
// //elfmalloc:pmr_example_test (keep the two the same).

#include <map>
#include <memory_resource>
#include <string>
#include <vector>

#include "elfmalloc/memory_resource.h"

namespace elf = allocators::elfmalloc;

int main() {
  elf::Heap heap;                                   // pages of its own
  elf::HeapResource<elf::Heap> arena(heap);         // thread-safe resource
  std::pmr::map<int, std::pmr::string> names(&arena);
  names[1] = "one: every node and string lives on the heap";
  std::pmr::vector<int> v(elf::ProcessResource());  // the process heap
  v.push_back(42);
  return names.size() == 1 && v[0] == 42 ? 0 : 1;
}  // names goes, then the heap gives back all its pages at once
