#include "engine/rx_loop.hpp"

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "engine/idle_policy.hpp"

namespace sf {

int RxLoop::main(void* self) noexcept {
  static_cast<RxLoop*>(self)->run();
  return 0;
}

void RxLoop::run() noexcept {
  constexpr std::uint32_t kMaxBurst = 512;
  rte_mbuf* mbufs[kMaxBurst];
  const auto burst = static_cast<std::uint16_t>(burst_size < kMaxBurst ? burst_size : kMaxBurst);
  IdlePolicy idle(idle_yield);
  while (!control->stop.load(std::memory_order_relaxed)) {
    const std::uint64_t poll_start = rte_rdtsc();
    const std::uint16_t n = source->read_burst(pool, mbufs, burst);
    if (n != 0) {
      stage->process_burst(mbufs, n);
      idle.busy();
      counters->busy_cycles.add(rte_rdtsc() - poll_start);
    }
    if (source->eof()) break;
    if (n == 0) {
      // Every mbuf is in a ring or a worker: wait for workers to free some.
      counters->mbuf_alloc_waits.inc();
      idle.idle();
    }
  }
  if (!source->error().empty()) counters->capture_errors.inc();
  progress->done.store(true, std::memory_order_release);
}

}  // namespace sf
