#include "export/exporter.hpp"

#include <chrono>
#include <thread>

namespace sf {

Exporter::Exporter(std::string name, std::unique_ptr<RecordSink> sink, std::vector<ExportChannel*> channels,
                   const DnsCache* dns_cache, std::uint64_t drain_timeout_ns)
    : name_(std::move(name)),
      sink_(std::move(sink)),
      channels_(std::move(channels)),
      last_seq_(channels_.size(), 0),
      dns_cache_(dns_cache),
      drain_timeout_ns_(drain_timeout_ns) {}

void Exporter::handle(const FlowEvent& ev, const AppRecord* app, std::uint64_t now_ns) noexcept {
  counters_.records_in.inc();
  counters_.packets_in.add(ev.packets[0] + ev.packets[1]);
  // Each worker numbers its records 1, 2, ...: a gap here means its queue
  // to this exporter was full (counted by the worker as dropped).
  if (ev.worker < last_seq_.size()) {
    if (ev.seq != last_seq_[ev.worker] + 1) counters_.sequence_gaps.inc();
    last_seq_[ev.worker] = ev.seq;
  }
  // A flow without a name of its own is named by what DNS answered its
  // client, as of the flow's first packet: the answer came earlier, on
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
  sink_->write(ev, app, server, now_ns);
}

void Exporter::run() noexcept {
  constexpr std::uint32_t kBurst = 64;
  EventSlot slots[kBurst];
  unsigned idle_rounds = 0;
  std::uint64_t deadline_ns = 0;  // set once every channel is closed
  bool past_deadline = false;
  std::uint64_t last_tick_ns = 0;
  for (;;) {
    std::uint32_t got = 0;
    bool all_closed = true;
    const std::uint64_t now_ns = steady_now_ns();
    for (ExportChannel* ch : channels_) {
      // Read closed() before draining: a channel closed before an empty drain is done.
      const bool closed = ch->closed();
      const std::uint32_t n = ch->dequeue(slots, kBurst);
      for (std::uint32_t i = 0; i < n; i += event_slots(slots[i])) {
        const FlowEvent& ev = event_at(slots[i]);
        if (past_deadline) {  // out of time: what is left is counted, not written
          counters_.records_undelivered.inc();
          counters_.packets_undelivered.add(ev.packets[0] + ev.packets[1]);
          continue;
        }
        handle(ev, ev.app_slots != 0 ? app_record_at(slots[i]) : nullptr, now_ns);
      }
      got += n;
      if (!closed || n != 0) all_closed = false;
    }
    if (now_ns - last_tick_ns > 10'000'000) {  // timers, reconnects, flushes: every 10 ms at most
      sink_->tick(now_ns);
      last_tick_ns = now_ns;
    }
    if (all_closed) break;
    // Every worker has closed its channels: the drain deadline runs.
    bool all_marked = true;
    for (ExportChannel* ch : channels_) all_marked = all_marked && ch->closed();
    if (all_marked && deadline_ns == 0) deadline_ns = now_ns + drain_timeout_ns_;
    if (deadline_ns != 0 && now_ns > deadline_ns) past_deadline = true;
    if (got != 0) {
      idle_rounds = 0;
      continue;
    }
    // Nothing to do: this is a control thread, it may sleep.
    if (++idle_rounds > 16) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  sink_->finish(deadline_ns != 0 ? deadline_ns : steady_now_ns() + drain_timeout_ns_);
}

}  // namespace sf
