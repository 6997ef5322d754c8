// State shared between the control lcore, RX lcores and workers: the stop
// request, and each RX lcore's progress (done flag and input clock).
#pragma once

#include <algorithm>
#include <atomic>
#include <thread>
#include <cstdint>
#include <vector>

namespace sf {

struct alignas(64) RxProgress {
  // Timestamp of the newest packet RX has handed to the rings (release). A
  // worker that reads it and then finds its rings empty has seen every packet
  // up to it, so it may run its timers up to that time.
  std::atomic<std::uint64_t> clock_ns{0};
  std::atomic<bool> done{false};
  // Id of the last packet of the last burst handed to the rings (release),
  // read with clock_ns: a worker whose rings are then empty is done up to it.
  std::atomic<std::uint64_t> dispatched_through{0};
};

struct EngineControl {
  explicit EngineControl(std::uint32_t n_rx) : rx(n_rx) {}
  std::atomic<bool> stop{false};  // SIGINT/SIGTERM: RX stops reading, everything drains
  std::vector<RxProgress> rx;
  std::atomic<std::uint32_t> workers_finished{0};  // workers that ended every flow and closed their channel
  // Workers that have processed all their input, and how many there are: at
  // the end of input every worker waits for the others before ending its
  // flows, so the records it then exports see every DNS answer any worker
  // read (the DNS cache names flows across workers).
  std::atomic<std::uint32_t> workers_drained{0};
  std::uint32_t n_workers = 0;

  void wait_for_all_drained() noexcept {
    workers_drained.fetch_add(1, std::memory_order_acq_rel);
    while (workers_drained.load(std::memory_order_acquire) < n_workers) std::this_thread::yield();
  }

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
