#include "export/export_fanout.hpp"

#include "common/compiler.hpp"

namespace sf {

ExportFanout::ExportFanout(std::vector<ExportChannel*> channels)
    : channels_(std::move(channels)), dropped_(channels_.size()) {}

std::uint32_t ExportFanout::emit_burst(const EventSlot* slots, std::uint32_t n) noexcept {
  std::uint64_t records = 0;
  std::uint64_t packets = 0;
  for (std::uint32_t i = 0; i < n; i += event_slots(slots[i])) {
    ++records;
    packets += event_at(slots[i]).packets[0] + event_at(slots[i]).packets[1];
  }
  counters_.records_produced.add(records);
  counters_.packets_produced.add(packets);
  for (std::size_t x = 0; x < channels_.size(); ++x) {
    const std::uint32_t queued = channels_[x]->emit_burst(slots, n);
    if (SF_UNLIKELY(queued < n)) {
      // Whole events from the first: the refused ones are the tail.
      std::uint64_t r = 0;
      std::uint64_t p = 0;
      for (std::uint32_t i = queued; i < n; i += event_slots(slots[i])) {
        ++r;
        p += event_at(slots[i]).packets[0] + event_at(slots[i]).packets[1];
      }
      dropped_[x].records.add(r);
      dropped_[x].packets.add(p);
    }
  }
  // Offered to every exporter: none of it is the tracker's to count as lost.
  return n;
}

}  // namespace sf
