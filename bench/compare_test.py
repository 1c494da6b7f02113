# SPDX-License-Identifier: Apache-2.0 OR MIT
# Copyright 2026 the allocators authors.
"""Unit tests of compare.py's target arithmetic: per-repetition ratios, their
spread, and the targets section's verdicts and reasons."""

import unittest

import compare


def run(workload, threads, rep, allocator, seconds, rss_kib=1000):
  return dict(workload=workload, threads=threads, rep=rep,
              allocator=allocator, seconds=seconds, rss_kib=rss_kib)


class RepRatiosTest(unittest.TestCase):

  def test_pairs_runs_of_the_same_repetition(self):
    rows = [run("w", 1, 0, "a", 2.0), run("w", 1, 0, "b", 1.0),
            run("w", 1, 1, "a", 3.0), run("w", 1, 1, "b", 4.0),
            run("w", 1, 2, "a", 5.0)]  # no b run in repetition 2
    got = compare.rep_ratios(rows, lambda r: r["workload"], "seconds", "a",
                             "b")
    self.assertEqual(got, {"w": [2.0, 0.75]})

  def test_spread(self):
    self.assertEqual(compare.spread([1.0]), "")
    self.assertEqual(compare.spread([1.2, 0.9, 1.0]),
                     " (repetitions: 0.90 to 1.20)")
    self.assertEqual(compare.spread([1.2, 0.9], "; "),
                     "; repetitions: 0.90 to 1.20")

  def test_geomean_spread_is_over_per_repetition_geomeans(self):
    # Repetition 0: geomean(4, 1) = 2; repetition 1: geomean(1, 1) = 1.
    self.assertEqual(compare.geomean_spread({"x": [4.0, 1.0],
                                             "y": [1.0, 1.0]}),
                     " (repetitions: 1.00 to 2.00)")


class TargetsSectionTest(unittest.TestCase):

  def section(self, elf_seconds):
    names = ["glibc", "elfmalloc", "mimalloc"]
    rows, med = [], {}
    for w in ("realloc_growth", "other"):
      for a in names:
        secs = elf_seconds if a == "elfmalloc" else [1.0, 1.0, 1.0]
        for rep, s in enumerate(secs):
          rows.append(run(w, 1, rep, a, s))
        med[w, 1, a] = (sorted(secs)[1], 1000, 0)
    return "\n".join(compare.targets_section(
        ["realloc_growth", "other"], [1], names, med, rows=rows))

  def test_a_missed_realloc_target_gives_its_reason_and_spread(self):
    text = self.section([1.2, 1.1, 0.9])
    self.assertIn("realloc_growth time and peak RSS / mimalloc <= 1.0: 1.10 "
                  "(repetitions: 0.90 to 1.20) and 1.00, **missed**", text)
    self.assertIn("Why realloc_growth misses: " + compare.REALLOC_WHY, text)
    self.assertIn("geometric-mean time / mimalloc <= 0.95: 1.100 "
                  "(repetitions: 0.90 to 1.20), **missed**", text)

  def test_a_met_realloc_target_gives_no_reason(self):
    text = self.section([0.8, 0.9, 0.85])
    self.assertIn("1.0: 0.85 (repetitions: 0.80 to 0.90) and 1.00, met", text)
    self.assertNotIn("Why realloc_growth misses", text)


if __name__ == "__main__":
  unittest.main()
