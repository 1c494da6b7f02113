// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// measure: runs one command and reports its wall time and the peak resident
// memory of its process tree, for //bench:compare's "programs" table.
//
//   measure [--preload LIB] [--timeout SECONDS] [--stdin FILE]
//           [--stdout FILE] [--report-fd FD] -- COMMAND [ARGS...]
//
// The child gets LD_PRELOAD=LIB (and no LD_PRELOAD without --preload; this
// process itself always runs with the C library's malloc), its standard
// input from FILE (default: /dev/null) and its standard output into FILE
// (default: this process's). When it ends, one line goes to FD (default 2,
// standard error):
//
//   MEASURE status=<exit code, or 128 + signal> seconds=<wall %.6f>
//           user=<s> sys=<s> maxrss_kib=<k> timeout=<0|1>
//
// maxrss_kib is wait4's ru_maxrss: the largest peak RSS of any one process
// of the tree the command started and waited for (the kernel keeps the
// maximum over each process's life, exec included). A process forked from
// the runner's Python would start with Python's 10+ MiB resident, which
// ru_maxrss keeps; this launcher is a small C program, so the floor it adds
// is about that of /bin/true (compare.py checks it against /usr/bin/time).
//
// The child runs in a process group of its own. After --timeout seconds, or
// when this process gets SIGTERM, SIGINT or SIGHUP, the whole group is
// killed (SIGKILL) and the report says timeout=1 for a timeout. Exit status:
// 0 when the report was written, 2 on a bad command line, 1 if the command
// could not be started.

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace allocators {
namespace bench {
namespace {

volatile sig_atomic_t child_group = 0;
volatile sig_atomic_t timed_out = 0;

void KillGroup() {
  if (child_group > 0) kill(-child_group, SIGKILL);
}

void OnAlarm(int) {
  timed_out = 1;
  KillGroup();
}

void OnTerminate(int) { KillGroup(); }

[[noreturn]] void Usage(const char* message) {
  std::fprintf(stderr,
               "measure: %s\nusage: measure [--preload LIB] [--timeout S] "
               "[--stdin FILE] [--stdout FILE] [--report-fd FD] -- COMMAND "
               "[ARGS...]\n",
               message);
  std::exit(2);
}

double Seconds(const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

int Main(int argc, char** argv) {
  const char* preload = nullptr;
  const char* stdin_path = "/dev/null";
  const char* stdout_path = nullptr;
  long timeout = 0;
  int report_fd = 2;
  int i = 1;
  for (; i < argc; ++i) {
    const char* arg = argv[i];
    if (std::strcmp(arg, "--") == 0) {
      ++i;
      break;
    }
    if (i + 1 >= argc) Usage("missing value or command");
    const char* value = argv[++i];
    char* end = nullptr;
    if (std::strcmp(arg, "--preload") == 0) {
      preload = value;
    } else if (std::strcmp(arg, "--stdin") == 0) {
      stdin_path = value;
    } else if (std::strcmp(arg, "--stdout") == 0) {
      stdout_path = value;
    } else if (std::strcmp(arg, "--timeout") == 0) {
      timeout = std::strtol(value, &end, 10);
      if (end == value || *end != '\0' || timeout < 0) Usage("bad --timeout");
    } else if (std::strcmp(arg, "--report-fd") == 0) {
      report_fd = static_cast<int>(std::strtol(value, &end, 10));
      if (end == value || *end != '\0' || report_fd < 0) {
        Usage("bad --report-fd");
      }
    } else {
      Usage("unknown argument");
    }
  }
  if (i >= argc) Usage("no command");
  char** command = argv + i;
  // The report descriptor is this process's alone.
  if (report_fd > 2) fcntl(report_fd, F_SETFD, FD_CLOEXEC);

  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  sigemptyset(&action.sa_mask);
  action.sa_handler = OnTerminate;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);
  action.sa_handler = OnAlarm;
  sigaction(SIGALRM, &action, nullptr);

  timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("measure: fork");
    return 1;
  }
  if (pid == 0) {
    setpgid(0, 0);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGALRM, SIG_DFL);
    const int in = open(stdin_path, O_RDONLY);
    if (in < 0 || dup2(in, 0) < 0) {
      std::perror("measure: --stdin");
      _exit(127);
    }
    if (stdout_path != nullptr) {
      const int out = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out < 0 || dup2(out, 1) < 0) {
        std::perror("measure: --stdout");
        _exit(127);
      }
    }
    if (preload != nullptr) {
      setenv("LD_PRELOAD", preload, 1);
    } else {
      unsetenv("LD_PRELOAD");
    }
    execvp(command[0], command);
    std::fprintf(stderr, "measure: cannot run %s: %s\n", command[0],
                 std::strerror(errno));
    _exit(127);
  }
  // Both sides set the group, so a kill never races the child's setpgid.
  setpgid(pid, pid);
  child_group = pid;
  if (timeout > 0) alarm(static_cast<unsigned>(timeout));

  int status = 0;
  rusage usage;
  std::memset(&usage, 0, sizeof(usage));
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      std::perror("measure: wait4");
      return 1;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  alarm(0);
  child_group = 0;
  const int code = WIFEXITED(status)     ? WEXITSTATUS(status)
                   : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                         : 255;
  const double seconds =
      (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  dprintf(report_fd,
          "MEASURE status=%d seconds=%.6f user=%.6f sys=%.6f maxrss_kib=%ld "
          "timeout=%d\n",
          code, seconds, Seconds(usage.ru_utime), Seconds(usage.ru_stime),
          usage.ru_maxrss, timed_out ? 1 : 0);
  return 0;
}

}  // namespace
}  // namespace bench
}  // namespace allocators

int main(int argc, char** argv) { return allocators::bench::Main(argc, argv); }
