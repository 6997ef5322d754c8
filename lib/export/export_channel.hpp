// Worker → exporter hand-off: an SPSC rte_ring of FlowEvents by value (ring
// elements, no event pool to exhaust). Finishing a flow never does I/O and
// never takes a lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/result.hpp"
#include "flow/flow_tracker.hpp"

struct rte_ring;

namespace sf {

class ExportChannel final : public EventSink {
 public:
  // wait_when_full: capture files wait for the exporter (nothing is lost);
  // live traffic drops and counts instead of stalling the datapath.
  static Result<ExportChannel*> create(const std::string& name, std::uint32_t size, int socket_id,
                                       bool wait_when_full);
  ~ExportChannel() override;
  ExportChannel(const ExportChannel&) = delete;
  ExportChannel& operator=(const ExportChannel&) = delete;

  // Producer side (the owning worker): whole events only (see EventSink).
  std::uint32_t emit_burst(const EventSlot* slots, std::uint32_t n) noexcept override;
  void close() noexcept override { closed_.store(true, std::memory_order_release); }

  // Consumer side (the exporter thread): up to max slots (max > kAppRecordSlots),
  // whole events: walk them with event_slots().
  std::uint32_t dequeue(EventSlot* out, std::uint32_t max) noexcept;
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }
  std::uint32_t high_water() const noexcept { return high_water_.load(std::memory_order_relaxed); }

 private:
  ExportChannel(rte_ring* r, bool wait) : ring_(r), wait_when_full_(wait) {}

  rte_ring* ring_;
  bool wait_when_full_;
  std::atomic<bool> closed_{false};
  std::atomic<std::uint32_t> high_water_{0};
};

}  // namespace sf
