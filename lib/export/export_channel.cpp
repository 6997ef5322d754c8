#include "export/export_channel.hpp"

#include <sched.h>

#include <rte_errno.h>
#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "common/tsan.hpp"

namespace sf {

Result<ExportChannel*> ExportChannel::create(const std::string& name, std::uint32_t size, int socket_id,
                                             bool wait_when_full) {
  rte_ring* r = rte_ring_create_elem(name.c_str(), sizeof(FlowEvent), size, socket_id,
                                     RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
  if (r == nullptr) {
    return make_error("export ring " + name + ": " + rte_strerror(rte_errno) + " (raise eal.memory_mb)");
  }
  return new ExportChannel(r, wait_when_full);
}

ExportChannel::~ExportChannel() { rte_ring_free(ring_); }

std::uint32_t ExportChannel::emit_burst(const FlowEvent* events, std::uint32_t n) noexcept {
  sf_tsan_release(ring_);  // pairs with the acquire in dequeue()
  unsigned spins = 0;
  unsigned free_left = 0;
  std::uint32_t sent = rte_ring_sp_enqueue_burst_elem(ring_, events, sizeof(FlowEvent), n, &free_left);
  while (sent < n && wait_when_full_) {
    // The exporter may share this CPU: give it the CPU rather than spin.
    if (++spins % 64 == 0) sched_yield(); else rte_pause();
    sent += rte_ring_sp_enqueue_burst_elem(ring_, events + sent, sizeof(FlowEvent), n - sent, &free_left);
  }
  const std::uint32_t used = rte_ring_get_capacity(ring_) - free_left;
  if (used > high_water_.load(std::memory_order_relaxed)) high_water_.store(used, std::memory_order_relaxed);
  return sent;
}

std::uint32_t ExportChannel::dequeue(FlowEvent* out, std::uint32_t max) noexcept {
  const unsigned n = rte_ring_sc_dequeue_burst_elem(ring_, out, sizeof(FlowEvent), max, nullptr);
  if (n != 0) sf_tsan_acquire(ring_);
  return n;
}

}  // namespace sf
