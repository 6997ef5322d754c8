// FlowTracker: flow creation and TCP connection semantics (SYN, retransmit,
// reuse with a new ISN, SYN-ACK first, RST), table full (drop and evict),
// finish(), stale bulk lookups and the worker counters.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "tracker_fixture.hpp"

namespace sf::test {
namespace {

using namespace flags;

TEST_F(TrackerTest, SixSimultaneousSynsAreSixFlows) {
  make();
  // Built as real frames and parsed, as RX would.
  const auto frame = [](std::uint16_t sport, bool from_client, std::uint8_t f) {
    PacketBuilder b;
    b.eth();
    if (from_client) {
      b.ipv4("192.168.1.10", "93.184.216.34").tcp(sport, 443, f, 1000 + sport, 0);
    } else {
      b.ipv4("93.184.216.34", "192.168.1.10").tcp(443, sport, f, 9000, 1001 + sport);
    }
    return b;
  };
  std::uint64_t ts = kT0;
  std::map<std::uint16_t, std::uint64_t> syn_id;
  const auto phase = [&](bool from_client, std::uint8_t f) {
    std::vector<PacketMeta> metas;
    for (std::uint16_t sport = 50001; sport <= 50006; ++sport) {
      metas.push_back(meta_of_frame(frame(sport, from_client, f), ts += 1000, ++last_id_, tracker().table().seed()));
      if (f == S) syn_id[sport] = last_id_;
    }
    burst(metas);
  };
  phase(true, S);
  EXPECT_EQ(counters().flows_created.get(), 6U);
  EXPECT_EQ(tracker().table().size(), 6U);
  phase(false, SA);
  phase(true, A);
  phase(true, FA);
  phase(false, FA);
  phase(true, A);
  EXPECT_EQ(counters().flows_created.get(), 6U);
  EXPECT_TRUE(events().empty());
  tracker().finish(ts, EndReason::eof);
  ASSERT_EQ(events().size(), 6U);
  EXPECT_EQ(records(EndReason::tcp_close), 6U) << "closed connections end as tcp_close, not eof";
  std::sort(events().begin(), events().end(),
            [](const FlowEvent& a, const FlowEvent& b) { return a.flow_id < b.flow_id; });
  for (std::size_t i = 0; i < 6; ++i) {
    const FlowEvent& e = events()[i];
    EXPECT_EQ(e.flow_id, syn_id[static_cast<std::uint16_t>(50001 + i)]);
    EXPECT_EQ(e.generation, 1U);
    EXPECT_EQ(e.end_reason, EndReason::tcp_close);
    EXPECT_EQ(src_packets(e), 4U);
    EXPECT_EQ(dst_packets(e), 2U);
    EXPECT_EQ(e.tcp_flags[e.initiator_dir], S | A | tcpflag::kFin);
    EXPECT_EQ(e.tcp_flags[e.initiator_dir ^ 1U], SA | tcpflag::kFin);
    EXPECT_EQ(e.bytes[e.initiator_dir], 4U * 40U) << "IP bytes: 20 IP + 20 TCP";
    EXPECT_EQ(e.worker, kWorker);
  }
  expect_conservation();
}

TEST_F(TrackerTest, RetransmittedSynIsOneFlow) {
  make();
  const Tuple c;
  const std::uint64_t id = send(c, kT0, S, 1000);
  send(c, kT0 + 1 * kSec, S, 1000);
  send(c, kT0 + 3 * kSec, S, 1000);
  send(c.reply(), kT0 + 3 * kSec + 5, SA, 7000);
  EXPECT_EQ(counters().flows_created.get(), 1U);
  tracker().finish(kT0 + 4 * kSec, EndReason::eof);
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].flow_id, id);
  EXPECT_EQ(src_packets(events()[0]), 3U);
  EXPECT_EQ(events()[0].end_reason, EndReason::eof);
  expect_conservation();
}

TEST_F(TrackerTest, RetransmittedSynAfterCloseStaysInTheSameFlow) {
  make();
  const Tuple c;
  send(c, kT0, S, 1000);
  send(c.reply(), kT0 + 1, SA, 7000);
  send(c, kT0 + 2, FA, 1001);
  send(c.reply(), kT0 + 3, FA, 7001);
  send(c, kT0 + 4, S, 1000);  // same ISN: a late retransmission
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(counters().flows_created.get(), 1U);
  tracker().finish(kT0 + 5, EndReason::eof);
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(total_packets(events()[0]), 5U);
  EXPECT_EQ(events()[0].generation, 1U);
}

// SYN, FIN both ways, then a SYN with a new ISN: the old record ends
// (tcp_close) and a second generation starts at that SYN.
TEST_F(TrackerTest, NewIsnOnAClosedTupleStartsTheNextGeneration) {
  make();
  const Tuple c;
  const std::uint64_t first = send(c, kT0, S, 1000);
  send(c.reply(), kT0 + 10, SA, 7000);
  send(c, kT0 + 20, A, 1001);
  send(c, kT0 + 30, FA, 1001);
  send(c.reply(), kT0 + 40, FA, 7001);
  send(c, kT0 + 50, A, 1002);
  const std::uint64_t second = send(c, kT0 + 1 * kSec, S, 555555);
  ASSERT_EQ(events().size(), 1U);
  const FlowEvent g1 = events()[0];  // a copy: more events follow
  EXPECT_EQ(g1.flow_id, first);
  EXPECT_EQ(g1.generation, 1U);
  EXPECT_EQ(g1.end_reason, EndReason::tcp_close);
  EXPECT_EQ(src_packets(g1), 4U);
  EXPECT_EQ(dst_packets(g1), 2U);
  EXPECT_EQ(g1.first_ts_ns, kT0);
  EXPECT_EQ(g1.last_ts_ns, kT0 + 50);
  send(c.reply(), kT0 + 1 * kSec + 10, SA, 8000);
  tracker().finish(kT0 + 2 * kSec, EndReason::eof);
  ASSERT_EQ(events().size(), 2U);
  const FlowEvent& g2 = events()[1];
  EXPECT_EQ(g2.flow_id, second);
  EXPECT_EQ(g2.generation, 2U);
  EXPECT_EQ(g2.end_reason, EndReason::eof);
  EXPECT_EQ(src_packets(g2), 1U);
  EXPECT_EQ(dst_packets(g2), 1U);
  EXPECT_EQ(g2.first_ts_ns, kT0 + 1 * kSec);
  EXPECT_EQ(g2.initiator_dir, g1.initiator_dir);
  EXPECT_EQ(records(EndReason::tcp_close), 1U);
  EXPECT_EQ(records(EndReason::eof), 1U);
  EXPECT_EQ(counters().flows_created.get(), 2U);
  expect_conservation();
}

TEST_F(TrackerTest, GenerationsChainAfterRstAndFromTheOtherSide) {
  make();
  const Tuple c;
  send(c, kT0, S, 1);
  send(c.reply(), kT0 + 1, RA, 0);  // refused: closed by RST
  const std::uint64_t g2 = send(c, kT0 + 2, S, 2);
  send(c.reply(), kT0 + 3, R, 0);
  // Third connection opened by the other endpoint on the same tuple.
  const std::uint64_t g3 = send(c.reply(), kT0 + 4, S, 3);
  tracker().finish(kT0 + 5, EndReason::eof);
  ASSERT_EQ(events().size(), 3U);
  EXPECT_EQ(events()[0].generation, 1U);
  EXPECT_EQ(events()[0].end_reason, EndReason::tcp_close);
  EXPECT_EQ(events()[1].generation, 2U);
  EXPECT_EQ(events()[1].flow_id, g2);
  EXPECT_EQ(events()[1].end_reason, EndReason::tcp_close);
  EXPECT_EQ(events()[2].generation, 3U);
  EXPECT_EQ(events()[2].flow_id, g3);
  EXPECT_EQ(events()[2].end_reason, EndReason::eof);
  EXPECT_EQ(events()[2].initiator_dir, events()[0].initiator_dir ^ 1U) << "the server opened generation 3";
  expect_conservation();
}

TEST_F(TrackerTest, NewIsnOnAnOpenConnectionIsNotANewGeneration) {
  make();
  const Tuple c;
  send(c, kT0, S, 1000);
  send(c.reply(), kT0 + 1, SA, 7000);
  send(c, kT0 + 2, FA, 1001);  // FIN one way only: not closed
  send(c, kT0 + 3, S, 424242);
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(counters().flows_created.get(), 1U);
}

TEST_F(TrackerTest, SynAckFirstMakesItsReceiverTheInitiator) {
  make();
  // Server on the lo side and on the hi side: both orientations.
  for (const char* server : {"10.0.0.2", "10.9.9.9"}) {
    events().clear();
    const Tuple client{ipproto::kTcp, "10.0.0.5", 40000, server, 80};
    const std::uint64_t id = send(client.reply(), kT0, SA, 7000);
    send(client, kT0 + 1, A, 1001);
    send(client, kT0 + 2, PA, 1001, 500);
    send(client.reply(), kT0 + 3, A, 7001);
    tracker().finish(kT0 + 4, EndReason::eof);
    ASSERT_EQ(events().size(), 1U);
    const FlowEvent& e = events()[0];
    const std::uint8_t client_dir = meta_of(client, 0, 0).dir;
    EXPECT_EQ(e.initiator_dir, client_dir) << "server " << server;
    EXPECT_EQ(e.flow_id, id);
    EXPECT_EQ(src_packets(e), 2U);
    EXPECT_EQ(dst_packets(e), 2U);
    EXPECT_EQ(e.bytes[e.initiator_dir], 600U);
    EXPECT_EQ(e.tcp_flags[e.initiator_dir], PA);
    EXPECT_EQ(e.tcp_flags[e.initiator_dir ^ 1U], SA);
  }
}

TEST_F(TrackerTest, FirstPacketSenderIsTheInitiatorOtherwise) {
  make();
  const Tuple u{ipproto::kUdp, "10.0.0.9", 5353, "10.0.0.1", 53};  // sender on the hi side
  const std::uint64_t id = send(u, kT0, 0);
  send(u.reply(), kT0 + 1);
  send(u.reply(), kT0 + 2);
  tracker().finish(kT0 + 3, EndReason::eof);
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].initiator_dir, kDirHiToLo);
  EXPECT_EQ(events()[0].flow_id, id);
  EXPECT_EQ(src_packets(events()[0]), 1U);
  EXPECT_EQ(dst_packets(events()[0]), 2U);
  EXPECT_EQ(events()[0].tcp_flags[0] | events()[0].tcp_flags[1], 0) << "no flags for UDP";
}

TEST_F(TrackerTest, RecordKeepsTheFirstPacketsIcmpType) {
  make();
  // An echo flow first seen by its reply: the record says so, later requests don't change it.
  PacketBuilder reply, request;
  reply.eth().ipv4("10.0.0.2", "10.0.0.1").icmp_echo(0x99, 1, true);
  request.eth().ipv4("10.0.0.1", "10.0.0.2").icmp_echo(0x99, 2);
  const PacketMeta r = meta_of_frame(reply, kT0, ++last_id_, tracker().table().seed());
  const PacketMeta q = meta_of_frame(request, kT0 + 1, ++last_id_, tracker().table().seed());
  burst({r, q});
  tracker().finish(kT0 + 2, EndReason::eof);
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].icmp_type, 0);
  EXPECT_EQ(events()[0].initiator_dir, r.dir);
  EXPECT_EQ(total_packets(events()[0]), 2U);
  expect_conservation();
}

TEST_F(TrackerTest, RstClosesTheConnection) {
  make();
  const Tuple c;
  send(c, kT0, S, 1);
  send(c.reply(), kT0 + 1 * kMs, SA, 9);
  send(c, kT0 + 2 * kMs, R, 2);
  // Closed: the timer now runs on tcp_closed (5 s), not tcp_idle (300 s).
  tracker().advance_clock(kT0 + 2 * kMs + 5 * kSec + 200 * kMs);
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].end_reason, EndReason::tcp_close);
  EXPECT_EQ(total_packets(events()[0]), 3U);
  EXPECT_EQ(events()[0].tcp_flags[events()[0].initiator_dir], S | R);
  EXPECT_EQ(tracker().table().size(), 0U);
  expect_conservation();
}

TEST_F(TrackerTest, FinishEndsClosedTcpAsTcpCloseAndTheRestWithTheReason) {
  make();
  const Tuple closed;
  const Tuple open{ipproto::kTcp, "10.0.0.1", 40001, "10.0.0.2", 80};
  const Tuple udp{ipproto::kUdp, "10.0.0.1", 5000, "10.0.0.3", 53};
  const Tuple icmp{ipproto::kIcmp, "10.0.0.1", 77, "10.0.0.4", 77};
  const Tuple gre{47, "10.0.0.1", 0, "10.0.0.5", 0};
  send(closed, kT0, S, 1);
  send(closed.reply(), kT0 + 1, RA, 0);
  send(open, kT0 + 2, S, 1);
  send(udp, kT0 + 3);
  send(icmp, kT0 + 4);
  send(gre, kT0 + 5);
  EXPECT_EQ(counters().active_flows.get(), 5U);
  tracker().finish(kT0 + 6, EndReason::shutdown);
  ASSERT_EQ(events().size(), 5U);
  EXPECT_EQ(records(EndReason::tcp_close), 1U);
  EXPECT_EQ(records(EndReason::shutdown), 4U);
  const FlowKey closed_key = meta_of(closed, 0, 0).key;
  for (const FlowEvent& e : events()) {
    EXPECT_EQ(e.end_reason, e.key == closed_key ? EndReason::tcp_close : EndReason::shutdown);
  }
  EXPECT_EQ(tracker().table().size(), 0U);
  EXPECT_EQ(counters().active_flows.get(), 0U);
  // Nothing left: a second finish emits nothing.
  tracker().finish(kT0 + 7, EndReason::eof);
  EXPECT_EQ(events().size(), 5U);
  expect_conservation();
}

TEST_F(TrackerTest, FinishWithoutPacketsIsHarmless) {
  make();
  tracker().advance_clock(kT0);
  tracker().finish(kT0, EndReason::eof);
  EXPECT_TRUE(events().empty());
}

TEST_F(TrackerTest, TableFullWithDropCountsAndLosesNoRecord) {
  make(test_timeouts(), OnTableFull::Drop, 16);
  std::vector<Tuple> flows;
  for (std::uint16_t i = 0; i < 20; ++i) flows.push_back(Tuple{ipproto::kUdp, "10.0.0.1", static_cast<std::uint16_t>(1000 + i), "10.0.0.2", 53});
  for (std::uint16_t i = 0; i < 20; ++i) send(flows[i], kT0 + i);
  EXPECT_EQ(tracker().table().size(), 16U);
  EXPECT_EQ(counters().table_full.get(), 4U);
  EXPECT_EQ(counters().table_full_events.get(), 4U);
  EXPECT_EQ(counters().flows_created.get(), 16U);
  // Tracked flows still count; refused ones are refused again.
  for (std::uint16_t i = 0; i < 20; ++i) send(flows[i].reply(), kT0 + 100 + i);
  EXPECT_EQ(counters().table_full.get(), 8U);
  EXPECT_TRUE(events().empty()) << "drop mode never ends a flow to make room";
  tracker().finish(kT0 + 200, EndReason::eof);
  ASSERT_EQ(events().size(), 16U);
  for (const FlowEvent& e : events()) {
    EXPECT_EQ(total_packets(e), 2U);
    EXPECT_EQ(e.end_reason, EndReason::eof);
  }
  expect_conservation();
}

// Eviction order is the timer wheel's: the flow nearest its idle deadline
// goes first (per protocol that is the least recently active one; a TCP flow
// with its longer timeout outlasts UDP flows that went quiet later).
TEST_F(TrackerTest, TableFullWithEvictEndsTheFlowNearestItsIdleTimeout) {
  make(test_timeouts(), OnTableFull::Evict, 16);
  constexpr std::uint64_t kTick = 100 * kMs;
  std::vector<Tuple> flows;
  std::vector<std::uint64_t> ids;
  for (std::uint16_t i = 0; i < 18; ++i) {
    flows.push_back(Tuple{i == 2 ? ipproto::kTcp : ipproto::kUdp, "10.0.0.1", static_cast<std::uint16_t>(1000 + i),
                          "10.0.0.2", 53});
  }
  for (std::uint16_t i = 0; i < 16; ++i) ids.push_back(send(flows[i], kT0 + i * kTick));
  send(flows[0].reply(), kT0 + 20 * kTick);
  send(flows[1], kT0 + 19 * kTick);
  // Nearest deadline first: 3, 4, ..., 15 (UDP, 60 s), 1, 0, and 2 (TCP, 300 s) last.
  ids.push_back(send(flows[16], kT0 + 30 * kTick));
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].end_reason, EndReason::evicted);
  EXPECT_EQ(events()[0].flow_id, ids[3]);
  EXPECT_EQ(total_packets(events()[0]), 1U);
  ids.push_back(send(flows[17], kT0 + 31 * kTick));
  ASSERT_EQ(events().size(), 2U);
  EXPECT_EQ(events()[1].flow_id, ids[4]);
  EXPECT_EQ(counters().table_full_events.get(), 2U);
  EXPECT_EQ(counters().table_full.get(), 0U);
  EXPECT_EQ(records(EndReason::evicted), 2U);
  // The evicted flow comes back as a new flow (evicting the next nearest).
  const std::uint64_t back = send(flows[3], kT0 + 40 * kTick);
  ASSERT_EQ(events().size(), 3U);
  EXPECT_EQ(events()[2].flow_id, ids[5]);
  // Drain the UDP flows the same way: 6..15, then 1 and 0; TCP flows[2] stays.
  for (std::uint16_t i = 0; i < 12; ++i) {
    send(Tuple{ipproto::kTcp, "10.0.0.9", static_cast<std::uint16_t>(2000 + i), "10.0.0.2", 80},
         kT0 + (50 + i) * kTick);
  }
  ASSERT_EQ(events().size(), 15U);
  EXPECT_EQ(events()[13].flow_id, ids[1]);
  EXPECT_EQ(events()[14].flow_id, ids[0]);
  for (const FlowEvent& e : events()) EXPECT_NE(e.flow_id, ids[2]) << "the TCP flow is evicted last";
  tracker().finish(kT0 + 100 * kTick, EndReason::eof);
  EXPECT_EQ(std::count_if(events().begin(), events().end(), [&](const FlowEvent& e) { return e.flow_id == back; }), 1);
  expect_conservation();
}

// A full table whose oldest flow has already passed its idle timeout (the
// wheel has not ticked yet) ends that flow as idle: it was not evicted.
TEST_F(TrackerTest, TableFullEndsAFlowPastItsTimeoutAsIdle) {
  make(test_timeouts(), OnTableFull::Evict, 16);
  std::vector<std::uint64_t> ids;
  for (std::uint16_t i = 0; i < 17; ++i) {
    const Tuple t{ipproto::kUdp, "10.0.0.1", static_cast<std::uint16_t>(1000 + i), "10.0.0.2", 53};
    ids.push_back(send(t, i < 16 ? kT0 + i * kMs : kT0 + 60 * kSec + 5 * kMs));
  }
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].flow_id, ids[0]);
  EXPECT_EQ(events()[0].end_reason, EndReason::idle);
  EXPECT_EQ(counters().table_full_events.get(), 1U);
  EXPECT_EQ(records(EndReason::evicted), 0U);
  tracker().finish(kT0 + 61 * kSec, EndReason::eof);
  expect_conservation();
}

TEST_F(TrackerTest, ExportRefusedIsCountedAsDropped) {
  make();
  sink_.refuse = true;
  send(Tuple{}, kT0, S, 1);
  send(Tuple{}.reply(), kT0 + 1, SA, 1);
  tracker().finish(kT0 + 2, EndReason::eof);
  EXPECT_EQ(counters().export_dropped_records.get(), 1U);
  EXPECT_EQ(counters().export_dropped_packets.get(), 2U);
  EXPECT_EQ(counters().packets_exported.get(), 0U);
  EXPECT_EQ(records(EndReason::eof), 1U);
}

}  // namespace
}  // namespace sf::test
