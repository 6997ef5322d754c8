// Reassembler and sequence numbers: SYN and FIN take one each, data on the
// SYN, FINs that disagree, streams picked up mid-way, wrap across 2^32 and a
// stream longer than the sequence space.
#include <gtest/gtest.h>

#include <cstdint>
#include <span>
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

TEST(ReassemblerSequence, SynAndFinTakeOneSequenceNumberEach) {
  Conn c(roomy_config());
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(0), kAck, "abc");
  c.seg(0, seq_at(3), kFin | kAck, "de");  // FIN at offset 5, after its data
  EXPECT_EQ(c.rec.bytes(0), "abcde");
  EXPECT_EQ(c.rec.ends(0), Ends{StreamEnd::fin});
  c.seg(0, seq_at(5), kAck, "");          // the ACK after the FIN (seq FIN+1): nothing
  c.seg(0, seq_at(3), kFin | kAck, "de");  // retransmitted FIN: nothing
  c.end(0, StreamEnd::eof);
  EXPECT_EQ(c.rec.ends(0), Ends{StreamEnd::fin}) << "one end per direction";
  EXPECT_TRUE(c.rec.consistent(0));
}

TEST(ReassemblerSequence, FinArrivingFirstEndsOnlyOnceEveryByteBeforeItIsDelivered) {
  Conn c(roomy_config());
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(6), kFin, "");  // FIN at offset 6, alone
  c.seg(0, seq_at(3), kAck, "def");
  EXPECT_TRUE(c.rec.ends(0).empty());
  c.seg(0, seq_at(0), kAck, "abc");
  EXPECT_EQ(c.rec.bytes(0), "abcdef");
  EXPECT_EQ(c.rec.ends(0), Ends{StreamEnd::fin});
  EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
}

TEST(ReassemblerSequence, BytesAfterTheFinAreNotPartOfTheStream) {
  Conn c(roomy_config());
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(10), kFin, "");  // FIN at offset 10
  c.seg(0, seq_at(5), kAck, "56789ABCDE");  // [5,15): only [5,10) is stream data
  EXPECT_EQ(c.counters.out_of_window.get(), 1U);
  EXPECT_EQ(c.r.bytes_buffered(c.s[0]), 5U);
  c.seg(0, seq_at(0), kAck, "01234");
  EXPECT_EQ(c.rec.bytes(0), "0123456789");
  EXPECT_EQ(c.rec.ends(0), Ends{StreamEnd::fin});
}

// A FIN at another place than the one already seen is not believed.
TEST(ReassemblerSequence, TheFirstFinSeenCounts) {
  Conn c(roomy_config());
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(4), kFin, "");              // FIN at 4
  c.seg(0, seq_at(2), kFin | kAck, "23456");  // claims a FIN at 7: its bytes past 4 are dropped
  EXPECT_EQ(c.counters.out_of_window.get(), 1U);
  c.seg(0, seq_at(0), kAck, "01");
  EXPECT_EQ(c.rec.bytes(0), "0123");
  EXPECT_EQ(c.rec.ends(0), Ends{StreamEnd::fin});

  Conn d(roomy_config());
  d.seg(0, kIsn, kSyn, "");
  d.seg(0, seq_at(6), kFin, "");          // FIN at 6
  d.seg(0, seq_at(0), kFin | kAck, "01");  // claims a FIN at 2: the stream goes on
  EXPECT_EQ(d.rec.bytes(0), "01");
  EXPECT_TRUE(d.rec.ends(0).empty());
  d.seg(0, seq_at(2), kAck, "2345");
  EXPECT_EQ(d.rec.bytes(0), "012345");
  EXPECT_EQ(d.rec.ends(0), Ends{StreamEnd::fin});
}

TEST(ReassemblerSequence, KnownFinEndsWithTheHoleBeforeItMissed) {
  Conn c(roomy_config());
  c.seg(0, kIsn, kSyn, "");
  c.seg(0, seq_at(0), kAck, "0123");
  c.seg(0, seq_at(6), kAck, "67");
  c.seg(0, seq_at(12), kFin, "");  // FIN at 12: [4,6) and [8,12) never seen
  c.end(0, StreamEnd::timeout);
  EXPECT_EQ(c.rec.bytes(0), "012367");
  EXPECT_EQ(c.s[0].missed_bytes, 6U);
  EXPECT_EQ(c.rec.ends(0), Ends{StreamEnd::timeout});
}

TEST(ReassemblerSequence, DataOnTheSynStartsAtIsnPlusOne) {
  Conn c(roomy_config());
  c.seg(0, kIsn, kSyn, "abc");  // offset 0..3 at seq ISN+1..ISN+3
  c.seg(0, seq_at(3), kAck, "def");
  EXPECT_EQ(c.rec.bytes(0), "abcdef");
  ASSERT_FALSE(c.rec.chunks(0).empty());
  EXPECT_EQ(c.rec.chunks(0)[0].offset, 0U);
  EXPECT_EQ(c.s[0].base_seq, kIsn + 1);
  c.seg(0, kIsn, kSyn, "abc");  // the SYN again: its data is retransmitted
  EXPECT_EQ(c.s[0].retransmitted_bytes, 3U);
}

TEST(ReassemblerSequence, SynFinWithData) {
  Conn c(roomy_config());
  c.seg(0, kIsn, kSyn | kFin, "x");
  EXPECT_EQ(c.rec.bytes(0), "x");
  EXPECT_EQ(c.rec.ends(0), Ends{StreamEnd::fin});
  Conn e(roomy_config());
  e.seg(0, kIsn, kSyn | kFin, "");
  EXPECT_EQ(e.rec.ends(0), Ends{StreamEnd::fin});
  EXPECT_TRUE(e.rec.chunks(0).empty());
}

TEST(ReassemblerSequence, StreamPickedUpMidwayStartsAtTheFirstSegmentSeen) {
  Conn c(roomy_config());
  c.seg(1, 77777, kAck, "mid");
  c.seg(1, 77780, kAck, "way");
  c.seg(1, 77770, kAck, "earlier");  // before offset 0: below what was delivered
  EXPECT_EQ(c.rec.bytes(1), "midway");
  EXPECT_EQ(c.rec.chunks(1)[0].offset, 0U);
  EXPECT_EQ(c.s[1].retransmitted_bytes, 7U);
  EXPECT_TRUE(c.rec.consistent(1));
}

TEST(ReassemblerSequence, SequenceWrapsAcrossZero) {
  for (const std::uint32_t isn : {0xFFFFFFF0U, 0xFFFFFFFFU, 0x7FFFFFF8U}) {
    Conn c(roomy_config());
    const std::string truth = test::pattern(64, isn);
    c.seg(0, isn, kSyn, "");
    // Out of order across the wrap: [32,64), [16,32), then [0,16).
    c.seg(0, seq_at(32, isn), kAck, std::string_view(truth).substr(32));
    c.seg(0, seq_at(16, isn), kAck, std::string_view(truth).substr(16, 16));
    c.seg(0, seq_at(0, isn), kAck, std::string_view(truth).substr(0, 16));
    c.seg(0, seq_at(64, isn), kFin, "");
    EXPECT_EQ(c.rec.bytes(0), truth) << isn;
    EXPECT_EQ(c.rec.ends(0), Ends{StreamEnd::fin});
    EXPECT_TRUE(c.rec.consistent(0));
  }
}

// Counts instead of recording: the stream below is longer than 4 GiB. The
// content check is the first and last byte of each chunk against the block.
class CountingConsumer : public StreamConsumer {
 public:
  explicit CountingConsumer(const std::string& block) : block_(block) {}
  bool on_data(const StreamContext&, std::uint64_t offset, std::span<const std::uint8_t> data,
               bool gap_before) noexcept override {
    ok_ = ok_ && offset == bytes_ && !gap_before && !data.empty() &&
          data.front() == static_cast<std::uint8_t>(block_[offset % block_.size()]) &&
          data.back() == static_cast<std::uint8_t>(block_[(offset + data.size() - 1) % block_.size()]);
    bytes_ += data.size();
    return true;
  }
  void on_end(const StreamContext&, StreamEnd) noexcept override {}
  bool ok() const { return ok_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  const std::string& block_;
  std::uint64_t bytes_ = 0;
  bool ok_ = true;
};

TEST(ReassemblerSequence, StreamLongerThanTheSequenceSpace) {
  ReassemblyConfig cfg = roomy_config();
  cfg.page_size_bytes = 2048;
  ReassemblyCounters counters;
  Reassembler r(cfg, counters);
  // The stream repeats one 65000-byte block; each block goes as a 1000-byte
  // tail first (buffered) and then its 64000-byte head (in order, zero copy).
  const std::string block = test::pattern(65000, 5);
  CountingConsumer counting(block);
  r.add_consumer(&counting);
  FlowKey key{};
  const StreamContext ctx{&key, 1, 1, kDirLoToHi, kDirLoToHi, 0};
  StreamState s{};
  StreamState peer{};
  const std::uint32_t isn = 0xFFFF0000U;
  r.segment(s, peer, ctx, isn, kSyn, {}, 0);
  const auto head = test::bytes_of(std::string_view(block).substr(0, 64000));
  const auto tail = test::bytes_of(std::string_view(block).substr(64000));
  constexpr std::uint64_t kBlocks = (1ULL << 32) / 65000 + 100;
  std::uint32_t seq = isn + 1;
  for (std::uint64_t i = 0; i < kBlocks; ++i) {
    r.segment(s, peer, ctx, seq + 64000, kAck, tail, 0);
    r.segment(s, peer, ctx, seq, kAck, head, 0);
    seq += 65000;
  }
  EXPECT_TRUE(counting.ok());
  EXPECT_EQ(counting.bytes(), kBlocks * 65000);
  EXPECT_GT(counting.bytes(), 1ULL << 32);
  EXPECT_EQ(s.next_offset, kBlocks * 65000);
  EXPECT_EQ(s.missed_bytes, 0U);
  EXPECT_EQ(counters.out_of_window.get(), 0U);
  EXPECT_EQ(counters.ooo_segments.get(), kBlocks);
  EXPECT_EQ(counters.pages_in_use.get(), 0U);
}

}  // namespace
}  // namespace sf
