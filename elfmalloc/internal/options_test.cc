// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The ELFMALLOC_* parser: every variable with good and bad values, the exact
// warning lines (captured through a pipe), and GetOptions' parse-once
// behaviour under concurrent first calls.

#include "elfmalloc/internal/options.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

// Everything a pipe's read end holds once the write end is closed.
std::string Drain(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  return out;
}

struct Parsed {
  Options options;
  int bad = 0;
  std::string warnings;
};

Parsed Parse(std::vector<const char*> env) {
  env.push_back(nullptr);
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  Parsed r;
  r.bad = ParseOptions(env.data(), &r.options, fds[1]);
  close(fds[1]);
  r.warnings = Drain(fds[0]);
  close(fds[0]);
  return r;
}

// Parses one "NAME=value" entry.
Parsed Parse1(const std::string& entry) { return Parse({entry.c_str()}); }

size_t Lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

void ExpectDefaults(const Options& o) {
  EXPECT_FALSE(o.show_stats);
  EXPECT_FALSE(o.verbose);
  EXPECT_EQ(o.decay_ms, kDefaultDecayMs);
  EXPECT_FALSE(o.secure);
  EXPECT_EQ(o.magazine_size, 0);
  EXPECT_EQ(o.dirty_max_mb, 256);
  EXPECT_EQ(o.reuse_threshold_ppm, kDefaultReuseThresholdPpm);
  EXPECT_DOUBLE_EQ(o.reuse_threshold(), 0.25);
  EXPECT_FALSE(o.background_thread);
  EXPECT_EQ(o.sample_rate, 0);
  EXPECT_FALSE(o.backtrace);
}

TEST(OptionsTest, DefaultsWithoutVariables) {
  Parsed r = Parse({"PATH=/usr/bin", "HOME=/root", "NOEQUALS"});
  ExpectDefaults(r.options);
  EXPECT_EQ(r.bad, 0);
  EXPECT_EQ(r.warnings, "");

  Options o;
  o.decay_ms = 5;
  o.verbose = true;
  EXPECT_EQ(ParseOptions(nullptr, &o, -1), 0);
  ExpectDefaults(o);  // reset even with no environment
}

TEST(OptionsTest, Bools) {
  const std::vector<std::string> names = {
      "ELFMALLOC_SHOW_STATS", "ELFMALLOC_VERBOSE", "ELFMALLOC_SECURE",
      "ELFMALLOC_BACKGROUND_THREAD", "ELFMALLOC_BACKTRACE"};
  auto field = [](const Options& o, size_t i) {
    return i == 0   ? o.show_stats
           : i == 1 ? o.verbose
           : i == 2 ? o.secure
           : i == 3 ? o.background_thread
                    : o.backtrace;
  };
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE(names[i]);
    for (const char* v : {"1", "true", "TRUE", "True", "yes", "YeS", "on",
                          "ON"}) {
      Parsed r = Parse1(names[i] + "=" + v);
      EXPECT_TRUE(field(r.options, i)) << v;
      EXPECT_EQ(r.bad, 0) << v;
      EXPECT_EQ(r.warnings, "") << v;
    }
    for (const char* v : {"0", "false", "FALSE", "no", "No", "off", "oFF"}) {
      // Accepted (no warning) and false.
      Parsed r = Parse1(names[i] + "=" + v);
      EXPECT_FALSE(field(r.options, i)) << v;
      EXPECT_EQ(r.bad, 0) << v;
    }
    for (const char* v : {"2", "maybe", "tru", "yes ", " 1", "01", "-1",
                          "onn", "o"}) {
      Parsed r = Parse1(names[i] + "=" + v);
      EXPECT_FALSE(field(r.options, i)) << v;
      EXPECT_EQ(r.bad, 1) << v;
      EXPECT_EQ(r.warnings, "elfmalloc: ignoring " + names[i] + "=" + v +
                                " (expected 1/0, true/false, yes/no or "
                                "on/off); using false\n");
    }
  }
}

TEST(OptionsTest, DecayMs) {
  const std::vector<std::pair<const char*, int64_t>> good = {
      {"-1", -1}, {"0", 0}, {"1", 1}, {"250", 250}, {"+5", 5},
      {"3600000", 3600000}, {"0003", 3}};
  for (const auto& [text, want] : good) {
    Parsed r = Parse1(std::string("ELFMALLOC_DECAY_MS=") + text);
    EXPECT_EQ(r.options.decay_ms, want) << text;
    EXPECT_EQ(r.bad, 0) << text;
    EXPECT_EQ(r.warnings, "") << text;
  }
  for (const char* text :
       {"abc", "-2", "3600001", "10ms", " 10", "10 ", "1e3", "-", "+",
        "99999999999999999999999999", "-99999999999999999999", "1.5",
        "0x10"}) {
    Parsed r = Parse1(std::string("ELFMALLOC_DECAY_MS=") + text);
    EXPECT_EQ(r.options.decay_ms, kDefaultDecayMs) << text;
    EXPECT_EQ(r.bad, 1) << text;
    EXPECT_EQ(r.warnings, std::string("elfmalloc: ignoring ELFMALLOC_DECAY_MS=") +
                              text +
                              " (expected an integer in [-1, 3600000]); "
                              "using 100\n");
  }
}

TEST(OptionsTest, MagazineSize) {
  for (int64_t v : {0, 1, 2, 64, 1000, 65536}) {
    Parsed r = Parse1("ELFMALLOC_MAGAZINE_SIZE=" + std::to_string(v));
    EXPECT_EQ(r.options.magazine_size, v);
    EXPECT_EQ(r.bad, 0);
  }
  for (const char* text : {"65537", "-1", "big", "64k"}) {
    Parsed r = Parse1(std::string("ELFMALLOC_MAGAZINE_SIZE=") + text);
    EXPECT_EQ(r.options.magazine_size, 0) << text;
    EXPECT_EQ(r.warnings,
              std::string("elfmalloc: ignoring ELFMALLOC_MAGAZINE_SIZE=") +
                  text + " (expected an integer in [0, 65536]); using 0\n");
  }
}

TEST(OptionsTest, DirtyMaxMb) {
  for (int64_t v : {0, 1, 256, 4096, 1048576}) {
    Parsed r = Parse1("ELFMALLOC_DIRTY_MAX_MB=" + std::to_string(v));
    EXPECT_EQ(r.options.dirty_max_mb, v);
    EXPECT_EQ(r.bad, 0);
  }
  for (const char* text : {"1048577", "-1", "256M", "lots"}) {
    Parsed r = Parse1(std::string("ELFMALLOC_DIRTY_MAX_MB=") + text);
    EXPECT_EQ(r.options.dirty_max_mb, 256) << text;
    EXPECT_EQ(r.warnings,
              std::string("elfmalloc: ignoring ELFMALLOC_DIRTY_MAX_MB=") +
                  text + " (expected an integer in [0, 1048576]); using 256\n");
  }
}

TEST(OptionsTest, ReuseThreshold) {
  const std::vector<std::pair<const char*, int64_t>> good = {
      {"60", 600000},      {"60%", 600000},    {"0", 0},
      {"100", 1000000},    {"1", 10000},       {"0.5", 500000},
      {".25", 250000},     {"1.0", 1000000},   {"1.", 1000000},
      {"0.0", 0},          {"0.6666667", 666666}, {"0.125", 125000},
      {"1.000000000", 1000000}};
  for (const auto& [text, want] : good) {
    Parsed r = Parse1(std::string("ELFMALLOC_REUSE_THRESHOLD=") + text);
    EXPECT_EQ(r.options.reuse_threshold_ppm, want) << text;
    EXPECT_EQ(r.bad, 0) << text;
    EXPECT_EQ(r.warnings, "") << text;
  }
  EXPECT_DOUBLE_EQ(
      Parse1("ELFMALLOC_REUSE_THRESHOLD=0.75").options.reuse_threshold(), 0.75);
  for (const char* text : {"101", "1.01", "2.0", "0.5.1", ".", "abc", "50%%",
                           "-0.5", "-5", "0,5", "50 %", "%",
                           "99999999999999999999.5"}) {
    Parsed r = Parse1(std::string("ELFMALLOC_REUSE_THRESHOLD=") + text);
    EXPECT_EQ(r.options.reuse_threshold_ppm, kDefaultReuseThresholdPpm) << text;
    EXPECT_EQ(r.bad, 1) << text;
    EXPECT_EQ(r.warnings,
              std::string("elfmalloc: ignoring ELFMALLOC_REUSE_THRESHOLD=") +
                  text +
                  " (expected a percentage in [0, 100] or a fraction in "
                  "[0.0, 1.0]); using 25%\n");
  }
}

TEST(OptionsTest, AllTogether) {
  Parsed r = Parse({"ELFMALLOC_SHOW_STATS=1", "ELFMALLOC_VERBOSE=on",
                    "ELFMALLOC_DECAY_MS=0", "ELFMALLOC_SECURE=yes",
                    "ELFMALLOC_MAGAZINE_SIZE=128", "ELFMALLOC_DIRTY_MAX_MB=64",
                    "ELFMALLOC_REUSE_THRESHOLD=0.8"});
  EXPECT_EQ(r.bad, 0);
  EXPECT_EQ(r.warnings, "");
  EXPECT_TRUE(r.options.show_stats);
  EXPECT_TRUE(r.options.verbose);
  EXPECT_EQ(r.options.decay_ms, 0);
  EXPECT_TRUE(r.options.secure);
  EXPECT_EQ(r.options.magazine_size, 128);
  EXPECT_EQ(r.options.dirty_max_mb, 64);
  EXPECT_EQ(r.options.reuse_threshold_ppm, 800000);
}

TEST(OptionsTest, OneLinePerBadValueAndGoodOnesStillApply) {
  Parsed r = Parse({"ELFMALLOC_DECAY_MS=soon", "ELFMALLOC_VERBOSE=1",
                    "ELFMALLOC_DIRTY_MAX_MB=-3", "ELFMALLOC_SECURE=perhaps"});
  EXPECT_EQ(r.bad, 3);
  EXPECT_EQ(Lines(r.warnings), 3u);
  EXPECT_TRUE(r.options.verbose);
  EXPECT_EQ(r.options.decay_ms, kDefaultDecayMs);
  EXPECT_EQ(r.options.dirty_max_mb, 256);
  EXPECT_FALSE(r.options.secure);
  EXPECT_NE(r.warnings.find("ELFMALLOC_DECAY_MS=soon"), std::string::npos);
  EXPECT_NE(r.warnings.find("ELFMALLOC_DIRTY_MAX_MB=-3"), std::string::npos);
  EXPECT_NE(r.warnings.find("ELFMALLOC_SECURE=perhaps"), std::string::npos);
}

TEST(OptionsTest, FirstOccurrenceWins) {
  Parsed r = Parse({"ELFMALLOC_DECAY_MS=5", "ELFMALLOC_DECAY_MS=7",
                    "ELFMALLOC_VERBOSE=0", "ELFMALLOC_VERBOSE=1"});
  EXPECT_EQ(r.options.decay_ms, 5);
  EXPECT_FALSE(r.options.verbose);
  // A bad first occurrence is reported and the later good one is ignored,
  // as getenv(3) would only ever see the first.
  r = Parse({"ELFMALLOC_DECAY_MS=x", "ELFMALLOC_DECAY_MS=7"});
  EXPECT_EQ(r.options.decay_ms, kDefaultDecayMs);
  EXPECT_EQ(r.bad, 1);
}

TEST(OptionsTest, EmptyValueIsUnset) {
  Parsed r = Parse({"ELFMALLOC_DECAY_MS=", "ELFMALLOC_VERBOSE=",
                    "ELFMALLOC_REUSE_THRESHOLD="});
  ExpectDefaults(r.options);
  EXPECT_EQ(r.bad, 0);
  EXPECT_EQ(r.warnings, "");
}

TEST(OptionsTest, NonOptionsAreIgnoredSilently) {
  // The test and benchmark programs' own variables, other prefixes, entries
  // without '=' and empty values.
  Parsed r = Parse({"ELFMALLOC_TEST_SCALE=full", "ELFMALLOC_BENCH_ITERS=5",
                    "ELFMALLOC_STRESS_SECONDS=60", "XELFMALLOC_DECAY_MS=5",
                    "ELFMALLOC_DECAY_MS", "ELFMALLOC_",
                    "ELFMALLOC_DECAY=", "elfmalloc_decay_ms=5"});
  ExpectDefaults(r.options);
  EXPECT_EQ(r.bad, 0);
  EXPECT_EQ(r.warnings, "");
}

TEST(OptionsTest, UnknownNameNamesTheClosestOption) {
  const std::vector<std::pair<const char*, const char*>> typos = {
      {"ELFMALLOC_DECAY=0", "ELFMALLOC_DECAY_MS"},        // 3 missing
      {"ELFMALLOC_DECAY_MS_X=5", "ELFMALLOC_DECAY_MS"},   // 2 extra
      {"ELFMALLOC_DEACY_MS=5", "ELFMALLOC_DECAY_MS"},     // a swap
      {"ELFMALLOC_decay_ms=5", "ELFMALLOC_DECAY_MS"},     // case
      {"ELFMALLOC_SHOWSTATS=1", "ELFMALLOC_SHOW_STATS"},  // 1 missing
      {"ELFMALLOC_VERBOS=1", "ELFMALLOC_VERBOSE"},
      {"ELFMALLOC_MAGAZINE_SIZ=8", "ELFMALLOC_MAGAZINE_SIZE"},
      {"ELFMALLOC_DIRTY_MAX_MIB=8", "ELFMALLOC_DIRTY_MAX_MB"},
      {"ELFMALLOC_REUSE_TRESHOLD=50", "ELFMALLOC_REUSE_THRESHOLD"},
      {"ELFMALLOC_BACKGROUND_THREADS=1", "ELFMALLOC_BACKGROUND_THREAD"},
      {"ELFMALLOC_SECURED=1", "ELFMALLOC_SECURE"},
  };
  for (const auto& [entry, closest] : typos) {
    Parsed r = Parse1(entry);
    ExpectDefaults(r.options);
    EXPECT_EQ(r.bad, 1) << entry;
    EXPECT_EQ(r.warnings, std::string("elfmalloc: ignoring unknown option ") +
                              entry + " (did you mean " + closest + "?)\n");
  }
}

TEST(OptionsTest, UnknownNameWithAPrefixMatch) {
  // Too far for the edit distance, but one name begins the other.
  const std::vector<std::pair<const char*, const char*>> prefixes = {
      {"ELFMALLOC_BACKGROUND=1", "ELFMALLOC_BACKGROUND_THREAD"},
      {"ELFMALLOC_REUSE=0.5", "ELFMALLOC_REUSE_THRESHOLD"},
      {"ELFMALLOC_VERBOSE_LEVEL=2", "ELFMALLOC_VERBOSE"},
      {"ELFMALLOC_MAGAZINE=16", "ELFMALLOC_MAGAZINE_SIZE"},
  };
  for (const auto& [entry, closest] : prefixes) {
    Parsed r = Parse1(entry);
    EXPECT_EQ(r.bad, 1) << entry;
    EXPECT_EQ(r.warnings, std::string("elfmalloc: ignoring unknown option ") +
                              entry + " (did you mean " + closest + "?)\n");
  }
}

TEST(OptionsTest, FarOffUnknownNameSuggestsNothing) {
  // "ELFMALLOC_DEC" is a prefix of DECAY_MS, but shorter than 4 characters
  // after "ELFMALLOC_"; "ELFMALLOC_X" is 5 edits from SECURE.
  for (const char* entry :
       {"ELFMALLOC_PROFILE_SAMPLING=1", "ELFMALLOC_COLOUR=red",
        "ELFMALLOC_DEC=5", "ELFMALLOC_X=1", "ELFMALLOC_=1"}) {
    Parsed r = Parse1(entry);
    ExpectDefaults(r.options);
    EXPECT_EQ(r.bad, 1) << entry;
    EXPECT_EQ(r.warnings, std::string("elfmalloc: ignoring unknown option ") +
                              entry + "\n");
  }
}

TEST(OptionsTest, UnknownNameWarnsOnceAndGoodOnesStillApply) {
  Parsed r = Parse({"ELFMALLOC_DECAY=0", "ELFMALLOC_DECAY_MS=250",
                    "ELFMALLOC_DECAY=1", "ELFMALLOC_DECAY2=1"});
  EXPECT_EQ(r.options.decay_ms, 250);
  EXPECT_EQ(r.bad, 2);
  EXPECT_EQ(r.warnings,
            "elfmalloc: ignoring unknown option ELFMALLOC_DECAY=0 (did you "
            "mean ELFMALLOC_DECAY_MS?)\n"
            "elfmalloc: ignoring unknown option ELFMALLOC_DECAY2=1 (did you "
            "mean ELFMALLOC_DECAY_MS?)\n");
}

TEST(OptionsTest, LongUnknownNameAndValueAreShortened) {
  const std::string name = "ELFMALLOC_" + std::string(100, 'Q');
  const std::string value(100, 'v');
  Parsed r = Parse1(name + "=" + value);
  EXPECT_EQ(r.bad, 1);
  EXPECT_EQ(r.warnings, "elfmalloc: ignoring unknown option " +
                            name.substr(0, 64) + "...=" + std::string(64, 'v') +
                            "...\n");
}

TEST(OptionsTest, LongBadValueIsShortenedToOneLine) {
  const std::string value(5000, '7');
  Parsed r = Parse1("ELFMALLOC_DECAY_MS=" + value);
  EXPECT_EQ(r.bad, 1);
  EXPECT_EQ(r.warnings, "elfmalloc: ignoring ELFMALLOC_DECAY_MS=" +
                            std::string(64, '7') +
                            "... (expected an integer in [-1, 3600000]); "
                            "using 100\n");
}

TEST(OptionsTest, NoWarningsWithNegativeFd) {
  const char* env[] = {"ELFMALLOC_DECAY_MS=bad", nullptr};
  Options o;
  EXPECT_EQ(ParseOptions(env, &o, -1), 1);
  EXPECT_EQ(o.decay_ms, kDefaultDecayMs);
}

// The only test that calls GetOptions: the process parses once, and racing
// first callers all see the same values with one warning in total.
TEST(OptionsTest, GetOptionsParsesEnvironOnce) {
  ASSERT_EQ(setenv("ELFMALLOC_DECAY_MS", "250", 1), 0);
  ASSERT_EQ(setenv("ELFMALLOC_VERBOSE", "bogus", 1), 0);
  ASSERT_EQ(setenv("ELFMALLOC_DIRTY_MAX_MB", "32", 1), 0);

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const int saved_stderr = dup(STDERR_FILENO);
  ASSERT_GE(saved_stderr, 0);
  ASSERT_EQ(dup2(fds[1], STDERR_FILENO), STDERR_FILENO);

  constexpr int kThreads = 8;
  std::vector<Options> seen(kThreads);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) {
      }
      seen[i] = GetOptions();
    });
  }
  for (std::thread& t : threads) t.join();

  // Changing the environment later changes nothing: parsed once.
  ASSERT_EQ(setenv("ELFMALLOC_DECAY_MS", "500", 1), 0);
  ASSERT_EQ(setenv("ELFMALLOC_VERBOSE", "alsobad", 1), 0);
  const Options later = GetOptions();

  ASSERT_EQ(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
  close(saved_stderr);
  close(fds[1]);
  const std::string warnings = Drain(fds[0]);
  close(fds[0]);

  for (const Options& o : seen) {
    EXPECT_EQ(o.decay_ms, 250);
    EXPECT_EQ(o.dirty_max_mb, 32);
    EXPECT_FALSE(o.verbose);
  }
  EXPECT_EQ(later.decay_ms, 250);
  EXPECT_EQ(later.dirty_max_mb, 32);
  EXPECT_EQ(warnings,
            "elfmalloc: ignoring ELFMALLOC_VERBOSE=bogus (expected 1/0, "
            "true/false, yes/no or on/off); using false\n");
}

}  // namespace
}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
