// A FlowTracker over a fresh FlowTable, a recording sink and its counters,
// with shorthands to feed packets one at a time or as one burst.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "dpdk_test_util.hpp"

namespace sf::test {

constexpr std::uint64_t kSec = 1000000000ULL;
constexpr std::uint64_t kMs = 1000000ULL;
constexpr std::uint64_t kT0 = 1700000000ULL * kSec;  // a capture's epoch time

// Distinct per protocol, so that using the wrong one shows.
inline FlowTimeouts test_timeouts() {
  FlowTimeouts t{};
  t.tcp_idle_ns = 300 * kSec;
  t.udp_idle_ns = 60 * kSec;
  t.icmp_idle_ns = 30 * kSec;
  t.other_idle_ns = 45 * kSec;
  t.tcp_closed_ns = 5 * kSec;
  t.tcp_establish_ns = 20 * kSec;
  t.active_ns = 0;
  t.tick_ns = 100 * kMs;
  return t;
}

namespace flags {
inline constexpr std::uint8_t S = tcpflag::kSyn;
inline constexpr std::uint8_t SA = tcpflag::kSyn | tcpflag::kAck;
inline constexpr std::uint8_t A = tcpflag::kAck;
inline constexpr std::uint8_t PA = tcpflag::kPsh | tcpflag::kAck;
inline constexpr std::uint8_t FA = tcpflag::kFin | tcpflag::kAck;
inline constexpr std::uint8_t R = tcpflag::kRst;
inline constexpr std::uint8_t RA = tcpflag::kRst | tcpflag::kAck;
}  // namespace flags

class TrackerTest : public ::testing::Test {
 public:
  void make(const FlowTimeouts& t = test_timeouts(), OnTableFull on_full = OnTableFull::Drop,
            std::uint32_t capacity = 1024) {
    auto table = make_table(capacity);
    ASSERT_NE(table, nullptr);
    counters_ = std::make_unique<WorkerCounters>();
    tracker_ = std::make_unique<FlowTracker>(std::move(table), t, on_full, kWorker, sink_, *counters_);
  }

  // A packet with the next packet id (its 1-based position in the "capture").
  PacketMeta pkt(const Tuple& t, std::uint64_t ts, std::uint8_t f = 0, std::uint32_t seq = 0,
                 std::uint32_t ip_bytes = 100) {
    return meta_of(t, ts, ++last_id_, f, seq, ip_bytes, tracker_->table().seed());
  }

  // Processes one packet as a burst of one; returns its packet id.
  std::uint64_t send(const Tuple& t, std::uint64_t ts, std::uint8_t f = 0, std::uint32_t seq = 0,
                     std::uint32_t ip_bytes = 100) {
    const PacketMeta m = pkt(t, ts, f, seq, ip_bytes);
    const PacketMeta* p = &m;
    tracker_->process_burst(&p, 1);
    ++sent_;
    return m.packet_id;
  }

  void burst(const std::vector<PacketMeta>& metas) {
    std::vector<const PacketMeta*> ptrs;
    for (const PacketMeta& m : metas) ptrs.push_back(&m);
    tracker_->process_burst(ptrs.data(), static_cast<std::uint32_t>(ptrs.size()));
    sent_ += metas.size();
  }

  std::vector<FlowEvent>& events() { return sink_.events; }
  WorkerCounters& counters() { return *counters_; }
  FlowTracker& tracker() { return *tracker_; }
  std::uint64_t records(EndReason r) { return counters_->records[static_cast<unsigned>(r)].get(); }

  // Every packet handed to the tracker is in exactly one record, or refused.
  void expect_conservation() {
    std::uint64_t in_records = 0;
    for (const FlowEvent& e : events()) in_records += total_packets(e);
    EXPECT_EQ(counters_->packets.get(), sent_);
    EXPECT_EQ(in_records + counters_->table_full.get(), sent_);
    EXPECT_EQ(counters_->packets_exported.get(), in_records);
    std::uint64_t by_reason = 0;
    for (unsigned i = 0; i < kEndReasonCount; ++i) by_reason += counters_->records[i].get();
    EXPECT_EQ(by_reason, events().size());
  }

  static constexpr std::uint16_t kWorker = 5;
  RecordingSink sink_;
  std::unique_ptr<WorkerCounters> counters_;
  std::unique_ptr<FlowTracker> tracker_;
  std::uint64_t last_id_ = 0;
  std::uint64_t sent_ = 0;
};

}  // namespace sf::test
