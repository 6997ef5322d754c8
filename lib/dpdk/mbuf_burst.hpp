// Filling mbufs on an RX lcore: they come back from the workers' cores, so
// every line RX writes first is a miss on a line another core last owned.
// Start all of them before the first is needed.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "common/tsan.hpp"
#include "dpdk/mbuf_meta.hpp"

namespace sf {

// n freshly reset mbufs from pool, with their header lines requested first;
// 0 when the pool cannot give n at once.
inline std::uint16_t mbuf_alloc_burst(rte_mempool* pool, rte_mbuf** out, std::uint16_t n) noexcept {
  if (rte_mempool_get_bulk(pool, reinterpret_cast<void**>(out), n) != 0) return 0;
  sf_tsan_acquire(pool);  // pairs with mbuf_free_burst: the last owner is done with them
  for (std::uint16_t i = 0; i < n; ++i) {
    __builtin_prefetch(out[i], 1, 3);
    __builtin_prefetch(reinterpret_cast<char*>(out[i]) + RTE_CACHE_LINE_SIZE, 1, 3);
  }
  for (std::uint16_t i = 0; i < n; ++i) rte_pktmbuf_reset(out[i]);
  return n;
}

// Returns n mbufs to their pool. The pool (DPDK's generic-model rings and
// per-lcore caches) orders the hand-back with barriers ThreadSanitizer does
// not see: tell it, so the next owner's writes are not reported as races
// with this owner's reads.
inline void mbuf_free_burst(rte_mbuf** m, unsigned n) noexcept {
  if (n == 0) return;
  sf_tsan_release(m[0]->pool);
  rte_pktmbuf_free_bulk(m, n);
}

// How many packets ahead of its writes a source prefetches: filling one
// packet takes less than a miss.
inline constexpr std::uint16_t kMbufWritePrefetchAhead = 4;

// The lines a source writes next into a reset mbuf: its PacketMeta and the
// frame's first two lines. Issue kMbufWritePrefetchAhead packets ahead.
inline void mbuf_prefetch_for_write(rte_mbuf* m) noexcept {
  __builtin_prefetch(packet_meta(m), 1, 3);
  char* data = rte_pktmbuf_mtod(m, char*);
  __builtin_prefetch(data, 1, 3);
  __builtin_prefetch(data + RTE_CACHE_LINE_SIZE, 1, 3);
}

}  // namespace sf
