// State shared between the control lcore, RX lcores and workers: the stop
// request, and each RX lcore's progress (done flag and input clock).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

namespace sf {

struct alignas(64) RxProgress {
  // Timestamp of the newest packet RX has handed to the rings (release). A
  // worker that reads it and then finds its rings empty has seen every packet
  // up to it, so it may run its timers up to that time.
  std::atomic<std::uint64_t> clock_ns{0};
  std::atomic<bool> done{false};
};

struct EngineControl {
  explicit EngineControl(std::uint32_t n_rx) : rx(n_rx) {}
  std::atomic<bool> stop{false};  // SIGINT/SIGTERM: RX stops reading, everything drains
  std::vector<RxProgress> rx;
  std::atomic<std::uint32_t> workers_finished{0};  // workers that ended every flow and closed their channel

  bool all_rx_done() const noexcept {
    for (const auto& r : rx) {
      if (!r.done.load(std::memory_order_acquire)) return false;
    }
    return true;
  }
  std::uint64_t min_rx_clock() const noexcept {
    std::uint64_t m = UINT64_MAX;
    for (const auto& r : rx) m = std::min(m, r.clock_ns.load(std::memory_order_acquire));
    return m;
  }
  std::uint64_t max_rx_clock() const noexcept {
    std::uint64_t m = 0;
    for (const auto& r : rx) m = std::max(m, r.clock_ns.load(std::memory_order_acquire));
    return m;
  }
};

}  // namespace sf
