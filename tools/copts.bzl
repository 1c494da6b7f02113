# SPDX-License-Identifier: Apache-2.0 OR MIT
"""Compiler options shared by every package of the monorepo."""

# Warnings are errors in our own code. The only exception:
# -Wno-sign-compare, because GoogleTest's EXPECT_EQ(size_t, int literal)
# pattern would otherwise need a cast at every call site.
ALLOC_DEFAULT_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-sign-compare",
]

# Test code additionally gets the project include root implicitly (Bazel
# already does this); kept separate so tests may relax a warning if needed.
ALLOC_TEST_COPTS = ALLOC_DEFAULT_COPTS
