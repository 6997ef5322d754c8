// The datapath end to end on real lcores, without a capture file: a producer
// drives the RxStage, two Worker lcores run their FlowTrackers and hand
// records to ExportChannels, and the main lcore drains the channels as the
// exporter thread would. Every packet ends up in exactly one record.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <thread>

#include "engine/engine_control.hpp"
#include "engine/worker.hpp"
#include "export/export_channel.hpp"
#include "mbuf_util.hpp"

namespace sf::test {
namespace {

TEST(WorkerPipeline, EveryPacketLandsInExactlyOneRecord) {
  constexpr std::uint64_t kPackets = 60000;
  constexpr std::uint32_t kFlows = 64;
  const std::vector<unsigned> lcores = worker_lcores();
  ASSERT_GE(lcores.size(), 3U);
  const Traffic traffic = make_traffic(kFlows, kPackets);
  rte_mempool* pool = make_pool();
  ASSERT_NE(pool, nullptr);

  EngineControl control(1);
  std::vector<rte_ring*> rings = {make_ring(128), make_ring(128)};
  std::vector<WorkerCounters> wcounters(2);
  std::vector<std::unique_ptr<ExportChannel>> channels;
  std::vector<std::unique_ptr<FlowTracker>> trackers;
  Worker workers[2];
  const FlowTimeouts timeouts = FlowTimeouts::from_config(TimeoutConfig{});
  for (std::uint32_t w = 0; w < 2; ++w) {
    auto ch = ExportChannel::create(unique_name("sft_export"), 64, SOCKET_ID_ANY, true);
    ASSERT_TRUE(ch) << ch.error();
    channels.emplace_back(ch.value());
    auto table = make_table(1024, kSeed);
    ASSERT_NE(table, nullptr);
    trackers.push_back(std::make_unique<FlowTracker>(std::move(table), timeouts, OnTableFull::Evict,
                                                     static_cast<std::uint16_t>(w), *channels[w], wcounters[w]));
    workers[w].id = static_cast<std::uint16_t>(w);
    workers[w].rx_rings = {rings[w]};
    workers[w].tracker = trackers[w].get();
    workers[w].channel = channels[w].get();
    workers[w].counters = &wcounters[w];
    workers[w].control = &control;
    workers[w].burst_size = 32;
    workers[w].idle_yield = true;
  }
  RxCounters rx_counters;
  RxOptions opt;
  opt.hash_seed = kSeed;
  opt.wait_when_full = true;
  RxStage stage(opt, rings, rx_counters, control.rx[0]);
  Producer producer{&stage, pool, &traffic, &control.rx[0].done};

  ASSERT_EQ(rte_eal_remote_launch(Worker::main, &workers[0], lcores[1]), 0);
  ASSERT_EQ(rte_eal_remote_launch(Worker::main, &workers[1], lcores[2]), 0);
  ASSERT_EQ(rte_eal_remote_launch(Producer::main, &producer, lcores[0]), 0);

  // The exporter's side: drain both channels until the workers are done.
  std::vector<FlowEvent> records;
  EventSlot buf[64];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    const bool finished = control.workers_finished.load(std::memory_order_acquire) == 2;
    std::uint32_t got = 0;
    for (auto& ch : channels) {
      const std::uint32_t n = ch->dequeue(buf, 64);
      for (std::uint32_t i = 0; i < n; i += event_slots(buf[i])) records.push_back(event_at(buf[i]));
      got += n;
    }
    if (finished && got == 0) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "pipeline did not finish";
    if (got == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  for (unsigned i = 0; i < 3; ++i) rte_eal_wait_lcore(lcores[i]);
  EXPECT_TRUE(channels[0]->closed());
  EXPECT_TRUE(channels[1]->closed());

  // The first packet of each flow gives its flow_id; make_traffic's flows
  // never time out (1 us apart), so each is one record, ended at eof.
  std::map<std::uint32_t, std::uint64_t> first_id;
  std::map<std::uint32_t, std::uint64_t> packets;
  for (std::uint64_t i = 0; i < kPackets; ++i) {
    const std::uint32_t f = traffic.flow[traffic.kind_of[i]];
    first_id.emplace(f, i + 1);
    ++packets[f];
  }
  EXPECT_EQ(rx_counters.packets_in.get(), kPackets);
  EXPECT_EQ(rx_counters.ring_full.get(), 0U);
  ASSERT_EQ(records.size(), first_id.size());
  std::uint64_t total = 0;
  std::map<std::uint64_t, int> ids;
  for (const FlowEvent& e : records) {
    total += total_packets(e);
    ++ids[e.flow_id];
    EXPECT_EQ(e.end_reason, EndReason::eof);
    EXPECT_EQ(e.worker, worker_for_hash(flow_hash(e.key, kSeed), 2));
  }
  EXPECT_EQ(total, kPackets);
  for (const auto& [f, id] : first_id) EXPECT_EQ(ids[id], 1) << "flow " << f << " first packet " << id;
  EXPECT_EQ(wcounters[0].packets.get() + wcounters[1].packets.get(), kPackets);
  EXPECT_EQ(wcounters[0].packets_exported.get() + wcounters[1].packets_exported.get(), kPackets);
  EXPECT_EQ(wcounters[0].export_dropped_records.get() + wcounters[1].export_dropped_records.get(), 0U);

  trackers.clear();
  channels.clear();
  for (rte_ring* r : rings) rte_ring_free(r);
  EXPECT_EQ(rte_mempool_avail_count(pool), kPoolSize);
  rte_mempool_free(pool);
}

}  // namespace
}  // namespace sf::test
