// RxStage → per-worker SPSC rings under load: an RX lcore feeds two slow
// worker lcores through tiny rings. Drop mode: every packet reaches a worker
// or is counted in ring_full, and each worker sees its packets in order. Wait
// mode: nothing is lost. Plus RX classification done on the main lcore.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "common/tsan.hpp"
#include "dpdk/mbuf_burst.hpp"
#include "engine/rx_stage.hpp"
#include "mbuf_util.hpp"

namespace sf::test {
namespace {

struct Consumer {
  rte_ring* ring;
  const Traffic* traffic;
  std::atomic<bool>* rx_done;
  std::uint32_t worker;
  unsigned delay_us;
  std::vector<std::uint64_t> ids;
  std::uint64_t bad_meta = 0;     // meta that does not match the frame it came with
  std::uint64_t wrong_worker = 0;  // a flow on the other worker
  std::atomic<bool> finished{false};

  static int main(void* self) {
    static_cast<Consumer*>(self)->run();
    return 0;
  }
  void run() {
    void* objs[32];
    for (;;) {
      const bool done = rx_done->load(std::memory_order_acquire);
      const unsigned n = rte_ring_sc_dequeue_burst(ring, objs, 32, nullptr);
      if (n != 0) sf_tsan_acquire(ring);  // as the worker does: pairs with RX's release
      for (unsigned i = 0; i < n; ++i) {
        auto* m = static_cast<rte_mbuf*>(objs[i]);
        const PacketMeta* meta = packet_meta(m);
        std::uint64_t seq = 0;
        std::memcpy(&seq, rte_pktmbuf_mtod_offset(m, const char*, m->data_len - 8), 8);
        ids.push_back(meta->packet_id);
        const std::uint32_t kind = seq >= 1 && seq <= traffic->kind_of.size() ? traffic->kind_of[seq - 1] : 0;
        if (meta->packet_id != seq || meta->hash != traffic->hash[kind] ||
            meta->ts_ns != kTs0 + (seq - 1) * 1000) {
          ++bad_meta;
        }
        if (worker_for_hash(meta->hash, 2) != worker) ++wrong_worker;
      }
      mbuf_free_burst(reinterpret_cast<rte_mbuf**>(objs), n);
      if (n == 0) {
        if (done) break;
        rte_pause();
        continue;
      }
      if (delay_us != 0) rte_delay_us_sleep(delay_us);  // a slow worker
    }
    finished.store(true, std::memory_order_release);
  }
};

struct HandoffResult {
  RxCounters counters;
  std::uint64_t received[2] = {0, 0};
  std::uint64_t bad_meta = 0;
  std::uint64_t wrong_worker = 0;
  bool in_order[2] = {true, true};
  std::vector<bool> seen;
  std::uint64_t duplicates = 0;
  unsigned pool_avail = 0;
  std::uint64_t clock = 0;
};

void run_handoff(bool wait_mode, std::uint64_t n_packets, unsigned ring_size, unsigned delay_us,
                 HandoffResult& out) {
  const std::vector<unsigned> lcores = worker_lcores();
  ASSERT_GE(lcores.size(), 3U) << "the EAL main sets up 4 lcores";
  const Traffic traffic = make_traffic(64, n_packets);
  rte_mempool* pool = make_pool();
  ASSERT_NE(pool, nullptr);
  rte_ring* rings[2] = {make_ring(ring_size), make_ring(ring_size)};
  ASSERT_NE(rings[0], nullptr);
  ASSERT_NE(rings[1], nullptr);

  RxOptions opt;
  opt.hash_seed = kSeed;
  opt.wait_when_full = wait_mode;
  opt.burst_size = 32;
  RxProgress progress;
  auto stage = std::make_unique<RxStage>(opt, std::vector<rte_ring*>{rings[0], rings[1]}, out.counters, progress);

  std::atomic<bool> rx_done{false};
  Producer producer{stage.get(), pool, &traffic, &rx_done};
  Consumer consumers[2];
  for (std::uint32_t w = 0; w < 2; ++w) {
    consumers[w].ring = rings[w];
    consumers[w].traffic = &traffic;
    consumers[w].rx_done = &rx_done;
    consumers[w].worker = w;
    consumers[w].delay_us = delay_us;
    consumers[w].ids.reserve(n_packets);
  }
  ASSERT_EQ(rte_eal_remote_launch(Consumer::main, &consumers[0], lcores[1]), 0);
  ASSERT_EQ(rte_eal_remote_launch(Consumer::main, &consumers[1], lcores[2]), 0);
  ASSERT_EQ(rte_eal_remote_launch(Producer::main, &producer, lcores[0]), 0);
  // Sleep rather than spin in rte_eal_wait_lcore: the main lcore shares a CPU.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!(consumers[0].finished.load() && consumers[1].finished.load()) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(consumers[0].finished.load() && consumers[1].finished.load()) << "hand-off did not finish";
  for (unsigned i = 0; i < 3; ++i) rte_eal_wait_lcore(lcores[i]);

  out.seen.assign(n_packets + 1, false);
  for (std::uint32_t w = 0; w < 2; ++w) {
    const Consumer& c = consumers[w];
    out.received[w] = c.ids.size();
    out.bad_meta += c.bad_meta;
    out.wrong_worker += c.wrong_worker;
    for (std::size_t i = 0; i < c.ids.size(); ++i) {
      if (i > 0 && c.ids[i] <= c.ids[i - 1]) out.in_order[w] = false;
      if (c.ids[i] == 0 || c.ids[i] > n_packets || out.seen[c.ids[i]]) {
        ++out.duplicates;
      } else {
        out.seen[c.ids[i]] = true;
      }
    }
  }
  out.clock = progress.clock_ns.load();
  stage.reset();
  out.pool_avail = rte_mempool_avail_count(pool);
  rte_ring_free(rings[0]);
  rte_ring_free(rings[1]);
  rte_mempool_free(pool);
}

TEST(RingHandoff, DropModeCountsEveryPacketAndKeepsOrder) {
  constexpr std::uint64_t kPackets = 200000;
  HandoffResult r;
  run_handoff(false, kPackets, 64, 20, r);
  if (HasFatalFailure()) return;
  const std::uint64_t ring_full = r.counters.ring_full.get();
  EXPECT_EQ(r.counters.packets_in.get(), kPackets);
  EXPECT_EQ(r.received[0] + r.received[1] + ring_full, kPackets)
      << "received " << r.received[0] << " + " << r.received[1] << ", ring_full " << ring_full;
  EXPECT_GT(ring_full, 0U) << "slow workers behind 64-entry rings should have made RX drop";
  EXPECT_GT(r.received[0], 0U);
  EXPECT_GT(r.received[1], 0U);
  EXPECT_EQ(r.duplicates, 0U);
  EXPECT_TRUE(r.in_order[0]);
  EXPECT_TRUE(r.in_order[1]);
  EXPECT_EQ(r.bad_meta, 0U);
  EXPECT_EQ(r.wrong_worker, 0U);
  EXPECT_EQ(r.counters.non_ip.get(), 0U);
  EXPECT_EQ(r.counters.ring_full_waits.get(), 0U);
  EXPECT_EQ(r.pool_avail, kPoolSize) << "dropped mbufs must go back to the pool";
  EXPECT_EQ(r.clock, kTs0 + (kPackets - 1) * 1000);
}

TEST(RingHandoff, WaitModeLosesNothing) {
  constexpr std::uint64_t kPackets = 100000;
  HandoffResult r;
  run_handoff(true, kPackets, 64, 20, r);
  if (HasFatalFailure()) return;
  EXPECT_EQ(r.counters.packets_in.get(), kPackets);
  EXPECT_EQ(r.counters.ring_full.get(), 0U);
  EXPECT_EQ(r.received[0] + r.received[1], kPackets);
  EXPECT_GT(r.counters.ring_full_waits.get(), 0U) << "RX should have had to wait for the slow workers";
  for (std::uint64_t id = 1; id <= kPackets; ++id) ASSERT_TRUE(r.seen[id]) << "packet " << id << " lost";
  EXPECT_TRUE(r.in_order[0]);
  EXPECT_TRUE(r.in_order[1]);
  EXPECT_EQ(r.bad_meta, 0U);
  EXPECT_EQ(r.wrong_worker, 0U);
  EXPECT_EQ(r.pool_avail, kPoolSize);
}

// ---- RX classification, on the main lcore ----

class RxClassify : public ::testing::Test {
 protected:
  void SetUp() override {
    pool_ = make_pool();
    rings_ = {make_ring(1024), make_ring(1024)};
    RxOptions opt;
    opt.hash_seed = kSeed;
    opt.burst_size = 256;  // process_burst takes at most burst_size packets
    stage_ = std::make_unique<RxStage>(opt, rings_, counters_, progress_);
  }
  void TearDown() override {
    stage_.reset();
    for (rte_ring* r : rings_) {
      void* m;
      while (rte_ring_sc_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
      rte_ring_free(r);
    }
    EXPECT_EQ(rte_mempool_avail_count(pool_), kPoolSize) << "an mbuf leaked";
    rte_mempool_free(pool_);
  }
  void send(const std::vector<PacketBuilder>& frames) {
    std::vector<rte_mbuf*> mbufs;
    for (const PacketBuilder& b : frames) {
      const Bytes f = b.build();
      rte_mbuf* m = rte_pktmbuf_alloc(pool_);
      char* d = rte_pktmbuf_append(m, static_cast<std::uint16_t>(f.size()));
      std::memcpy(d, f.data(), f.size());
      *packet_meta(m) = PacketMeta{};
      packet_meta(m)->ts_ns = kTs0 + ++ts_;
      packet_meta(m)->wire_len = static_cast<std::uint32_t>(f.size());
      mbufs.push_back(m);
    }
    stage_->process_burst(mbufs.data(), static_cast<std::uint16_t>(mbufs.size()));
  }
  // Everything delivered so far, by worker: (packet_id, meta copy).
  std::vector<std::pair<std::uint32_t, PacketMeta>> delivered() {
    std::vector<std::pair<std::uint32_t, PacketMeta>> out;
    for (std::uint32_t w = 0; w < 2; ++w) {
      void* m;
      while (rte_ring_sc_dequeue(rings_[w], &m) == 0) {
        out.emplace_back(w, *packet_meta(static_cast<rte_mbuf*>(m)));
        rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
      }
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second.packet_id < b.second.packet_id; });
    return out;
  }

  rte_mempool* pool_ = nullptr;
  std::vector<rte_ring*> rings_;
  RxCounters counters_;
  RxProgress progress_;
  std::unique_ptr<RxStage> stage_;
  std::uint64_t ts_ = 0;
};

TEST_F(RxClassify, FragmentsNonIpAndMalformedFrames) {
  PacketBuilder first, later, orphan, arp, bad, plain;
  first.eth().ipv4("10.0.0.1", "10.0.0.2").ipv4_frag(77, 0, true).udp(5000, 53).payload(64);
  later.eth().ipv4("10.0.0.1", "10.0.0.2").ipv4_frag(77, 9, false).override_proto(ipproto::kUdp).payload(40);
  orphan.eth().ipv4("10.0.0.1", "10.0.0.2").ipv4_frag(78, 9, false).override_proto(ipproto::kUdp).payload(40);
  arp.eth().override_ethertype(0x0806).payload(28);
  bad.eth().ipv4("10.0.0.1", "10.0.0.2").override_ihl(4).udp(1, 2);
  plain.eth().ipv4("10.0.0.2", "10.0.0.1").udp(53, 5000).payload(10);
  send({first, later, orphan, arp, bad, plain});
  EXPECT_EQ(counters_.packets_in.get(), 6U);
  EXPECT_EQ(counters_.fragments_attributed.get(), 1U);
  EXPECT_EQ(counters_.fragments_unattributed.get(), 1U);
  EXPECT_EQ(counters_.non_ip.get(), 1U);
  EXPECT_EQ(counters_.malformed[static_cast<unsigned>(MalformedReason::bad_ipv4_header)].get(), 1U);
  const auto got = delivered();
  ASSERT_EQ(got.size(), 3U);
  const PacketMeta& f = got[0].second;
  const PacketMeta& l = got[1].second;
  const PacketMeta& p = got[2].second;
  EXPECT_EQ(f.packet_id, 1U);
  EXPECT_EQ(l.packet_id, 2U);
  EXPECT_EQ(p.packet_id, 6U) << "packet ids are positions in the input, dropped ones included";
  EXPECT_TRUE(l.key == f.key) << "the later fragment joins its first fragment's flow";
  EXPECT_TRUE(p.key == f.key) << "the reply is the same flow";
  EXPECT_EQ(got[0].first, got[1].first) << "same worker";
  EXPECT_EQ(got[0].first, got[2].first);
  EXPECT_EQ(l.hash, f.hash);
  EXPECT_EQ(l.dir, f.dir);
  EXPECT_NE(p.dir, f.dir);
  EXPECT_EQ(f.has_l4, 1);
  EXPECT_EQ(l.has_l4, 0);
  EXPECT_EQ(f.ip_bytes, 20U + 8U + 64U);
  EXPECT_EQ(l.ip_bytes, 20U + 40U);
  EXPECT_EQ(progress_.clock_ns.load(), kTs0 + 6);
}

// The ICMP type rides with each packet (a record's Community ID needs its first
// packet's); a later fragment, which has no ICMP header, carries its datagram's.
TEST_F(RxClassify, IcmpTypeReachesTheWorkerFragmentsIncluded) {
  PacketBuilder reply, first, later, unreach;
  reply.eth().ipv4("10.0.0.2", "10.0.0.1").icmp_echo(0x77, 1, true);
  first.eth().ipv4("10.0.0.1", "10.0.0.2").ipv4_frag(91, 0, true).icmp_echo(0x78, 2).payload(64);
  later.eth().ipv4("10.0.0.1", "10.0.0.2").ipv4_frag(91, 9, false).override_proto(ipproto::kIcmp).payload(40);
  unreach.eth().ipv4("10.0.0.2", "10.0.0.1").icmp(3, 3);
  send({reply, first, later, unreach});
  const auto got = delivered();
  ASSERT_EQ(got.size(), 4U);
  EXPECT_EQ(got[0].second.icmp_type, 0);
  EXPECT_EQ(got[1].second.icmp_type, 8);
  EXPECT_EQ(got[2].second.has_l4, 0);
  EXPECT_TRUE(got[2].second.key == got[1].second.key);
  EXPECT_EQ(got[2].second.icmp_type, 8) << "the first fragment's type";
  EXPECT_EQ(got[3].second.icmp_type, 3);
}

// RxCounters has a fragment_table_replaced counter: datagrams whose first
// fragment was pushed out of the (direct-mapped) table must show up there.
TEST_F(RxClassify, FragmentTableReplacementsAreCounted) {
  RxOptions opt;
  opt.hash_seed = kSeed;
  opt.burst_size = 256;
  opt.fragment_table_size = 2;
  stage_ = std::make_unique<RxStage>(opt, rings_, counters_, progress_);
  std::vector<PacketBuilder> firsts;
  for (std::uint16_t id = 1; id <= 16; ++id) {
    PacketBuilder b;
    b.eth().ipv4("10.0.0.1", "10.0.0.2").ipv4_frag(id, 0, true).udp(5000, 53).payload(16);
    firsts.push_back(b);
  }
  send(firsts);  // 16 live datagrams into 2 slots: at least 14 replaced
  std::vector<PacketBuilder> laters;
  for (std::uint16_t id = 1; id <= 16; ++id) {
    PacketBuilder b;
    b.eth().ipv4("10.0.0.1", "10.0.0.2").ipv4_frag(id, 3, false).override_proto(ipproto::kUdp).payload(16);
    laters.push_back(b);
  }
  send(laters);
  const std::uint64_t lost = counters_.fragments_unattributed.get();
  EXPECT_GE(lost, 14U);
  EXPECT_EQ(counters_.fragments_attributed.get() + lost, 16U);
  EXPECT_GE(counters_.fragment_table_replaced.get(), lost)
      << "every later fragment that lost its first fragment to a collision should be counted as replaced";
}

TEST_F(RxClassify, WorkerChoiceFollowsTheFlowHash) {
  std::vector<PacketBuilder> frames;
  for (std::uint16_t i = 0; i < 200; ++i) {
    PacketBuilder b;
    b.eth().ipv4("10.0.0.1", "10.0.0.2").tcp(static_cast<std::uint16_t>(1000 + i), 80, tcpflag::kSyn, 5);
    frames.push_back(b);
  }
  send(frames);
  const auto got = delivered();
  ASSERT_EQ(got.size(), 200U);
  std::uint32_t per_worker[2] = {0, 0};
  for (std::size_t i = 0; i < got.size(); ++i) {
    const PacketMeta expect = meta_of_frame(frames[i], 0, 0, kSeed);
    EXPECT_TRUE(got[i].second.key == expect.key);
    EXPECT_EQ(got[i].second.hash, expect.hash);
    EXPECT_EQ(got[i].first, worker_for_hash(expect.hash, 2));
    EXPECT_EQ(got[i].second.tcp_flags, tcpflag::kSyn);
    EXPECT_EQ(got[i].second.tcp_seq, 5U);
    ++per_worker[got[i].first];
  }
  EXPECT_GT(per_worker[0], 60U);
  EXPECT_GT(per_worker[1], 60U);
}

}  // namespace
}  // namespace sf::test
