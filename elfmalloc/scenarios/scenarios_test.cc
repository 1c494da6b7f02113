// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Runs every scenario of scenario_probe (scenario.h: API edge cases,
// invalid frees, exhaustion, concurrency, lifecycle) in a child process
// with LD_PRELOAD=<library> and checks the expectation the scenario's table
// entry carries: the exit status or the signal, the probe's result line,
// numeric limits, and for invalid-pointer scenarios the exact one-line
// diagnostic "elfmalloc: <function>(): <what> 0x<pointer>" naming the
// pointer the probe passed.
//
// Usage (see BUILD): scenarios_test LIBRARY PROBE PLUGIN INTERPOSER
// [gtest flags]; PLUGIN and INTERPOSER are the libraries of the
// dlopen_plugin and interposer_dlsym scenarios.

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "elfmalloc/scenarios/scenario.h"
#include "gtest/gtest.h"

namespace allocators {
namespace elfmalloc {
namespace scenarios {

// gtest prints a failing case's parameter: the scenario's name.
void PrintTo(const Scenario& s, std::ostream* os) { *os << s.name; }

namespace {

std::string g_library;  // absolute path of the preloaded library
std::string g_probe;    // absolute path of scenario_probe

// Every scenario of every category, in order.
std::vector<Scenario> AllScenarios() {
  std::vector<Scenario> all;
  for (const auto category : kCategories) {
    for (const Scenario& s : category()) all.push_back(s);
  }
  return all;
}

// What one run of the probe left behind (used by one thread).
struct ProbeRun {
  bool timed_out = false;
  int status = 0;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Runs `probe name` with LD_PRELOAD=library, stdout and stderr to files.
ProbeRun RunProbe(const std::string& name, int timeout_s) {
  const char* tmp = getenv("TEST_TMPDIR");
  const std::string base = std::string(tmp != nullptr ? tmp : "/tmp") +
                           "/scenario_" + name + "_" + std::to_string(getpid());
  const std::string out_path = base + ".out";
  const std::string err_path = base + ".err";
  ProbeRun run;
  const pid_t pid = fork();
  if (pid == 0) {
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
    setenv("LD_PRELOAD", g_library.c_str(), 1);
    execl(g_probe.c_str(), g_probe.c_str(), name.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << strerror(errno);
    return run;
  }
  const timespec tick = {0, 10 * 1000 * 1000};
  for (long waited = 0;; ++waited) {
    const pid_t r = waitpid(pid, &run.status, WNOHANG);
    if (r == pid) break;
    if (waited >= timeout_s * 100L) {
      kill(pid, SIGKILL);
      waitpid(pid, &run.status, 0);
      run.timed_out = true;
      break;
    }
    nanosleep(&tick, nullptr);
  }
  run.out = ReadFile(out_path);
  run.err = ReadFile(err_path);
  unlink(out_path.c_str());
  unlink(err_path.c_str());
  return run;
}

std::string Describe(const ProbeRun& run) {
  std::ostringstream s;
  if (WIFEXITED(run.status)) {
    s << "exit " << WEXITSTATUS(run.status);
  } else if (WIFSIGNALED(run.status)) {
    s << "signal " << WTERMSIG(run.status) << " ("
      << strsignal(WTERMSIG(run.status)) << ")";
  }
  s << "\n--- stdout ---\n" << run.out << "--- stderr ---\n" << run.err;
  return s.str();
}

std::string EscapeRegex(const std::string& s) {
  static const std::regex kSpecial(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(s, kSpecial, R"(\$&)");
}

// The value of a "key=value" field of the probe's output, as a number.
bool Field(const std::string& out, const std::string& key, double* value) {
  const std::regex re("(^|\\s)" + key + "=(-?[0-9.]+)");
  std::smatch m;
  if (!std::regex_search(out, m, re)) return false;
  *value = std::stod(m[2].str());
  return true;
}

// Parses a "key<=value;..." limits string into (key, ceiling) pairs;
// false if it is malformed.
bool ParseLimits(const std::string& limits,
                 std::vector<std::pair<std::string, double>>* out) {
  std::stringstream ss(limits);
  std::string item;
  while (std::getline(ss, item, ';')) {
    if (item.empty()) continue;
    const size_t at = item.find("<=");
    if (at == 0 || at == std::string::npos) return false;
    char* end = nullptr;
    const std::string number = item.substr(at + 2);
    const double max = strtod(number.c_str(), &end);
    if (number.empty() || *end != '\0') return false;
    out->emplace_back(item.substr(0, at), max);
  }
  return true;
}

// Checks the ceilings against the probe's output.
void CheckLimits(const std::string& limits, const std::string& out) {
  std::vector<std::pair<std::string, double>> ceilings;
  ASSERT_TRUE(ParseLimits(limits, &ceilings)) << "bad limits " << limits;
  for (const auto& [key, max] : ceilings) {
    double v = 0;
    ASSERT_TRUE(Field(out, key, &v)) << "no field " << key << " in " << out;
    EXPECT_LE(v, max) << key << " in " << out;
  }
}

class ScenarioTest : public testing::TestWithParam<Scenario> {};

TEST_P(ScenarioTest, MeetsExpectation) {
  const Scenario& s = GetParam();
  const Expectation& e = s.expect;
  RecordProperty("reliability_row", s.row);
  const ProbeRun run = RunProbe(s.name, e.timeout_s);
  ASSERT_FALSE(run.timed_out) << "no result after " << e.timeout_s << " s\n"
                              << Describe(run);
  // Exit 2 is the probe's own setup failure, never an allocator outcome.
  ASSERT_FALSE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 2)
      << Describe(run);
  if (e.host_re != nullptr &&
      !std::regex_search(run.out, std::regex(e.host_re))) {
    GTEST_SKIP() << "host-dependent: stdout does not match /" << e.host_re
                 << "/, so this host, not the allocator, decides the outcome "
                    "(probe said: "
                 << run.out << ")";
  }
  if (e.outcome == Outcome::kExit0) {
    ASSERT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0)
        << Describe(run);
    EXPECT_EQ(run.err, "") << Describe(run);
    EXPECT_TRUE(std::regex_search(run.out, std::regex(e.stdout_re)))
        << "stdout does not match /" << e.stdout_re << "/\n"
        << Describe(run);
    CheckLimits(e.limits, run.out);
    return;
  }
  // kAbort: the probe announced the pointer, then must not have survived.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(run.out, m, std::regex("^ptr=(0x[0-9a-f]+)\n")))
      << Describe(run);
  const std::string ptr = m[1].str();
  EXPECT_EQ(run.out.find("survived"), std::string::npos) << Describe(run);
  ASSERT_TRUE(WIFSIGNALED(run.status) && WTERMSIG(run.status) == SIGABRT)
      << Describe(run);
  const std::string want = std::regex_replace(
      std::string(e.stderr_re), std::regex("\\{ptr\\}"), EscapeRegex(ptr));
  EXPECT_TRUE(std::regex_match(run.err, std::regex(want + "\n")))
      << "stderr is not exactly one line /" << want << "/\n"
      << Describe(run);
}

INSTANTIATE_TEST_SUITE_P(Reliability, ScenarioTest,
                         testing::ValuesIn(AllScenarios()),
                         [](const testing::TestParamInfo<Scenario>& info) {
                           return std::string(info.param.name);
                         });

// Every entry is one the runner can check: a unique name, a row of
// info/reliability.md, regexes that compile, limits that parse, and the
// fields its outcome needs.
TEST(ScenarioTableTest, EntriesAreWellFormed) {
  std::set<std::string> names;
  for (const Scenario& s : AllScenarios()) {
    SCOPED_TRACE(s.name);
    EXPECT_TRUE(names.insert(s.name).second) << "duplicate name";
    EXPECT_TRUE(s.row >= 0 && s.row <= 40) << s.row;
    EXPECT_NE(s.run, nullptr);
    const Expectation& e = s.expect;
    EXPECT_GT(e.timeout_s, 0);
    std::vector<std::pair<std::string, double>> ceilings;
    EXPECT_TRUE(e.limits != nullptr && ParseLimits(e.limits, &ceilings));
    const char* needed =
        e.outcome == Outcome::kExit0 ? e.stdout_re : e.stderr_re;
    const char* unused =
        e.outcome == Outcome::kExit0 ? e.stderr_re : e.stdout_re;
    ASSERT_NE(needed, nullptr);
    EXPECT_EQ(unused, nullptr);
    std::string re = needed;
    if (e.outcome == Outcome::kAbort) {
      // The runner puts the announced pointer in place of {ptr}.
      const size_t at = re.find("{ptr}");
      ASSERT_NE(at, std::string::npos) << re;
      re.replace(at, 5, "0x1234");
      EXPECT_TRUE(ceilings.empty());
    }
    EXPECT_NO_THROW(std::regex{re}) << re;
    if (e.host_re != nullptr) {
      EXPECT_NO_THROW(std::regex{e.host_re}) << e.host_re;
    }
  }
  EXPECT_EQ(names.count("preloaded"), 1u);
}

// The probe binary under test runs the same tables: --list names them all.
TEST(ScenarioTableTest, ProbeListsEveryScenario) {
  const std::string list_path =
      std::string(getenv("TEST_TMPDIR") != nullptr ? getenv("TEST_TMPDIR")
                                                   : "/tmp") +
      "/scenario_list_" + std::to_string(getpid());
  const std::string cmd = "'" + g_probe + "' --list > '" + list_path + "'";
  ASSERT_EQ(system(cmd.c_str()), 0);
  std::vector<std::string> listed;
  std::stringstream ss(ReadFile(list_path));
  unlink(list_path.c_str());
  for (std::string line; std::getline(ss, line);) listed.push_back(line);
  std::vector<std::string> table;
  for (const Scenario& s : AllScenarios()) table.push_back(s.name);
  EXPECT_EQ(listed, table);
}

std::string Absolute(const char* path) {
  char* r = realpath(path, nullptr);
  if (r == nullptr) return "";
  std::string s(r);
  free(r);
  return s;
}

}  // namespace
}  // namespace scenarios
}  // namespace elfmalloc
}  // namespace allocators

int main(int argc, char** argv) {
  namespace sc = allocators::elfmalloc::scenarios;
  testing::InitGoogleTest(&argc, argv);
  if (argc != 5) {
    fprintf(stderr, "usage: %s LIBRARY PROBE PLUGIN INTERPOSER [gtest flags]\n",
            argv[0]);
    return 2;
  }
  sc::g_library = sc::Absolute(argv[1]);
  sc::g_probe = sc::Absolute(argv[2]);
  const std::string plugin = sc::Absolute(argv[3]);
  const std::string interposer = sc::Absolute(argv[4]);
  if (sc::g_library.empty() || sc::g_probe.empty() || plugin.empty() ||
      interposer.empty()) {
    fprintf(stderr, "cannot resolve %s, %s, %s or %s\n", argv[1], argv[2],
            argv[3], argv[4]);
    return 2;
  }
  // The dlopen_plugin and interposer_dlsym scenarios find their libraries
  // here.
  setenv("SCENARIO_PLUGIN", plugin.c_str(), 1);
  setenv("SCENARIO_INTERPOSER", interposer.c_str(), 1);
  return RUN_ALL_TESTS();
}
