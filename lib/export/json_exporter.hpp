// The JSON-lines exporter: runs on a control thread (never a datapath lcore),
// drains every worker's ExportChannel and writes one record per line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "dnscache/dns_cache.hpp"
#include "export/export_channel.hpp"
#include "metrics/counter.hpp"

namespace sf {

struct alignas(64) ExporterCounters {
  Counter records_written;
  Counter packets_written;
  Counter records_failed;  // write errors (disk full, closed pipe): counted, never retried forever
  Counter packets_failed;
};

class JsonExporter {
 public:
  // path: a file, or "-" for stdout. Opening happens here, at start-up, so a
  // bad path is a start-up error rather than a lost run.
  // community_id_seed: export.community_id_seed, for each record's Community ID.
  // dns_cache: names flows that carry no name of their own (null = none).
  static Result<JsonExporter*> open(const std::string& path, std::uint16_t community_id_seed,
                                    const DnsCache* dns_cache = nullptr);
  // No JSON output configured: records are still drained and counted.
  static JsonExporter* discard() { return new JsonExporter(nullptr, false, 0, nullptr); }
  ~JsonExporter();
  JsonExporter(const JsonExporter&) = delete;
  JsonExporter& operator=(const JsonExporter&) = delete;

  // Drains channels until every one is closed and empty, then flushes.
  void run(const std::vector<ExportChannel*>& channels) noexcept;

  const ExporterCounters& counters() const noexcept { return counters_; }
  const DnsCacheReaderCounters& dns_cache_counters() const noexcept { return dns_counters_; }
  bool failed() const noexcept { return failed_; }

 private:
  JsonExporter(std::FILE* f, bool owned, std::uint16_t community_id_seed, const DnsCache* dns_cache)
      : file_(f), owned_(owned), community_id_seed_(community_id_seed), dns_cache_(dns_cache) {}
  void write(const FlowEvent& ev, const AppRecord* app) noexcept;

  std::FILE* file_;
  bool owned_;
  std::uint16_t community_id_seed_;
  const DnsCache* dns_cache_;
  bool failed_ = false;
  ExporterCounters counters_;
  DnsCacheReaderCounters dns_counters_;
};

}  // namespace sf
