# SPDX-License-Identifier: Apache-2.0 OR MIT
# Copyright 2026 the allocators authors.
"""Dictionaries, strings and JSON, for //bench:compare's programs table.

    python3 objects.py SCALE

Builds records (dicts of strings, numbers and lists) in a dict keyed by
strings, serialises them to JSON and parses them back, regroups them by
field, formats and splits strings, sorts and drops half of them, a number
of rounds that grows with SCALE. Prints one line per round and a final
digest (CRC-32 of everything printed and every JSON text), so the output
is the same under every allocator; no hash() or id() reaches it.
"""

import json
import sys
import zlib


def record(i):
  word = "w%x" % (i * 2654435761 % 4294967296)
  return {
      "id": i,
      "name": word * (1 + i % 5),
      "tags": [word[: 1 + j % 8] for j in range(i % 7)],
      "score": (i * 37 % 1000) / 8.0,
      "parent": "r%d" % (i // 3),
  }


def run_round(r, n, crc):
  table = {}
  for i in range(r * n, (r + 1) * n):
    table["r%d" % i] = record(i)
  text = json.dumps(table, sort_keys=True)
  crc = zlib.crc32(text.encode(), crc)
  back = json.loads(text)
  groups = {}
  for key, rec in back.items():
    groups.setdefault(len(rec["tags"]), []).append(key)
  lines = []
  for size in sorted(groups):
    keys = sorted(groups[size])
    lines.append("%d:%d:%s" % (size, len(keys), ",".join(keys[:3])))
  joined = "|".join(lines)
  parts = joined.replace(":", " ").split()
  words = sorted(set(rec["name"][:6] for rec in back.values()))
  for key in list(back)[::2]:
    del back[key]
  total = sum(rec["score"] for rec in back.values())
  crc = zlib.crc32(joined.encode(), crc)
  return crc, "round %d: %d records, %d json bytes, %d parts, %d words, " \
      "%d kept, score %.3f" % (r, len(table), len(text), len(parts),
                               len(words), len(back), total)


def main():
  scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
  rounds = max(1, round(5 * scale))
  n = 20000 if scale >= 0.25 else max(500, round(80000 * scale))
  crc = 0
  for r in range(rounds):
    crc, line = run_round(r, n, crc)
    crc = zlib.crc32(line.encode(), crc)
    print(line)
  print("digest %08x" % crc)


if __name__ == "__main__":
  main()
