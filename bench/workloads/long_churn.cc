// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// long_churn: a long-running server's heap, with its resident memory
// sampled against time.
//
// Models: worker threads that serve requests for a long time: objects of
// many sizes, most of them freed soon, some kept for a while and a few for
// hundreds of rounds, some handed to another thread that frees them, and a
// request mix whose sizes drift up and back down again in cycles (small
// requests, then larger ones, then small again). It measures whether an
// allocator's resident memory stays flat over a long run, or creeps up as
// long-lived objects pin memory that the drifting size mix no longer uses.
//
// Work: kCycles cycles of kRoundsPerCycle * S rounds; a barrier ends every
// round. Every round the threads do kOpsPerRound operations between them
// (split as evenly as possible). An operation allocates an object and gives
// it a lifetime: with probability 1/2 none (written, read back and freed at
// once), 3/10 1..4 rounds, 3/20 5..30 rounds and 1/20 100..300 rounds. One in
// four objects that outlive their round is freed by the next thread (thread
// i hands it to thread i + 1 mod N through a mailbox read after the round's
// barrier), the others by their own thread in the round they expire.
// Sizes are log-uniform over 2^(c-2)..2^(c+2) bytes (at least 8 B), where c
// rises linearly from 4 to 9 over the first half of each cycle and falls
// back over the second (the centre 2^c goes from 16 B to 512 B and back),
// and one operation in kLargeOneIn allocates 64 KiB..1 MiB (lifetime 0..2
// rounds). Objects get a random 64-bit value at their start and end, and
// their first cache line written. Objects still alive at the end are freed.
//
// Output: besides the RESULT line (ops = allocations, check = sum of the
// values read back, plus sizes), a line before it
//
//   SERIES interval=<rounds> rounds=<r,r,...> rss_kib=<k,k,...>
//
// with this process's resident memory (VmRSS, through //platform:proc) after
// every `interval` rounds, sampled by thread 0 just after the round's
// barrier. The samples include the ends of the cycles, so the runner can
// compare two points of the same phase (the first cycle's end, 20% of the
// run, with the last one's).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/workloads/common.h"

namespace allocators {
namespace bench {
namespace {

constexpr uint64_t kCycles = 5;
constexpr uint64_t kRoundsPerCycle = 1500;
constexpr uint64_t kOpsPerRound = 16'000;
constexpr uint64_t kSamplesPerCycle = 24;
constexpr uint64_t kLargeOneIn = 4096;
constexpr size_t kLargeMin = size_t{64} << 10;
constexpr size_t kLargeMax = size_t{1} << 20;
constexpr unsigned kCentreMin = 4;  // log2 of the smallest size centre
constexpr unsigned kCentreMax = 9;  // log2 of the largest
constexpr unsigned kSpread = 2;     // sizes span centre / 4 .. centre * 4
// Lifetimes reach 300 rounds; the wheel has a bucket per round ahead.
constexpr uint64_t kMaxLifetime = 300;
constexpr uint64_t kWheel = kMaxLifetime + 1;

struct Object {
  char* p = nullptr;
  size_t size = 0;
  uint64_t value = 0;
};

char* NewObject(size_t size, uint64_t value) {
  char* p = static_cast<char*>(Malloc(size));
  std::memset(p, static_cast<int>(value & 0xff), size < 64 ? size : 64);
  std::memcpy(p, &value, sizeof(value));
  if (size >= 2 * sizeof(value)) {
    std::memcpy(p + size - sizeof(value), &value, sizeof(value));
  }
  Escape(p);
  return p;
}

void FreeObject(const Object& o, Checksum& check) {
  uint64_t head, tail = o.value;
  std::memcpy(&head, o.p, sizeof(head));
  if (o.size >= 2 * sizeof(tail)) {
    std::memcpy(&tail, o.p + o.size - sizeof(tail), sizeof(tail));
  }
  if (head != o.value) Corrupted("object head", o.value, head);
  if (tail != o.value) Corrupted("object tail", o.value, tail);
  check.Add(head + o.size);
  std::free(o.p);
}

// The log2 of the size centre in `round`, in 1/64ths of a doubling so that
// the drift is gradual: up from kCentreMin to kCentreMax over the first half
// of a cycle of `per_cycle` rounds, down over the second.
unsigned Centre64(uint64_t round, uint64_t per_cycle) {
  const uint64_t phase = round % per_cycle;
  const uint64_t half = per_cycle / 2 == 0 ? 1 : per_cycle / 2;
  const uint64_t up = phase < half ? phase : per_cycle - phase;
  const uint64_t span = (kCentreMax - kCentreMin) * 64;
  return static_cast<unsigned>(kCentreMin * 64 +
                               (up >= half ? span : span * up / half));
}

size_t DrawSize(Rng& rng, unsigned centre64) {
  // A log2 size uniform over centre - spread .. centre + spread, in 1/64ths.
  const uint64_t lo = centre64 - kSpread * 64;
  const uint64_t log64 = rng.Uniform(lo, centre64 + kSpread * 64);
  const unsigned whole = static_cast<unsigned>(log64 / 64);
  const size_t base = size_t{1} << whole;
  const size_t size = base + (base * (log64 % 64)) / 64 + rng.Uniform(0, 7);
  return size < 8 ? 8 : size;
}

uint64_t DrawLifetime(Rng& rng) {
  const uint64_t p = rng.Uniform(0, 99);
  if (p < 50) return 0;
  if (p < 80) return rng.Uniform(1, 4);
  if (p < 95) return rng.Uniform(5, 30);
  return rng.Uniform(100, kMaxLifetime);
}

// Objects handed to the next thread in one round, with the round they die.
struct Handed {
  Object object;
  uint64_t due = 0;
};

// One thread's outgoing mailbox, double-buffered by round parity: thread i
// fills box[r % 2] in round r and thread i + 1 empties it at the start of
// round r + 1; the barrier between the rounds orders the two, and thread i
// writes that buffer again only in round r + 2, after the next barrier.
struct alignas(64) Mailbox {
  std::vector<Handed> box[2];
};

struct Shared {
  int threads = 1;
  uint64_t rounds = 0;
  uint64_t per_cycle = 0;
  uint64_t interval = 1;
  Barrier* barrier = nullptr;
  std::vector<Mailbox>* mail = nullptr;
  std::vector<uint64_t>* sample_rounds = nullptr;
  std::vector<int64_t>* samples = nullptr;
};

void Worker(int thread, const Shared& s, ThreadResult* result) {
  Rng rng(0x4c6f'6e67'0000 + thread);
  std::vector<std::vector<Object>> wheel(kWheel);
  Mailbox& out = (*s.mail)[thread];
  Mailbox& in = (*s.mail)[(thread + s.threads - 1) % s.threads];
  const uint64_t ops = Share(kOpsPerRound, s.threads, thread);
  uint64_t allocations = 0;
  for (uint64_t round = 0; round < s.rounds; ++round) {
    // What the previous thread handed over last round.
    if (round > 0) {
      std::vector<Handed>& received = in.box[(round - 1) % 2];
      for (const Handed& h : received) {
        if (h.due <= round) {
          FreeObject(h.object, result->check);
        } else {
          wheel[h.due % kWheel].push_back(h.object);
        }
      }
      received.clear();
    }
    std::vector<Handed>& outgoing = out.box[round % 2];
    const unsigned centre = Centre64(round, s.per_cycle);
    for (uint64_t i = 0; i < ops; ++i) {
      Object o;
      uint64_t life;
      if (rng.OneIn(kLargeOneIn)) {
        o.size = rng.Uniform(kLargeMin, kLargeMax);
        life = rng.Uniform(0, 2);
      } else {
        o.size = DrawSize(rng, centre);
        life = DrawLifetime(rng);
      }
      o.value = rng.Next();
      o.p = NewObject(o.size, o.value);
      ++allocations;
      if (life == 0) {
        FreeObject(o, result->check);
      } else if (rng.OneIn(4)) {
        outgoing.push_back(Handed{o, round + life});
      } else {
        wheel[(round + life) % kWheel].push_back(o);
      }
    }
    // What expires this round.
    std::vector<Object>& due = wheel[round % kWheel];
    for (const Object& o : due) FreeObject(o, result->check);
    due.clear();
    s.barrier->Wait();
    if (thread == 0 && (round + 1) % s.interval == 0) {
      s.sample_rounds->push_back(round + 1);
      s.samples->push_back(platform::testing::StatusKib("VmRSS"));
    }
  }
  // The end: this thread's own objects, and what it handed over in the last
  // round (nobody else will read that mailbox any more).
  for (std::vector<Object>& bucket : wheel) {
    for (const Object& o : bucket) FreeObject(o, result->check);
  }
  for (const Handed& h : out.box[(s.rounds - 1) % 2]) {
    FreeObject(h.object, result->check);
  }
  result->ops = allocations;
}

int Main(int argc, char** argv) {
  const Options options = ParseArgs(argc, argv, "long_churn");
  Shared s;
  s.threads = options.threads;
  s.per_cycle = Scaled(kRoundsPerCycle, options.scale, 2);
  s.rounds = kCycles * s.per_cycle;
  s.interval =
      s.per_cycle < kSamplesPerCycle ? 1 : s.per_cycle / kSamplesPerCycle;
  // Every cycle's end is a sample.
  while (s.per_cycle % s.interval != 0) --s.interval;
  Barrier barrier(options.threads);
  std::vector<Mailbox> mail(options.threads);
  std::vector<uint64_t> sample_rounds;
  std::vector<int64_t> samples;
  sample_rounds.reserve(s.rounds / s.interval + 1);
  samples.reserve(s.rounds / s.interval + 1);
  s.barrier = &barrier;
  s.mail = &mail;
  s.sample_rounds = &sample_rounds;
  s.samples = &samples;
  const Totals totals =
      RunThreads(options.threads,
                 [&](int i, ThreadResult* result) { Worker(i, s, result); });
  std::string rounds_text, rss_text;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (i > 0) {
      rounds_text += ',';
      rss_text += ',';
    }
    rounds_text += std::to_string(sample_rounds[i]);
    rss_text += std::to_string(samples[i] < 0 ? 0 : samples[i]);
  }
  std::printf("SERIES interval=%llu rounds=%s rss_kib=%s\n",
              static_cast<unsigned long long>(s.interval), rounds_text.c_str(),
              rss_text.c_str());
  return PrintResult(options, totals);
}

}  // namespace
}  // namespace bench
}  // namespace allocators

int main(int argc, char** argv) { return allocators::bench::Main(argc, argv); }
