# SPDX-License-Identifier: Apache-2.0 OR MIT
"""Thin wrappers that apply the project's defaults to the C++ rules.

Every package uses these instead of the raw rules, so warning flags and the
benchmark tagging convention live in one place.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")
load("//tools:copts.bzl", "ALLOC_DEFAULT_COPTS", "ALLOC_TEST_COPTS")

def alloc_cc_library(name, copts = [], testonly = False, **kwargs):
    """A library; built without exceptions unless it is testonly.

    Nothing an allocator runs may throw (only operator new, whose one
    exception-using file opts back in with copts = ["-fexceptions"]), and
    code built without exceptions needs no C++ runtime for them.
    """
    mode = [] if testonly else ["-fno-exceptions"]
    cc_library(
        name = name,
        copts = ALLOC_DEFAULT_COPTS + mode + copts,
        testonly = testonly,
        **kwargs
    )

def alloc_cc_test(name, copts = [], deps = [], size = "small", **kwargs):
    """A GoogleTest test; links gtest_main unless the test brings its own main."""
    cc_test(
        name = name,
        copts = ALLOC_TEST_COPTS + copts,
        size = size,
        deps = deps + ["@com_google_googletest//:gtest_main"],
        **kwargs
    )

def alloc_c_test(name, copts = [], size = "small", **kwargs):
    """A test program with its own main (e.g. C code): no GoogleTest."""
    cc_test(
        name = name,
        copts = ALLOC_DEFAULT_COPTS + copts,
        size = size,
        **kwargs
    )

def alloc_benchmark(name, copts = [], deps = [], tags = [], **kwargs):
    """A Google Benchmark binary: testonly, tagged "benchmark", never a test.

    Run it with `./bazelw run -c opt //pkg:name -- --benchmark_...`.
    """
    cc_binary(
        name = name,
        testonly = True,
        copts = ALLOC_DEFAULT_COPTS + copts,
        deps = deps + ["@com_github_google_benchmark//:benchmark_main"],
        tags = tags + ["benchmark"],
        **kwargs
    )

def alloc_fuzzer(name, srcs, deps = [], variants = {"": []}, size = "small", **kwargs):
    """A libFuzzer target, its fuzzer binaries and its corpus replay tests.

    `srcs` define `LLVMFuzzerTestOneInput` (and no main). This makes:

    * for each `suffix: extra_deps` of `variants` (e.g. the two elfmalloc
      front-ends):
      * `<name>_lib<suffix>`: the target as a library (testonly,
        alwayslink), compiled against `extra_deps` (so that headers which
        inline a variant's code, and its defines, see that variant);
      * `<name><suffix>`: the libFuzzer binary, tagged "fuzz" and "manual"
        (`//...` skips it; build it with `--config=fuzz`, which supplies
        clang and -fsanitize=fuzzer-no-link,address; the link adds
        -fsanitize=fuzzer);
      * `<name>_replay_test<suffix>`: a GoogleTest test that runs the target
        over every file of `corpus/<name>/` in this package (committed
        seeds) with //tools/fuzz:replay_main, in every configuration.
    """
    corpus = native.package_name() + "/corpus/" + name
    for suffix, extra in variants.items():
        lib = name + "_lib" + suffix
        cc_library(
            name = lib,
            testonly = True,
            srcs = srcs,
            copts = ALLOC_DEFAULT_COPTS,
            deps = deps + extra,
            linkstatic = True,
            alwayslink = True,
        )
        cc_binary(
            name = name + suffix,
            testonly = True,
            linkopts = ["-fsanitize=fuzzer"],
            tags = ["fuzz", "manual"],
            deps = [":" + lib],
        )
        cc_test(
            name = name + "_replay_test" + suffix,
            size = size,
            args = [corpus],
            copts = ALLOC_TEST_COPTS,
            data = native.glob(["corpus/" + name + "/**"]),
            deps = [":" + lib, "//tools/fuzz:replay_main"],
            **kwargs
        )
