// The cost of a segment, measured in nodes visited (Reassembler::steps(),
// counted by the segment store) rather than time: O(log n) in the buffered
// segments plus the k it overlaps, never a walk over the whole buffer (the
// quadratic overlap handling of Zeek issue #575).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>

#include "reassembly_harness.hpp"

namespace sf {
namespace {

using test::roomy_config;

constexpr std::uint32_t kIsn = 100;

struct Bench {
  explicit Bench(std::uint32_t pages) : r(config(pages), counters) {
    r.segment(s, peer, ctx, kIsn, tcpflag::kSyn, {}, 0);
  }
  static ReassemblyConfig config(std::uint32_t pages) {
    ReassemblyConfig c = roomy_config();
    c.pages_per_worker = pages;
    c.pages_per_connection = pages;
    return c;
  }
  // Steps taken by one segment.
  std::uint64_t seg(std::uint64_t off, std::string_view data) {
    const std::uint64_t before = r.steps();
    r.segment(s, peer, ctx, kIsn + 1 + static_cast<std::uint32_t>(off), tcpflag::kAck, test::bytes_of(data), 0);
    return r.steps() - before;
  }
  ReassemblyCounters counters;
  Reassembler r;
  FlowKey key{};
  StreamContext ctx{&key, 1, 1, 0, 0, 0};
  StreamState s{};
  StreamState peer{};
};

// Average steps to buffer n one-byte segments (every other offset above a
// hole at 0), in ascending order: the order that degenerates an unbalanced
// tree and a list searched from either end is no better for random order.
double average_steps(std::uint32_t n, bool ascending) {
  Bench b(n + 1);
  std::vector<std::uint64_t> offsets(n);
  for (std::uint32_t i = 0; i < n; ++i) offsets[i] = 2 + 2ULL * i;
  if (!ascending) std::shuffle(offsets.begin(), offsets.end(), std::mt19937(n));
  std::uint64_t total = 0;
  for (const std::uint64_t off : offsets) total += b.seg(off, "x");
  EXPECT_EQ(b.counters.ooo_segments.get(), n);
  EXPECT_TRUE(b.r.check(b.s));
  return static_cast<double>(total) / n;
}

TEST(ReassemblerCost, BufferingGrowsLogarithmically) {
  for (const bool ascending : {true, false}) {
    const double small = average_steps(1024, ascending);
    const double large = average_steps(16384, ascending);
    // log2 grows 10 -> 14; a walk over the buffer would grow 16 times.
    EXPECT_LT(large, small * 2.0) << "ascending " << ascending << ": " << small << " -> " << large;
    EXPECT_LT(large, 20.0 * std::log2(16384.0)) << ascending;
  }
}

TEST(ReassemblerCost, DuplicatesOfBufferedSegmentsCostLogN) {
  constexpr std::uint32_t kN = 8192;
  Bench b(kN + 1);
  for (std::uint32_t i = 0; i < kN; ++i) b.seg(2 + 2ULL * i, "x");
  std::mt19937 rng(5);
  std::uint64_t total = 0;
  constexpr int kDups = 20000;
  for (int i = 0; i < kDups; ++i) total += b.seg(2 + 2ULL * (rng() % kN), "x");
  EXPECT_LT(static_cast<double>(total) / kDups, 10.0 * std::log2(kN));
  EXPECT_EQ(b.counters.overlaps.get(), static_cast<std::uint64_t>(kDups));
}

// One large segment over k small buffered ones: its cost is O(k + log n) —
// and each later segment is small again.
TEST(ReassemblerCost, SegmentOverlappingManyCostsWhatItOverlaps) {
  constexpr std::uint32_t kK = 2000;
  Bench b(4 * kK);
  for (std::uint32_t i = 0; i < kK; ++i) b.seg(2 + 2ULL * i, "x");
  const std::string big(2 * kK, 'x');
  const std::uint64_t cover = b.seg(1, big);  // 2k+1 nodes after it: k old, k+1 new in the holes
  EXPECT_LT(cover, 10ULL * kK);
  EXPECT_EQ(b.r.bytes_buffered(b.s), 2ULL * kK);
  std::uint64_t later = 0;
  for (std::uint32_t i = 0; i < 1000; ++i) later += b.seg(10 * kK + 2ULL * i, "y");
  EXPECT_LT(later / 1000, 10 * 12U) << "the covering segment left a balanced tree";
  // Filling the hole at 0 delivers everything: linear in what is delivered.
  const std::uint64_t fill = b.seg(0, "x");
  EXPECT_LT(fill, 10ULL * kK);
  EXPECT_EQ(b.s.next_offset, 2ULL * kK + 1);
}

TEST(ReassemblerCost, InOrderSegmentsTouchNoNodes) {
  Bench b(16);
  std::uint64_t total = 0;
  for (std::uint32_t i = 0; i < 1000; ++i) total += b.seg(10ULL * i, "0123456789");
  EXPECT_EQ(total, 0U);
}

}  // namespace
}  // namespace sf
