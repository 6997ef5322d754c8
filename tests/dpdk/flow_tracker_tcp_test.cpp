// FlowTracker with TCP connection state: the establish timeout (a handshake
// that never completes ends early; one that completes gets the idle
// timeout), and the record's TCP part (conn_state, history, orientation,
// handshake RTT) for scripted connections whose Zeek values are known.
#include <gtest/gtest.h>

#include <string>

#include "tracker_fixture.hpp"

namespace sf::test {
namespace {

using namespace flags;

const Tuple kClient{ipproto::kTcp, "10.0.0.1", 40000, "10.0.0.2", 80};

std::string history(const FlowEvent& e) { return std::string(e.tcp.history, e.tcp.history_len); }

TEST_F(TrackerTest, UnansweredSynEndsAfterTheEstablishTimeout) {
  make();  // establish 20 s, TCP idle 300 s
  const std::uint64_t id = send(kClient, kT0, S, 1000);
  tracker().advance_clock(kT0 + 19 * kSec);
  EXPECT_TRUE(events().empty());
  tracker().advance_clock(kT0 + 21 * kSec);
  ASSERT_EQ(events().size(), 1U);
  const FlowEvent& e = events()[0];
  EXPECT_EQ(e.flow_id, id);
  EXPECT_EQ(e.end_reason, EndReason::idle);
  EXPECT_EQ(e.conn_state, ConnState::S0);
  EXPECT_EQ(e.direction_reason, DirectionReason::syn);
  EXPECT_EQ(history(e), "S");
  EXPECT_FALSE(e.tcp.bits & kTcpRecordRtt);
  expect_conservation();
}

TEST_F(TrackerTest, CompletedHandshakeGetsTheIdleTimeout) {
  make();
  send(kClient, kT0, S, 1000);
  send(kClient.reply(), kT0 + 2 * kMs, SA, 5000);
  send(kClient, kT0 + 3 * kMs, A, 1001);
  tracker().advance_clock(kT0 + 60 * kSec);  // past the establish timeout, far from the idle one
  EXPECT_TRUE(events().empty());
  tracker().finish(kT0 + 60 * kSec, EndReason::eof);
  ASSERT_EQ(events().size(), 1U);
  const FlowEvent& e = events()[0];
  EXPECT_EQ(e.end_reason, EndReason::eof);
  EXPECT_EQ(e.conn_state, ConnState::S1);
  EXPECT_EQ(history(e), "ShA");
  ASSERT_TRUE(e.tcp.bits & kTcpRecordRtt);
  EXPECT_EQ(e.tcp.rtt_synack_us, 2000U);
  EXPECT_EQ(e.tcp.rtt_ack_us, 1000U);
  expect_conservation();
}

TEST_F(TrackerTest, SynAckFirstMakesItsReceiverTheInitiator) {
  make();
  send(kClient.reply(), kT0, SA, 5000);  // server -> client, first
  send(kClient, kT0 + 1 * kMs, A, 1001);
  tracker().finish(kT0 + 1 * kSec, EndReason::eof);
  ASSERT_EQ(events().size(), 1U);
  const FlowEvent& e = events()[0];
  EXPECT_EQ(e.direction_reason, DirectionReason::synack);
  EXPECT_EQ(e.conn_state, ConnState::S1);
  EXPECT_EQ(history(e), "hA");
}

TEST_F(TrackerTest, RejectedConnectionIsRej) {
  make();
  send(kClient, kT0, S, 1000);
  send(kClient.reply(), kT0 + 1 * kMs, RA, 0);
  tracker().finish(kT0 + 10 * kSec, EndReason::eof);
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].conn_state, ConnState::REJ);
  EXPECT_EQ(history(events()[0]), "Sr");
  EXPECT_EQ(events()[0].end_reason, EndReason::tcp_close);
}

TEST_F(TrackerTest, UdpRecordsGetZeeksStatelessConnState) {
  make();
  const Tuple dns{ipproto::kUdp, "10.0.0.1", 5353, "10.0.0.2", 53};
  const Tuple lone{ipproto::kUdp, "10.0.0.1", 5354, "10.0.0.2", 53};
  send(dns, kT0);
  send(dns.reply(), kT0 + kMs);
  send(lone, kT0);
  tracker().finish(kT0 + kSec, EndReason::eof);
  ASSERT_EQ(events().size(), 2U);
  for (const FlowEvent& e : events()) {
    const bool answered = e.packets[0] != 0 && e.packets[1] != 0;
    EXPECT_EQ(e.conn_state, answered ? ConnState::SF : ConnState::S0);
    EXPECT_EQ(e.direction_reason, DirectionReason::first_packet);
    EXPECT_FALSE(e.tcp.bits & kTcpRecordState);
  }
}

}  // namespace
}  // namespace sf::test

// Reassembly through the tracker: the bytes a consumer gets, and the record's
// missed and conflicting bytes, against the byte strings the test sent.
namespace sf::test {
namespace {

class Recorder : public StreamConsumer {
 public:
  bool on_data(const StreamContext& ctx, std::uint64_t offset, std::span<const std::uint8_t> data,
               bool gap_before) noexcept override {
    std::string& s = bytes[ctx.dir];
    if (gap_before || offset > s.size()) s.resize(offset, '.');  // skipped bytes shown as '.'
    s.append(reinterpret_cast<const char*>(data.data()), data.size());
    return true;
  }
  void on_end(const StreamContext& ctx, StreamEnd reason) noexcept override { ends[ctx.dir] = reason; }
  std::string bytes[2];
  StreamEnd ends[2] = {StreamEnd::kCount, StreamEnd::kCount};
};

class ReassemblyTest : public TrackerTest {
 protected:
  void SetUp() override {
    make();
    reasm_ = std::make_unique<Reassembler>(ReassemblyConfig{}, reasm_counters_);
    reasm_->add_consumer(&rec_);
    tracker().set_reassembler(reasm_.get());
  }
  // A segment carrying `text` at seq.
  void data(const Tuple& t, std::uint64_t ts, std::uint32_t seq, const std::string& text, std::uint8_t f = PA) {
    PacketMeta m = pkt(t, ts, f, seq);
    m.payload = reinterpret_cast<const std::uint8_t*>(text.data());
    m.payload_len = m.payload_caplen = static_cast<std::uint16_t>(text.size());
    const PacketMeta* p = &m;
    tracker().process_burst(&p, 1);
    ++sent_;
  }
  ReassemblyCounters reasm_counters_;
  std::unique_ptr<Reassembler> reasm_;
  Recorder rec_;
};

TEST_F(ReassemblyTest, ReorderedAndOverlappingSegmentsArriveInOrder) {
  const std::uint8_t c = kDirLoToHi;  // kClient's sender direction (10.0.0.1 is the lower address)
  send(kClient, kT0, S, 999);
  send(kClient.reply(), kT0 + kMs, SA, 4999);
  send(kClient, kT0 + 2 * kMs, A, 1000);
  data(kClient, kT0 + 3 * kMs, 1010, "klmnopqrst");  // ahead of a hole
  data(kClient, kT0 + 4 * kMs, 1005, "fgXXXklmno");  // overlaps the buffered bytes with other content
  data(kClient, kT0 + 5 * kMs, 1000, "abcde");       // fills the hole
  send(kClient, kT0 + 6 * kMs, FA, 1020);
  send(kClient.reply(), kT0 + 7 * kMs, FA, 5000);
  tracker().finish(kT0 + 10 * kSec, EndReason::eof);
  EXPECT_EQ(rec_.bytes[c], "abcdefgXXXklmnopqrst");  // first wins: the buffered "klmno" stays
  EXPECT_EQ(rec_.ends[c], StreamEnd::fin);
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].tcp.missed_bytes[c], 0U);
  EXPECT_EQ(events()[0].tcp.overlap_conflict_bytes[c], 0U);  // same content where they overlap
  EXPECT_EQ(reasm_counters_.pages_in_use.get(), 0U);
}

TEST_F(ReassemblyTest, HoleNeverFilledIsMissedAtTheEnd) {
  const std::uint8_t c = kDirLoToHi;
  send(kClient, kT0, S, 999);
  send(kClient.reply(), kT0 + kMs, SA, 4999);
  data(kClient, kT0 + 2 * kMs, 1000, "0123456789");
  data(kClient, kT0 + 3 * kMs, 1020, "KLMNO");  // bytes 1010..1019 never come
  tracker().finish(kT0 + 10 * kSec, EndReason::eof);
  EXPECT_EQ(rec_.bytes[c], "0123456789..........KLMNO");
  EXPECT_EQ(rec_.ends[c], StreamEnd::eof);
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].tcp.missed_bytes[c], 10U);
  EXPECT_EQ(events()[0].tcp.missed_bytes[c ^ 1], 0U);
  expect_conservation();
}

TEST_F(ReassemblyTest, ConflictingOverlapIsCountedInTheRecord) {
  const std::uint8_t c = kDirLoToHi;
  send(kClient, kT0, S, 999);
  send(kClient.reply(), kT0 + kMs, SA, 4999);
  data(kClient, kT0 + 2 * kMs, 1005, "FGHIJ");
  data(kClient, kT0 + 3 * kMs, 1005, "fghij");  // same place, other bytes: an evasion sign
  data(kClient, kT0 + 4 * kMs, 1000, "abcde");
  tracker().finish(kT0 + 10 * kSec, EndReason::eof);
  EXPECT_EQ(rec_.bytes[c], "abcdeFGHIJ");
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].tcp.overlap_conflict_bytes[c], 5U);
}

TEST_F(ReassemblyTest, RstMidStreamEndsBothDirections) {
  const std::uint8_t c = kDirLoToHi;
  send(kClient, kT0, S, 999);
  send(kClient.reply(), kT0 + kMs, SA, 4999);
  data(kClient, kT0 + 2 * kMs, 1000, "hello");
  data(kClient.reply(), kT0 + 3 * kMs, 5000, "world");
  send(kClient.reply(), kT0 + 4 * kMs, R, 5005);
  data(kClient, kT0 + 5 * kMs, 1005, "late");  // after the abort: not part of the stream
  tracker().finish(kT0 + 10 * kSec, EndReason::eof);
  EXPECT_EQ(rec_.bytes[c], "hello");
  EXPECT_EQ(rec_.bytes[c ^ 1], "world");
  EXPECT_EQ(rec_.ends[c], StreamEnd::rst);
  EXPECT_EQ(rec_.ends[c ^ 1], StreamEnd::rst);
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].conn_state, ConnState::RSTR);
}

}  // namespace
}  // namespace sf::test
