#include "export/json_exporter.hpp"

#include <cerrno>
#include <cstring>
#include <thread>

#include <rte_log.h>

#include "export/json_record.hpp"

namespace sf {

Result<JsonExporter*> JsonExporter::open(const std::string& path, std::uint16_t community_id_seed) {
  if (path == "-") return new JsonExporter(stdout, false, community_id_seed);
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return make_error("cannot open JSON output " + path + ": " + std::strerror(errno));
  // Large buffer: the exporter thread writes in big chunks.
  std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  return new JsonExporter(f, true, community_id_seed);
}

JsonExporter::~JsonExporter() {
  if (owned_) std::fclose(file_);
}

void JsonExporter::write(const FlowEvent& ev) noexcept {
  const std::uint64_t pkts = ev.packets[0] + ev.packets[1];
  if (file_ == nullptr) {
    counters_.records_written.inc();
    counters_.packets_written.add(pkts);
    return;
  }
  char line[kJsonRecordMax];
  const std::size_t n = format_json_record(ev, community_id_seed_, line, sizeof line);
  if (!failed_ && n != 0 && std::fwrite(line, 1, n, file_) == n) {
    counters_.records_written.inc();
    counters_.packets_written.add(pkts);
    return;
  }
  if (!failed_) {
    failed_ = true;
    RTE_LOG(ERR, USER1, "JSON export: write failed (%s); further records are counted as failed\n",
            std::strerror(errno));
  }
  counters_.records_failed.inc();
  counters_.packets_failed.add(pkts);
}

void JsonExporter::run(const std::vector<ExportChannel*>& channels) noexcept {
  constexpr std::uint32_t kBurst = 64;
  FlowEvent events[kBurst];
  unsigned idle_rounds = 0;
  for (;;) {
    std::uint32_t got = 0;
    bool all_closed = true;
    for (ExportChannel* ch : channels) {
      // Read closed() before draining: a channel closed before an empty drain is done.
      const bool closed = ch->closed();
      const std::uint32_t n = ch->dequeue(events, kBurst);
      for (std::uint32_t i = 0; i < n; ++i) write(events[i]);
      got += n;
      if (!closed || n != 0) all_closed = false;
    }
    if (got != 0) {
      idle_rounds = 0;
      continue;
    }
    if (all_closed) break;
    // Nothing to do: this is a control thread, it may sleep.
    if (++idle_rounds > 16) {
      if (file_ != nullptr) std::fflush(file_);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  if (file_ != nullptr && std::fflush(file_) != 0 && !failed_) {
    failed_ = true;
    RTE_LOG(ERR, USER1, "JSON export: flush failed: %s\n", std::strerror(errno));
  }
}

}  // namespace sf
