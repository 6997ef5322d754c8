// FlowTracker timing: idle timeouts per protocol by packet time and by the
// timer wheel ("strictly older" at the exact boundary), the closed-TCP
// linger, active-timeout interim records, finish(), and bursts whose bulk
// lookup results go stale as earlier packets create and end flows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <tuple>

#include "tracker_fixture.hpp"

namespace sf::test {
namespace {

using namespace flags;

struct ProtoCase {
  const char* name;
  Tuple tuple;
  std::uint64_t idle_ns;
};

const ProtoCase kProtoCases[] = {
    {"tcp", Tuple{ipproto::kTcp, "10.0.0.1", 40000, "10.0.0.2", 80}, 300 * kSec},
    {"udp", Tuple{ipproto::kUdp, "10.0.0.1", 5000, "10.0.0.2", 53}, 60 * kSec},
    {"icmp", Tuple{ipproto::kIcmp, "10.0.0.1", 0x99, "10.0.0.2", 0x99}, 30 * kSec},
    {"icmpv6", Tuple{ipproto::kIcmpv6, "2001:db8::1", 7, "2001:db8::2", 7}, 30 * kSec},
    {"gre", Tuple{47, "10.0.0.1", 0, "10.0.0.2", 0}, 45 * kSec},
    {"sctp", Tuple{ipproto::kSctp, "10.0.0.1", 3868, "10.0.0.2", 3868}, 45 * kSec},
};

class IdleTimeout : public TrackerTest, public ::testing::WithParamInterface<ProtoCase> {};

TEST_P(IdleTimeout, ByPacketTimeStrictlyOlder) {
  make();
  const ProtoCase& c = GetParam();
  const std::uint8_t f = c.tuple.proto == ipproto::kTcp ? A : 0;
  const std::uint64_t first = send(c.tuple, kT0, f);
  send(c.tuple.reply(), kT0 + c.idle_ns, f);  // exactly the timeout later: same flow
  EXPECT_TRUE(events().empty());
  const std::uint64_t last = kT0 + c.idle_ns;
  const std::uint64_t fresh = send(c.tuple, last + c.idle_ns + 1, f);  // one ns more: a new flow
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].end_reason, EndReason::idle);
  EXPECT_EQ(events()[0].flow_id, first);
  EXPECT_EQ(total_packets(events()[0]), 2U);
  EXPECT_EQ(events()[0].last_ts_ns, last);
  tracker().finish(last + c.idle_ns + 1, EndReason::eof);
  ASSERT_EQ(events().size(), 2U);
  EXPECT_EQ(events()[1].flow_id, fresh);
  EXPECT_EQ(events()[1].generation, 1U);
  EXPECT_EQ(events()[1].first_ts_ns, last + c.idle_ns + 1);
  EXPECT_EQ(events()[1].end_reason, EndReason::eof);
  EXPECT_EQ(counters().flows_created.get(), 2U);
  expect_conservation();
}

// The timer wheel ends the flow once the clock passes last + timeout. The
// deadline is put one ns before a tick boundary so that the tick granularity
// does not blur the boundary.
TEST_P(IdleTimeout, ByAdvanceClockStrictlyOlder) {
  FlowTimeouts t = test_timeouts();
  t.tick_ns = kMs;
  make(t);
  const ProtoCase& c = GetParam();
  const std::uint8_t f = c.tuple.proto == ipproto::kTcp ? A : 0;
  send(c.tuple, kT0, f);
  const std::uint64_t last = kT0 + 10 * kSec - 1;  // moves the deadline: the wheel re-arms lazily
  send(c.tuple.reply(), last, f);
  const std::uint64_t deadline = last + c.idle_ns;
  tracker().advance_clock(kT0 + c.idle_ns + kMs);  // the first packet's deadline: not this flow's any more
  tracker().advance_clock(deadline);
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(tracker().table().size(), 1U);
  tracker().advance_clock(deadline + 1);
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].end_reason, EndReason::idle);
  EXPECT_EQ(total_packets(events()[0]), 2U);
  EXPECT_EQ(tracker().table().size(), 0U);
  EXPECT_GE(counters().timers_fired.get(), 1U);
  EXPECT_EQ(counters().active_flows.get(), 0U);
  expect_conservation();
}

INSTANTIATE_TEST_SUITE_P(Protocols, IdleTimeout, ::testing::ValuesIn(kProtoCases),
                         [](const ::testing::TestParamInfo<ProtoCase>& i) { return std::string(i.param.name); });

// Closes a connection with FIN both ways; returns the time of the last FIN.
std::uint64_t open_and_close(TrackerTest& t, const Tuple& c, std::uint64_t at) {
  t.send(c, at, S, 1);
  t.send(c.reply(), at + 1, SA, 2);
  t.send(c, at + 2, FA, 2);
  t.send(c.reply(), at + 3, FA, 3);
  return at + 3;
}

TEST_F(TrackerTest, ClosedTcpLingersForTcpClosedByPacketTime) {
  make();
  const Tuple c;
  const std::uint64_t closed = open_and_close(*this, c, kT0);
  send(c, closed + 5 * kSec, A, 4);  // exactly the linger later: same flow
  EXPECT_TRUE(events().empty());
  const std::uint64_t fresh = send(c, closed + 10 * kSec + 1, A, 4);
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].end_reason, EndReason::tcp_close);
  EXPECT_EQ(total_packets(events()[0]), 5U);
  tracker().finish(closed + 10 * kSec + 2, EndReason::eof);
  ASSERT_EQ(events().size(), 2U);
  EXPECT_EQ(events()[1].flow_id, fresh);
  EXPECT_EQ(events()[1].generation, 1U) << "after expiry a fresh flow, not a new generation";
  EXPECT_EQ(events()[1].end_reason, EndReason::eof);
}

TEST_F(TrackerTest, NewIsnAfterTheLingerExpiredIsGenerationOne) {
  make();
  const Tuple c;
  const std::uint64_t closed = open_and_close(*this, c, kT0);
  const std::uint64_t fresh = send(c, closed + 5 * kSec + 1, S, 999);
  tracker().finish(closed + 6 * kSec, EndReason::eof);
  ASSERT_EQ(events().size(), 2U);
  EXPECT_EQ(events()[0].end_reason, EndReason::tcp_close);
  EXPECT_EQ(events()[1].flow_id, fresh);
  EXPECT_EQ(events()[1].generation, 1U);
}

TEST_F(TrackerTest, ClosedTcpEndsByAdvanceClockAfterTheLinger) {
  FlowTimeouts t = test_timeouts();
  t.tick_ns = kMs;
  make(t);
  const Tuple c;
  const std::uint64_t closed = open_and_close(*this, c, kT0 + kMs - 4);  // last FIN 1 ns before a tick
  ASSERT_EQ((closed + 1) % kMs, 0U);
  tracker().advance_clock(closed + 5 * kSec);
  EXPECT_TRUE(events().empty()) << "not older than tcp_closed yet";
  tracker().advance_clock(closed + 5 * kSec + 1);
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].end_reason, EndReason::tcp_close);
}

TEST_F(TrackerTest, AdvanceClockNeverGoesBack) {
  make();
  const Tuple u{ipproto::kUdp, "10.0.0.1", 1, "10.0.0.2", 2};
  send(u, kT0);
  tracker().advance_clock(kT0 + 30 * kSec);
  tracker().advance_clock(kT0);  // ignored
  EXPECT_EQ(tracker().now_ns(), kT0 + 30 * kSec);
  // An out-of-order packet neither moves the clock back nor the flow's last_ts.
  send(u, kT0 + 10 * kSec);
  send(u, kT0 + 5 * kSec);
  EXPECT_EQ(tracker().now_ns(), kT0 + 30 * kSec);
  tracker().finish(kT0 + 31 * kSec, EndReason::eof);
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].last_ts_ns, kT0 + 10 * kSec);
  EXPECT_EQ(total_packets(events()[0]), 3U);
}

// End of input: flows whose timeout elapsed by now end as idle (spec: "after
// flows whose idle/closed timeout elapsed by the capture's last timestamp have
// ended as idle/tcp_close"), the rest with the given reason.
TEST_F(TrackerTest, FinishEndsElapsedFlowsAsIdle) {
  make();  // tick 100 ms
  const Tuple u{ipproto::kUdp, "10.0.0.1", 1, "10.0.0.2", 2};
  const Tuple v{ipproto::kUdp, "10.0.0.1", 3, "10.0.0.2", 4};
  send(u, kT0);
  send(v, kT0 + 1 * kSec);
  tracker().finish(kT0 + 60 * kSec + 200 * kMs, EndReason::eof);
  ASSERT_EQ(events().size(), 2U);
  EXPECT_EQ(events()[0].end_reason, EndReason::idle) << "u: 60.2 s old, timeout 60 s";
  EXPECT_EQ(events()[1].end_reason, EndReason::eof) << "v: 59.2 s old";
}

TEST_F(TrackerTest, FinishAtExactlyTheTimeoutIsNotElapsed) {
  make();
  const Tuple u{ipproto::kUdp, "10.0.0.1", 1, "10.0.0.2", 2};
  send(u, kT0);
  tracker().finish(kT0 + 60 * kSec, EndReason::eof);
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].end_reason, EndReason::eof);
}

// The same rule when the end of input falls in the same wheel tick as the
// deadline: 1 ms past a 60 s UDP timeout (tick 100 ms) is still past it.
TEST_F(TrackerTest, FinishEndsElapsedFlowsAsIdleEvenWithinATick) {
  make();  // tick 100 ms
  const Tuple u{ipproto::kUdp, "10.0.0.1", 1, "10.0.0.2", 2};
  const Tuple t{ipproto::kTcp, "10.0.0.1", 3, "10.0.0.2", 4};
  send(u, kT0);
  send(t, kT0 - 240 * kSec, A);  // TCP idle 300 s
  tracker().finish(kT0 + 60 * kSec + 1 * kMs, EndReason::eof);
  ASSERT_EQ(events().size(), 2U);
  for (const FlowEvent& e : events()) {
    EXPECT_EQ(e.end_reason, EndReason::idle)
        << "proto " << int{e.key.proto} << ": last packet " << (kT0 + 60 * kSec + kMs - e.last_ts_ns) / kMs
        << " ms before the end, more than its timeout, yet it ended as " << end_reason_name(e.end_reason);
  }
}

TEST_F(TrackerTest, ActiveTimeoutEmitsDeltasOnTheGrid) {
  FlowTimeouts t = test_timeouts();
  t.active_ns = 10 * kSec;
  make(t);
  const Tuple c{ipproto::kUdp, "10.0.0.9", 5000, "10.0.0.1", 53};  // initiator on the hi side
  const std::uint64_t id = send(c, kT0, 0, 0, 100);
  send(c.reply(), kT0 + 3 * kSec, 0, 0, 300);
  send(c, kT0 + 10 * kSec - 1, 0, 0, 100);
  EXPECT_TRUE(events().empty());
  send(c, kT0 + 10 * kSec, 0, 0, 110);  // on the deadline: interim first, then counts in the next
  ASSERT_EQ(events().size(), 1U);
  send(c.reply(), kT0 + 15 * kSec, 0, 0, 310);
  send(c, kT0 + 35 * kSec, 0, 0, 120);  // deadline 20 passed (and 30): one interim, next deadline 40
  ASSERT_EQ(events().size(), 2U);
  send(c.reply(), kT0 + 39 * kSec, 0, 0, 320);
  send(c, kT0 + 40 * kSec, 0, 0, 130);
  ASSERT_EQ(events().size(), 3U);
  tracker().finish(kT0 + 45 * kSec, EndReason::eof);
  ASSERT_EQ(events().size(), 4U);

  struct Expect {
    EndReason reason;
    std::uint64_t first, last, src_pk, src_by, dst_pk, dst_by;
  };
  const Expect want[] = {
      {EndReason::active, kT0, kT0 + 10 * kSec - 1, 2, 200, 1, 300},
      {EndReason::active, kT0 + 10 * kSec, kT0 + 15 * kSec, 1, 110, 1, 310},
      {EndReason::active, kT0 + 35 * kSec, kT0 + 39 * kSec, 1, 120, 1, 320},
      {EndReason::eof, kT0 + 40 * kSec, kT0 + 40 * kSec, 1, 130, 0, 0},
  };
  for (std::size_t i = 0; i < 4; ++i) {
    const FlowEvent& e = events()[i];
    SCOPED_TRACE(i);
    EXPECT_EQ(e.end_reason, want[i].reason);
    EXPECT_EQ(e.flow_id, id);
    EXPECT_EQ(e.generation, 1U);
    EXPECT_EQ(e.initiator_dir, kDirHiToLo);
    EXPECT_EQ(e.first_ts_ns, want[i].first);
    EXPECT_EQ(e.last_ts_ns, want[i].last);
    EXPECT_EQ(src_packets(e), want[i].src_pk);
    EXPECT_EQ(e.bytes[e.initiator_dir], want[i].src_by);
    EXPECT_EQ(dst_packets(e), want[i].dst_pk);
    EXPECT_EQ(e.bytes[e.initiator_dir ^ 1U], want[i].dst_by);
  }
  EXPECT_EQ(records(EndReason::active), 3U);
  EXPECT_EQ(counters().flows_created.get(), 1U);
  expect_conservation();
}

TEST_F(TrackerTest, ActiveTimeoutFlagsArePerInterval) {
  FlowTimeouts t = test_timeouts();
  t.active_ns = 10 * kSec;
  make(t);
  const Tuple c;
  send(c.reply(), kT0, SA, 9);  // SYN-ACK first: the client is the initiator
  send(c, kT0 + 1, A, 1);
  send(c, kT0 + 11 * kSec, PA, 1);
  send(c.reply(), kT0 + 12 * kSec, FA, 9);
  tracker().finish(kT0 + 13 * kSec, EndReason::eof);
  ASSERT_EQ(events().size(), 2U);
  const FlowEvent& a = events()[0];
  const FlowEvent& b = events()[1];
  EXPECT_EQ(a.tcp_flags[a.initiator_dir], A);
  EXPECT_EQ(a.tcp_flags[a.initiator_dir ^ 1U], SA);
  EXPECT_EQ(b.tcp_flags[b.initiator_dir], PA);
  EXPECT_EQ(b.tcp_flags[b.initiator_dir ^ 1U], FA);
  EXPECT_EQ(a.initiator_dir, b.initiator_dir);
  EXPECT_EQ(a.initiator_dir, meta_of(c, 0, 0).dir);
  EXPECT_EQ(b.end_reason, EndReason::eof);
}

TEST_F(TrackerTest, IdleWinsOverActive) {
  FlowTimeouts t = test_timeouts();
  t.active_ns = 10 * kSec;
  make(t);
  const Tuple u{ipproto::kUdp, "10.0.0.1", 1, "10.0.0.2", 2};
  const std::uint64_t a = send(u, kT0);
  const std::uint64_t b = send(u, kT0 + 100 * kSec);
  tracker().finish(kT0 + 101 * kSec, EndReason::eof);
  ASSERT_EQ(events().size(), 2U);
  EXPECT_EQ(events()[0].end_reason, EndReason::idle);
  EXPECT_EQ(events()[0].flow_id, a);
  EXPECT_EQ(events()[1].flow_id, b);
  EXPECT_EQ(records(EndReason::active), 0U);
}

// Captures may start at the epoch (synthetic or time-shifted files): a flow's
// first packet at ts 0 is still its first_ts.
TEST_F(TrackerTest, FlowStartingAtTimestampZeroKeepsItsFirstTs) {
  make();
  const Tuple u{ipproto::kUdp, "10.0.0.1", 1, "10.0.0.2", 2};
  send(u, 0);
  send(u.reply(), 1 * kSec);
  send(u, 2 * kSec);
  tracker().finish(3 * kSec, EndReason::eof);
  ASSERT_EQ(events().size(), 1U);
  EXPECT_EQ(events()[0].first_ts_ns, 0U);
  EXPECT_EQ(events()[0].last_ts_ns, 2 * kSec);
  EXPECT_EQ(total_packets(events()[0]), 3U);
}

// ---- bursts: an earlier packet changes the table a later one looked up ----

TEST_F(TrackerTest, BurstCreatesAFlowThatLaterPacketsOfTheBurstFind) {
  make();
  const Tuple x{ipproto::kUdp, "10.0.0.1", 1, "10.0.0.2", 2};
  const Tuple y{ipproto::kUdp, "10.0.0.1", 3, "10.0.0.2", 4};
  burst({pkt(x, kT0), pkt(x.reply(), kT0 + 1), pkt(y, kT0 + 2), pkt(x, kT0 + 3)});
  EXPECT_EQ(counters().flows_created.get(), 2U);
  EXPECT_GE(counters().stale_lookups.get(), 1U);
  tracker().finish(kT0 + 4, EndReason::eof);
  ASSERT_EQ(events().size(), 2U);
  EXPECT_EQ(total_packets(events()[0]) + total_packets(events()[1]), 4U);
  for (const FlowEvent& e : events()) {
    EXPECT_EQ(total_packets(e), e.flow_id == 1 ? 3U : 1U);
  }
  expect_conservation();
}

TEST_F(TrackerTest, BurstEndsAndRecreatesAFlowThatLaterPacketsFind) {
  make();
  const Tuple a{ipproto::kUdp, "10.0.0.1", 1, "10.0.0.2", 2};
  const Tuple c;
  send(a, kT0);
  open_and_close(*this, c, kT0);
  // a: idle by this packet's time; c: a new ISN on a closed tuple.
  const std::uint64_t t = kT0 + 61 * kSec;
  burst({pkt(a, t), pkt(c, t + 1, S, 7777), pkt(a.reply(), t + 2), pkt(c.reply(), t + 3, SA, 1),
         pkt(a, t + 4), pkt(c, t + 5, A, 7778)});
  EXPECT_EQ(events().size(), 2U);
  tracker().finish(t + 6, EndReason::eof);
  ASSERT_EQ(events().size(), 4U);
  EXPECT_EQ(events()[0].end_reason, EndReason::idle);
  EXPECT_EQ(total_packets(events()[0]), 1U);
  EXPECT_EQ(events()[1].end_reason, EndReason::tcp_close);
  EXPECT_EQ(total_packets(events()[1]), 4U);
  for (std::size_t i = 2; i < 4; ++i) EXPECT_EQ(total_packets(events()[i]), 3U);
  EXPECT_EQ(counters().flows_created.get(), 4U);
  expect_conservation();
}

TEST_F(TrackerTest, BurstEvictsAFlowThatALaterPacketBelongsTo) {
  make(test_timeouts(), OnTableFull::Evict, 16);
  std::vector<Tuple> flows;
  for (std::uint16_t i = 0; i < 17; ++i) flows.push_back(Tuple{ipproto::kUdp, "10.0.0.1", static_cast<std::uint16_t>(100 + i), "10.0.0.2", 53});
  constexpr std::uint64_t kTick = 100 * kMs;  // one flow per wheel slot: a strict eviction order
  for (std::uint16_t i = 0; i < 16; ++i) send(flows[i], kT0 + i * kTick);
  // flows[16] evicts flows[0]; the next packets of flows[0] looked it up before that.
  const std::uint64_t t = kT0 + 20 * kTick;
  burst({pkt(flows[16], t), pkt(flows[0], t + 1), pkt(flows[0], t + 2), pkt(flows[16], t + 3)});
  ASSERT_EQ(events().size(), 2U);
  EXPECT_EQ(events()[0].flow_id, 1U);
  EXPECT_EQ(total_packets(events()[0]), 1U);
  EXPECT_EQ(events()[0].end_reason, EndReason::evicted);
  EXPECT_EQ(events()[1].flow_id, 2U) << "flows[0], back, evicts the next oldest";
  tracker().finish(t + kTick, EndReason::eof);
  ASSERT_EQ(events().size(), 18U);
  for (const FlowEvent& e : events()) {
    if (e.key == meta_of(flows[0], 0, 0).key && e.end_reason == EndReason::eof) {
      EXPECT_EQ(total_packets(e), 2U);
    }
    if (e.key == meta_of(flows[16], 0, 0).key) {
      EXPECT_EQ(total_packets(e), 2U);
    }
  }
  expect_conservation();
}

TEST_F(TrackerTest, BurstLongerThanOneBulkLookup) {
  make();
  const Tuple x{ipproto::kUdp, "10.0.0.1", 1, "10.0.0.2", 2};
  std::vector<PacketMeta> metas;
  for (int i = 0; i < 300; ++i) {
    const Tuple y{ipproto::kUdp, "10.0.0.3", static_cast<std::uint16_t>(1000 + i % 70), "10.0.0.4", 2};
    metas.push_back(pkt(i % 3 == 0 ? x : y, kT0 + static_cast<std::uint64_t>(i)));
  }
  burst(metas);
  EXPECT_EQ(counters().flows_created.get(), 71U);
  tracker().finish(kT0 + 1000, EndReason::eof);
  EXPECT_EQ(events().size(), 71U);
  expect_conservation();
}

// Differential: random traffic (TCP open/close/reuse, RST, idle gaps, a full
// table that evicts) fed in bursts must give exactly the records the same
// packets give one at a time, where no lookup can go stale.
std::vector<FlowEvent> run_in_bursts(const std::vector<PacketMeta>& metas, std::uint32_t burst_size,
                                     WorkerCounters& counters) {
  RecordingSink sink;
  FlowTracker tracker(make_table(24), test_timeouts(), OnTableFull::Evict, 0, sink, counters);
  std::vector<const PacketMeta*> ptrs;
  for (const PacketMeta& m : metas) ptrs.push_back(&m);
  for (std::size_t i = 0; i < ptrs.size(); i += burst_size) {
    tracker.process_burst(&ptrs[i], static_cast<std::uint32_t>(std::min<std::size_t>(burst_size, ptrs.size() - i)));
  }
  tracker.finish(metas.back().ts_ns, EndReason::eof);
  auto key = [](const FlowEvent& e) {
    return std::make_tuple(e.flow_id, e.first_ts_ns, e.last_ts_ns, static_cast<int>(e.end_reason), e.generation,
                           e.packets[0], e.packets[1], e.bytes[0], e.bytes[1], e.tcp_flags[0], e.tcp_flags[1],
                           e.initiator_dir);
  };
  std::sort(sink.events.begin(), sink.events.end(), [&](const FlowEvent& a, const FlowEvent& b) { return key(a) < key(b); });
  return sink.events;
}

TEST(FlowTrackerBursts, BurstsGiveTheSameRecordsAsSinglePackets) {
  std::mt19937 rng(17);
  std::vector<PacketMeta> metas;
  std::uint64_t ts = kT0;
  const std::uint8_t tcp_flags[] = {S, S, SA, A, PA, FA, R, RA};
  for (std::uint64_t id = 1; id <= 20000; ++id) {
    ts += rng() % 50 == 0 ? 70 * kSec : rng() % 1000;  // now and then a gap longer than UDP idle
    const auto port = static_cast<std::uint16_t>(1 + rng() % 40);
    Tuple t{rng() % 2 ? ipproto::kTcp : ipproto::kUdp, "10.0.0.1", port, "10.0.0.2", 80};
    if (rng() % 2) t = t.reply();
    const std::uint8_t f = t.proto == ipproto::kTcp ? tcp_flags[rng() % 8] : 0;
    metas.push_back(meta_of(t, ts, id, f, rng() % 3, 40 + rng() % 1000));
  }
  WorkerCounters one_c;
  const std::vector<FlowEvent> one = run_in_bursts(metas, 1, one_c);
  ASSERT_GT(one_c.table_full_events.get(), 0U) << "the table should fill and evict";
  std::uint64_t total = 0;
  for (const FlowEvent& e : one) total += total_packets(e);
  EXPECT_EQ(total, metas.size());
  for (std::uint32_t b : {7U, 32U, 64U, 200U}) {
    WorkerCounters c;
    const std::vector<FlowEvent> got = run_in_bursts(metas, b, c);
    EXPECT_GT(c.stale_lookups.get(), 0U);
    ASSERT_EQ(got.size(), one.size()) << "burst " << b;
    for (std::size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(std::memcmp(&got[i], &one[i], sizeof(FlowEvent)), 0) << "burst " << b << " record " << i
                                                                      << " flow_id " << got[i].flow_id;
    }
  }
}

}  // namespace
}  // namespace sf::test
