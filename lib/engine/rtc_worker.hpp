// Run to completion: a worker that polls its own input — a NIC queue fed by
// symmetric RSS, or one of the benchmarks' generators — and classifies and
// accounts its packets on one lcore. No ring hop: a packet's metadata never
// leaves the core that wrote it. The input must already hold only this
// shard's flows (the NIC's RSS chose them); software dispatch (RxLoop →
// rings → Worker) is the mode for inputs that cannot.
#pragma once

#include <cstdint>

#include "engine/engine_control.hpp"
#include "engine/packet_source.hpp"
#include "engine/rx_stage.hpp"
#include "export/export_channel.hpp"
#include "flow/flow_tracker.hpp"
#include "metrics/lcore_counters.hpp"

namespace sf {

class StreamDumpConsumer;

struct RtcWorker {
  PacketSource* source = nullptr;
  rte_mempool* pool = nullptr;
  RxStage* stage = nullptr;
  FlowTracker* tracker = nullptr;
  EventSink* channel = nullptr;  // closed at the end: the worker's export fan-out
  StreamDumpConsumer* dump = nullptr;  // --dump-streams: flushed once per burst, closed at the end
  EngineControl* control = nullptr;
  RxProgress* progress = nullptr;  // this worker's input: done flag and clock
  RxCounters* rx_counters = nullptr;
  WorkerCounters* counters = nullptr;
  std::uint32_t burst_size = 32;
  bool idle_yield = true;

  static int main(void* self) noexcept;
  void run() noexcept;
};

}  // namespace sf
