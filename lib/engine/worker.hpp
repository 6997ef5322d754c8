// A worker lcore: drains its RX rings in bursts into its FlowTracker, runs its
// timers, and at the end of input ends every flow and closes its export channel.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/engine_control.hpp"
#include "export/export_channel.hpp"
#include "flow/flow_tracker.hpp"
#include "metrics/lcore_counters.hpp"

struct rte_ring;

namespace sf {

class StreamDumpConsumer;

struct Worker {
  std::uint16_t id = 0;
  std::vector<rte_ring*> rx_rings;  // one per RX lcore
  FlowTracker* tracker = nullptr;
  EventSink* channel = nullptr;  // closed at the end: the worker's export fan-out
  StreamDumpConsumer* dump = nullptr;  // --dump-streams: flushed once per burst, closed at the end
  WorkerCounters* counters = nullptr;  // the tracker's block; the loop adds busy cycles
  EngineControl* control = nullptr;
  std::uint32_t burst_size = 32;
  bool idle_yield = true;

  // The lcore entry point (rte_eal_remote_launch).
  static int main(void* self) noexcept;
  void run() noexcept;
};

}  // namespace sf
