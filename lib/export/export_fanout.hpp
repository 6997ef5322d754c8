// A worker's side of export: every finished record goes to each exporter's
// own channel. A full channel (live traffic: the rings drop rather than
// stall the datapath) loses the record for that exporter only, counted per
// exporter; the others still get it.
#pragma once

#include <cstdint>
#include <vector>

#include "export/export_channel.hpp"
#include "metrics/counter.hpp"

namespace sf {

struct alignas(64) FanoutCounters {
  Counter records_produced;  // records the worker finished (each exporter is offered every one)
  Counter packets_produced;
};

struct alignas(64) ChannelDropCounters {
  Counter records;  // refused by a full channel
  Counter packets;
};

class ExportFanout final : public EventSink {
 public:
  // channels: this worker's channel to each exporter, in exporter order.
  explicit ExportFanout(std::vector<ExportChannel*> channels);
  std::uint32_t emit_burst(const EventSlot* slots, std::uint32_t n) noexcept override;
  void close() noexcept override {
    for (ExportChannel* ch : channels_) ch->close();
  }
  const FanoutCounters& counters() const noexcept { return counters_; }
  const ChannelDropCounters& dropped(std::size_t exporter) const noexcept { return dropped_[exporter]; }
  std::size_t exporters() const noexcept { return channels_.size(); }

 private:
  std::vector<ExportChannel*> channels_;
  std::vector<ChannelDropCounters> dropped_;
  FanoutCounters counters_;
};

}  // namespace sf
