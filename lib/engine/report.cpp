#include "engine/report.hpp"

#include <cstdio>

#include "appmeta/app_tracker.hpp"

namespace sf {

namespace {

std::string num(std::uint64_t v) { return std::to_string(v); }

std::string json_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(ch)));
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

std::uint64_t malformed_total(const EngineReport& r) {
  std::uint64_t t = 0;
  for (std::uint64_t v : r.malformed) t += v;
  return t;
}

std::string reassembly_json(const EngineReport& r) {
  if (!r.reassembly_enabled) return "null";
  return "{\"pages_in_use\": " + num(r.reasm_pages_in_use) + ", \"pages_high_water\": " +
         num(r.reasm_pages_high_water) + ", \"pages_total\": " + num(r.reasm_pages_total) +
         ", \"ooo_segments\": " + num(r.reasm_ooo_segments) + ", \"overlaps\": " + num(r.reasm_overlaps) +
         ", \"overlap_conflict_bytes\": " + num(r.reasm_overlap_conflict_bytes) +
         ", \"retransmitted_bytes\": " + num(r.reasm_retransmitted_bytes) +
         ", \"missed_bytes\": " + num(r.reasm_missed_bytes) + ", \"out_of_window\": " + num(r.reasm_out_of_window) +
         ", \"limits\": {\"pages_per_connection\": " + num(r.reasm_limit_pages_per_connection) +
         ", \"pages_per_worker\": " + num(r.reasm_limit_pages_per_worker) +
         ", \"above_hole\": " + num(r.reasm_limit_above_hole) + ", \"depth\": " + num(r.reasm_limit_depth) +
         ", \"flush_age\": " + num(r.reasm_limit_flush_age) + "}}";
}

std::string dump_json(const EngineReport& r) {
  if (!r.dump_enabled) return "null";
  return "{\"bytes_queued\": " + num(r.dump_bytes_queued) + ", \"bytes_written\": " + num(r.dump_bytes_written) +
         ", \"bytes_dropped\": " + num(r.dump_bytes_dropped) + ", \"bytes_failed\": " + num(r.dump_bytes_failed) +
         ", \"files_created\": " + num(r.dump_files_created) + ", \"write_errors\": " + num(r.dump_write_errors) + "}";
}

std::string app_json(const EngineReport& r) {
  if (!r.app_enabled) return "null";
  std::string s = "{";
  unsigned i = 0;
  const char* sep = "";
#define SF_X(name)                                        \
  s += std::string(sep) + "\"" #name "\": " + num(r.app[i++]); \
  sep = ", ";
  SF_APP_COUNTERS(SF_X)
#undef SF_X
  s += ", \"dns_cache\": ";
  if (!r.dns_cache_enabled) return s + "null}";
  return s + "{\"capacity\": " + num(r.dns_cache_capacity) + ", \"inserts\": " + num(r.dns_cache_inserts) +
         ", \"updates\": " + num(r.dns_cache_updates) + ", \"evicted\": " + num(r.dns_cache_evicted) +
         ", \"expired\": " + num(r.dns_cache_expired) +
         ", \"insert_contended\": " + num(r.dns_cache_insert_contended) + ", \"hits\": " + num(r.dns_cache_hits) +
         ", \"misses\": " + num(r.dns_cache_misses) + ", \"read_retries_exhausted\": " +
         num(r.dns_cache_read_retries_exhausted) + ", \"order_waits\": " + num(r.name_order_waits) +
         ", \"order_timeouts\": " + num(r.name_order_timeouts) + "}}";
}

// Per exporter: produced = dropped_queue_full + received; received = delivered + lost + undelivered.
std::string export_json(const EngineReport& r) {
  std::string s = "{\"records_produced\": " + num(r.records_produced) + ", \"packets_produced\": " +
                  num(r.packets_produced) + ", \"records_dropped\": " + num(r.export_dropped_records);
  if (!r.exporters.empty() && r.exporters.front().name == "json") {
    s += ", \"json\": {\"records_written\": " + num(r.records_written) + ", \"records_failed\": " +
         num(r.records_write_failed) + ", \"packets_failed\": " + num(r.packets_write_failed) + "}";
  }
  s += ", \"exporters\": [";
  for (std::size_t i = 0; i < r.exporters.size(); ++i) {
    const ExporterReport& x = r.exporters[i];
    s += std::string(i ? ", " : "") + "{\"name\": \"" + json_escape(x.name) + "\", \"records\": {\"dropped_queue_full\": " +
         num(x.dropped_queue_full_records) + ", \"received\": " + num(x.records_in) + ", \"delivered\": " +
         num(x.sink.records_delivered) + ", \"undelivered_at_deadline\": " + num(x.undelivered_records) + ", \"lost\": {";
    for (std::size_t j = 0; j < x.sink.lost.size(); ++j) {
      s += std::string(j ? ", " : "") + "\"" + json_escape(x.sink.lost[j].reason) + "\": " + num(x.sink.lost[j].records);
    }
    s += "}}, \"packets\": {\"dropped_queue_full\": " + num(x.dropped_queue_full_packets) + ", \"received\": " +
         num(x.packets_in) + ", \"delivered\": " + num(x.sink.packets_delivered) + ", \"undelivered_at_deadline\": " +
         num(x.undelivered_packets) + ", \"lost\": {";
    for (std::size_t j = 0; j < x.sink.lost.size(); ++j) {
      s += std::string(j ? ", " : "") + "\"" + json_escape(x.sink.lost[j].reason) + "\": " + num(x.sink.lost[j].packets);
    }
    s += "}}, \"sequence_gaps\": " + num(x.sequence_gaps) + ", \"first_error\": " +
         (x.sink.first_error.empty() ? std::string("null") : "\"" + json_escape(x.sink.first_error) + "\"") + "}";
  }
  return s + "]}";
}

}  // namespace

std::string stats_json(const EngineReport& r) {
  std::string s = "{\n  \"packets_in\": " + num(r.packets_in) + ",\n  \"bytes_in\": " + num(r.bytes_in) +
                  ",\n  \"dispositions\": {\n    \"flows\": " + num(r.flows_packets) +
                  ",\n    \"non_ip\": " + num(r.non_ip) + ",\n    \"unsupported_link\": " + num(r.unsupported_link) + ",\n    \"malformed\": {";
  for (unsigned i = 0; i < kMalformedReasonCount; ++i) {
    s += (i ? ", \"" : "\"") + std::string(malformed_reason_name(static_cast<MalformedReason>(i))) + "\": " +
         num(r.malformed[i]);
  }
  s += "},\n    \"fragments_unattributed\": " + num(r.fragments_unattributed) +
       ",\n    \"ring_full\": " + num(r.ring_full) + ",\n    \"table_full\": " + num(r.table_full) +
       "\n  },\n  \"records\": {";
  std::uint64_t records_total = 0;
  for (unsigned i = 0; i < kEndReasonCount; ++i) {
    s += (i ? ", \"" : "\"") + std::string(end_reason_name(static_cast<EndReason>(i))) + "\": " + num(r.records[i]);
    records_total += r.records[i];
  }
  s += "},\n  \"records_total\": " + num(records_total) + ",\n  \"flows_created\": " + num(r.flows_created) +
       ",\n  \"fragments_attributed\": " + num(r.fragments_attributed) +
       ",\n  \"fragment_table_replaced\": " + num(r.fragment_table_replaced) +
       ",\n  \"table_full_events\": " + num(r.table_full_events) +
       ",\n  \"waits\": {\"ring_full\": " + num(r.ring_full_waits) + ", \"mbuf_alloc\": " + num(r.mbuf_alloc_waits) +
       "},\n  \"stale_lookups\": " + num(r.stale_lookups) + ",\n  \"timers_fired\": " + num(r.timers_fired) +
       ",\n  \"export\": " + export_json(r) +
       ",\n  \"reassembly\": " + reassembly_json(r) + ",\n  \"stream_dump\": " + dump_json(r) +
       ",\n  \"app\": " + app_json(r) +
       ",\n  \"capture_error\": " + (r.capture_error.empty() ? "null" : "\"" + json_escape(r.capture_error) + "\"") +
       ",\n  \"stopped_by_signal\": " + (r.stopped_by_signal ? "true" : "false") +
       ",\n  \"workers\": [";
  for (std::size_t w = 0; w < r.packets_per_worker.size(); ++w) {
    s += (w ? ", " : "") + std::string("{\"worker\": ") + num(w) + ", \"packets\": " + num(r.packets_per_worker[w]) + "}";
  }
  char wall[32];
  std::snprintf(wall, sizeof wall, "%.3f", r.wall_seconds);
  s += "],\n  \"wall_seconds\": " + std::string(wall) + "\n}\n";
  return s;
}

std::string summary_text(const EngineReport& r) {
  std::uint64_t records_total = 0;
  for (std::uint64_t v : r.records) records_total += v;
  const double mpps = r.wall_seconds > 0 ? static_cast<double>(r.packets_in) / r.wall_seconds / 1e6 : 0.0;
  char head[256];
  std::snprintf(head, sizeof head, "shardflow: %llu packets in %.3f s (%.2f Mpps) with %u workers%s\n",
                static_cast<unsigned long long>(r.packets_in), r.wall_seconds, mpps, r.workers,
                r.stopped_by_signal ? " (stopped by signal)" : "");
  std::string s = head;
  s += "  into flows         " + num(r.flows_packets) + " packets, " + num(records_total) + " records (";
  bool first = true;
  for (unsigned i = 0; i < kEndReasonCount; ++i) {
    if (r.records[i] == 0) continue;
    s += (first ? "" : ", ") + std::string(end_reason_name(static_cast<EndReason>(i))) + " " + num(r.records[i]);
    first = false;
  }
  s += ")\n  non-IP             " + num(r.non_ip) + "\n  unsupported link   " + num(r.unsupported_link) + "\n  malformed          " + num(malformed_total(r));
  first = true;
  for (unsigned i = 0; i < kMalformedReasonCount; ++i) {
    if (r.malformed[i] == 0) continue;
    s += (first ? " (" : ", ") + std::string(malformed_reason_name(static_cast<MalformedReason>(i))) + " " +
         num(r.malformed[i]);
    first = false;
  }
  if (!first) s += ")";
  s += "\n  fragments unattrib " + num(r.fragments_unattributed) + "\n  ring full          " + num(r.ring_full) +
       "\n  table full         " + num(r.table_full) + "\n";
  const std::uint64_t accounted = r.flows_packets + r.non_ip + r.unsupported_link + malformed_total(r) + r.fragments_unattributed +
                                  r.ring_full + r.table_full;
  s += accounted == r.packets_in ? "  every packet accounted for\n"
                                 : "  WARNING: " + num(r.packets_in - accounted) + " packets unaccounted for\n";
  for (const ExporterReport& x : r.exporters) {
    std::uint64_t lost = 0;
    for (const SinkLoss& l : x.sink.lost) lost += l.records;
    s += "  export " + x.name + ": " + num(x.sink.records_delivered) + " of " + num(r.records_produced) + " records delivered";
    if (x.dropped_queue_full_records + lost + x.undelivered_records != 0) {
      s += " (" + num(x.dropped_queue_full_records) + " dropped on a full queue, " + num(lost) + " lost in output, " +
           num(x.undelivered_records) + " undelivered at the deadline)";
    }
    s += "\n";
  }
  if (!r.capture_warning.empty()) s += "  " + r.capture_warning + "\n";
  if (!r.capture_error.empty()) s += "  capture read stopped early: " + r.capture_error + "\n";
  return s;
}

}  // namespace sf
