// What one benchmark point measured, and its JSON and text forms.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "traffic_source.hpp"

namespace sf::bench {

struct BenchArgs {
  TrafficSpec spec;
  std::uint32_t workers = 1;
  std::uint32_t burst = 32;
  std::uint32_t idle_timeout_ms = 0;  // 0: chosen from the mode
  std::uint32_t capacity = 0;         // per worker; 0: sized from the load
  std::string ring_mode;              // wait | drop; empty: from the pacing
  bool run_to_completion = false;     // --rtc: each worker polls its own generator
  bool reassembly = true;             // --reassembly on|off: TCP stream reassembly in the workers
  bool app = true;                    // --app on|off: DNS/TLS/HTTP metadata in the workers
  std::string lcores;
  std::string label;
  std::string json_path;
};

// Counters at one instant (window start or end).
struct Snapshot {
  std::uint64_t tsc = 0;
  std::uint64_t rx_packets = 0;
  std::uint64_t rx_busy = 0;
  std::uint64_t rx_wait = 0;
  std::uint64_t flows_created = 0;
  std::vector<std::uint64_t> worker_packets;
  std::vector<std::uint64_t> worker_busy;
};

struct MemoryFigures {
  std::uint64_t peak_rss_bytes = 0;
  std::uint64_t engine_heap_bytes = 0;  // EAL heap taken by Engine::create
  std::uint64_t mbuf_pool_bytes = 0;
  std::uint64_t capacity_total = 0;     // flow slots over all workers
};

std::string result_json(const BenchArgs& a, const Snapshot& s0, const Snapshot& s1, std::uint64_t hz,
                        const EngineReport& rep, std::uint64_t new_flows_offered, const MemoryFigures& mem);
void print_summary(const BenchArgs& a, const Snapshot& s0, const Snapshot& s1, std::uint64_t hz,
                   const EngineReport& rep, const MemoryFigures& mem);

}  // namespace sf::bench
