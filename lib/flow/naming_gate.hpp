// Ordering between workers for records the shared DNS cache names. A DNS
// answer read by worker A must be in the cache before a record of a flow that
// started after it, owned by worker B, leaves B; with a capture file the
// workers run at their own pace, so B checks that every other worker has
// processed the packets before that flow's first one. Each worker publishes
// how far it got; the wait is bounded, so no input can hang the pipeline.
#pragma once

#include <cstdint>

namespace sf {

class NamingGate {
 public:
  virtual ~NamingGate() = default;
  // This worker has processed every one of its packets with id <= through.
  virtual void publish(std::uint64_t through) noexcept = 0;
  // Waits until every other worker has published >= packet_id, or the
  // bound has passed (false, counted).
  virtual bool wait_for_others(std::uint64_t packet_id) noexcept = 0;
};

}  // namespace sf
