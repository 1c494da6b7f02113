# SPDX-License-Identifier: Apache-2.0 OR MIT
# Copyright 2026 the allocators authors.
"""The "programs" table of //bench:compare: real Debian programs.

Each row is one command of a program from Debian (sqlite3, python3, git,
g++, lua5.4, perl, xz, redis-server) run under an allocator: glibc plain,
the others with LD_PRELOAD. Every command is started by //bench:measure, a
small C launcher that reports the wall time and wait4's ru_maxrss (the peak
RSS of the largest process of the command's tree). A process forked from
this Python runner would carry Python's own ~10 MiB into ru_maxrss; the
launcher carries about what /bin/true has.

A row's `run` returns the time, the peak RSS and a digest of the output
that must not depend on the allocator (what the program printed, the
files it wrote); the runner refuses a run whose digest differs. Inputs are
made once per runner invocation by `prepare`, in a scratch directory, and
every run starts from a fresh copy where the program writes (a database,
.pyc files, a repacked repository), so every allocator does the same work.
"""

import hashlib
import os
import shutil
import socket
import subprocess
import time

LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
PYTHON = "/usr/bin/python3"


class Skip(Exception):
  """A row that cannot run on this machine (a reason for the note)."""


class Failed(Exception):
  """A command that failed or timed out under some allocator."""


class Run(object):
  """One measured run: seconds, peak RSS in KiB, the output digest and
  row-specific facts (`extra`, name -> number)."""

  def __init__(self, seconds, rss_kib, digest, extra=None):
    self.seconds = seconds
    self.rss_kib = rss_kib
    self.digest = digest
    self.extra = extra or {}


class Context(object):
  """What every row needs: the launcher, a scratch directory, the scale,
  the workspace (for git), the shipped scripts and a clean environment."""

  def __init__(self, measure, scratch, scale, workspace, scripts):
    self.measure = measure
    self.scratch = scratch
    self.scale = scale
    self.workspace = workspace
    self.scripts = scripts
    home = os.path.join(scratch, "home")
    os.makedirs(home, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith(("PYTHON", "PERL",
                                                      "LUA", "GIT_"))}
    env.update({
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "LC_ALL": "C",
        "TZ": "UTC",
        # Fixed hash seeds: the same allocation sequence in every run.
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PERL_HASH_SEED": "0",
        "PERL_PERTURB_KEYS": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
    })
    self.env = env

  def dir(self, *parts):
    """A directory under the scratch directory, created if missing."""
    d = os.path.join(self.scratch, *parts)
    os.makedirs(d, exist_ok=True)
    return d

  def fresh(self, *parts):
    """An empty directory under the scratch directory."""
    d = os.path.join(self.scratch, *parts)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def sha256_files(paths, root=None):
  """The SHA-256 of the files' contents in order, and of their paths
  relative to `root` if given."""
  h = hashlib.sha256()
  for p in paths:
    if root:
      h.update(os.path.relpath(p, root).encode() + b"\0")
    with open(p, "rb") as f:
      for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
  return h.hexdigest()


def tail(path, n=600):
  try:
    with open(path, "rb") as f:
      return f.read().decode(errors="replace")[-n:].strip()
  except OSError:
    return ""


def start_measured(ctx, argv, lib, what, cwd, stdin=None, stdout=None,
                   env=None, timeout=600):
  """Starts argv under the launcher; returns (process, report pipe, stderr
  path). The caller finishes it with finish_measured."""
  r, w = os.pipe()
  cmd = [ctx.measure, "--report-fd", str(w), "--timeout", str(int(timeout))]
  if lib:
    cmd += ["--preload", lib]
  if stdin:
    cmd += ["--stdin", stdin]
  if stdout:
    cmd += ["--stdout", stdout]
  cmd += ["--"] + list(argv)
  err = os.path.join(cwd, ".stderr-%s" % what.replace(" ", "_"))
  with open(err, "wb") as ef:
    proc = subprocess.Popen(cmd, cwd=cwd, env=env or ctx.env, pass_fds=(w,),
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL if stdout else ef,
                            stderr=ef)
  os.close(w)
  return proc, r, err


def finish_measured(proc, r, err, what, alloc, wait=None):
  """Waits for a start_measured process; returns (seconds, maxrss KiB).
  Raises Failed on a non-zero exit, a signal or a timeout."""
  try:
    proc.wait(timeout=wait)
  except subprocess.TimeoutExpired:
    proc.terminate()  # the launcher kills the command's process group
    proc.wait()
    os.close(r)
    raise Failed("%s under %s did not finish in time" % (what, alloc))
  with os.fdopen(r, "rb") as f:
    report = f.read().decode()
  fields = {}
  for line in report.splitlines():
    if line.startswith("MEASURE "):
      fields = dict(kv.split("=", 1) for kv in line.split()[1:])
  if not fields:
    raise Failed("%s under %s: the launcher reported nothing (exit %s): %s" %
                 (what, alloc, proc.returncode, tail(err)))
  if fields["timeout"] == "1":
    raise Failed("%s under %s timed out after %s s" %
                 (what, alloc, fields["seconds"]))
  if fields["status"] != "0":
    raise Failed("%s under %s failed (status %s): %s" %
                 (what, alloc, fields["status"], tail(err)))
  return float(fields["seconds"]), int(fields["maxrss_kib"])


def measured(ctx, argv, lib, what, alloc, cwd, **kw):
  """Runs argv under the launcher to the end; returns (seconds, KiB)."""
  timeout = kw.get("timeout", 600)
  proc, r, err = start_measured(ctx, argv, lib, what, cwd, **kw)
  return finish_measured(proc, r, err, what, alloc, wait=timeout + 30)


def plain(ctx, argv, cwd=None, stdin=None, timeout=600, env=None):
  """Runs an unmeasured helper command (plain glibc); returns its stdout."""
  try:
    r = subprocess.run(argv, cwd=cwd, env=env or ctx.env,
                       stdin=stdin or subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, check=False)
  except subprocess.TimeoutExpired:
    raise Failed("%s did not finish in %d s" % (" ".join(argv[:3]), timeout))
  if r.returncode != 0:
    raise Failed("%s failed (%d): %s" % (" ".join(argv[:3]), r.returncode,
                                         r.stderr.decode(errors="replace")[-600:]))
  return r.stdout


class Program(object):
  """One row. Subclasses set the class attributes and define run()."""
  name = ""        # the row's name (the --programs key)
  program = ""     # the program, as --programs also accepts it
  binaries = ()    # files that must exist
  packages = ()    # the Debian packages that provide them
  what = ""        # what the row measures, for the report
  memory = ""      # how the program itself manages memory, for the report

  def missing(self):
    return [b for b in self.binaries if not os.path.exists(b)]

  def prepare(self, ctx):
    """Makes the inputs once (unmeasured). May raise Skip."""

  def run(self, ctx, alloc, lib):
    raise NotImplementedError

  def finding(self, runs_by_alloc):
    """A sentence on what the runs showed about the program's own
    allocator (None: nothing to add)."""
    del runs_by_alloc
    return None


def scaled(base, scale, minimum=1):
  return max(minimum, int(round(base * scale)))


# --- sqlite3 -------------------------------------------------------------------

class Sqlite(Program):
  name = program = "sqlite3"
  binaries = ("/usr/bin/sqlite3",)
  packages = ("sqlite3",)
  memory = ("SQLite serves small short-lived allocations of a connection "
            "from its own lookaside slots (a few hundred KiB per connection) "
            "and takes page-cache pages and everything larger from malloc")

  def prepare(self, ctx):
    rows = scaled(160000, ctx.scale, 2000)
    self.what = (
        "%d rows inserted in transactions of 4000 (multi-row INSERT "
        "statements, so the SQL parser runs too) and a derived table, "
        "three indexes, GROUP BY / JOIN / DISTINCT aggregates, an UPDATE "
        "and a DELETE, into a new database file; the printed results are "
        "the output" % rows)
    d = ctx.fresh("sqlite3")
    self.script = os.path.join(d, "script.sql")
    out = [
        "PRAGMA journal_mode=MEMORY;",
        "PRAGMA synchronous=OFF;",
        "PRAGMA cache_size=-32768;",
        "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "grp INTEGER NOT NULL, price REAL NOT NULL, note TEXT);",
        "CREATE TABLE tags(item INTEGER NOT NULL, tag TEXT NOT NULL);",
    ]
    batch, per_statement = 4000, 50
    for start in range(1, rows + 1, batch):
      out.append("BEGIN;")
      end = min(rows, start + batch - 1)
      for s in range(start, end + 1, per_statement):
        values = []
        for i in range(s, min(end, s + per_statement - 1) + 1):
          h = i * 2654435761 % 4294967296
          values.append("('n%x',%d,%d.%02d,'%s')" % (
              h, h % 50, h % 1000, h % 100, ("note-%d-" % (h % 977)) *
              (1 + h % 4)))
        out.append("INSERT INTO items(name,grp,price,note) VALUES %s;" %
                   ",".join(values))
      out.append("INSERT INTO tags SELECT id, printf('t%%d', id %% 37) FROM "
                 "items WHERE id BETWEEN %d AND %d AND id %% 3 <> 0;" %
                 (start, end))
      out.append("COMMIT;")
    out += [
        "CREATE INDEX items_grp ON items(grp, price);",
        "CREATE INDEX items_name ON items(name);",
        "CREATE INDEX tags_tag ON tags(tag, item);",
        "SELECT grp, count(*), printf('%.2f', sum(price)), min(name), "
        "max(name) FROM items GROUP BY grp ORDER BY grp;",
        "SELECT tag, count(*) FROM tags JOIN items ON items.id = tags.item "
        "WHERE items.price > 500 GROUP BY tag ORDER BY 2 DESC, 1 LIMIT 10;",
        "SELECT count(DISTINCT substr(name, 1, 4)), "
        "length(group_concat(note, '')) FROM items;",
        "UPDATE items SET price = price * 1.05 WHERE grp % 5 = 0;",
        "DELETE FROM items WHERE id % 7 = 0;",
        "SELECT printf('%.2f', total(price)), count(*) FROM items;",
        "SELECT name, printf('%.2f', price) FROM items ORDER BY note DESC, "
        "id LIMIT 5;",
    ]
    with open(self.script, "w") as f:
      f.write("\n".join(out) + "\n")

  def run(self, ctx, alloc, lib):
    d = ctx.fresh("run", self.name)
    out = os.path.join(d, "out.txt")
    s, rss = measured(ctx, ["/usr/bin/sqlite3", "-batch", "bench.db"], lib,
                      self.name, alloc, d, stdin=self.script, stdout=out)
    return Run(s, rss, sha256_files([out]))


# --- python3 -------------------------------------------------------------------

_PYMALLOC = (
    "CPython's pymalloc serves objects of up to 512 B from 1 MiB arenas that "
    "it maps itself (mmap), so most of its objects never reach malloc; "
    "larger objects and the interpreter's raw buffers do")


class PythonCompileall(Program):
  name = "python3-compileall"
  program = "python3"
  binaries = (PYTHON,)
  packages = ("python3",)
  memory = _PYMALLOC

  def prepare(self, ctx):
    stdlib = plain(ctx, [PYTHON, "-c", "import sysconfig; "
                         "print(sysconfig.get_paths()['stdlib'])"]
                   ).decode().strip()
    files = []
    for root, dirs, names in os.walk(stdlib):
      rel = os.path.relpath(root, stdlib)
      # Test suites hold files that do not compile on purpose.
      dirs[:] = [x for x in dirs if x not in (
          "test", "tests", "idle_test", "site-packages", "dist-packages",
          "__pycache__")]
      files += [os.path.normpath(os.path.join(rel, n)) for n in names
                if n.endswith(".py")]
    files.sort()
    files = files[:scaled(len(files), ctx.scale, 5)]
    self.src = ctx.fresh("python3", "src")
    size = 0
    for rel in files:
      dst = os.path.join(self.src, rel)
      os.makedirs(os.path.dirname(dst), exist_ok=True)
      shutil.copyfile(os.path.join(stdlib, rel), dst)
      size += os.path.getsize(dst)
    self.what = (
        "`python3 -m compileall` of %d modules of the standard library "
        "(%.1f MiB of source, copied to a scratch directory) with "
        "hash-based .pyc files; the .pyc files are the output" %
        (len(files), size / 1048576.0))

  def run(self, ctx, alloc, lib):
    for root, dirs, _ in os.walk(self.src):
      if "__pycache__" in dirs:
        shutil.rmtree(os.path.join(root, "__pycache__"))
        dirs.remove("__pycache__")
    d = ctx.fresh("run", self.name)
    env = dict(ctx.env)
    del env["PYTHONDONTWRITEBYTECODE"]
    s, rss = measured(ctx, [PYTHON, "-m", "compileall", "-q",
                            "--invalidation-mode", "unchecked-hash",
                            self.src], lib, self.name, alloc, d, env=env)
    pycs = []
    for root, _, names in os.walk(self.src):
      pycs += [os.path.join(root, n) for n in names if n.endswith(".pyc")]
    return Run(s, rss, sha256_files(sorted(pycs), root=self.src))


class PythonObjects(Program):
  program = "python3"
  binaries = (PYTHON,)
  packages = ("python3",)

  def __init__(self, pymalloc):
    self.pymalloc = pymalloc
    self.name = "python3-objects" + ("" if pymalloc else "-malloc")
    self.memory = _PYMALLOC if pymalloc else (
        "PYTHONMALLOC=malloc turns pymalloc off: every object is a malloc "
        "call, which is what this row shows against the row above")

  def prepare(self, ctx):
    self.what = (
        "`bench/programs/objects.py`: dicts of records, JSON dumps and "
        "loads, regrouping, string joins and splits, deletes; %s" %
        ("CPython's default allocator (pymalloc)" if self.pymalloc else
         "the same script with `PYTHONMALLOC=malloc`"))

  def run(self, ctx, alloc, lib):
    d = ctx.fresh("run", self.name)
    out = os.path.join(d, "out.txt")
    env = dict(ctx.env)
    if not self.pymalloc:
      env["PYTHONMALLOC"] = "malloc"
    s, rss = measured(ctx, [PYTHON, os.path.join(ctx.scripts, "objects.py"),
                            repr(ctx.scale)], lib, self.name, alloc, d,
                      stdout=out, env=env)
    return Run(s, rss, sha256_files([out]))


# --- git -----------------------------------------------------------------------

class GitRepo(object):
  """A private bare clone of the workspace, cut at a fixed commit: the
  N-th commit of the first-parent history counted from the root, so the
  same history is measured whatever was committed since."""

  def __init__(self):
    self.ready = False

  def prepare(self, ctx):
    if self.ready:
      return
    if not os.path.isdir(os.path.join(ctx.workspace, ".git")):
      raise Skip("%s is not a git checkout" % ctx.workspace)
    self.pristine = os.path.join(ctx.fresh("git"), "pristine.git")
    plain(ctx, ["git", "clone", "-q", "--bare", "--no-hardlinks",
                ctx.workspace, self.pristine])
    g = ["git", "-C", self.pristine]
    history = plain(ctx, g + ["rev-list", "--first-parent", "--reverse",
                              "HEAD"]).decode().split()
    self.count = min(len(history), scaled(150, ctx.scale, 2))
    self.commit = history[self.count - 1]
    for ref in plain(ctx, g + ["for-each-ref", "--format=%(refname)"]
                     ).decode().split():
      plain(ctx, g + ["update-ref", "-d", ref])
    plain(ctx, g + ["update-ref", "refs/heads/bench", self.commit])
    plain(ctx, g + ["symbolic-ref", "HEAD", "refs/heads/bench"])
    plain(ctx, g + ["reflog", "expire", "--expire=now", "--all"])
    plain(ctx, g + ["gc", "-q", "--prune=now"])
    self.objects = len(plain(ctx, g + ["cat-file", "--batch-all-objects",
                                       "--batch-check"]).splitlines())
    self.ready = True


_GIT = GitRepo()
_GIT_MEMORY = ("git mallocs its objects and buffers; pack-objects also maps "
               "packs and its delta window with mmap")


class GitGc(Program):
  name = "git-gc"
  program = "git"
  binaries = ("/usr/bin/git",)
  packages = ("git",)
  memory = _GIT_MEMORY

  def prepare(self, ctx):
    _GIT.prepare(ctx)
    self.what = (
        "`git gc --aggressive --prune=now` of a private bare clone of this "
        "repository cut at commit %s (%d first-parent commits, %d objects); "
        "a child `git pack-objects` does most of the work, with its default "
        "threads; the list of objects afterwards is the output" %
        (_GIT.commit[:12], _GIT.count, _GIT.objects))

  def run(self, ctx, alloc, lib):
    d = ctx.fresh("run", self.name)
    repo = os.path.join(d, "repo.git")
    shutil.copytree(_GIT.pristine, repo, symlinks=True)
    s, rss = measured(ctx, ["git", "-C", repo, "gc", "-q", "--aggressive",
                            "--prune=now"], lib, self.name, alloc, d)
    listing = plain(ctx, ["git", "-C", repo, "cat-file",
                          "--batch-all-objects", "--batch-check"])
    return Run(s, rss, hashlib.sha256(listing).hexdigest())


class GitLog(Program):
  name = "git-log"
  program = "git"
  binaries = ("/usr/bin/git",)
  packages = ("git",)
  memory = _GIT_MEMORY

  def prepare(self, ctx):
    _GIT.prepare(ctx)
    self.what = (
        "`git log -p --stat` of the same %d commits (every diff of the "
        "history up to %s); the printed log is the output" %
        (_GIT.count, _GIT.commit[:12]))

  def run(self, ctx, alloc, lib):
    d = ctx.fresh("run", self.name)
    out = os.path.join(d, "log.txt")
    s, rss = measured(ctx, ["git", "-C", _GIT.pristine, "log", "-p",
                            "--stat", "--no-color", _GIT.commit], lib,
                      self.name, alloc, d, stdout=out)
    return Run(s, rss, sha256_files([out]))


# --- g++ -----------------------------------------------------------------------

_MODULE = r"""
namespace m{i} {{
struct Rec {{
  int id;
  std::string name;
  double score;
  std::vector<int> tags;
  bool operator<(const Rec& o) const {{
    return std::tie(id, name) < std::tie(o.id, o.name);
  }}
}};
template <typename T, int N>
struct Ring {{
  std::array<T, N> items{{}};
  int next = 0;
  void Put(const T& t) {{ items[next++ % N] = t; }}
}};
std::vector<Rec> Make(int n) {{
  std::vector<Rec> v;
  for (int k = 0; k < n; ++k) {{
    Rec r{{k * {i} + 1, "r" + std::to_string(k % {m}), k * 0.{i}5, {{}}}};
    for (int t = 0; t < k % 5; ++t) r.tags.push_back(t * {i});
    v.push_back(std::move(r));
  }}
  return v;
}}
std::map<std::string, std::vector<Rec>> Group(const std::vector<Rec>& v) {{
  std::map<std::string, std::vector<Rec>> g;
  for (const Rec& r : v) g[r.name].push_back(r);
  return g;
}}
std::unordered_map<int, std::shared_ptr<Rec>> Index(const std::vector<Rec>& v) {{
  std::unordered_map<int, std::shared_ptr<Rec>> idx;
  for (const Rec& r : v) idx.emplace(r.id, std::make_shared<Rec>(r));
  return idx;
}}
std::string Report(const std::map<std::string, std::vector<Rec>>& g) {{
  std::ostringstream os;
  for (const auto& [k, rs] : g) os << k << ':' << rs.size() << ';';
  return os.str();
}}
double Run(int n) {{
  std::vector<Rec> v = Make(n);
  std::sort(v.begin(), v.end(),
            [](const Rec& a, const Rec& b) {{ return a.score > b.score; }});
  auto g = Group(v);
  auto idx = Index(v);
  std::set<std::tuple<int, std::string>> seen;
  for (const Rec& r : v) seen.emplace(r.id % {m}, r.name);
  std::function<double(const Rec&)> weight = [](const Rec& r) {{
    return r.score * static_cast<double>(r.tags.size() + 1);
  }};
  std::variant<int, std::string, Rec> last = v.empty() ? std::variant<int,
      std::string, Rec>(0) : std::variant<int, std::string, Rec>(v.back());
  std::optional<Rec> best;
  Ring<Rec, {m}> ring;
  double total = 0;
  for (const Rec& r : v) {{
    total += weight(r);
    ring.Put(r);
    if (!best || *best < r) best = r;
  }}
  std::deque<std::pair<std::string, int>> q;
  for (const auto& [k, rs] : g) q.emplace_back(k, static_cast<int>(rs.size()));
  std::list<double> l(v.size() % 17, total);
  return total + seen.size() + idx.size() + Report(g).size() + q.size() +
         l.size() + last.index() + (best ? best->id : 0) + ring.next;
}}
}}  // namespace m{i}
"""


class Gxx(Program):
  name = program = "g++"
  binaries = ("/usr/bin/g++",)
  packages = ("g++",)
  memory = ("GCC keeps its trees and RTL in its own garbage-collected heap, "
            "whose pages it maps itself (mmap), and its obstacks and many "
            "buffers in malloc; `as` reads the assembly with malloc")

  def prepare(self, ctx):
    modules = scaled(2, ctx.scale, 1)
    self.what = (
        "`g++ -std=c++17 -O2 -c` of a generated translation unit: %d "
        "namespaces, each with its own record type instantiating vector, "
        "map, unordered_map, shared_ptr, set of tuples, function, variant, "
        "optional, deque, list and sort; the object file is the output" %
        modules)
    d = ctx.fresh("g++")
    self.source = os.path.join(d, "generated.cc")
    head = ["#include <%s>" % h for h in (
        "algorithm", "array", "deque", "functional", "list", "map", "memory",
        "optional", "set", "sstream", "string", "tuple", "unordered_map",
        "variant", "vector")]
    body = [_MODULE.format(i=i, m=3 + i % 13) for i in range(modules)]
    main = ["int main() {", "  double t = 0;"]
    main += ["  t += m%d::Run(%d);" % (i, 50 + i) for i in range(modules)]
    main += ["  return static_cast<int>(t) % 7;", "}"]
    with open(self.source, "w") as f:
      f.write("\n".join(head + body + main) + "\n")

  def run(self, ctx, alloc, lib):
    d = ctx.fresh("run", self.name)
    obj = os.path.join(d, "generated.o")
    s, rss = measured(ctx, ["/usr/bin/g++", "-std=c++17", "-O2",
                            "-frandom-seed=bench", "-c", self.source, "-o",
                            obj], lib, self.name, alloc, d)
    return Run(s, rss, sha256_files([obj]))


# --- lua5.4, perl -------------------------------------------------------------

class Script(Program):
  """A shipped script of bench/programs/ run by an interpreter."""

  def __init__(self, name, interpreter, package, script, what, memory):
    self.name = self.program = name
    self.interpreter = interpreter
    self.binaries = (interpreter,)
    self.packages = (package,)
    self.script = script
    self.what = what
    self.memory = memory

  def run(self, ctx, alloc, lib):
    d = ctx.fresh("run", self.name)
    out = os.path.join(d, "out.txt")
    s, rss = measured(ctx, [self.interpreter,
                            os.path.join(ctx.scripts, self.script),
                            repr(ctx.scale)], lib, self.name, alloc, d,
                      stdout=out)
    return Run(s, rss, sha256_files([out]))


# --- xz ------------------------------------------------------------------------

class Xz(Program):
  name = program = "xz"
  binaries = ("/usr/bin/xz",)
  packages = ("xz-utils",)
  memory = ("liblzma takes its dictionary and match finder (most of the "
            "peak: tens of MiB at -9) from malloc in a few large blocks, "
            "which every allocator maps directly, so the peak is mostly "
            "xz's own buffers and how much of them each allocator touches")

  def prepare(self, ctx):
    self.data = os.path.join(ctx.fresh("xz"), "data")
    size = scaled(3 << 19, ctx.scale, 64 << 10)
    make_text(self.data, size)
    self.what = (
        "`xz -9 -T1` of %.1f MiB of generated text (words, numbers, "
        "repeated lines), then `xz -d -T1` of the result; time is the sum "
        "of the two, RSS the larger peak; the compressed file is the output "
        "and the decompressed one must equal the input" %
        (size / 1048576.0))

  def run(self, ctx, alloc, lib):
    d = ctx.fresh("run", self.name)
    packed = os.path.join(d, "data.xz")
    back = os.path.join(d, "data")
    s1, rss1 = measured(ctx, ["/usr/bin/xz", "-9", "-T1", "-c", self.data],
                        lib, "xz -9", alloc, d, stdout=packed)
    s2, rss2 = measured(ctx, ["/usr/bin/xz", "-d", "-T1", "-c", packed], lib,
                        "xz -d", alloc, d, stdout=back)
    if sha256_files([back]) != sha256_files([self.data]):
      raise Failed("xz -d under %s: the data differs from the input" % alloc)
    return Run(s1 + s2, max(rss1, rss2), sha256_files([packed]))


def make_text(path, size):
  """Deterministic compressible text: words from a fixed vocabulary drawn
  by a linear congruential generator, numbers and repeated lines."""
  vocab = [("%x" % (i * 2654435761 % 4294967296))[: 2 + i % 7] + "ab"[i % 2]
           for i in range(4096)]
  x = 12345
  chunks, n = [], 0
  lines = []
  while n < size:
    words = []
    for _ in range(12):
      x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
      words.append(vocab[(x >> 33) % len(vocab)])
    line = " ".join(words) + " %d\n" % ((x >> 20) % 100000)
    if lines and (x >> 40) % 8 == 0:
      line = lines[(x >> 44) % len(lines)]
    lines.append(line)
    if len(lines) > 512:
      lines = lines[256:]
    chunks.append(line)
    n += len(line)
  with open(path, "w") as f:
    f.write("".join(chunks)[:size])


# --- redis ---------------------------------------------------------------------

REDIS_PORTS = range(16379, 16399)


def resp(*args):
  out = [b"*%d\r\n" % len(args)]
  for a in args:
    a = a if isinstance(a, bytes) else str(a).encode()
    out.append(b"$%d\r\n%s\r\n" % (len(a), a))
  return b"".join(out)


class Redis(Program):
  name = program = "redis"
  binaries = ("/usr/bin/redis-server", "/usr/bin/redis-benchmark",
              "/usr/bin/redis-cli")
  packages = ("redis-server", "redis-tools")

  def prepare(self, ctx):
    keys = scaled(100000, ctx.scale, 1000)
    self.requests = scaled(100000, ctx.scale, 1000)
    self.tests = "set,get,lpush,lpop,sadd,hset,zadd"
    self.what = (
        "redis-server (under the allocator, on 127.0.0.1) loaded with %d "
        "strings of 256 B and hashes, lists, sets and sorted sets by "
        "`redis-cli --pipe`, then `redis-benchmark -n %d -r 100000 -d 256 "
        "-c 50 -P 8 -t %s` (plain glibc) in a second database; time is the "
        "benchmark's wall time, RSS the server's peak; DEBUG DIGEST of the "
        "loaded data, before and after the benchmark, is the output" %
        (keys, self.requests, self.tests))
    d = ctx.fresh("redis")
    self.load = os.path.join(d, "load.resp")
    with open(self.load, "wb") as f:
      for i in range(keys):
        h = i * 2654435761 % 4294967296
        f.write(resp("SET", "k:%d" % i, ("%08x" % h) * 32))
        f.write(resp("HSET", "h:%d" % (i % 1000), "f%d" % i, h))
        f.write(resp("RPUSH", "l:%d" % (i % 100), "%x" % h))
        f.write(resp("SADD", "s:%d" % (i % 500), h % 100000))
        f.write(resp("ZADD", "z:%d" % (i % 200), h % 1000, "m%d" % i))
    # What the dynamic linker binds: a library that defines malloc and
    # comes first (LD_PRELOAD) wins over the jemalloc redis links.
    self.needed = []
    if shutil.which("readelf"):
      dyn = plain(ctx, ["readelf", "-d", self.binaries[0]]).decode()
      self.needed = [l.split("[", 1)[1].rstrip("]").strip()
                     for l in dyn.splitlines() if "(NEEDED)" in l]

  def cli(self, ctx, port, *args, **kw):
    return plain(ctx, ["/usr/bin/redis-cli", "-h", "127.0.0.1", "-p",
                       str(port)] + list(args), timeout=kw.get("timeout", 60),
                 stdin=kw.get("stdin")).decode()

  def run(self, ctx, alloc, lib):
    d = ctx.fresh("run", self.name)
    port = free_port()
    # redis-server links jemalloc: the plain run would measure jemalloc, so
    # glibc's malloc is preloaded to come before it.
    preload = lib or (LIBC if os.path.exists(LIBC) else None)
    server, r, err = start_measured(
        ctx, ["/usr/bin/redis-server", "--port", str(port), "--bind",
              "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", d,
              "--databases", "2", "--enable-debug-command", "local",
              "--loglevel", "warning"], preload, self.name, d, timeout=900)
    finished = False
    try:
      deadline = time.time() + 10
      while True:
        try:
          if self.cli(ctx, port, "ping", timeout=5).strip() == "PONG":
            break
        except Failed:
          pass
        if server.poll() is not None or time.time() > deadline:
          raise Failed("redis-server under %s did not start on port %d: %s" %
                       (alloc, port, tail(err)))
        time.sleep(0.05)
      with open(self.load, "rb") as f:
        self.cli(ctx, port, "--pipe", stdin=f, timeout=300)
      before = self.cli(ctx, port, "debug", "digest").strip()
      out = os.path.join(d, "benchmark.csv")
      s, _ = measured(ctx, ["/usr/bin/redis-benchmark", "-h", "127.0.0.1",
                            "-p", str(port), "--dbnum", "1", "-n",
                            str(self.requests), "-r", "100000", "-d", "256",
                            "-c", "50", "-P", "8", "-t", self.tests, "--csv"],
                      None, "redis-benchmark", alloc, d, stdout=out,
                      timeout=300)
      with open(out) as f:
        done = [l.split(",")[0].strip('"') for l in f.read().splitlines()[1:]]
      if [t.lower() for t in done] != self.tests.split(","):
        raise Failed("redis-benchmark under %s ran %s, not %s" %
                     (alloc, done, self.tests))
      info = self.cli(ctx, port, "info", "memory")
      used = int(info.split("used_memory:", 1)[1].split()[0])
      stats = self.cli(ctx, port, "memory", "malloc-stats")
      jemalloc = -1
      if "Allocated:" in stats:
        jemalloc = int(stats.split("Allocated:", 1)[1].split(",")[0])
      self.cli(ctx, port, "-n", "1", "flushdb")
      after = self.cli(ctx, port, "debug", "digest").strip()
      if after != before:
        raise Failed("redis under %s: the loaded data changed during the "
                     "benchmark (digest %s, then %s)" % (alloc, before, after))
      try:
        self.cli(ctx, port, "shutdown", "nosave", timeout=30)
      except Failed:
        pass  # the connection closes as the server exits
      finished = True
      _, rss = finish_measured(server, r, err, "redis-server", alloc, wait=30)
    finally:
      if not finished:
        server.terminate()  # the launcher kills the server
        try:
          server.wait(timeout=30)
        except subprocess.TimeoutExpired:
          server.kill()
          server.wait()
        os.close(r)
    return Run(s, rss, before, {"used_memory": used,
                                "jemalloc_allocated": jemalloc})

  def finding(self, runs_by_alloc):
    linked = [n for n in self.needed if "jemalloc" in n or "tcmalloc" in n]
    parts = []
    if linked:
      parts.append(
          "Debian's redis-server is linked against %s (its NEEDED entries) "
          "and calls malloc, calloc, realloc, free and malloc_usable_size by "
          "their plain names, which a preloaded library takes over; only "
          "jemalloc's own calls (mallctl, nallocx, malloc_stats_print) still "
          "reach the linked jemalloc. The glibc column therefore preloads "
          "libc.so.6, which puts glibc's malloc before the linked jemalloc" %
          ", ".join(linked))
    cells = []
    for alloc, runs in runs_by_alloc.items():
      je = sorted(r.extra["jemalloc_allocated"] for r in runs)
      used = sorted(r.extra["used_memory"] for r in runs)
      if je and je[0] >= 0:
        cells.append("%s %s / %.1f MiB" % (
            alloc, fmt_bytes(je[len(je) // 2]), used[len(used) // 2] /
            1048576.0))
    if cells:
      parts.append(
          "jemalloc's own count of allocated bytes (MEMORY MALLOC-STATS) "
          "and redis's used_memory (the sum of malloc_usable_size) after the "
          "benchmark: %s; a jemalloc count that stays at a few KiB means "
          "the preloaded allocator served all of redis's memory" %
          "; ".join(cells))
    return ". ".join(parts) if parts else None


def fmt_bytes(n):
  if n >= 1 << 20:
    return "%.1f MiB" % (n / 1048576.0)
  return "%.0f KiB" % (n / 1024.0)


def free_port():
  for port in REDIS_PORTS:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # As redis-server binds: a port whose old connections are in TIME_WAIT
    # is free.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
      s.bind(("127.0.0.1", port))
      return port
    except OSError:
      continue
    finally:
      s.close()
  raise Failed("no free port in %d..%d on 127.0.0.1 for redis-server" %
               (REDIS_PORTS[0], REDIS_PORTS[-1]))


def all_programs():
  """Every row, in run order."""
  return [
      Sqlite(),
      PythonCompileall(),
      PythonObjects(pymalloc=True),
      PythonObjects(pymalloc=False),
      GitGc(),
      GitLog(),
      Gxx(),
      Script("lua5.4", "/usr/bin/lua5.4", "lua5.4", "tables.lua",
             "`bench/programs/tables.lua`: tables of records with string "
             "fields, string keys, table.sort and table.concat, gsub with a "
             "function, most records dropped to the collector every round",
             "Lua allocates every table, string and closure with realloc "
             "and free through lua.c's l_alloc, and frees garbage with its "
             "incremental collector"),
      Script("perl", "/usr/bin/perl", "perl", "hashes.pl",
             "`bench/programs/hashes.pl`: hashes of hash references, sorted "
             "keys, join, split, regular-expression substitutions with "
             "sprintf, most records deleted every round",
             "Debian's perl uses the C library's malloc (usemymalloc=n); it "
             "carves its scalar heads and bodies from arenas of about 4 KiB "
             "that it mallocs"),
      Xz(),
      Redis(),
  ]


def select(programs, wanted):
  """The rows named in `wanted` (row names or program names); all if
  empty. Unknown names are an error."""
  if not wanted:
    return programs
  known = set(p.name for p in programs) | set(p.program for p in programs)
  unknown = [w for w in wanted if w not in known]
  if unknown:
    raise SystemExit("compare: unknown program(s) %s; known: %s" % (
        ", ".join(unknown), ", ".join(sorted(known))))
  return [p for p in programs if p.name in wanted or p.program in wanted]


def check_agreement(program, digests):
  """`digests`: [(allocator, rep, digest)] of one row, in run order. Exits
  with a message naming the row and the allocator whose output differs
  from the first run's."""
  if not digests:
    return
  ref_alloc, ref_rep, ref = digests[0]
  for alloc, rep, digest in digests[1:]:
    if digest != ref:
      raise SystemExit(
          "compare: program %s under %s (repetition %d) wrote different "
          "output than under %s (repetition %d): %s, not %s" %
          (program, alloc, rep + 1, ref_alloc, ref_rep + 1, digest[:16],
           ref[:16]))
