// Reassembler limits, each hit on purpose: pages per connection, the pool
// (many streams), bytes above the hole, depth, flush age. Each checks the
// counter of its kind (and that the others stayed 0), the bytes skipped and
// delivered, and that every page is back in the pool once streams end.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "reassembly_harness.hpp"

namespace sf {
namespace {

using test::Conn;
using test::roomy_config;

using namespace test;  // flags, Ends, Gaps, seq_after_syn

constexpr std::uint32_t kIsn = 7000;
constexpr std::uint32_t seq_at(std::uint64_t off) { return seq_after_syn(kIsn, off); }

std::string run(char c, std::size_t n) { return std::string(n, c); }

void expect_only(const ReassemblyCounters& k, const Counter& hit, std::uint64_t n) {
  const Counter* limits[] = {&k.limit_pages_per_connection, &k.limit_pages_per_worker, &k.limit_above_hole,
                             &k.limit_depth, &k.limit_flush_age};
  for (const Counter* l : limits) EXPECT_EQ(l->get(), l == &hit ? n : 0U);
}

// 16-byte pages, four per connection, both directions together.
TEST(ReassemblerLimits, PagesPerConnectionAreSharedByBothDirections) {
  ReassemblyConfig cfg = roomy_config();
  cfg.pages_per_connection = 4;
  Conn c(cfg);
  c.seg(0, kIsn, kSyn, "");
  c.seg(1, 90000, kSyn, "");
  c.seg(1, 90001 + 100, kAck, run('p', 16));  // the peer holds two pages
  c.seg(1, 90001 + 200, kAck, run('q', 16));
  c.seg(0, seq_at(32), kAck, run('a', 16));   // and this direction two
  c.seg(0, seq_at(64), kAck, run('b', 16));
  EXPECT_EQ(c.counters.pages_in_use.get(), 4U);
  EXPECT_EQ(c.counters.limit_pages_per_connection.get(), 0U);
  // A fifth page: this direction gives up its first hole [0,32) and delivers 'a'.
  c.seg(0, seq_at(96), kAck, run('c', 16));
  expect_only(c.counters, c.counters.limit_pages_per_connection, 1);
  EXPECT_EQ(c.rec.bytes(0), run('a', 16));
  EXPECT_EQ(c.rec.gaps(0), Gaps{32});
  EXPECT_EQ(c.s[0].missed_bytes, 32U);
  EXPECT_EQ(c.r.pages_held(c.s[0]), 2U);
  EXPECT_EQ(c.r.pages_held(c.s[1]), 2U) << "the peer's pages are not this direction's to give up";
  // Five pages at once cannot fit even with this direction empty: it gives
  // up everything below the segment and delivers the segment itself.
  c.seg(0, seq_at(200), kAck, run('d', 80));
  expect_only(c.counters, c.counters.limit_pages_per_connection, 2);
  EXPECT_EQ(c.rec.bytes(0), run('a', 16) + run('b', 16) + run('c', 16) + run('d', 80));
  EXPECT_EQ(c.rec.gaps(0), (Gaps{32, 64, 96, 200}));
  EXPECT_EQ(c.s[0].missed_bytes, 32U + 16 + 16 + 88);
  EXPECT_EQ(c.s[0].next_offset, 280U);
  EXPECT_EQ(c.r.pages_held(c.s[0]), 0U);
  EXPECT_EQ(c.counters.missed_bytes.get(), 152U);
  EXPECT_TRUE(c.rec.consistent(0));
  c.end(0, StreamEnd::fin);
  c.end(1, StreamEnd::fin);
  EXPECT_EQ(c.rec.bytes(1), run('p', 16) + run('q', 16));
  EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
}

// A segment that overlaps buffered bytes and does not fit: the run it
// overlaps is delivered, the rest of the segment follows in order, and each
// policy still decides who wins. Buffered 'a' [10,26) and 'b' [40,56); the
// segment 's' [20,60) needs pages for [26,40) and [56,60): two, one too many.
TEST(ReassemblerLimits, SegmentOverlappingTheRunThatMakesRoom) {
  for (const OverlapPolicy policy : {OverlapPolicy::First, OverlapPolicy::Last}) {
    ReassemblyConfig cfg = roomy_config(policy);
    cfg.pages_per_connection = 3;
    Conn c(cfg);
    c.seg(0, kIsn, kSyn, "");
    c.seg(0, seq_at(10), kAck, run('a', 16));
    c.seg(0, seq_at(40), kAck, run('b', 16));
    c.seg(0, seq_at(20), kAck, run('s', 40));
    expect_only(c.counters, c.counters.limit_pages_per_connection, 1);
    const std::string expected = policy == OverlapPolicy::First
                                     ? run('a', 16) + run('s', 14) + run('b', 16) + run('s', 4)
                                     : run('a', 10) + run('s', 40);
    EXPECT_EQ(c.rec.bytes(0), expected);
    EXPECT_EQ(c.rec.gaps(0), Gaps{10});
    EXPECT_EQ(c.s[0].missed_bytes, 10U);
    EXPECT_EQ(c.s[0].overlap_conflict_bytes, 22U) << "[20,26) and [40,56), counted once";
    EXPECT_EQ(c.counters.overlaps.get(), 1U);
    EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
    EXPECT_TRUE(c.rec.consistent(0));
  }
}

// Eight pages for the whole worker; four connections hold two each.
TEST(ReassemblerLimits, PoolExhaustedAcrossManyStreams) {
  ReassemblyConfig cfg = roomy_config();
  cfg.pages_per_worker = 8;
  ReassemblyCounters counters;
  Reassembler r(cfg, counters);
  test::Recorder rec;
  r.add_consumer(&rec);
  FlowKey key{};
  constexpr int kConns = 5;
  StreamState s[kConns][2]{};
  StreamContext ctx[kConns];
  for (int i = 0; i < kConns; ++i) ctx[i] = StreamContext{&key, static_cast<std::uint64_t>(i), 1, 0, 0, 0};
  auto seg = [&](int i, std::uint64_t off, const std::string& data) {
    r.segment(s[i][0], s[i][1], ctx[i], seq_at(off), kAck, test::bytes_of(data), 0);
  };
  for (int i = 0; i < kConns; ++i) r.segment(s[i][0], s[i][1], ctx[i], kIsn, kSyn, {}, 0);
  for (int i = 0; i < 4; ++i) {
    seg(i, 20, run(static_cast<char>('a' + i), 16));
    seg(i, 40, run(static_cast<char>('A' + i), 16));
  }
  EXPECT_EQ(r.pages_free(), 0U);
  EXPECT_EQ(counters.pages_in_use.get(), 8U);
  EXPECT_EQ(counters.limit_pages_per_worker.get(), 0U);
  // The fifth holds nothing it could give up: it skips to its segment.
  seg(4, 30, run('z', 5));
  expect_only(counters, counters.limit_pages_per_worker, 1);
  EXPECT_EQ(rec.bytes(0, 4), run('z', 5));
  EXPECT_EQ(rec.gaps(0, 4), Gaps{30});
  EXPECT_EQ(s[4][0].missed_bytes, 30U);
  // A stream of a full pool can still make room from its own buffer.
  seg(0, 80, run('x', 16));
  expect_only(counters, counters.limit_pages_per_worker, 2);
  EXPECT_EQ(rec.bytes(0, 0), run('a', 16)) << "gave up [0,20), delivered its first run";
  EXPECT_EQ(r.pages_held(s[0][0]), 2U);
  for (int i = 0; i < kConns; ++i) r.end(s[i][0], ctx[i], StreamEnd::eof);
  EXPECT_EQ(counters.pages_in_use.get(), 0U);
  EXPECT_EQ(counters.pages_high_water.get(), 8U);
  EXPECT_EQ(r.pages_free(), 8U);
  for (int i = 1; i < 4; ++i) {
    EXPECT_EQ(rec.bytes(0, i), run(static_cast<char>('a' + i), 16) + run(static_cast<char>('A' + i), 16));
    EXPECT_EQ(rec.gaps(0, i), (Gaps{20, 40}));
    EXPECT_EQ(s[i][0].missed_bytes, 24U);
  }
  EXPECT_EQ(rec.bytes(0, 0), run('a', 16) + run('A', 16) + run('x', 16));
}

TEST(ReassemblerLimits, BytesAboveTheHole) {
  ReassemblyConfig cfg = roomy_config();
  cfg.max_bytes_above_hole = 40;
  Conn c(cfg);
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(20), kAck, run('a', 16));
  c.seg(0, seq_at(50), kAck, run('b', 16));
  EXPECT_EQ(c.r.bytes_buffered(c.s[0]), 32U);
  c.seg(0, seq_at(80), kAck, run('c', 8));  // 40 exactly: fits
  EXPECT_EQ(c.counters.limit_above_hole.get(), 0U);
  c.seg(0, seq_at(100), kAck, run('d', 1));  // 41: gives up [0,20)
  expect_only(c.counters, c.counters.limit_above_hole, 1);
  EXPECT_EQ(c.rec.bytes(0), run('a', 16));
  EXPECT_EQ(c.rec.gaps(0), Gaps{20});
  EXPECT_EQ(c.s[0].missed_bytes, 20U);
  EXPECT_EQ(c.r.bytes_buffered(c.s[0]), 25U);
  c.end(0, StreamEnd::eof);
  EXPECT_EQ(c.rec.bytes(0), run('a', 16) + run('b', 16) + run('c', 8) + run('d', 1));
  EXPECT_EQ(c.s[0].missed_bytes, 20U + 14 + 14 + 12);
  EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
}

TEST(ReassemblerLimits, DepthStopsDeliveryAndFreesThePages) {
  ReassemblyConfig cfg = roomy_config();
  cfg.depth_bytes = 25;
  Conn c(cfg);
  const std::string truth = test::pattern(60, 21);
  const auto part = [&](std::size_t from, std::size_t n) { return std::string_view(truth).substr(from, n); };
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(40), kAck, part(40, 10));
  c.seg(0, seq_at(0), kAck, part(0, 10));
  c.seg(0, seq_at(10), kAck, part(10, 10));
  EXPECT_EQ(c.counters.limit_depth.get(), 0U);
  EXPECT_EQ(c.r.pages_held(c.s[0]), 1U);
  c.seg(0, seq_at(20), kAck, part(20, 10));
  EXPECT_EQ(c.rec.bytes(0), truth.substr(0, 25));
  expect_only(c.counters, c.counters.limit_depth, 1);
  EXPECT_TRUE(c.s[0].has(StreamState::kDepthReached));
  EXPECT_EQ(c.r.pages_held(c.s[0]), 0U) << "nothing past the depth is kept";
  EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
  c.seg(0, seq_at(30), kAck, part(30, 10));
  c.seg(0, seq_at(55), kAck, part(55, 5));
  EXPECT_EQ(c.rec.bytes(0), truth.substr(0, 25));
  EXPECT_EQ(c.counters.limit_depth.get(), 1U) << "once per stream";
  EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
  EXPECT_EQ(c.s[0].missed_bytes, 0U) << "bytes past the depth are not missed";
  c.seg(0, seq_at(60), tcpflag::kFin, "");
  EXPECT_EQ(c.rec.ends(0), Ends{StreamEnd::fin});
  EXPECT_TRUE(c.rec.consistent(0));
}

TEST(ReassemblerLimits, DepthReachedWhileDeliveringBufferedBytes) {
  ReassemblyConfig cfg = roomy_config();
  cfg.depth_bytes = 25;
  Conn c(cfg);
  const std::string truth = test::pattern(40, 22);
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(10), kAck, std::string_view(truth).substr(10, 10));
  c.seg(0, seq_at(20), kAck, std::string_view(truth).substr(20, 20));
  c.seg(0, seq_at(0), kAck, std::string_view(truth).substr(0, 10));
  EXPECT_EQ(c.rec.bytes(0), truth.substr(0, 25));
  expect_only(c.counters, c.counters.limit_depth, 1);
  EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
  c.end(0, StreamEnd::eof);
  EXPECT_EQ(c.rec.ends(0), Ends{StreamEnd::eof});
}

TEST(ReassemblerLimits, StreamOfExactlyTheDepthDoesNotHitIt) {
  ReassemblyConfig cfg = roomy_config();
  cfg.depth_bytes = 10;
  Conn c(cfg);
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(0), tcpflag::kFin, "0123456789");
  EXPECT_EQ(c.rec.bytes(0), "0123456789");
  EXPECT_EQ(c.rec.ends(0), Ends{StreamEnd::fin});
  EXPECT_EQ(c.counters.limit_depth.get(), 0U);
}

constexpr std::uint64_t kMs = 1000000;

// The oldest buffered segment decides; younger data above a later hole waits.
TEST(ReassemblerLimits, FlushAgeGivesUpOnlyTheHolesBelowOldData) {
  ReassemblyConfig cfg = roomy_config();
  cfg.flush_after_ms = 100;
  Conn c(cfg);
  c.seg(0, kIsn, kSyn, "", 0);
  c.seg(0, seq_at(20), kAck, run('a', 10), 0);
  c.seg(0, seq_at(50), kAck, run('b', 10), 90 * kMs);
  c.flush(0, 100 * kMs);
  EXPECT_TRUE(c.rec.chunks(0).empty());
  c.flush(0, 101 * kMs);
  EXPECT_EQ(c.rec.bytes(0), run('a', 10));
  EXPECT_EQ(c.rec.gaps(0), Gaps{20});
  EXPECT_EQ(c.s[0].missed_bytes, 20U);
  expect_only(c.counters, c.counters.limit_flush_age, 1);
  EXPECT_EQ(c.r.oldest_buffered_ns(c.s[0]), 90 * kMs);
  c.flush(0, 190 * kMs);
  EXPECT_EQ(c.counters.limit_flush_age.get(), 1U);
  c.flush(0, 191 * kMs);
  EXPECT_EQ(c.rec.bytes(0), run('a', 10) + run('b', 10));
  EXPECT_EQ(c.rec.gaps(0), (Gaps{20, 50}));
  EXPECT_EQ(c.s[0].missed_bytes, 40U);
  expect_only(c.counters, c.counters.limit_flush_age, 2);
  EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
  EXPECT_TRUE(c.rec.consistent(0));
}

TEST(ReassemblerLimits, FlushThroughOldDataAboveASecondHole) {
  ReassemblyConfig cfg = roomy_config();
  cfg.flush_after_ms = 100;
  Conn c(cfg);
  c.seg(0, kIsn, kSyn, "", 0);
  c.seg(0, seq_at(50), kAck, run('b', 10), 0);
  c.seg(0, seq_at(20), kAck, run('a', 10), 90 * kMs);
  c.seg(0, seq_at(80), kAck, run('c', 10), 95 * kMs);
  c.flush(0, 101 * kMs);
  EXPECT_EQ(c.rec.bytes(0), run('a', 10) + run('b', 10)) << "both holes below the oldest, and only those";
  EXPECT_EQ(c.rec.gaps(0), (Gaps{20, 50}));
  EXPECT_EQ(c.s[0].missed_bytes, 40U);
  EXPECT_EQ(c.r.bytes_buffered(c.s[0]), 10U);
  expect_only(c.counters, c.counters.limit_flush_age, 1);
  c.flush(0, 50 * kMs);  // a clock that went back flushes nothing
  EXPECT_EQ(c.r.bytes_buffered(c.s[0]), 10U);
}

TEST(ReassemblerLimits, FlushAgeZeroNeverFlushes) {
  Conn c(roomy_config());
  c.seg(0, kIsn, kSyn, "", 0);
  c.seg(0, seq_at(20), kAck, run('a', 10), 0);
  c.flush(0, UINT64_MAX);
  EXPECT_TRUE(c.rec.chunks(0).empty());
  EXPECT_EQ(c.counters.limit_flush_age.get(), 0U);
}

// Many connections through a small pool in random order, ended in random
// order: every stream's chunks are its own bytes at their offsets, and the
// pool ends full again.
TEST(ReassemblerLimits, PoolPagesReturnWhenEveryStreamEnds) {
  ReassemblyConfig cfg = roomy_config();
  cfg.page_size_bytes = 32;
  cfg.pages_per_worker = 64;
  cfg.pages_per_connection = 16;
  cfg.max_bytes_above_hole = 300;
  ReassemblyCounters counters;
  Reassembler r(cfg, counters);
  test::Recorder rec;
  r.add_consumer(&rec);
  FlowKey key{};
  constexpr int kConns = 40;
  constexpr std::size_t kLen = 400;
  std::vector<std::array<StreamState, 2>> s(kConns);
  std::vector<StreamContext> ctx[2];
  std::vector<std::string> truth[2];
  struct Seg {
    int conn;
    int dir;
    std::size_t off;
    std::size_t len;
  };
  std::vector<Seg> segs;
  std::mt19937 rng(99);
  for (int d = 0; d < 2; ++d) {
    for (int i = 0; i < kConns; ++i) {
      ctx[d].push_back(StreamContext{&key, static_cast<std::uint64_t>(i), 1, static_cast<std::uint8_t>(d), 0, 0});
      truth[d].push_back(test::pattern(kLen, static_cast<std::uint32_t>(i * 2 + d)));
      for (std::size_t off = 0; off < kLen;) {
        const std::size_t len = std::min<std::size_t>(1 + rng() % 40, kLen - off);
        if (rng() % 8 != 0) segs.push_back(Seg{i, d, off, len});  // some never arrive
        off += len;
      }
    }
  }
  std::shuffle(segs.begin(), segs.end(), rng);
  for (int i = 0; i < kConns; ++i) {
    for (int d = 0; d < 2; ++d) r.segment(s[i][d], s[i][1 - d], ctx[d][i], kIsn, kSyn, {}, 0);
  }
  for (const Seg& g : segs) {
    r.segment(s[g.conn][g.dir], s[g.conn][1 - g.dir], ctx[g.dir][g.conn], seq_at(g.off), kAck,
              test::bytes_of(std::string_view(truth[g.dir][g.conn]).substr(g.off, g.len)), 0);
    ASSERT_LE(r.pages_held(s[g.conn][0]) + r.pages_held(s[g.conn][1]), 16U);
    ASSERT_TRUE(r.check(s[g.conn][g.dir]));
  }
  EXPECT_GT(counters.limit_pages_per_worker.get() + counters.limit_pages_per_connection.get(), 0U)
      << "the schedule should press on the pages";
  std::vector<int> order(kConns);
  for (int i = 0; i < kConns; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  for (const int i : order) {
    r.end(s[i][1], ctx[1][i], StreamEnd::evicted);
    r.end(s[i][0], ctx[0][i], StreamEnd::evicted);
  }
  EXPECT_EQ(counters.pages_in_use.get(), 0U);
  EXPECT_EQ(r.pages_free(), 64U);
  std::uint64_t missed = 0;
  for (int d = 0; d < 2; ++d) {
    for (int i = 0; i < kConns; ++i) {
      EXPECT_TRUE(rec.consistent(d, static_cast<std::uint64_t>(i)));
      std::uint64_t delivered = 0;
      for (const test::Chunk& ch : rec.chunks(d, static_cast<std::uint64_t>(i))) {
        ASSERT_LE(ch.offset + ch.bytes.size(), kLen);
        EXPECT_EQ(ch.bytes, truth[d][i].substr(ch.offset, ch.bytes.size())) << i << " at " << ch.offset;
        delivered += ch.bytes.size();
      }
      EXPECT_EQ(delivered, s[i][d].delivered_bytes());
      EXPECT_EQ(rec.ends(d, static_cast<std::uint64_t>(i)), Ends{StreamEnd::evicted});
      missed += s[i][d].missed_bytes;
    }
  }
  EXPECT_EQ(missed, counters.missed_bytes.get());
}

}  // namespace
}  // namespace sf
