// An RX lcore fed by a PacketSource (a capture file, or the benchmarks'
// in-memory generator): read bursts into mbufs, run the RX stage, stop at the
// end of input or on a stop request, then mark this RX done.
#pragma once

#include <cstdint>
#include <string>

#include "engine/packet_source.hpp"
#include "engine/engine_control.hpp"
#include "engine/rx_stage.hpp"

namespace sf {

struct RxLoop {
  PacketSource* source = nullptr;
  RxStage* stage = nullptr;
  rte_mempool* pool = nullptr;
  EngineControl* control = nullptr;
  RxProgress* progress = nullptr;
  RxCounters* counters = nullptr;
  std::uint32_t burst_size = 32;
  bool idle_yield = true;

  static int main(void* self) noexcept;
  void run() noexcept;
};

}  // namespace sf
