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
  rte_ring* r = rte_ring_create_elem(name.c_str(), sizeof(EventSlot), size, socket_id,
                                     RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
  if (r == nullptr) {
    return make_error("export ring " + name + ": " + rte_strerror(rte_errno) + " (raise eal.memory_mb)");
  }
  return new ExportChannel(r, wait_when_full);
}

ExportChannel::~ExportChannel() { rte_ring_free(ring_); }

namespace {

// The longest prefix of whole events in slots[0, n) that fits in room slots.
std::uint32_t whole_events(const EventSlot* slots, std::uint32_t n, std::uint32_t room) noexcept {
  std::uint32_t i = 0;
  while (i < n) {
    const std::uint32_t len = event_slots(slots[i]);
    if (i + len > room) break;
    i += len;
  }
  return i;
}

}  // namespace

std::uint32_t ExportChannel::emit_burst(const EventSlot* slots, std::uint32_t n) noexcept {
  sf_tsan_release(ring_);  // pairs with the acquire in dequeue()
  unsigned spins = 0;
  std::uint32_t sent = 0;
  unsigned free_left = rte_ring_free_count(ring_);
  for (;;) {
    // The only producer: the free count can only grow under us, so a bulk
    // enqueue of what fits now cannot fail, and no event is ever cut in two.
    const std::uint32_t take = whole_events(slots + sent, n - sent, free_left);
    if (take != 0) {
      rte_ring_sp_enqueue_bulk_elem(ring_, slots + sent, sizeof(EventSlot), take, &free_left);
      sent += take;
    }
    if (sent == n || !wait_when_full_) break;
    // The exporter may share this CPU: give it the CPU rather than spin.
    if (++spins % 64 == 0) sched_yield(); else rte_pause();
    free_left = rte_ring_free_count(ring_);
  }
  const std::uint32_t used = rte_ring_get_capacity(ring_) - free_left;
  if (used > high_water_.load(std::memory_order_relaxed)) high_water_.store(used, std::memory_order_relaxed);
  return sent;
}

std::uint32_t ExportChannel::dequeue(EventSlot* out, std::uint32_t max) noexcept {
  unsigned n = rte_ring_sc_dequeue_burst_elem(ring_, out, sizeof(EventSlot), max - kAppRecordSlots, nullptr);
  if (n == 0) return 0;
  sf_tsan_acquire(ring_);
  // The burst may end inside an event; its producer queued it whole, so the rest is there.
  std::uint32_t i = 0;
  while (i < n && i + event_slots(out[i]) <= n) i += event_slots(out[i]);
  if (i < n) {
    const std::uint32_t missing = i + event_slots(out[i]) - n;
    n += rte_ring_sc_dequeue_bulk_elem(ring_, out + n, sizeof(EventSlot), missing, nullptr);
  }
  return n;
}

}  // namespace sf
