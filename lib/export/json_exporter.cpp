#include "export/json_exporter.hpp"

#include <cerrno>
#include <cstring>
#include <thread>

#include <rte_log.h>

#include "export/json_record.hpp"

namespace sf {

Result<JsonExporter*> JsonExporter::open(const std::string& path, std::uint16_t community_id_seed,
                                         const DnsCache* dns_cache) {
  if (path == "-") return new JsonExporter(stdout, false, community_id_seed, dns_cache);
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return make_error("cannot open JSON output " + path + ": " + std::strerror(errno));
  // Large buffer: the exporter thread writes in big chunks.
  std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  return new JsonExporter(f, true, community_id_seed, dns_cache);
}

JsonExporter::~JsonExporter() {
  if (owned_) std::fclose(file_);
}

void JsonExporter::write(const FlowEvent& ev, const AppRecord* app) noexcept {
  const std::uint64_t pkts = ev.packets[0] + ev.packets[1];
  if (file_ == nullptr) {
    counters_.records_written.inc();
    counters_.packets_written.add(pkts);
    return;
  }
  // A flow without a name of its own is named by what DNS answered its
  // client, as of the flow's first packet: the response came earlier, on
  // whichever worker owned the DNS flow.
  ServerName server = own_server_name(app);
  char cached[kAppTextMax + 1];
  if (server.name.empty() && dns_cache_ != nullptr) {
    const FlowKey& k = ev.key;
    const bool src_is_lo = ev.initiator_dir == kDirLoToHi;
    const std::size_t len = dns_cache_->lookup(k.ip_version, src_is_lo ? k.addr_lo.data() : k.addr_hi.data(),
                                               src_is_lo ? k.addr_hi.data() : k.addr_lo.data(), ev.first_ts_ns,
                                               cached, sizeof cached, dns_counters_);
    if (len != 0) server = ServerName{std::string_view(cached, len), "dns"};
  }
  char line[kJsonRecordMax];
  const std::size_t n = format_json_record(ev, app, server, community_id_seed_, line, sizeof line);
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
  EventSlot slots[kBurst];
  unsigned idle_rounds = 0;
  for (;;) {
    std::uint32_t got = 0;
    bool all_closed = true;
    for (ExportChannel* ch : channels) {
      // Read closed() before draining: a channel closed before an empty drain is done.
      const bool closed = ch->closed();
      const std::uint32_t n = ch->dequeue(slots, kBurst);
      for (std::uint32_t i = 0; i < n; i += event_slots(slots[i])) {
        const FlowEvent& ev = event_at(slots[i]);
        write(ev, ev.app_slots != 0 ? app_record_at(slots[i]) : nullptr);
      }
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
