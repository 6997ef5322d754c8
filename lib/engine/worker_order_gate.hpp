// NamingGate over the workers' published progress (engine_control.hpp), for
// capture files read by one RX lcore: packet ids are then the file's order.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include <rte_pause.h>

#include "flow/naming_gate.hpp"
#include "metrics/counter.hpp"

namespace sf {

struct alignas(64) WorkerProgress {
  std::atomic<std::uint64_t> through{0};
};

class WorkerOrderGate final : public NamingGate {
 public:
  // Long enough for any worker to finish a burst on a loaded machine; a
  // wait that long means the pipeline is stuck behind this very worker (RX
  // waiting on its full ring): go on, unordered, and count it.
  static constexpr std::chrono::milliseconds kMaxWait{200};

  WorkerOrderGate(std::vector<WorkerProgress>& all, std::uint32_t self) : all_(all), self_(self) {}

  void publish(std::uint64_t through) noexcept override {
    all_[self_].through.store(through, std::memory_order_release);
  }

  bool wait_for_others(std::uint64_t packet_id) noexcept override {
    if (behind(packet_id) == nullptr) return true;
    waits.inc();
    const auto deadline = std::chrono::steady_clock::now() + kMaxWait;
    for (unsigned spins = 0; behind(packet_id) != nullptr; ++spins) {
      if (spins % 64 != 63) {
        rte_pause();
        continue;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        timeouts.inc();
        return false;
      }
      std::this_thread::yield();  // the worker we wait for may share this CPU
    }
    return true;
  }

  Counter waits;     // flushes that had to wait for another worker
  Counter timeouts;  // waits that gave up (records may miss a name)

 private:
  const WorkerProgress* behind(std::uint64_t packet_id) const noexcept {
    for (std::size_t w = 0; w < all_.size(); ++w) {
      if (w != self_ && all_[w].through.load(std::memory_order_acquire) < packet_id) return &all_[w];
    }
    return nullptr;
  }

  std::vector<WorkerProgress>& all_;
  std::uint32_t self_;
};

}  // namespace sf
