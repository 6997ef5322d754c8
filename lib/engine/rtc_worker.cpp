#include "streamdump/stream_dump_consumer.hpp"
#include "engine/rtc_worker.hpp"

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "dpdk/mbuf_burst.hpp"
#include "dpdk/mbuf_meta.hpp"
#include "engine/idle_policy.hpp"

namespace sf {

int RtcWorker::main(void* self) noexcept {
  static_cast<RtcWorker*>(self)->run();
  return 0;
}

void RtcWorker::run() noexcept {
  constexpr std::uint32_t kMaxBurst = 512;
  rte_mbuf* mbufs[kMaxBurst];
  const PacketMeta* metas[kMaxBurst];
  const auto burst = static_cast<std::uint16_t>(burst_size < kMaxBurst ? burst_size : kMaxBurst);
  IdlePolicy idle(idle_yield);
  while (!control->stop.load(std::memory_order_relaxed)) {
    const std::uint64_t poll_start = rte_rdtsc();
    const std::uint16_t n = source->read_burst(pool, mbufs, burst);
    if (n != 0) {
      const std::uint16_t kept = stage->classify_burst(mbufs, n);
      for (std::uint16_t i = 0; i < kept; ++i) metas[i] = packet_meta(mbufs[i]);
      tracker->process_burst(metas, kept);
      if (dump != nullptr) dump->flush();
      mbuf_free_burst(mbufs, kept);
      tracker->advance_clock(tracker->now_ns());
      idle.busy();
      const std::uint64_t cycles = rte_rdtsc() - poll_start;
      counters->busy_cycles.add(cycles);
      rx_counters->busy_cycles.add(cycles);
    }
    if (source->eof()) break;
    if (n == 0) {
      tracker->advance_clock(progress->clock_ns.load(std::memory_order_relaxed));
      idle.idle();
    }
  }
  if (!source->error().empty()) rx_counters->capture_errors.inc();
  const bool stopped = control->stop.load(std::memory_order_acquire);
  tracker->finish(progress->clock_ns.load(std::memory_order_relaxed), stopped ? EndReason::shutdown : EndReason::eof);
  if (dump != nullptr) dump->close();
  channel->close();
  progress->done.store(true, std::memory_order_release);
  control->workers_finished.fetch_add(1, std::memory_order_release);
}

}  // namespace sf
