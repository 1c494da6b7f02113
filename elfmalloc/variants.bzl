# SPDX-License-Identifier: Apache-2.0 OR MIT
# Copyright 2026 the allocators authors.
"""Builds of elfmalloc ("variants"), one line each.

A variant is elfmalloc instantiated for one Config type (see
elfmalloc/internal/config.h). ELFMALLOC_VARIANTS lists them; BUILD files
loop over it, so adding a variant is adding one entry:

    suffix       the Bazel target suffix: //elfmalloc:elfmalloc<suffix>
    lib          the library name: lib<lib>.so and lib<lib>.a
    config       the fully qualified C++ Config type
    config_hdr   the header that defines it, from the workspace root
    config_deps  the library that provides config_hdr
    tests        True: the variant runs the shared test suite
    manual       True: built only on request (benchmark-only variants)

elfmalloc_variant() turns one entry into:

    elfmalloc<suffix>      the C++ API (elfmalloc.h) over this build's heap
    malloc<suffix>         malloc/free/... and operator new/delete (and the
                           C extension API), for cc_binary(malloc = ...)
    lib<lib>.so            the preloadable shared library
    lib<lib>.a             the same, with everything below it, as one
                           static archive
    and, with tests, the shared test suite linked against it (tests named
    <test><suffix>).

Both libraries get their code from two generated one-line sources that
instantiate the variant's templates, so no preprocessor define chooses a
variant, and linking two variants into one program fails at link time
(duplicate definitions of the API).
"""

load("@rules_cc//cc:defs.bzl", "cc_binary")
load("//tools:build_defs.bzl", "alloc_c_test", "alloc_cc_library", "alloc_cc_test")
load("//tools:static_archive.bzl", "cc_static_archive")


ELFMALLOC_VARIANTS = [
    struct(suffix = "", lib = "elfmalloc", config = "::allocators::elfmalloc::internal::MagazineConfig", config_hdr = "elfmalloc/internal/config.h", config_deps = [], tests = True, manual = False),
    struct(suffix = "_local", lib = "elfmalloc-l", config = "::allocators::elfmalloc::internal::LocalConfig", config_hdr = "elfmalloc/internal/config.h", config_deps = [], tests = True, manual = False),
    struct(suffix = "_secure", lib = "elfmalloc-secure", config = "::allocators::elfmalloc::internal::HardenedConfig", config_hdr = "elfmalloc/internal/config.h", config_deps = [], tests = True, manual = False),
    # The logging build: the original's event counters, logged per thread
    # and in the statistics report (events_test checks it).
    struct(suffix = "_events", lib = "elfmalloc-events", config = "::allocators::elfmalloc::internal::EventsConfig", config_hdr = "elfmalloc/internal/config.h", config_deps = [], tests = False, manual = False),
    struct(suffix = "_depot", lib = "elfmalloc-depot", config = "::allocators::elfmalloc::internal::DepotConfig", config_hdr = "elfmalloc/internal/config.h", config_deps = [], tests = True, manual = False),
    # Benchmark-only: the default build without its free-time checks, and
    # without its statistics counters, to price each (bench/compare.py).
    struct(suffix = "_nochecks", lib = "elfmalloc-nochecks", config = "::allocators::elfmalloc::testing::NoChecksConfig", config_hdr = "elfmalloc/testing/bench_configs.h", config_deps = ["//elfmalloc:bench_configs"], tests = False, manual = True),
    struct(suffix = "_nostats", lib = "elfmalloc-nostats", config = "::allocators::elfmalloc::testing::NoStatsConfig", config_hdr = "elfmalloc/testing/bench_configs.h", config_deps = ["//elfmalloc:bench_configs"], tests = False, manual = True),
]

# The tests every variant with tests = True runs, linked against its API
# library: name, size, shards, tags. Each is compiled once as <name>_lib.
VARIANT_API_TESTS = [
    ("elfmalloc_test", "medium", 2, []),
    ("elfmalloc_threads_test", "medium", 3, []),
    # Resident-memory measurements: sanitizer shadow memory is resident too
    # and never given back.
    ("elfmalloc_rss_test", "medium", 1, ["noasan", "notsan"]),
    ("elfmalloc_death_test", "medium", 1, []),
    # Random alloc/free/realloc with content checks, cross-thread hand-offs
    # and thread generations; ELFMALLOC_STRESS_SECONDS=<n> (--test_env) for
    # a long run.
    ("elfmalloc_stress_test", "medium", 1, []),
    # Out of memory on every allocation path (fault injection): NULL and
    # ENOMEM, recovery, intact blocks, CheckInvariants.
    ("elfmalloc_oom_test", "medium", 1, []),
    # The C-API conformance suite through prefixed symbols (elf_malloc, ...).
    ("c_api_test", "medium", 1, []),
    # Heaps a program creates and the process-heap handle (heap.h).
    ("heap_test", "medium", 2, []),
    # std::pmr resources and STL allocators (memory_resource.h).
    ("memory_resource_test", "medium", 1, []),
]

# Tests that replace the test program's own malloc (or preload the shared
# library). The sanitizers interpose malloc themselves, so these run in the
# default configuration only.
_NO_SANITIZERS = ["noasan", "notsan"]

def _variant_sources_impl(ctx):
    header = "// Generated by elfmalloc/variants.bzl for %s.\n" % ctx.attr.config
    ctx.actions.write(
        ctx.outputs.api,
        header +
        '#include "elfmalloc/internal/variant.h"\n' +
        '#include "%s"\n' % ctx.attr.config_hdr +
        "ELFMALLOC_DEFINE_API(%s)\n" % ctx.attr.config,
    )
    ctx.actions.write(
        ctx.outputs.malloc,
        header +
        '#include "elfmalloc/malloc_binding.h"\n' +
        '#include "malloc_bind/malloc_bind.h"\n' +
        '#include "%s"\n' % ctx.attr.config_hdr +
        "MALLOC_BIND_DEFINE_C(, ::allocators::elfmalloc::ElfmallocBinding<%s>)\n" % ctx.attr.config +
        "MALLOC_BIND_DEFINE_CXX(::allocators::elfmalloc::ElfmallocBinding<%s>)\n" % ctx.attr.config,
    )

_variant_sources = rule(
    implementation = _variant_sources_impl,
    attrs = {
        "config": attr.string(mandatory = True),
        "config_hdr": attr.string(mandatory = True),
        "api": attr.output(mandatory = True),
        "malloc": attr.output(mandatory = True),
    },
)

def elfmalloc_variant(v):
    """Defines the targets of variant `v` (an ELFMALLOC_VARIANTS entry)."""
    tags = ["manual"] if v.manual else []
    visibility = None if v.manual else ["//visibility:public"]
    api = "elfmalloc" + v.suffix
    malloc = "malloc" + v.suffix
    _variant_sources(
        name = api + "_sources",
        config = v.config,
        config_hdr = v.config_hdr,
        api = api + "_api.cc",
        malloc = api + "_malloc.cc",
        tags = tags,
    )
    alloc_cc_library(
        name = api,
        srcs = [api + "_api.cc"],
        hdrs = [
            "elfmalloc.h",
            "heap.h",
            "memory_resource.h",
        ],
        # No dynamic library of this target: lib<lib>.so below is the
        # preloadable one.
        linkstatic = True,
        # Always linked whole, so two variants in one program collide.
        alwayslink = True,
        tags = tags,
        visibility = visibility,
        deps = [":variant"] + v.config_deps,
    )
    alloc_cc_library(
        name = malloc,
        srcs = [
            api + "_malloc.cc",
            "c_ext.cc",
        ],
        tags = tags,
        visibility = visibility,
        deps = [
            ":" + api,
            ":c_api",
            ":malloc_binding",
            ":options",
            "//alloc_fmt:format",
            "//malloc_bind",
        ] + v.config_deps,
        alwayslink = True,
    )
    cc_binary(
        name = "lib%s.so" % v.lib,
        additional_linker_inputs = ["libelfmalloc.lds"],
        # --as-needed: the C++ runtime is only referenced weakly
        # (malloc_bind/internal/cxx_runtime.h), so it is not a dependency.
        # -static-libgcc: the stack walk's unwinder (platform::CaptureStack)
        # comes with the library, hidden by the version script, so a C
        # program that never loads libgcc_s gets backtraces too.
        linkopts = [
            "-Wl,--version-script=$(location libelfmalloc.lds)",
            "-Wl,--as-needed",
            "-static-libgcc",
        ],
        linkshared = True,
        linkstatic = True,
        tags = tags,
        visibility = visibility,
        deps = [":" + malloc],
    )
    cc_static_archive(
        name = "lib%s_static" % v.lib,
        out = "lib%s.a" % v.lib,
        tags = tags,
        visibility = visibility,
        deps = [":" + malloc],
    )
    if v.tests:
        _variant_tests(v, api, malloc)

def _variant_tests(v, api, malloc):
    so = ":lib%s.so" % v.lib
    for test, size, shards, tags in VARIANT_API_TESTS:
        alloc_cc_test(
            name = test + v.suffix,
            size = size,
            shard_count = shards,
            tags = tags,
            # The test first: the linker reads archives in order, and the
            # test calls into the implementation.
            deps = [":" + test + "_lib", ":" + api],
        )

    # The real override: the test program's malloc and operator new are
    # elfmalloc's (cc_test malloc attribute).
    alloc_cc_test(
        name = "override_test" + v.suffix,
        size = "medium",
        srcs = ["override_test.cc"],
        malloc = ":" + malloc,
        tags = _NO_SANITIZERS,
        deps = [":" + malloc, "//malloc_bind:c_api_conformance"],
    )

    # Out of memory through the real operators.
    alloc_cc_test(
        name = "oom_operators_test" + v.suffix,
        srcs = ["oom_operators_test.cc"],
        malloc = ":" + malloc,
        tags = _NO_SANITIZERS,
        deps = [":" + malloc, "//mmap_alloc:fault_injection"],
    )

    # The C extension API from a C program whose malloc is elfmalloc (the
    # argument is the decay_ms the program must start with).
    alloc_c_test(
        name = "c_ext_test" + v.suffix,
        size = "small",
        srcs = ["c_ext_test.c"],
        args = ["100"],  # kDefaultDecayMs
        malloc = ":" + malloc,
        tags = _NO_SANITIZERS,
        deps = [":c_api", "//platform:proc"],
    )

    # Real programs run with and without LD_PRELOAD must print the same.
    native.sh_test(
        name = "preload_test" + v.suffix,
        size = "large",
        srcs = ["testing/preload_test.sh"],
        args = ["$(location %s)" % so, "$(location :operators_demo)"],
        data = [so, ":operators_demo"],
        tags = _NO_SANITIZERS,
    )

    # The shared library exports exactly the malloc family, the operators
    # and the C extension API.
    native.sh_test(
        name = "exported_symbols_test" + v.suffix,
        srcs = ["testing/exported_symbols_test.sh"],
        args = [
            "$(location %s)" % so,
            "$(location testing/exported_symbols.txt)",
        ],
        data = [so, "testing/exported_symbols.txt"],
        tags = _NO_SANITIZERS,
    )
