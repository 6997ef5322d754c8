// One kind of output behind an Exporter: it gets finished records in order
// on the exporter's control thread and does the I/O. Every record it is
// given ends up counted: delivered, or failed/dropped by a named reason.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "appmeta/app_record.hpp"
#include "export/json_record.hpp"
#include "flow/flow_record.hpp"

namespace sf {

struct SinkLoss {
  std::string reason;        // e.g. "write_error", "buffer_full", "send_error", "shutdown"
  std::uint64_t records = 0;
  std::uint64_t packets = 0;
};

struct SinkReport {
  std::uint64_t records_delivered = 0;  // handed to the destination (written, sent, or acknowledged)
  std::uint64_t packets_delivered = 0;
  std::vector<SinkLoss> lost;           // by reason; delivered + lost = records written to the sink
  std::string first_error;              // for the log and the exit status
};

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void write(const FlowEvent& ev, const AppRecord* app, const ServerName& server,
                     std::uint64_t now_ns) noexcept = 0;
  // Periodic work while idle or between bursts (timers, reconnects, flushes).
  virtual void tick(std::uint64_t now_ns) noexcept = 0;
  // End of the run: deliver what is held until deadline_ns (steady clock), then count the rest.
  virtual void finish(std::uint64_t deadline_ns) noexcept = 0;
  virtual SinkReport report() const = 0;
  // A failure that must fail the run (the JSON file the user asked for could not be written).
  virtual bool failed() const noexcept { return false; }
};

}  // namespace sf
