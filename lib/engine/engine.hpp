// The Engine owns everything a run needs (mempool, rings, shards, exporters,
// the input) and runs the lcores: RX → rings → workers → export channels →
// exporter thread. Created after EAL init; libraries never exit the process.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "config/config.hpp"
#include "engine/packet_source.hpp"
#include "export/record_sink.hpp"
#include "metrics/lcore_counters.hpp"

namespace sf {

// One exporter's figures: records_produced (the run's) = dropped_queue_full +
// records_in, and records_in = delivered + lost (by reason) + undelivered.
struct ExporterReport {
  std::string name;
  std::uint64_t dropped_queue_full_records = 0;  // its queue was full (live traffic)
  std::uint64_t dropped_queue_full_packets = 0;
  std::uint64_t records_in = 0;
  std::uint64_t packets_in = 0;
  std::uint64_t undelivered_records = 0;  // still queued at the drain deadline
  std::uint64_t undelivered_packets = 0;
  std::uint64_t sequence_gaps = 0;
  SinkReport sink;
};

// Totals after a run: the conservation figures and what produced them.
struct EngineReport {
  std::uint64_t packets_in = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t flows_packets = 0;  // packets inside records handed to exporters
  std::uint64_t non_ip = 0;
  std::uint64_t unsupported_link = 0;
  std::uint64_t malformed[kMalformedReasonCount] = {};
  std::uint64_t fragments_unattributed = 0;
  std::uint64_t fragments_attributed = 0;
  std::uint64_t fragment_table_replaced = 0;  // datagrams forgotten early: a newer one took the slot
  std::uint64_t ring_full = 0;
  std::uint64_t table_full = 0;
  std::uint64_t table_full_events = 0;
  std::uint64_t export_dropped_packets = 0;  // summed over exporters: queues that were full
  std::uint64_t export_dropped_records = 0;
  std::uint64_t records_produced = 0;  // finished by the workers and offered to every exporter
  std::uint64_t packets_produced = 0;
  std::vector<ExporterReport> exporters;
  std::uint64_t flows_created = 0;
  std::uint64_t records[kEndReasonCount] = {};
  std::uint64_t records_written = 0;
  std::uint64_t records_write_failed = 0;
  std::uint64_t packets_write_failed = 0;
  std::uint64_t capture_errors = 0;
  std::uint64_t ring_full_waits = 0;   // RX bursts that waited for ring room (capture files)
  std::uint64_t mbuf_alloc_waits = 0;  // RX polls that found no free mbuf
  std::uint64_t stale_lookups = 0;
  std::uint64_t timers_fired = 0;
  // TCP reassembly, summed over workers (pages: in use now and the sum of the
  // workers' high-water marks).
  bool reassembly_enabled = false;
  std::uint64_t reasm_pages_in_use = 0;
  std::uint64_t reasm_pages_high_water = 0;
  std::uint64_t reasm_pages_total = 0;
  std::uint64_t reasm_ooo_segments = 0;
  std::uint64_t reasm_overlaps = 0;
  std::uint64_t reasm_overlap_conflict_bytes = 0;
  std::uint64_t reasm_retransmitted_bytes = 0;
  std::uint64_t reasm_missed_bytes = 0;
  std::uint64_t reasm_limit_pages_per_connection = 0;
  std::uint64_t reasm_limit_pages_per_worker = 0;
  std::uint64_t reasm_limit_above_hole = 0;
  std::uint64_t reasm_limit_depth = 0;
  std::uint64_t reasm_limit_flush_age = 0;
  std::uint64_t reasm_out_of_window = 0;
  // Application metadata, summed over workers (app: SF_APP_COUNTERS order).
  bool app_enabled = false;
  std::uint64_t app[64] = {};
  // The shared DNS cache: writes by the workers, lookups by the exporter.
  bool dns_cache_enabled = false;
  std::uint64_t dns_cache_capacity = 0;
  std::uint64_t dns_cache_inserts = 0;
  std::uint64_t dns_cache_updates = 0;
  std::uint64_t dns_cache_evicted = 0;
  std::uint64_t dns_cache_expired = 0;
  std::uint64_t dns_cache_insert_contended = 0;
  std::uint64_t dns_cache_hits = 0;
  std::uint64_t dns_cache_misses = 0;
  std::uint64_t dns_cache_read_retries_exhausted = 0;  // misses because writers kept the bucket busy
  std::uint64_t name_order_waits = 0;     // record flushes that waited for another worker (capture files)
  std::uint64_t name_order_timeouts = 0;  // ...and gave up
  // --dump-streams (dump_enabled): bytes that went to files, and those that did not.
  bool dump_enabled = false;
  std::uint64_t dump_bytes_queued = 0;
  std::uint64_t dump_bytes_written = 0;
  std::uint64_t dump_bytes_dropped = 0;
  std::uint64_t dump_bytes_failed = 0;
  std::uint64_t dump_files_created = 0;
  std::uint64_t dump_write_errors = 0;
  std::string capture_error;
  std::string capture_warning;
  std::uint32_t workers = 0;
  std::vector<std::uint64_t> packets_per_worker;
  double wall_seconds = 0;
  bool stopped_by_signal = false;
};

class Engine {
 public:
  // Reads the capture file config.read_path.
  static Result<std::unique_ptr<Engine>> create(const Config& config);
  // Reads from any source (the benchmarks' in-memory generator). A live()
  // source gets drop-when-full rings unless rings.on_full says wait.
  static Result<std::unique_ptr<Engine>> create(const Config& config, std::unique_ptr<PacketSource> source);
  // Run to completion: worker w polls sources[w] itself (a NIC queue behind
  // symmetric RSS, or a generator of only that shard's flows); no RX lcores,
  // no rings. Needs 1 + workers lcores.
  static Result<std::unique_ptr<Engine>> create_run_to_completion(const Config& config,
                                                                  std::vector<std::unique_ptr<PacketSource>> sources);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs until end of input, or until stop_requested() returns true (polled by
  // the main lcore); then drains every ring and ends every flow.
  Status run(const std::function<bool()>& stop_requested);

  EngineReport report() const;
  // Live per-lcore counters (single writer each, safe to read while running).
  std::span<const RxCounters> rx_counters() const;
  std::span<const WorkerCounters> worker_counters() const;
  // A problem with the input found at start-up that does not stop the run.
  const std::string& input_warning() const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  static Result<std::unique_ptr<Engine>> build(const Config& config, std::vector<std::unique_ptr<PacketSource>> sources,
                                               bool run_to_completion);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sf
