// The benchmarks' in-memory traffic source: Ethernet/IPv4 TCP and UDP packets
// written into pre-built mbufs, with no capture I/O, fed to the real pipeline
// (RX stage → rings → workers → export) through the PacketSource interface.
//
// Model: `flows` concurrent flows live in slots. After a warm-up that opens
// every slot once (in slot order), packets visit the slots in a fixed
// pseudo-random permutation (an affine step mod flows), so every flow gets a
// packet every `flows` packets and the table is walked in an order the
// hardware prefetchers cannot follow. Churn replaces slots' tuples at
// `new_flows_per_sec` (wall clock): the old tuple goes idle and expires, the
// new one is a new flow. `all_new` makes every packet a new flow.
//
// The mbufs are filled once with a full-size frame at the first burst; per
// packet only the headers (54 bytes) are rewritten — what a NIC's DMA does.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "engine/packet_source.hpp"

namespace sf::bench {

enum class PacketSize : std::uint8_t { k64, kImix };

struct TrafficSpec {
  std::uint64_t flows = 10000;            // concurrent flows (1 .. 2^24)
  std::uint64_t new_flows_per_sec = 0;    // churn, wall clock
  bool all_new = false;                   // every packet opens a new flow
  PacketSize size = PacketSize::k64;
  double tcp_share = 0.5;                 // fraction of flows that are TCP, the rest UDP
  double duration_s = 5;                  // measured phase, after the warm-up
  double warmup_s = 0;                    // all_new: run this long before measuring (steady expiry)
  std::uint64_t rate_pps = 0;             // 0: as fast as RX takes them
  std::uint64_t seed = 1;
  std::uint32_t source_id = 0;            // disjoint flows per source: src 10+id.x.x.x
};

// What the source did; read by the benchmark's main thread while it runs.
struct alignas(64) TrafficProgress {
  std::atomic<std::uint64_t> churned{0};           // tuples replaced (offered new flows)
  std::atomic<std::uint64_t> measure_start_tsc{0};  // 0 until the warm-up ended
  std::atomic<std::uint64_t> measure_end_tsc{0};    // 0 until the run ended
};

class TrafficSource final : public PacketSource {
 public:
  explicit TrafficSource(const TrafficSpec& spec);

  LinkType link_type() const noexcept override { return LinkType::Ethernet; }
  std::uint16_t read_burst(rte_mempool* pool, rte_mbuf** out, std::uint16_t n) noexcept override;
  bool eof() const noexcept override { return eof_; }
  // Wall-clock timestamps: rings drop when full unless rings.on_full says wait.
  bool live() const noexcept override { return spec_.rate_pps != 0; }

  const TrafficProgress& progress() const noexcept { return progress_; }
  // Frame length (no FCS) of the i-th packet of the size pattern.
  static std::uint32_t frame_len(PacketSize size, std::uint64_t i) noexcept;

 private:
  static constexpr std::uint32_t kHeaderTemplateLen = 54;  // Ethernet + IPv4 + TCP

  void build_templates() noexcept;
  void prebuild(rte_mempool* pool) noexcept;
  void write_packet(rte_mbuf* m, std::uint64_t slot, std::uint64_t generation, bool reverse,
                    std::uint64_t ts_ns) noexcept;
  std::uint64_t next_slot(std::uint64_t* generation) noexcept;
  void churn(std::uint64_t now_tsc) noexcept;

  TrafficSpec spec_;
  TrafficProgress progress_;
  bool prebuilt_ = false;
  bool eof_ = false;
  bool warming_ = true;
  std::uint64_t tsc_hz_ = 0;
  std::uint64_t start_tsc_ = 0;
  std::uint64_t epoch_ns_ = 0;       // wall clock at the first burst
  std::uint64_t sent_ = 0;
  std::uint64_t cursor_ = 0;         // position in the slot permutation
  std::uint64_t step_ = 1;           // permutation step, coprime with flows
  std::uint64_t churn_cursor_ = 0;   // slots below it have generation base_gen_ + 1
  std::uint64_t base_gen_ = 0;
  std::uint64_t churn_start_tsc_ = 0;
  std::uint64_t rng_;
  std::uint64_t tcp_share16_ = 0;  // tcp_share in 1/65536
  // Next sequence number per (slot, direction): TCP flows are in order, as
  // real connections mostly are, so the workers see what they would on a
  // wire (and not a retransmission or a hole on every packet).
  std::vector<std::uint32_t> tcp_next_seq_;
  std::uint8_t tcp_template_[kHeaderTemplateLen]{};
  std::uint8_t udp_template_[kHeaderTemplateLen]{};
};

}  // namespace sf::bench
