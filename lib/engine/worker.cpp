#include "engine/worker.hpp"

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "common/tsan.hpp"
#include "dpdk/mbuf_burst.hpp"
#include "dpdk/mbuf_meta.hpp"
#include "engine/idle_policy.hpp"
#include "streamdump/stream_dump_consumer.hpp"

namespace sf {

int Worker::main(void* self) noexcept {
  static_cast<Worker*>(self)->run();
  return 0;
}

void Worker::run() noexcept {
  constexpr std::uint32_t kMaxBurst = 512;
  rte_mbuf* mbufs[kMaxBurst];
  const PacketMeta* metas[kMaxBurst];
  const std::uint32_t burst = burst_size < kMaxBurst ? burst_size : kMaxBurst;
  IdlePolicy idle(idle_yield);

  for (;;) {
    // Read the input clock and the done flag before polling: if the rings are
    // then empty, every packet up to that clock has been seen.
    const std::uint64_t input_clock = control->min_rx_clock();
    const std::uint64_t dispatched = control->rx[0].dispatched_through.load(std::memory_order_acquire);
    const bool inputs_done = control->all_rx_done();
    const std::uint64_t poll_start = rte_rdtsc();
    std::uint32_t total = 0;
    for (rte_ring* ring : rx_rings) {
      const unsigned n = rte_ring_sc_dequeue_burst(ring, reinterpret_cast<void**>(mbufs), burst, nullptr);
      if (n == 0) continue;
      sf_tsan_acquire(ring);
      // RX wrote these lines on another core: request them all before the
      // first is needed (the tracker reads every hash first, then keys).
      for (unsigned i = 0; i < n; ++i) {
        metas[i] = packet_meta(mbufs[i]);
        rte_prefetch0(metas[i]);
        rte_prefetch0(reinterpret_cast<const char*>(metas[i]) + 64);
      }
      tracker->process_burst(metas, n);
      if (dump != nullptr) dump->flush();  // this burst's stream bytes to the writer
      mbuf_free_burst(mbufs, n);
      total += n;
    }
    if (total != 0) {
      idle.busy();
      tracker->advance_clock(tracker->now_ns());
      counters->busy_cycles.add(rte_rdtsc() - poll_start);
      continue;
    }
    tracker->publish_progress(dispatched);  // one RX only: ids are its order (the gate is off otherwise)
    tracker->advance_clock(input_clock);
    if (inputs_done) break;
    idle.idle();
  }
  tracker->publish_progress(UINT64_MAX);  // nothing more will come
  control->wait_for_all_drained();
  // Capture files end at their last timestamp; a stop request ends flows as shutdown.
  const bool stopped = control->stop.load(std::memory_order_acquire);
  tracker->finish(control->max_rx_clock(), stopped ? EndReason::shutdown : EndReason::eof);
  if (dump != nullptr) dump->close();
  channel->close();
  control->workers_finished.fetch_add(1, std::memory_order_release);
}

}  // namespace sf
