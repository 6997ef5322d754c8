// The RX stage: parse each packet once, build its normalized key and symmetric
// hash, pick its worker, and hand bursts to the per-(RX, worker) SPSC rings.
// Everything that does not reach a worker is counted by reason.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/engine_control.hpp"
#include "engine/idle_policy.hpp"
#include "flow/fragment_table.hpp"
#include "metrics/lcore_counters.hpp"
#include "packet/link_type.hpp"

struct rte_mbuf;
struct rte_ring;

namespace sf {

struct RxOptions {
  std::uint16_t rx_index = 0;
  std::uint16_t n_rx = 1;
  LinkType link = LinkType::Ethernet;
  bool link_supported = true;  // false: every frame is counted as unsupported_link
  std::uint32_t hash_seed = 0;
  bool vlan_in_key = true;
  bool wait_when_full = false;  // capture files: wait for ring room instead of dropping
  bool idle_yield = true;
  std::uint32_t burst_size = 32;
  std::uint32_t fragment_table_size = 8192;
  std::uint64_t fragment_timeout_ns = 30000000000ULL;
};

class RxStage {
 public:
  RxStage(const RxOptions& opt, std::vector<rte_ring*> worker_rings, RxCounters& counters,
          RxProgress& progress);

  // Takes ownership of the mbufs (PacketMeta ts_ns/wire_len already set).
  void process_burst(rte_mbuf** pkts, std::uint16_t n) noexcept;

  // Run to completion (a worker polling its own NIC queue, whose flows the
  // NIC's symmetric RSS already chose): parse, key and hash in place, free
  // and count what is not a flow's packet, and move the rest to the front of
  // pkts. Returns how many are left; they are the caller's to free.
  std::uint16_t classify_burst(rte_mbuf** pkts, std::uint16_t n) noexcept;

 private:
  bool classify(rte_mbuf* m) noexcept;  // false: counted and to be freed
  template <typename Accept>
  void classify_chunk(rte_mbuf** pkts, std::uint16_t n, Accept&& accept) noexcept;
  void dispatch() noexcept;

  RxOptions opt_;
  std::vector<rte_ring*> rings_;
  RxCounters& counters_;
  RxProgress& progress_;
  FragmentTable fragments_;
  IdlePolicy idle_;
  std::uint64_t seq_ = 0;
  std::uint64_t clock_ns_ = 0;
  std::vector<std::vector<rte_mbuf*>> per_worker_;  // staged per worker, sized at start-up
  std::vector<std::uint32_t> per_worker_n_;
  std::vector<rte_mbuf*> rejected_;
};

}  // namespace sf
