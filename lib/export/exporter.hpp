// An exporter: a control thread (never a datapath lcore) that drains its own
// channel from every worker, names each record (its own SNI/Host, else the
// shared DNS cache) and hands it to its RecordSink. Several exporters run at
// once, each with its own queues, so a slow sink only ever fills its own.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dnscache/dns_cache.hpp"
#include "export/export_channel.hpp"
#include "export/record_sink.hpp"
#include "metrics/counter.hpp"
#include "sink/message_transport.hpp"  // steady_now_ns

namespace sf {

struct alignas(64) ExporterCounters {
  Counter records_in;          // dequeued from the channels
  Counter packets_in;
  Counter records_undelivered;  // still queued when the drain deadline passed (counted, not written)
  Counter packets_undelivered;
  Counter sequence_gaps;        // records whose per-worker seq did not follow the previous one
};

class Exporter {
 public:
  Exporter(std::string name, std::unique_ptr<RecordSink> sink, std::vector<ExportChannel*> channels,
           const DnsCache* dns_cache, std::uint64_t drain_timeout_ns);

  // The thread body: until every channel is closed and empty (or the drain
  // deadline after the last close passed), then the sink's own drain.
  void run() noexcept;

  const std::string& name() const noexcept { return name_; }
  const ExporterCounters& counters() const noexcept { return counters_; }
  const DnsCacheReaderCounters& dns_cache_counters() const noexcept { return dns_counters_; }
  RecordSink& sink() noexcept { return *sink_; }
  const RecordSink& sink() const noexcept { return *sink_; }

 private:
  void handle(const FlowEvent& ev, const AppRecord* app, std::uint64_t now_ns) noexcept;

  std::string name_;
  std::unique_ptr<RecordSink> sink_;
  std::vector<ExportChannel*> channels_;  // [worker]
  std::vector<std::uint64_t> last_seq_;   // [worker]
  const DnsCache* dns_cache_;
  std::uint64_t drain_timeout_ns_;
  ExporterCounters counters_;
  DnsCacheReaderCounters dns_counters_;
};

}  // namespace sf
