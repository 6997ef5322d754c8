// mbufs for the EAL tests: a pool with the PacketMeta private area, SPSC
// rings, generated traffic, and an RX-lcore producer that feeds an RxStage
// the way RxLoop does (PacketMeta ts_ns/wire_len set, bursts of 32).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dpdk/mbuf_burst.hpp"
#include "dpdk/mbuf_meta.hpp"
#include "dpdk_test_util.hpp"
#include "engine/rx_stage.hpp"

namespace sf::test {

inline constexpr std::uint32_t kSeed = 0xfeed;
inline constexpr std::uint32_t kPoolSize = 4095;
inline constexpr std::uint64_t kTs0 = 1700000000ULL * 1000000000ULL;

inline rte_mempool* make_pool() {
  rte_mempool* p = rte_pktmbuf_pool_create(unique_name("sft_pool").c_str(), kPoolSize, 32, kMbufPrivSize,
                                           RTE_PKTMBUF_HEADROOM + 256, static_cast<int>(rte_socket_id()));
  EXPECT_NE(p, nullptr);
  return p;
}

inline rte_ring* make_ring(unsigned size) {
  rte_ring* r = rte_ring_create(unique_name("sft_ring").c_str(), size, static_cast<int>(rte_socket_id()),
                                RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
  EXPECT_NE(r, nullptr);
  return r;
}

// Copies a frame into a fresh mbuf; the last 8 bytes of the payload carry seq.
inline rte_mbuf* fill(rte_mbuf* m, const Bytes& frame, std::uint64_t seq, std::uint64_t ts) {
  char* data = rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size()));
  std::memcpy(data, frame.data(), frame.size());
  std::memcpy(data + frame.size() - 8, &seq, 8);
  PacketMeta* meta = packet_meta(m);
  *meta = PacketMeta{};
  meta->ts_ns = ts;
  meta->wire_len = static_cast<std::uint32_t>(frame.size());
  return m;
}

// The traffic: flows of several kinds, each frame ending in an 8-byte payload.
struct Traffic {
  std::vector<Bytes> frames;           // by frame kind
  std::vector<std::uint32_t> hash;     // expected flow hash per frame kind
  std::vector<std::uint32_t> flow;     // flow index per frame kind (both directions share one)
  std::vector<std::uint32_t> kind_of;  // per packet (seq - 1)
};

inline Traffic make_traffic(std::uint32_t n_flows, std::uint64_t n_packets) {
  Traffic t;
  for (std::uint32_t f = 0; f < n_flows; ++f) {
    const std::string a = "10.1." + std::to_string(f / 200) + "." + std::to_string(f % 200 + 1);
    const std::string b = "172.16.0." + std::to_string(f % 7 + 1);
    const std::string a6 = "2001:db8::" + std::to_string(f + 1);
    const auto sport = static_cast<std::uint16_t>(20000 + f);
    for (int dir = 0; dir < 2; ++dir) {
      PacketBuilder pb;
      pb.eth();
      if (f % 5 == 1) pb.vlan(static_cast<std::uint16_t>(100 + f % 3));
      if (f % 4 == 3) {
        dir == 0 ? pb.ipv6(a6, "2001:db8::ffff") : pb.ipv6("2001:db8::ffff", a6);
      } else {
        dir == 0 ? pb.ipv4(a, b) : pb.ipv4(b, a);
      }
      if (f % 2 == 0) {
        dir == 0 ? pb.udp(sport, 53) : pb.udp(53, sport);
      } else {
        dir == 0 ? pb.tcp(sport, 443, tcpflag::kAck) : pb.tcp(443, sport, tcpflag::kAck);
      }
      pb.payload(8);
      t.frames.push_back(pb.build());
      t.hash.push_back(meta_of_frame(pb, 0, 0, kSeed).hash);
      t.flow.push_back(f);
    }
  }
  std::mt19937 rng(42);
  t.kind_of.resize(n_packets);
  for (auto& k : t.kind_of) k = rng() % t.frames.size();
  return t;
}

struct Producer {
  RxStage* stage;
  rte_mempool* pool;
  const Traffic* traffic;
  std::atomic<bool>* done;
  std::uint64_t alloc_waits = 0;

  static int main(void* self) {
    static_cast<Producer*>(self)->run();
    return 0;
  }
  void run() {
    rte_mbuf* mbufs[32];
    const std::uint64_t n = traffic->kind_of.size();
    for (std::uint64_t k = 0; k < n; k += 32) {
      const auto cnt = static_cast<unsigned>(std::min<std::uint64_t>(32, n - k));
      while (mbuf_alloc_burst(pool, mbufs, static_cast<std::uint16_t>(cnt)) == 0) {
        ++alloc_waits;
        std::this_thread::yield();
      }
      for (unsigned i = 0; i < cnt; ++i) {
        fill(mbufs[i], traffic->frames[traffic->kind_of[k + i]], k + i + 1, kTs0 + (k + i) * 1000);
      }
      stage->process_burst(mbufs, static_cast<std::uint16_t>(cnt));
    }
    done->store(true, std::memory_order_release);
  }
};

inline std::vector<unsigned> worker_lcores() {
  std::vector<unsigned> l;
  unsigned id;
  RTE_LCORE_FOREACH_WORKER(id) l.push_back(id);
  return l;
}

}  // namespace sf::test
