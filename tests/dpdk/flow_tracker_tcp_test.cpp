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
