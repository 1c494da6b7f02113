# SPDX-License-Identifier: Apache-2.0 OR MIT
# Copyright 2026 the allocators authors.
"""Compares elfmalloc with glibc, jemalloc, tcmalloc and mimalloc.

    ./bazelw run -c opt //bench:compare [-- --quick] [-- --threads 1,2,4]

Runs every workload of bench/workloads under every allocator (LD_PRELOAD of
its shared library; glibc is the plain run), interleaved (A B C A B C ...),
`--reps` times at each thread count, and records the workload's own timing,
its throughput and the child's peak RSS (its VmHWM). Every run of a workload
must report the same `check` value, which proves each allocator did the same
work. A peer whose library is not installed is skipped and named.

Prints a table per workload and the geometric means, then writes

  info/elfmalloc-performance.md   method, machine, tables, plots
  info/perf/results.csv           every run
  info/perf/*.svg                 time and peak RSS per workload (gnuplot)

under --out DIR if given; else a full run writes them in the workspace (the
committed report; the current directory outside `bazel run`) and a --quick
run in a fresh temporary directory, whose name it prints.
"""

import argparse
import csv
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

WORKLOADS = [
    "threadtest_small", "threadtest_medium", "shbench", "larson", "prodcons",
    "xmalloc", "cache_thrash", "cache_scratch", "churn_small",
    "realloc_growth", "large_blocks", "containers",
]

LIBDIR = "/usr/lib/x86_64-linux-gnu"
PEERS = [  # name, library
    ("jemalloc", os.path.join(LIBDIR, "libjemalloc.so.2")),
    ("tcmalloc", os.path.join(LIBDIR, "libtcmalloc_minimal.so.4")),
    ("mimalloc", os.path.join(LIBDIR, "libmimalloc.so.2")),
]
OURS = ("elfmalloc", "elfmalloc-l")


def runfile(rel):
  """Path of a Bazel data dependency, from the runfiles tree."""
  here = os.path.dirname(os.path.abspath(__file__))
  roots = [os.environ.get("RUNFILES_DIR"),
           os.path.abspath(sys.argv[0]) + ".runfiles",
           # compare.py itself sits at <runfiles>/allocators/bench/.
           os.path.dirname(os.path.dirname(here))]
  for root in roots:
    if root:
      p = os.path.join(root, "allocators", rel)
      if os.path.exists(p):
        return p
  raise SystemExit("compare: cannot find %s in the runfiles" % rel)


def allocators(wanted, extra=()):
  """[(name, library or None)], in run order, and the names skipped.

  `extra` is [(name, path)] of further libraries to preload (--extra), run
  right after elfmalloc so that A/B comparisons are interleaved closely.
  """
  found = [("glibc", None),
           ("elfmalloc", runfile("elfmalloc/libelfmalloc.so"))]
  for name, path in extra:
    if not os.path.exists(path):
      raise SystemExit("compare: --extra %s: no such file %s" % (name, path))
    found.append((name, os.path.abspath(path)))
  found.append(("elfmalloc-l", runfile("elfmalloc/libelfmalloc-l.so")))
  skipped = []
  for name, lib in PEERS:
    if os.path.exists(lib):
      found.append((name, lib))
    else:
      skipped.append(name)
  if wanted:
    found = [a for a in found if a[0] in wanted]
  return found, skipped


def run_child(binary, lib, threads, scale, pin_cpu=None):
  """Runs one workload; returns (seconds, ops, check, peak RSS KiB).

  `pin_cpu`: a CPU to bind the child to (None: no binding).
  """
  env = dict(os.environ)
  env.pop("LD_PRELOAD", None)
  if lib:
    env["LD_PRELOAD"] = lib
  r_out, w_out = os.pipe()
  r_err, w_err = os.pipe()
  pid = os.fork()
  if pid == 0:
    if pin_cpu is not None:
      os.sched_setaffinity(0, {pin_cpu})
    os.dup2(w_out, 1)
    os.dup2(w_err, 2)
    os.close(r_out)
    os.close(r_err)
    try:
      os.execve(binary, [binary, "--threads", str(threads), "--scale",
                         repr(scale)], env)
    finally:
      os._exit(127)
  os.close(w_out)
  os.close(w_err)
  with os.fdopen(r_out, "rb") as f:
    out = f.read()
  with os.fdopen(r_err, "rb") as f:
    err = f.read()
  _, status, usage = os.wait4(pid, 0)
  code = os.waitstatus_to_exitcode(status)
  if code != 0:
    raise RuntimeError("%s under %s failed (%d): %s" %
                       (os.path.basename(binary), lib or "glibc", code,
                        err.decode(errors="replace")[-500:]))
  fields = {}
  for line in out.decode().splitlines():
    if line.startswith("RESULT "):
      fields = dict(kv.split("=", 1) for kv in line.split()[1:])
  if "seconds" not in fields:
    raise RuntimeError("%s printed no RESULT line" % binary)
  # The workload's own VmHWM; wait4's ru_maxrss also counts this runner's
  # image before the exec, a floor of ~10 MiB that hides small peaks.
  rss = int(fields.get("peak_rss_kib", 0)) or usage.ru_maxrss
  return (float(fields["seconds"]), int(fields["ops"]), fields["check"], rss)


def geomean(xs):
  xs = [x for x in xs if x > 0]
  return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def machine():
  cpu = "unknown CPU"
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          cpu = line.split(":", 1)[1].strip()
          break
  except OSError:
    pass
  with open("/proc/loadavg") as f:
    load = " ".join(f.read().split()[:3])
  return "%s, %d CPUs, %s, %s; load average before: %s" % (
      cpu, os.cpu_count(), platform.system(), platform.release(), load)


def commit(workspace):
  """The short hash of the workspace's git commit, followed by "with
  uncommitted changes" when tracked files outside info/ differ from it;
  None outside a git checkout."""
  def git(*argv):
    r = subprocess.run(["git", "-C", workspace] + list(argv),
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       check=False)
    return r.stdout.decode().strip() if r.returncode == 0 else None
  head = git("rev-parse", "--short", "HEAD")
  if not head:
    return None
  dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".",
              ":(exclude)info")
  return head + (" with uncommitted changes" if dirty else "")


def fmt_ratio(x):
  return "%.2f" % x if x == x else "-"


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  ap.add_argument("--quick", action="store_true",
                  help="seconds-long smoke run: scale 0.05, 1 repetition; "
                  "writes to a fresh temporary directory unless --out")
  ap.add_argument("--threads", default="1,2", help="thread counts, e.g. 1,2,4")
  ap.add_argument("--reps", type=int, default=5)
  ap.add_argument("--scale", type=float, default=1.0)
  ap.add_argument("--allocators", default="",
                  help="comma-separated subset (glibc,elfmalloc,...)")
  ap.add_argument("--workloads", default="", help="comma-separated subset")
  ap.add_argument("--out", default="",
                  help="where info/ goes (default: for a full run the "
                  "workspace under bazel run, else the current directory; "
                  "for --quick a fresh temporary directory)")
  ap.add_argument("--no-plots", action="store_true")
  ap.add_argument("--pin-cpu", type=int, default=None, metavar="CPU",
                  help="CPU that 1-thread runs are bound to (default: the "
                  "first this process may use; -1: none). Virtual CPUs of "
                  "one machine can differ in speed by over 1.5x, so an "
                  "unbound 1-thread run measures which CPU it landed on")
  ap.add_argument("--extra", action="append", default=[],
                  metavar="NAME=LIB",
                  help="also preload LIB under NAME (repeatable), e.g. a "
                  "benchmark-only build such as "
                  "libelfmalloc-nochecks.so; relative paths are taken from "
                  "the workspace")
  args = ap.parse_args()
  if args.quick:
    args.scale = min(args.scale, 0.05)
    args.reps = 1
  threads = [int(t) for t in args.threads.split(",") if t]
  if args.pin_cpu is None:
    args.pin_cpu = min(os.sched_getaffinity(0))
  pin = None if args.pin_cpu < 0 else args.pin_cpu
  wanted = set(a for a in args.allocators.split(",") if a)
  workloads = [w for w in WORKLOADS
               if not args.workloads or w in args.workloads.split(",")]
  extra = []
  for e in args.extra:
    name, sep, path = e.partition("=")
    if not sep or not name or not path:
      raise SystemExit("compare: --extra wants NAME=LIB, got %r" % e)
    if not os.path.isabs(path):
      path = os.path.join(os.environ.get("BUILD_WORKSPACE_DIRECTORY", "."),
                          path)
    extra.append((name, path))
  if extra:
    wanted |= set(n for n, _ in extra) if wanted else set()
  allocs, skipped = allocators(wanted, extra)
  names = [a[0] for a in allocs]
  workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY") or "."
  if args.out:
    out_root = args.out
  elif args.quick:
    # A smoke run must never replace the committed report.
    out_root = tempfile.mkdtemp(prefix="elfmalloc-compare-quick-")
    print("--quick: writing to %s (only a full run writes the committed "
          "report)" % out_root)
  else:
    out_root = workspace
  info = os.path.join(out_root, "info")
  perf = os.path.join(info, "perf")
  os.makedirs(perf, exist_ok=True)

  print("allocators: %s" % ", ".join(names))
  if skipped:
    print("skipped (library not installed): %s" % ", ".join(skipped))
  measured = commit(workspace)
  host = machine()
  rows = []  # every run
  total = len(threads) * args.reps * len(workloads) * len(allocs)
  done = 0
  t0 = time.time()
  for n in threads:
    for rep in range(args.reps):
      for w in workloads:
        binary = runfile("bench/" + w)
        checks = {}
        for name, lib in allocs:  # interleaved: A B C A B C ...
          secs, ops, check, rss = run_child(binary, lib, n, args.scale,
                                            pin if n == 1 else None)
          checks[name] = check
          rows.append(dict(workload=w, threads=n, rep=rep, allocator=name,
                           seconds=secs, ops=ops, check=check, rss_kib=rss))
          done += 1
          sys.stdout.write("\r[%d/%d] %-18s %d thr rep %d %-12s %8.4f s  "
                           "(%.0f s elapsed)" % (done, total, w, n, rep + 1,
                                                 name, secs, time.time() - t0))
          sys.stdout.flush()
        if len(set(checks.values())) != 1:
          raise SystemExit("\ncompare: %s at %d threads did different work "
                           "under different allocators: %s" % (w, n, checks))
  print()

  # Medians per (workload, threads, allocator).
  med = {}
  for w in workloads:
    for n in threads:
      for a in names:
        rs = [r for r in rows
              if r["workload"] == w and r["threads"] == n and r["allocator"] == a]
        med[w, n, a] = (statistics.median(r["seconds"] for r in rs),
                        statistics.median(r["rss_kib"] for r in rs),
                        rs[0]["ops"])
  extra_names = set(n for n, _ in extra)
  peers = [a for a in names
           if a not in OURS and a != "glibc" and a not in extra_names]

  lines = []
  def emit(s=""):
    print(s)
    lines.append(s)

  for n in threads:
    emit("### %d thread%s" % (n, "" if n == 1 else "s"))
    emit()
    header = "| workload | " + " | ".join(
        "%s s (x glibc) | RSS MiB" % a for a in names) + " | elfmalloc / best peer |"
    emit(header)
    emit("|" + "---|" * (2 * len(names) + 2))
    for w in workloads:
      base = med[w, n, "glibc"][0] if "glibc" in names else float("nan")
      cells = []
      for a in names:
        s, rss, _ = med[w, n, a]
        cells.append("%.4f (%s) | %.1f" % (s, fmt_ratio(s / base), rss / 1024))
      best_peer = min((med[w, n, p][0] for p in peers), default=float("nan"))
      ours = med[w, n, "elfmalloc"][0] if "elfmalloc" in names else float("nan")
      emit("| %s | %s | %s |" % (w, " | ".join(cells),
                                 fmt_ratio(ours / best_peer)))
    emit()
    emit("Geometric means at %d thread%s (time ratio; RSS ratio):" %
         (n, "" if n == 1 else "s"))
    emit()
    for a in names:
      parts = []
      for ref in ("glibc", "mimalloc"):
        if ref in names and ref != a:
          parts.append("time/%s %.3f, RSS/%s %.3f" % (
              ref, geomean([med[w, n, a][0] / med[w, n, ref][0]
                            for w in workloads]),
              ref, geomean([med[w, n, a][1] / max(med[w, n, ref][1], 1)
                            for w in workloads])))
      if parts:
        emit("- %s: %s" % (a, "; ".join(parts)))
    emit()

  # CSV of every run.
  csv_path = os.path.join(perf, "results.csv")
  with open(csv_path, "w", newline="") as f:
    wr = csv.DictWriter(f, fieldnames=["workload", "threads", "rep",
                                       "allocator", "seconds", "ops", "check",
                                       "rss_kib"])
    wr.writeheader()
    wr.writerows(rows)

  plots = []
  if not args.no_plots and shutil.which("gnuplot"):
    plots = make_plots(perf, workloads, threads, names, med)

  cmd = "./bazelw run -c opt //bench:compare" + (
      " -- " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
  md = os.path.join(info, "elfmalloc-performance.md")
  with open(md, "w") as f:
    f.write("# elfmalloc performance\n\n")
    f.write("Produced by `%s`%s.\n\n" % (
        cmd, " at commit %s" % measured if measured else ""))
    f.write("## Method\n\n")
    f.write(
        "Each workload in `bench/workloads/` is a small program that times "
        "its own measured part and prints a checksum of its work. The runner "
        "starts it once per allocator (glibc: plain; others: `LD_PRELOAD` of "
        "the shared library), interleaving allocators within each repetition "
        "so that machine noise spreads evenly, %d repetition(s) per thread "
        "count, scale %g. Cells are medians: seconds of the measured part, "
        "the ratio to glibc in parentheses, and the child's peak resident "
        "memory (`VmHWM`, reported by the workload itself). The last column "
        "is elfmalloc's time over the fastest peer's. Every allocator's "
        "checksum must agree. %s\n\n" %
        (args.reps, args.scale,
         "1-thread runs are bound to CPU %d (the virtual CPUs of a shared "
         "machine can differ in speed; unbound, a 1-thread time depends on "
         "where the scheduler put it); runs with more threads are not "
         "bound." % pin if pin is not None else "No run is bound to a CPU."))
    f.write("Machine: %s.\n\n" % host)
    if skipped:
      f.write("Skipped (not installed): %s.\n\n" % ", ".join(skipped))
    f.write("## Results\n\n")
    f.write("\n".join(lines) + "\n")
    f.write("\n".join(targets_section(workloads, threads, names, med)) + "\n")
    if plots:
      f.write("## Plots\n\n")
      for p in plots:
        f.write("![%s](perf/%s)\n\n" % (p, p))
    f.write("Raw data: [perf/results.csv](perf/results.csv).\n")
  print("wrote %s, %s%s" % (md, csv_path,
                            (" and %d plots" % len(plots)) if plots else ""))


# Why elfmalloc misses a target on a workload, from profiling (perf record
# -e cpu-clock on this machine). Printed under "Targets" for each workload
# that misses; keep it in step with the code.
_LAYOUT = (
    "elfmalloc's size classes are powers of two above 256 B (up to 50% "
    "slack) and each class has its own slags, so a mixed-size working set "
    "spans more cache lines and pages than with mimalloc's or tcmalloc's "
    "finer classes. Four classes per doubling were tried: "
    "shbench 13% less RSS and 10% faster, but xmalloc's 2-thread RSS rose "
    "31% (a slag and a magazine per class per thread) and realloc_growth "
    "ran 15% slower, so they are not in")

WHY = {
    "cache_scratch": (
        "passive false sharing, if it shows again: a MagazineCache would keep "
        "the object another thread allocated (and freed here) and hand it "
        "out again, so two threads write one cache line; a cache's first "
        "free of another slag's object therefore goes back to that slag. At "
        "1 thread the workload is the same loop for every allocator"),
    "threadtest_small": (
        "about 1.4-1.5x mimalloc, whose per-page free lists keep the reused "
        "objects denser. At 2 threads the idle-cache trim that keeps its "
        "peak RSS near mimalloc's costs 10-30% (A/B runs; reports)"),
    "cache_thrash": (
        "within noise of glibc: the loop is dominated by the workload's own "
        "writes to its objects, which every allocator places alike"),
    "shbench": (
        "60-70% of the samples are the workload touching its objects "
        "(FreeObject, NewObject): " + _LAYOUT),
    "larson": (
        "the workload reading its objects dominates (FreeSlot ~30% of "
        "samples): " + _LAYOUT),
    "churn_small": (
        "phase 2 frees the oldest of 64 Ki live objects; the samples are "
        "mostly the workload reading those cold objects: " + _LAYOUT),
    "threadtest_medium": (
        "the whole run takes well under 0.1 s, so its ratio to the fastest "
        "peer moves with machine noise"),
}

# Why elfmalloc's peak RSS is high on a workload (listed when the RSS target
# is missed, for workloads above 1.25x mimalloc's).
RSS_WHY = {
    "xmalloc": (
        "at 2 threads each thread frees what the other allocated; its "
        "magazines keep about a slag's worth per class (the limit follows "
        "the longest run of refreshes without frees), so the two threads "
        "hold ~18 MiB against mimalloc's 6; mimalloc and elfmalloc-l return "
        "remote frees to their pages"),
    "threadtest_small": (
        "each round's 50 000 objects per thread stay in that thread's "
        "magazine when the next round moves to another size, until the "
        "idle-cache trim returns them (after 512 KiB of other slags)"),
    "prodcons": (
        "not analysed yet: the statistics report shows 8 MiB of small slags "
        "mapped for a live set of well under 1 MiB"),
    "realloc_growth": (
        "not analysed yet: the buffers grow to at most 1 MiB, so they end "
        "in the 2 MiB slags of the 64 KiB - 1 MiB classes, never in large "
        "objects"),
    "shbench": (
        "mixed sizes and lifetimes: " + _LAYOUT),
}


def targets_section(workloads, threads, names, med):
  """The issue's targets for elfmalloc, each marked met or missed, with the
  workloads that miss and why (WHY)."""
  if "elfmalloc" not in names:
    return []
  out = ["## Targets", ""]
  peers = [a for a in ("jemalloc", "tcmalloc", "mimalloc") if a in names]
  missed = set()
  rss_missed = []  # (threads, workload, RSS / mimalloc)
  for n in threads:
    slower = [w for w in workloads if "glibc" in names and
              med[w, n, "elfmalloc"][0] >= med[w, n, "glibc"][0]]
    out.append("- %d thread%s, faster than glibc on every workload: %s" % (
        n, "" if n == 1 else "s",
        "met" if not slower else "**missed** on " + ", ".join(
            "%s (%.2fx)" % (w, med[w, n, "elfmalloc"][0] /
                            med[w, n, "glibc"][0]) for w in slower)))
    missed.update(slower)
    if "mimalloc" in names:
      t = geomean([med[w, n, "elfmalloc"][0] / med[w, n, "mimalloc"][0]
                   for w in workloads])
      r = geomean([med[w, n, "elfmalloc"][1] / max(med[w, n, "mimalloc"][1], 1)
                   for w in workloads])
      out.append("- %d thread%s, geometric-mean time / mimalloc <= 1.0: "
                 "%.3f, %s" % (n, "" if n == 1 else "s", t,
                               "met" if t <= 1.0 else "**missed**"))
      out.append("- %d thread%s, geometric-mean peak RSS / mimalloc <= 1.25: "
                 "%.3f, %s" % (n, "" if n == 1 else "s", r,
                               "met" if r <= 1.25 else "**missed**"))
      if r > 1.25:
        heavy = sorted(((med[w, n, "elfmalloc"][1] /
                         max(med[w, n, "mimalloc"][1], 1), w)
                        for w in workloads), reverse=True)
        rss_missed.extend((n, w, x) for x, w in heavy if x > 1.25)
    if peers:
      far = [(w, med[w, n, "elfmalloc"][0] /
              min(med[w, n, p][0] for p in peers)) for w in workloads]
      far = [(w, x) for w, x in far if x > 1.5]
      out.append("- %d thread%s, no workload more than 1.5x slower than the "
                 "fastest peer: %s" % (
                     n, "" if n == 1 else "s",
                     "met" if not far else "**missed** on " + ", ".join(
                         "%s (%.2fx)" % (w, x) for w, x in far)))
      missed.update(w for w, _ in far)
  if missed:
    out += ["", "Why (from profiles):", ""]
    for w in workloads:
      if w in missed:
        out.append("- %s: %s." % (w, WHY.get(w, "not profiled yet")))
  if rss_missed:
    out += ["", "Peak RSS above 1.25x mimalloc's, and why:", ""]
    for n, w, x in rss_missed:
      out.append("- %s at %d thread%s (%.2fx): %s." % (
          w, n, "" if n == 1 else "s", x,
          RSS_WHY.get(w, "not analysed yet")))
  out.append("")
  return out


def make_plots(perf, workloads, threads, names, med):
  """One SVG per thread count and metric: bars per workload and allocator."""
  made = []
  for n in threads:
    for metric, idx, label in (("time", 0, "seconds (lower is better)"),
                               ("rss", 1, "peak RSS MiB (lower is better)")):
      dat = os.path.join(perf, "%s_%dt.dat" % (metric, n))
      with open(dat, "w") as f:
        f.write("workload " + " ".join(names) + "\n")
        for w in workloads:
          vals = [med[w, n, a][idx] / (1024.0 if idx == 1 else 1.0)
                  for a in names]
          f.write(w + " " + " ".join("%.6g" % v for v in vals) + "\n")
      svg = "%s_%dt.svg" % (metric, n)
      script = (
          "set terminal svg size 1100,500 dynamic\n"
          "set output '%s'\n"
          "set title '%s, %d thread%s'\n"
          "set style data histograms\nset style histogram clustered gap 1\n"
          "set style fill solid 0.8 border -1\nset key autotitle columnhead\n"
          "set xtics rotate by -30\nset logscale y\nset ylabel '%s'\n"
          "plot for [i=2:%d] '%s' using i:xtic(1)\n" %
          (os.path.join(perf, svg), metric, n, "" if n == 1 else "s", label,
           len(names) + 1, dat))
      subprocess.run(["gnuplot"], input=script.encode(), check=True)
      os.remove(dat)
      made.append(svg)
  return made


if __name__ == "__main__":
  main()
