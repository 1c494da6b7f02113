// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The scenario lookup and the probe's helpers (scenario.h).

#include "elfmalloc/scenarios/scenario.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <new>
#include <string>

#include "platform/testing/proc.h"

namespace allocators {
namespace elfmalloc {
namespace scenarios {
namespace {

int g_handler_calls = 0;

void CountingHandler() {
  if (++g_handler_calls >= 3) std::set_new_handler(nullptr);
}

}  // namespace

BeforeMainBlocks g_before_main;

const Scenario* FindScenario(const char* name) {
  for (const auto category : kCategories) {
    for (const Scenario& s : category()) {
      if (strcmp(s.name, name) == 0) return &s;
    }
  }
  return nullptr;
}

const char* ErrnoName(int e) {
  switch (e) {
    case 0:
      return "0";
    case ENOMEM:
      return "ENOMEM";
    case EINVAL:
      return "EINVAL";
    case EOVERFLOW:
      return "EOVERFLOW";
    default:
      return "other";
  }
}

double NowSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) +
         static_cast<double>(ts.tv_nsec) * 1e-9;
}

long StatusKiB(const char* field) {
  return static_cast<long>(platform::testing::StatusKib(field));
}

long MeminfoKiB(const char* field) {
  return static_cast<long>(platform::testing::MeminfoKib(field));
}

void SetupFailure(const char* what) {
  fprintf(stderr, "scenario_probe: setup failed: %s (errno %d)\n", what, errno);
  _exit(2);
}

void Result(const std::string& line) {
  printf("%s\n", line.c_str());
  fflush(stdout);
}

void Announce(void* p) {
  printf("ptr=%p\n", p);
  fflush(stdout);
}

void Survived(const char* extra) {
  printf("survived=1 %s\n", extra);
  fflush(stdout);
}

bool CheckFill(const void* p, size_t n, unsigned char b) {
  const unsigned char* c = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) {
    if (c[i] != b) return false;
  }
  return true;
}

FreeSizedFn GetFreeSized() {
  return reinterpret_cast<FreeSizedFn>(dlsym(RTLD_DEFAULT, "free_sized"));
}

FreeAlignedSizedFn GetFreeAlignedSized() {
  return reinterpret_cast<FreeAlignedSizedFn>(
      dlsym(RTLD_DEFAULT, "free_aligned_sized"));
}

bool AllocWorks() {
  bool ok = true;
  for (size_t n : {size_t{16}, size_t{100}, size_t{5000}, size_t{4} << 20}) {
    char* p = static_cast<char*>(malloc(n));
    if (p == nullptr) return false;
    memset(p, 7, n);
    char* q = static_cast<char*>(realloc(p, n * 2));
    if (q == nullptr) {
      free(p);
      return false;
    }
    ok = ok && CheckFill(q, n, 7);
    free(q);
  }
  std::string* s = new std::string(300, 'y');
  ok = ok && s->size() == 300;
  delete s;
  return ok;
}

void InstallCountingNewHandler() {
  g_handler_calls = 0;
  std::set_new_handler(CountingHandler);
}

int NewHandlerCalls() { return g_handler_calls; }

// Runs this program again as `scenario_probe <scenario>`, with `name=value`
// added to its environment, and waits for it (at most 30 s). Its stdout
// and stderr are returned; the exit status is the result.
int RunSelf(const char* scenario, const char* name, const std::string& value,
            std::string* out, std::string* err) {
  char out_path[] = "/tmp/scenario_probe_outXXXXXX";
  char err_path[] = "/tmp/scenario_probe_errXXXXXX";
  const int out_fd = mkstemp(out_path);
  const int err_fd = mkstemp(err_path);
  if (out_fd < 0 || err_fd < 0) SetupFailure("mkstemp");
  unlink(out_path);
  unlink(err_path);
  const pid_t pid = fork();
  if (pid < 0) SetupFailure("fork");
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    setenv(name, value.c_str(), 1);
    alarm(30);  // a deadlock becomes SIGALRM
    execl("/proc/self/exe", "scenario_probe", scenario,
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) SetupFailure("waitpid");
  const auto slurp = [](int fd) {
    std::string s;
    char buf[4096];
    lseek(fd, 0, SEEK_SET);
    for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) s.append(buf, n);
    close(fd);
    return s;
  };
  *out = slurp(out_fd);
  *err = slurp(err_fd);
  return status;
}

std::string StatusName(int status) {
  if (WIFEXITED(status)) return "exit" + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal" + std::to_string(WTERMSIG(status));
  return "other";
}

}  // namespace scenarios
}  // namespace elfmalloc
}  // namespace allocators
