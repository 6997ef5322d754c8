// Reassembler, scenario by scenario: in order (zero copy), out of order
// (copied), duplicates, overlaps under both policies, holes filled late or
// never, RST, reuse of a state, hostile shapes (sequence numbers are in
// reassembler_sequence_test.cpp). Expected bytes are written out here or cut from the test's own
// string; counts are worked out by hand in the comments.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "reassembly_harness.hpp"

namespace sf {
namespace {

using test::Conn;
using test::roomy_config;

using namespace test;  // flags, Ends, Gaps, seq_after_syn

constexpr std::uint32_t kIsn = 1000;
constexpr std::uint32_t seq_at(std::uint64_t off, std::uint32_t isn = kIsn) { return seq_after_syn(isn, off); }

TEST(Reassembler, InOrderIsDeliveredStraightFromThePacket) {
  Conn c(roomy_config());
  const std::string a = "hello";
  const std::string b = " world";
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(0), kAck, a);
  c.seg(0, seq_at(5), kAck, b);
  EXPECT_EQ(c.rec.bytes(0), "hello world");
  ASSERT_EQ(c.rec.chunks(0).size(), 2U);
  EXPECT_EQ(c.rec.chunks(0)[0].offset, 0U);
  EXPECT_EQ(c.rec.chunks(0)[1].offset, 5U);
  EXPECT_EQ(c.rec.chunks(0)[0].from, reinterpret_cast<const std::uint8_t*>(a.data())) << "zero copy";
  EXPECT_EQ(c.rec.chunks(0)[1].from, reinterpret_cast<const std::uint8_t*>(b.data()));
  EXPECT_TRUE(c.rec.consistent(0));
  EXPECT_EQ(c.counters.pages_high_water.get(), 0U) << "in-order bytes never touch the pool";
  EXPECT_EQ(c.counters.ooo_segments.get(), 0U);
  EXPECT_EQ(c.s[0].delivered_bytes(), 11U);
  EXPECT_TRUE(c.rec.chunks(1).empty()) << "the other direction saw nothing";
}

// A consumer that has what it needs (an app parser after the first message)
// declines more: it is not called again for that direction, in order or
// from the buffer, yet still sees the end; the other consumer and the other
// direction carry on.
TEST(Reassembler, AConsumerThatDeclinesIsNotCalledAgainForThatDirection) {
  struct Quitter : StreamConsumer {
    bool on_data(const StreamContext& ctx, std::uint64_t, std::span<const std::uint8_t>, bool) noexcept override {
      ++calls[ctx.dir];
      return ctx.dir != 0;  // direction 0: one call is enough
    }
    void on_end(const StreamContext& ctx, StreamEnd) noexcept override { ++ends[ctx.dir]; }
    int calls[2] = {0, 0};
    int ends[2] = {0, 0};
  } quitter;
  Conn c(roomy_config());
  ASSERT_TRUE(c.r.add_consumer(&quitter));
  c.seg(0, kIsn, kSyn, "");
  c.seg(1, 5000, kSyn | kAck, "");
  c.seg(0, seq_at(0), kAck, "GET ");         // in order: the quitter's first and last call
  c.seg(0, seq_at(4), kAck, "/ HTTP/1.1");   // in order, fast path
  c.seg(0, seq_at(20), kAck, "tail");        // buffered above a hole...
  c.seg(0, seq_at(14), kAck, "\r\nabcd");  // ...and delivered from the buffer
  c.seg(1, seq_at(0, 5000), kAck, "HTTP/1.1 200");
  c.seg(1, seq_at(12, 5000), kAck, " OK");
  c.end(0, StreamEnd::fin);
  c.end(1, StreamEnd::fin);
  EXPECT_EQ(quitter.calls[0], 1);
  EXPECT_EQ(quitter.calls[1], 2);
  EXPECT_EQ(quitter.ends[0], 1);
  EXPECT_EQ(quitter.ends[1], 1);
  // The recorder (the first consumer) still got every byte.
  EXPECT_EQ(c.rec.chunks(0).size(), 4U);
  EXPECT_EQ(c.rec.bytes(0), "GET / HTTP/1.1\r\nabcdtail");
}

TEST(Reassembler, OutOfOrderBytesAreCopiedNotHeld) {
  Conn c(roomy_config());
  c.seg(0, kIsn, kSyn, "");
  std::string later = "WORLD";
  c.seg(0, seq_at(5), kAck, later);
  EXPECT_TRUE(c.rec.chunks(0).empty());
  EXPECT_EQ(c.counters.ooo_segments.get(), 1U);
  EXPECT_EQ(c.r.pages_held(c.s[0]), 1U);
  EXPECT_EQ(c.r.bytes_buffered(c.s[0]), 5U);
  later.assign("#####");  // the caller's buffer is reused: the reassembler must have its own copy
  c.seg(0, seq_at(0), kAck, "hello");
  EXPECT_EQ(c.rec.bytes(0), "helloWORLD");
  EXPECT_TRUE(c.rec.consistent(0));
  EXPECT_EQ(c.r.pages_held(c.s[0]), 0U);
  EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
  EXPECT_EQ(c.counters.pages_high_water.get(), 1U);
}

TEST(Reassembler, ReversedSegmentsComeOutInOrder) {
  Conn c(roomy_config());
  const std::string truth = test::pattern(100, 7);
  c.seg(0, kIsn, kSyn, "");
  for (int i = 9; i >= 0; --i) c.seg(0, seq_at(i * 10), kAck, std::string_view(truth).substr(i * 10, 10));
  EXPECT_EQ(c.rec.bytes(0), truth);
  EXPECT_TRUE(c.rec.gaps(0).empty());
  EXPECT_TRUE(c.rec.consistent(0));
  EXPECT_EQ(c.counters.ooo_segments.get(), 9U);
  EXPECT_EQ(c.counters.pages_high_water.get(), 9U) << "nine 10-byte segments, one 16-byte page each";
  EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
  EXPECT_EQ(c.s[0].missed_bytes, 0U);
}

TEST(Reassembler, DuplicatesAreDroppedAndCounted) {
  Conn c(roomy_config());
  const std::string truth = test::pattern(40, 3);
  const auto part = [&](int i) { return std::string_view(truth).substr(i * 10, 10); };
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(0), kAck, part(0));
  c.seg(0, seq_at(0), kAck, part(0));   // delivered bytes again: 10 retransmitted
  c.seg(0, seq_at(20), kAck, part(2));
  c.seg(0, seq_at(20), kAck, part(2));  // buffered bytes again: an overlap, same content
  c.seg(0, seq_at(10), kAck, part(1));
  c.seg(0, seq_at(30), kAck, part(3));
  c.seg(0, seq_at(5), kAck, std::string_view(truth).substr(5, 20));  // 20 retransmitted
  EXPECT_EQ(c.rec.bytes(0), truth);
  EXPECT_TRUE(c.rec.consistent(0));
  EXPECT_EQ(c.s[0].retransmitted_bytes, 30U);
  EXPECT_EQ(c.s[0].retransmitted_packets, 2U);
  EXPECT_EQ(c.counters.retransmitted_bytes.get(), 30U);
  EXPECT_EQ(c.counters.overlaps.get(), 3U);
  EXPECT_EQ(c.counters.overlap_conflict_bytes.get(), 0U);
  EXPECT_EQ(c.s[0].overlap_conflict_bytes, 0U);
  EXPECT_EQ(c.counters.ooo_segments.get(), 2U);
}

// Buffered [4,8) "BBBB"; then [0,10) arrives in order with "AAAA" there.
TEST(Reassembler, InOrderSegmentOverBufferedBytesFirstWins) {
  Conn c(roomy_config(OverlapPolicy::First));
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(4), kAck, "BBBB");
  c.seg(0, seq_at(0), kAck, "aaaaAxAAaa");  // each of "AxAA" differs from "BBBB"
  EXPECT_EQ(c.rec.bytes(0), "aaaaBBBBaa");
  EXPECT_EQ(c.s[0].overlap_conflict_bytes, 4U);
  EXPECT_EQ(c.counters.overlap_conflict_bytes.get(), 4U);
  EXPECT_EQ(c.counters.overlaps.get(), 1U);
  EXPECT_TRUE(c.rec.consistent(0));
}

TEST(Reassembler, InOrderSegmentOverBufferedBytesLastWins) {
  Conn c(roomy_config(OverlapPolicy::Last));
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(4), kAck, "BBBB");
  c.seg(0, seq_at(0), kAck, "aaaaABBAaa");  // two of the four overlapped bytes differ
  EXPECT_EQ(c.rec.bytes(0), "aaaaABBAaa");
  EXPECT_EQ(c.s[0].overlap_conflict_bytes, 2U);
  EXPECT_EQ(c.counters.overlaps.get(), 1U);
  EXPECT_TRUE(c.rec.consistent(0));
}

// Buffered [4,8) "XXXX", then [6,12) "YYYYYY" overlaps its tail, then [0,4).
struct PartialOverlapCase {
  OverlapPolicy policy;
  const char* expected;
};

class PartialOverlap : public ::testing::TestWithParam<PartialOverlapCase> {};

TEST_P(PartialOverlap, BufferedTailOverlappedByALaterSegment) {
  Conn c(roomy_config(GetParam().policy));
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(4), kAck, "XXXX");
  c.seg(0, seq_at(6), kAck, "XYYYYY");  // [6,8) overlaps: 'X' same, 'Y' differs
  EXPECT_EQ(c.s[0].overlap_conflict_bytes, 1U);
  EXPECT_EQ(c.r.bytes_buffered(c.s[0]), 8U) << "only the uncovered [8,12) was added";
  c.seg(0, seq_at(0), kAck, "0123");
  EXPECT_EQ(c.rec.bytes(0), GetParam().expected);
  EXPECT_EQ(c.s[0].overlap_conflict_bytes, 1U);
  EXPECT_EQ(c.counters.overlaps.get(), 1U);
  EXPECT_EQ(c.counters.ooo_segments.get(), 2U);
  EXPECT_TRUE(c.rec.consistent(0));
  EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
}

INSTANTIATE_TEST_SUITE_P(Policies, PartialOverlap,
                         ::testing::Values(PartialOverlapCase{OverlapPolicy::First, "0123XXXXYYYY"},
                                           PartialOverlapCase{OverlapPolicy::Last, "0123XXXYYYYY"}));

// One segment spanning several buffered ones and the holes between them.
TEST(Reassembler, SegmentCoveringSeveralBufferedOnes) {
  for (const OverlapPolicy policy : {OverlapPolicy::First, OverlapPolicy::Last}) {
    Conn c(roomy_config(policy));
    c.seg(0, kIsn, kSyn, "");
    c.seg(0, seq_at(3), kAck, "aa");    // [3,5)
    c.seg(0, seq_at(8), kAck, "bbb");   // [8,11)
    c.seg(0, seq_at(14), kAck, "c");    // [14,15)
    c.seg(0, seq_at(2), kAck, "ZZZZZZZZZZZZZZZZ");  // [2,18): 6 overlapped bytes, all different
    EXPECT_EQ(c.s[0].overlap_conflict_bytes, 6U);
    EXPECT_EQ(c.r.bytes_buffered(c.s[0]), 16U);
    c.seg(0, seq_at(0), kAck, "01");
    const std::string expected = policy == OverlapPolicy::First ? "01ZaaZZZbbbZZZcZZZ" : "01ZZZZZZZZZZZZZZZZ";
    EXPECT_EQ(c.rec.bytes(0), expected);
    EXPECT_TRUE(c.rec.consistent(0));
    EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
  }
}

TEST(Reassembler, HoleFilledLate) {
  Conn c(roomy_config());
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(0), kAck, "01234");
  c.seg(0, seq_at(10), kAck, "ABCDE");
  c.seg(0, seq_at(15), kAck, "FGHIJ");
  EXPECT_EQ(c.rec.bytes(0), "01234");
  c.seg(0, seq_at(5), kAck, "56789");
  EXPECT_EQ(c.rec.bytes(0), "0123456789ABCDEFGHIJ");
  EXPECT_TRUE(c.rec.gaps(0).empty());
  EXPECT_EQ(c.s[0].missed_bytes, 0U);
  EXPECT_TRUE(c.rec.consistent(0));
}

TEST(Reassembler, HoleNeverFilledIsFlushedByAge) {
  ReassemblyConfig cfg = roomy_config();
  cfg.flush_after_ms = 100;
  Conn c(cfg);
  constexpr std::uint64_t kMs = 1000000;
  c.seg(0, kIsn, kSyn, "", 0);
  c.seg(0, seq_at(0), kAck, "01234", 0);
  c.seg(0, seq_at(10), kAck, "ABCDE", 1 * kMs);
  c.flush(0, 101 * kMs);  // waited exactly 100 ms: not longer
  EXPECT_EQ(c.rec.bytes(0), "01234");
  EXPECT_EQ(c.counters.limit_flush_age.get(), 0U);
  EXPECT_EQ(c.r.oldest_buffered_ns(c.s[0]), 1 * kMs);
  c.flush(0, 101 * kMs + 1);
  EXPECT_EQ(c.rec.bytes(0), "01234ABCDE");
  EXPECT_EQ(c.rec.gaps(0), Gaps{10});
  EXPECT_EQ(c.s[0].missed_bytes, 5U);
  EXPECT_EQ(c.counters.missed_bytes.get(), 5U);
  EXPECT_EQ(c.counters.limit_flush_age.get(), 1U);
  EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
  // The late hole is below the delivered offset now: retransmitted, dropped.
  c.seg(0, seq_at(5), kAck, "56789", 102 * kMs);
  c.seg(0, seq_at(15), kAck, "FGHIJ", 102 * kMs);
  EXPECT_EQ(c.rec.bytes(0), "01234ABCDEFGHIJ");
  EXPECT_EQ(c.s[0].retransmitted_bytes, 5U);
  EXPECT_EQ(c.s[0].delivered_bytes(), 15U);
  EXPECT_TRUE(c.rec.consistent(0));
}

TEST(Reassembler, HolesNeverFilledAreMissedAtTheEnd) {
  Conn c(roomy_config());
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(0), kAck, "01234");
  c.seg(0, seq_at(10), kAck, "ABCDE");
  c.seg(0, seq_at(20), kAck, "KLMNO");
  c.end(0, StreamEnd::timeout);
  EXPECT_EQ(c.rec.bytes(0), "01234ABCDEKLMNO");
  EXPECT_EQ(c.rec.gaps(0), (Gaps{10, 20}));
  EXPECT_EQ(c.s[0].missed_bytes, 10U);
  EXPECT_EQ(c.rec.ends(0), Ends{StreamEnd::timeout});
  EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
  EXPECT_TRUE(c.rec.consistent(0));
}

TEST(Reassembler, RstMidStreamDeliversWhatIsBufferedAfterGaps) {
  Conn c(roomy_config());
  const std::string truth = test::pattern(50, 11);
  const auto part = [&](std::size_t from, std::size_t n) { return std::string_view(truth).substr(from, n); };
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(0), kAck, part(0, 10));
  c.seg(0, seq_at(20), kAck, part(20, 10));
  c.seg(0, seq_at(40), kAck, part(40, 10));
  c.seg(0, seq_at(10), tcpflag::kRst | kAck, part(10, 10));  // RST payload is not stream data
  EXPECT_EQ(c.rec.bytes(0), truth.substr(0, 10));
  c.end(0, StreamEnd::rst);
  c.end(1, StreamEnd::rst);
  EXPECT_EQ(c.rec.bytes(0), truth.substr(0, 10) + truth.substr(20, 10) + truth.substr(40, 10));
  EXPECT_EQ(c.rec.gaps(0), (Gaps{20, 40}));
  EXPECT_EQ(c.s[0].missed_bytes, 20U);
  EXPECT_EQ(c.rec.ends(0), Ends{StreamEnd::rst});
  EXPECT_EQ(c.rec.ends(1), Ends{StreamEnd::rst}) << "a direction that never started still ends once";
  EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
  EXPECT_TRUE(c.rec.consistent(0));
}

TEST(Reassembler, StateIsReusableAfterEnd) {
  Conn c(roomy_config());
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(0), kAck, "first");
  c.seg(0, seq_at(10), kAck, "buffered");
  c.end(0, StreamEnd::fin);
  EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
  c.s[0] = StreamState{};
  c.rec.clear();
  constexpr std::uint32_t kIsn2 = 5;
  c.seg(0, kIsn2, kSyn, "");
  c.seg(0, seq_at(6, kIsn2), kAck, "connection");
  c.seg(0, seq_at(0, kIsn2), kAck, "second");
  EXPECT_EQ(c.rec.bytes(0), "secondconnection");
  EXPECT_EQ(c.rec.chunks(0)[0].offset, 0U);
  EXPECT_EQ(c.s[0].missed_bytes, 0U);
  EXPECT_TRUE(c.rec.consistent(0));
}

TEST(Reassembler, NothingReachesConsumersAfterTheEnd) {
  ReassemblyConfig cfg = roomy_config();
  cfg.flush_after_ms = 1;
  Conn c(cfg);
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(0), kAck, "ab");
  c.end(0, StreamEnd::shutdown);
  c.seg(0, seq_at(2), kAck, "cd");
  c.seg(0, seq_at(10), kAck, "ef");
  c.flush(0, 1ULL << 40);
  c.end(0, StreamEnd::eof);
  EXPECT_EQ(c.rec.bytes(0), "ab");
  EXPECT_EQ(c.rec.ends(0), Ends{StreamEnd::shutdown});
  EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
  EXPECT_TRUE(c.rec.consistent(0));
}

TEST(Reassembler, ZeroLengthSegmentsDeliverNothing) {
  Conn c(roomy_config());
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(0), kAck, "");
  c.seg(0, seq_at(100), kAck, "");
  c.seg(0, seq_at(0) - 50, kAck, "");
  c.seg(0, seq_at(0), kAck, "a");
  c.seg(0, seq_at(1), kAck, "");
  EXPECT_EQ(c.rec.bytes(0), "a");
  EXPECT_EQ(c.counters.pages_high_water.get(), 0U);
  EXPECT_EQ(c.counters.ooo_segments.get(), 0U);
  EXPECT_EQ(c.counters.retransmitted_bytes.get(), 0U);
  EXPECT_TRUE(c.rec.consistent(0));
}

TEST(Reassembler, SegmentsOf64KiB) {
  ReassemblyConfig cfg = roomy_config();
  cfg.page_size_bytes = 2048;
  Conn c(cfg);
  const std::string truth = test::pattern(3 * 65536, 9);
  const auto part = [&](int i) { return std::string_view(truth).substr(i * 65536, 65536); };
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(2 * 65536), kAck, part(2));
  EXPECT_EQ(c.r.pages_held(c.s[0]), 32U);
  c.seg(0, seq_at(65536), kAck, part(1));
  EXPECT_EQ(c.r.pages_held(c.s[0]), 64U);
  c.seg(0, seq_at(0), kAck, part(0));
  EXPECT_EQ(c.rec.bytes(0), truth);
  EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
  EXPECT_TRUE(c.rec.consistent(0));
}

TEST(Reassembler, FarAwaySequenceNumbersAreOutOfWindow) {
  Conn c(roomy_config());
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(0), kAck, "abc");
  const std::uint32_t next = seq_at(3);
  c.seg(0, next + Reassembler::kMaxWindow + 1, kAck, "far ahead");
  c.seg(0, next - Reassembler::kMaxWindow - 1, kAck, "far behind");
  c.seg(0, next + 0x80000000U, kAck, "opposite");
  c.seg(0, next + 0x80000000U, kFin, "");
  EXPECT_EQ(c.counters.out_of_window.get(), 4U);
  EXPECT_EQ(c.counters.ooo_segments.get(), 0U);
  EXPECT_FALSE(c.s[0].has(StreamState::kFinKnown)) << "a FIN out of window is not believed";
  c.seg(0, next + Reassembler::kMaxWindow, kAck, "edge");  // exactly at the window's edge: kept
  EXPECT_EQ(c.counters.out_of_window.get(), 4U);
  EXPECT_EQ(c.r.bytes_buffered(c.s[0]), 4U);
  c.seg(0, next, kAck, "def");
  EXPECT_EQ(c.rec.bytes(0), "abcdef");
  c.end(0, StreamEnd::eof);
  EXPECT_EQ(c.rec.bytes(0), "abcdefedge");
  EXPECT_EQ(c.s[0].missed_bytes, Reassembler::kMaxWindow - 3U);
  EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
}

TEST(Reassembler, EveryConsumerSeesEveryCallInOrder) {
  ReassemblyCounters counters;
  Reassembler r(roomy_config(), counters);
  test::Recorder recs[Reassembler::kMaxConsumers];
  for (auto& rec : recs) EXPECT_TRUE(r.add_consumer(&rec));
  test::Recorder extra;
  EXPECT_FALSE(r.add_consumer(&extra)) << "at most kMaxConsumers";
  EXPECT_FALSE(r.add_consumer(nullptr));
  FlowKey key{};
  const StreamContext ctx{&key, 7, 1, kDirHiToLo, kDirLoToHi, 0};
  StreamState s{};
  StreamState peer{};
  r.segment(s, peer, ctx, 10, kAck, test::bytes_of("lo"), 0);
  r.segment(s, peer, ctx, 14, kAck, test::bytes_of("!"), 0);
  r.segment(s, peer, ctx, 12, kFin, test::bytes_of("ha"), 0);
  for (const auto& rec : recs) {
    EXPECT_EQ(rec.bytes(1, 7), "loha") << "the flow and direction come from the context";
    EXPECT_EQ(rec.ends(1, 7), Ends{StreamEnd::fin});
    EXPECT_TRUE(rec.consistent(1, 7));
  }
  EXPECT_TRUE(extra.chunks(1, 7).empty());
  EXPECT_EQ(counters.pages_in_use.get(), 0U) << "'!' was buffered past the FIN, never delivered, freed";
}

}  // namespace
}  // namespace sf
