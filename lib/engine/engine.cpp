#include "engine/engine.hpp"

#include <pthread.h>

#include <chrono>
#include <random>
#include <thread>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_launch.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dpdk/mbuf_meta.hpp"
#include "engine/capture_source.hpp"
#include "engine/rx_loop.hpp"
#include "engine/rtc_worker.hpp"
#include "engine/rx_stage.hpp"
#include "engine/worker.hpp"
#include "appmeta/app_tracker.hpp"
#include "engine/worker_order_gate.hpp"
#include "export/export_fanout.hpp"
#include "export/exporter.hpp"
#include "export/ipfix_sink.hpp"
#include "export/json_sink.hpp"
#include "streamdump/stream_dump_writer.hpp"
#include "tcp/reassembler.hpp"

namespace sf {

struct Engine::Impl {
  Config config;
  std::uint32_t hash_seed = 0;
  rte_mempool* pool = nullptr;
  std::unique_ptr<EngineControl> control;
  std::vector<rte_ring*> rings;  // [rx * n_workers + w]
  std::vector<RxCounters> rx_counters;
  std::vector<WorkerCounters> worker_counters;
  std::vector<std::unique_ptr<ExportChannel>> channels;  // [exporter * n_workers + worker]
  std::vector<std::unique_ptr<ExportFanout>> fanouts;    // [worker]
  std::vector<std::unique_ptr<Exporter>> exporters;      // JSON first, then each IPFIX target
  std::vector<std::unique_ptr<FlowTracker>> trackers;
  std::vector<Worker> workers;
  std::unique_ptr<PacketSource> source;
  std::unique_ptr<RxStage> rx_stage;
  // Run to completion: one input, RX stage and lcore loop per worker.
  std::vector<std::unique_ptr<PacketSource>> rtc_sources;
  std::vector<std::unique_ptr<RxStage>> rtc_stages;
  std::vector<RtcWorker> rtc_workers;
  RxLoop rx_loop;
  std::vector<ReassemblyCounters> reassembly_counters;
  std::vector<std::unique_ptr<Reassembler>> reassemblers;  // one per worker; empty when off
  std::unique_ptr<StreamDumpWriter> dump_writer;         // --dump-streams
  std::unique_ptr<DnsCache> dns_cache;                   // shared by every worker; null when off
  std::vector<AppCounters> app_counters;
  std::vector<std::unique_ptr<AppTracker>> apps;         // one per worker; empty when off
  // Capture file, one RX, a DNS cache: records wait until every worker is past
  // their flow's first packet (worker_order_gate.hpp). Empty otherwise.
  std::vector<WorkerProgress> worker_progress;
  std::vector<std::unique_ptr<WorkerOrderGate>> gates;
  double wall_seconds = 0;

  ~Impl() {
    trackers.clear();  // before the EAL memory they live in goes away
    apps.clear();
    exporters.clear();
    fanouts.clear();
    reassemblers.clear();
    channels.clear();
    for (rte_ring* r : rings) rte_ring_free(r);
    if (pool != nullptr) rte_mempool_free(pool);
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::create(const Config& config) {
  if (config.read_path.empty()) {
    return make_error("no input: give a capture file with -r FILE (or input.read in the YAML)");
  }
  auto src = CaptureSource::open(config.read_path);
  if (!src) return make_error(src.error());
  return create(config, std::move(src.value()));
}

Result<std::unique_ptr<Engine>> Engine::create(const Config& config, std::unique_ptr<PacketSource> source) {
  if (config.lcores.rx != 1) {
    return make_error("lcores.rx: an input is read by exactly one RX lcore (got " + std::to_string(config.lcores.rx) +
                      ")");
  }
  std::vector<std::unique_ptr<PacketSource>> sources;
  sources.push_back(std::move(source));
  return build(config, std::move(sources), false);
}

Result<std::unique_ptr<Engine>> Engine::create_run_to_completion(const Config& config,
                                                                  std::vector<std::unique_ptr<PacketSource>> sources) {
  if (sources.size() != config.lcores.workers) {
    return make_error("run to completion needs one input per worker (" + std::to_string(sources.size()) + " for " +
                      std::to_string(config.lcores.workers) + " workers)");
  }
  return build(config, std::move(sources), true);
}

Result<std::unique_ptr<Engine>> Engine::build(const Config& config, std::vector<std::unique_ptr<PacketSource>> sources,
                                              bool run_to_completion) {
  auto impl = std::make_unique<Impl>();
  Impl& e = *impl;
  e.config = config;
  const Config& c = e.config;
  const std::uint32_t n_workers = c.lcores.workers;
  // RX lcores: one per input (run to completion: the workers are their own RX).
  const auto n_rx = run_to_completion ? 0U : static_cast<std::uint32_t>(sources.size());
  const auto n_inputs = static_cast<std::uint32_t>(sources.size());
  const int socket = static_cast<int>(rte_socket_id());
  if (rte_lcore_count() < 1 + n_rx + n_workers) {
    return make_error("EAL has " + std::to_string(rte_lcore_count()) + " lcores; " + std::to_string(1 + n_rx + n_workers) +
                      " are needed (1 main + " + std::to_string(n_rx) + " rx + " + std::to_string(n_workers) +
                      " workers): fix eal.lcores or the --lcores EAL argument");
  }
  e.hash_seed = c.flow_table.hash_seed != 0 ? c.flow_table.hash_seed : std::random_device{}();

  // Capture files set their own pace: wait for room rather than drop.
  const bool from_file = !sources[0]->live();

  e.pool = rte_pktmbuf_pool_create("sf_mbufs", c.mempool.mbufs, c.mempool.cache, kMbufPrivSize,
                                   static_cast<std::uint16_t>(c.mempool.data_room + RTE_PKTMBUF_HEADROOM), socket);
  if (e.pool == nullptr) {
    return make_error(std::string("mbuf pool (") + std::to_string(c.mempool.mbufs) + " mbufs): " +
                      rte_strerror(rte_errno) + " (raise eal.memory_mb or lower mempool.mbufs)");
  }
  e.control = std::make_unique<EngineControl>(n_inputs);
  if (!run_to_completion) e.control->n_workers = n_workers;
  e.rx_counters = std::vector<RxCounters>(n_inputs);
  e.worker_counters = std::vector<WorkerCounters>(n_workers);

  for (std::uint32_t r = 0; r < n_rx; ++r) {
    for (std::uint32_t w = 0; w < n_workers; ++w) {
      const std::string name = "sf_rx" + std::to_string(r) + "_w" + std::to_string(w);
      rte_ring* ring = rte_ring_create(name.c_str(), c.rings.rx_to_worker_size, socket,
                                       RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
      if (ring == nullptr) return make_error("ring " + name + ": " + rte_strerror(rte_errno));
      e.rings.push_back(ring);
    }
  }

  const bool wait_rings = c.rings.on_full == OnRingFull::Wait || (c.rings.on_full == OnRingFull::Auto && from_file);

  if (!c.tcp.dump_streams_dir.empty()) {
    if (!c.tcp.reassembly_enabled) {
      return make_error("--dump-streams / tcp.dump_streams needs tcp.reassembly.enabled: true");
    }
    StreamDumpOptions dump;
    dump.dir = c.tcp.dump_streams_dir;
    // Like the rings: a capture file waits for the writer, live traffic drops (counted).
    dump.on_full = wait_rings ? DumpOnFull::kWait : DumpOnFull::kDrop;
    auto writer = StreamDumpWriter::create(dump, n_workers);
    if (!writer) return make_error("--dump-streams " + c.tcp.dump_streams_dir + ": " + writer.error());
    e.dump_writer = std::move(writer.value());
  }
  e.reassembly_counters = std::vector<ReassemblyCounters>(n_workers);
  e.app_counters = std::vector<AppCounters>(n_workers);
  if (c.app.enabled && c.dns_cache.capacity != 0) {
    auto cache = DnsCache::create(c.dns_cache);
    if (!cache) return make_error("app.dns_cache: " + cache.error());
    e.dns_cache = std::move(cache.value());
  }
  const FlowTimeouts timeouts = FlowTimeouts::from_config(c.timeouts);
  if (e.dns_cache && !run_to_completion && n_rx == 1 && wait_rings && n_workers > 1) {
    e.worker_progress = std::vector<WorkerProgress>(n_workers);
  }
  // The exporters' sinks open now: a bad path or target is a start-up error.
  std::vector<std::pair<std::string, std::unique_ptr<RecordSink>>> sinks;
  if (c.exports.json.enabled) {
    // The loader keeps the seed in 0..65535.
    auto js = JsonSink::open(c.exports.json, static_cast<std::uint16_t>(c.exports.community_id_seed));
    if (!js) return make_error(js.error());
    sinks.emplace_back("json", std::move(js.value()));
  }
  for (std::size_t i = 0; i < c.exports.json_more.size(); ++i) {
    auto js = JsonSink::open(c.exports.json_more[i], static_cast<std::uint16_t>(c.exports.community_id_seed));
    if (!js) return make_error("export.json[" + std::to_string(i + 1) + "]: " + js.error());
    sinks.emplace_back("json" + std::to_string(i + 1), std::move(js.value()));
  }
  for (std::size_t i = 0; i < c.exports.ipfix.size(); ++i) {
    auto is = open_ipfix_sink(c.exports.ipfix[i], static_cast<std::uint16_t>(c.exports.community_id_seed));
    if (!is) return make_error("export.ipfix[" + std::to_string(i) + "] " + c.exports.ipfix[i].target + ": " + is.error());
    sinks.emplace_back("ipfix" + std::to_string(i), std::move(is.value()));
  }
  e.workers.resize(run_to_completion ? 0 : n_workers);
  for (std::uint32_t w = 0; w < n_workers; ++w) {
    std::vector<ExportChannel*> mine;
    for (std::size_t x = 0; x < sinks.size(); ++x) {
      auto ch = ExportChannel::create("sf_x" + std::to_string(x) + "_w" + std::to_string(w), c.rings.export_size,
                                      socket, wait_rings);
      if (!ch) return make_error(ch.error());
      e.channels.emplace_back(ch.value());
      mine.push_back(e.channels.back().get());
    }
    e.fanouts.push_back(std::make_unique<ExportFanout>(std::move(mine)));
    auto table = FlowTable::create("sf_flows_w" + std::to_string(w), c.flow_table.capacity_per_worker, e.hash_seed, socket);
    if (!table) return make_error(table.error());
    e.trackers.push_back(std::make_unique<FlowTracker>(std::unique_ptr<FlowTable>(table.value()), timeouts,
                                                       c.flow_table.on_full, static_cast<std::uint16_t>(w),
                                                       *e.fanouts.back(), e.worker_counters[w]));
    StreamDumpConsumer* dump = e.dump_writer ? &e.dump_writer->consumer(w) : nullptr;
    if (c.tcp.reassembly_enabled) {
      try {
        e.reassemblers.push_back(std::make_unique<Reassembler>(c.tcp.reassembly, e.reassembly_counters[w]));
      } catch (const std::bad_alloc&) {
        return make_error("tcp.reassembly: cannot allocate " + std::to_string(c.tcp.reassembly.pages_per_worker) +
                          " pages of " + std::to_string(c.tcp.reassembly.page_size_bytes) +
                          " bytes for worker " + std::to_string(w) + " (lower tcp.reassembly.pages_per_worker)");
      }
      if (dump != nullptr) e.reassemblers.back()->add_consumer(dump);
      e.trackers.back()->set_reassembler(e.reassemblers.back().get());
    }
    if (c.app.enabled) {
      try {
        e.apps.push_back(std::make_unique<AppTracker>(c.app, e.trackers.back()->table().capacity(), e.dns_cache.get(),
                                                      e.app_counters[w]));
      } catch (const std::bad_alloc&) {
        return make_error("app: cannot allocate " + std::to_string(c.app.flows_per_worker) + " metadata slots and " +
                          std::to_string(c.app.buffers_per_worker) + " buffers of " +
                          std::to_string(c.app.buffer_bytes) + " bytes for worker " + std::to_string(w) +
                          " (lower app.flows_per_worker / app.buffers_per_worker)");
      }
      e.trackers.back()->set_app(e.apps.back().get());
      // TCP metadata reads the reassembled streams; without reassembly only DNS over UDP.
      if (!e.reassemblers.empty()) e.reassemblers.back()->add_consumer(e.apps.back().get());
    }
    if (!e.worker_progress.empty()) {
      e.gates.push_back(std::make_unique<WorkerOrderGate>(e.worker_progress, w));
      e.trackers.back()->set_naming_gate(e.gates.back().get());
    }
    if (run_to_completion) continue;  // RtcWorkers below
    Worker& wk = e.workers[w];
    wk.id = static_cast<std::uint16_t>(w);
    for (std::uint32_t r = 0; r < n_rx; ++r) wk.rx_rings.push_back(e.rings[r * n_workers + w]);
    wk.tracker = e.trackers.back().get();
    wk.channel = e.fanouts.back().get();
    wk.dump = dump;
    wk.counters = &e.worker_counters[w];
    wk.control = e.control.get();
    wk.burst_size = c.burst_size;
    wk.idle_yield = c.lcores.idle_yield;
  }

  // Packet ids interleave over the inputs (id = seq * inputs + index + 1), so
  // flow ids stay unique per run however many inputs there are.
  auto rx_options = [&](const PacketSource& src, std::uint32_t index) {
    RxOptions ro;
    ro.rx_index = static_cast<std::uint16_t>(index);
    ro.n_rx = static_cast<std::uint16_t>(n_inputs);
    ro.link = src.link_type();
    ro.link_supported = src.link_supported();
    ro.hash_seed = e.hash_seed;
    ro.vlan_in_key = c.flow_table.vlan_in_key;
    ro.wait_when_full = wait_rings;
    ro.idle_yield = c.lcores.idle_yield;
    ro.burst_size = c.burst_size;
    ro.fragment_table_size = c.fragments.table_size;
    ro.fragment_timeout_ns = static_cast<std::uint64_t>(c.fragments.timeout_ms) * 1000000ULL;
    return ro;
  };
  if (run_to_completion) {
    e.rtc_sources = std::move(sources);
    e.rtc_workers.resize(n_workers);
    for (std::uint32_t w = 0; w < n_workers; ++w) {
      e.rtc_stages.push_back(std::make_unique<RxStage>(rx_options(*e.rtc_sources[w], w), std::vector<rte_ring*>{},
                                                       e.rx_counters[w], e.control->rx[w]));
      RtcWorker& rw = e.rtc_workers[w];
      rw.source = e.rtc_sources[w].get();
      rw.pool = e.pool;
      rw.stage = e.rtc_stages.back().get();
      rw.tracker = e.trackers[w].get();
      rw.channel = e.fanouts[w].get();
      rw.dump = e.dump_writer ? &e.dump_writer->consumer(w) : nullptr;
      rw.control = e.control.get();
      rw.progress = &e.control->rx[w];
      rw.rx_counters = &e.rx_counters[w];
      rw.counters = &e.worker_counters[w];
      rw.burst_size = c.burst_size;
      rw.idle_yield = c.lcores.idle_yield;
    }
  } else {
    e.source = std::move(sources[0]);
    std::vector<rte_ring*> rx_rings(e.rings.begin(), e.rings.begin() + n_workers);
    e.rx_stage = std::make_unique<RxStage>(rx_options(*e.source, 0), rx_rings, e.rx_counters[0], e.control->rx[0]);
    e.rx_loop = RxLoop{e.source.get(), e.rx_stage.get(), e.pool,      e.control.get(), &e.control->rx[0],
                       &e.rx_counters[0], c.burst_size, c.lcores.idle_yield};
  }

  // Exporter x drains channel x of every worker.
  const std::uint64_t drain_ns = std::uint64_t{c.exports.drain_timeout_ms} * 1000000;
  for (std::size_t x = 0; x < sinks.size(); ++x) {
    std::vector<ExportChannel*> column;
    for (std::uint32_t w = 0; w < n_workers; ++w) column.push_back(e.channels[w * sinks.size() + x].get());
    e.exporters.push_back(std::make_unique<Exporter>(sinks[x].first, std::move(sinks[x].second), std::move(column),
                                                     e.dns_cache.get(), drain_ns));
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

namespace {

void* exporter_thread(void* arg) {
  static_cast<Exporter*>(arg)->run();
  return nullptr;
}

void* dump_thread(void* arg) {
  static_cast<StreamDumpWriter*>(arg)->run();
  return nullptr;
}

}  // namespace

Status Engine::run(const std::function<bool()>& stop_requested) {
  Impl& e = *impl_;
  const auto t0 = std::chrono::steady_clock::now();

  // The stream dump writer: a control thread too, done once every worker
  // closed its consumer. Started first: nothing else runs yet if it fails.
  pthread_t dump_tid{};
  if (e.dump_writer &&
      rte_ctrl_thread_create(&dump_tid, "sf-dump-streams", nullptr, dump_thread, e.dump_writer.get()) != 0) {
    return make_error("cannot start the stream dump thread");
  }

  // Exporters are control threads: not pinned to a datapath core.
  std::vector<pthread_t> exporter_tids;
  for (auto& x : e.exporters) {
    pthread_t tid;
    if (rte_ctrl_thread_create(&tid, ("sf-x-" + x->name()).c_str(), nullptr, exporter_thread, x.get()) != 0) {
      // Nothing has run yet: close every channel so the started ones end.
      for (auto& f : e.fanouts) f->close();
      for (pthread_t t : exporter_tids) pthread_join(t, nullptr);
      if (e.dump_writer) {
        e.dump_writer->stop();  // a forced end: no worker will close its consumer
        pthread_join(dump_tid, nullptr);
      }
      return make_error("cannot start the exporter thread for " + x->name());
    }
    exporter_tids.push_back(tid);
  }

  // Worker lcores in id order: RX first, then workers.
  std::vector<unsigned> lcores;
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) lcores.push_back(lcore);
  if (!e.rtc_workers.empty()) {
    for (std::size_t w = 0; w < e.rtc_workers.size(); ++w) rte_eal_remote_launch(RtcWorker::main, &e.rtc_workers[w], lcores[w]);
  } else {
    for (std::size_t w = 0; w < e.workers.size(); ++w) rte_eal_remote_launch(Worker::main, &e.workers[w], lcores[1 + w]);
    rte_eal_remote_launch(RxLoop::main, &e.rx_loop, lcores[0]);
  }

  // The main lcore watches for a stop request until the workers are done.
  bool stopping = false;
  for (;;) {
    if (e.control->workers_finished.load(std::memory_order_acquire) == e.trackers.size() &&
        e.control->all_rx_done()) {
      break;
    }
    if (!stopping && stop_requested()) {
      stopping = true;
      e.control->stop.store(true, std::memory_order_release);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  rte_eal_mp_wait_lcore();
  for (pthread_t t : exporter_tids) pthread_join(t, nullptr);
  if (e.dump_writer) pthread_join(dump_tid, nullptr);
  e.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& x : e.exporters) {
    if (x->sink().failed()) {
      return make_error("the " + x->name() + " exporter could not write every record: " + x->sink().report().first_error);
    }
  }
  if (e.dump_writer && e.dump_writer->failed()) {
    return make_error("--dump-streams: not every byte reached the disk: " + e.dump_writer->report().first_error);
  }
  return Ok{};
}

const std::string& Engine::input_warning() const {
  static const std::string none;
  return impl_->source ? impl_->source->warning() : none;
}

std::span<const RxCounters> Engine::rx_counters() const { return impl_->rx_counters; }
std::span<const WorkerCounters> Engine::worker_counters() const { return impl_->worker_counters; }

EngineReport Engine::report() const {
  const Impl& e = *impl_;
  EngineReport r;
  for (const RxCounters& c : e.rx_counters) {
    r.packets_in += c.packets_in.get();
    r.bytes_in += c.bytes_in.get();
    r.non_ip += c.non_ip.get();
    r.unsupported_link += c.unsupported_link.get();
    for (unsigned i = 0; i < kMalformedReasonCount; ++i) r.malformed[i] += c.malformed[i].get();
    r.fragments_unattributed += c.fragments_unattributed.get();
    r.fragments_attributed += c.fragments_attributed.get();
    r.fragment_table_replaced += c.fragment_table_replaced.get();
    r.ring_full += c.ring_full.get();
    r.capture_errors += c.capture_errors.get();
    r.ring_full_waits += c.ring_full_waits.get();
    r.mbuf_alloc_waits += c.mbuf_alloc_waits.get();
  }
  for (const WorkerCounters& c : e.worker_counters) {
    r.flows_packets += c.packets_exported.get();
    r.table_full += c.table_full.get();
    r.table_full_events += c.table_full_events.get();
    r.flows_created += c.flows_created.get();
    for (unsigned i = 0; i < kEndReasonCount; ++i) r.records[i] += c.records[i].get();
    r.packets_per_worker.push_back(c.packets.get());
    r.stale_lookups += c.stale_lookups.get();
    r.timers_fired += c.timers_fired.get();
  }
  r.reassembly_enabled = !e.reassemblers.empty();
  for (std::size_t w = 0; w < e.reassemblers.size(); ++w) {
    const ReassemblyCounters& c = e.reassembly_counters[w];
    r.reasm_pages_in_use += c.pages_in_use.get();
    r.reasm_pages_high_water += c.pages_high_water.get();
    r.reasm_pages_total += e.config.tcp.reassembly.pages_per_worker;
    r.reasm_ooo_segments += c.ooo_segments.get();
    r.reasm_overlaps += c.overlaps.get();
    r.reasm_overlap_conflict_bytes += c.overlap_conflict_bytes.get();
    r.reasm_retransmitted_bytes += c.retransmitted_bytes.get();
    r.reasm_missed_bytes += c.missed_bytes.get();
    r.reasm_limit_pages_per_connection += c.limit_pages_per_connection.get();
    r.reasm_limit_pages_per_worker += c.limit_pages_per_worker.get();
    r.reasm_limit_above_hole += c.limit_above_hole.get();
    r.reasm_limit_depth += c.limit_depth.get();
    r.reasm_limit_flush_age += c.limit_flush_age.get();
    r.reasm_out_of_window += c.out_of_window.get();
  }
  if (e.dump_writer) {
    const StreamDumpReport d = e.dump_writer->report();
    r.dump_enabled = true;
    r.dump_bytes_queued = d.bytes_queued;
    r.dump_bytes_written = d.bytes_written;
    r.dump_bytes_dropped = d.dropped_bytes;
    r.dump_bytes_failed = d.bytes_failed;
    r.dump_files_created = d.files_created;
    r.dump_write_errors = d.write_errors;
  }
  r.app_enabled = !e.apps.empty();
  for (const AppCounters& c : e.app_counters) {
    unsigned i = 0;
#define SF_X(name) r.app[i++] += c.name.get();
    SF_APP_COUNTERS(SF_X)
#undef SF_X
  }
  for (std::size_t w = 0; w < e.apps.size(); ++w) {
    const DnsCacheWriterCounters& c = e.apps[w]->dns_cache_counters();
    r.dns_cache_inserts += c.inserts.get();
    r.dns_cache_updates += c.updates.get();
    r.dns_cache_evicted += c.evicted.get();
    r.dns_cache_expired += c.expired.get();
    r.dns_cache_insert_contended += c.insert_contended.get();
  }
  for (const auto& g : e.gates) {
    r.name_order_waits += g->waits.get();
    r.name_order_timeouts += g->timeouts.get();
  }
  r.dns_cache_enabled = e.dns_cache != nullptr;
  if (e.dns_cache) r.dns_cache_capacity = e.dns_cache->capacity();
  for (std::size_t i = 0; i < e.exporters.size(); ++i) {
    const Exporter& x = *e.exporters[i];
    r.dns_cache_hits += x.dns_cache_counters().hits.get();
    r.dns_cache_misses += x.dns_cache_counters().misses.get();
    r.dns_cache_read_retries_exhausted += x.dns_cache_counters().read_retries_exhausted.get();
    ExporterReport xr;
    xr.name = x.name();
    for (const auto& f : e.fanouts) {
      xr.dropped_queue_full_records += f->dropped(i).records.get();
      xr.dropped_queue_full_packets += f->dropped(i).packets.get();
    }
    xr.records_in = x.counters().records_in.get();
    xr.packets_in = x.counters().packets_in.get();
    xr.undelivered_records = x.counters().records_undelivered.get();
    xr.undelivered_packets = x.counters().packets_undelivered.get();
    xr.sequence_gaps = x.counters().sequence_gaps.get();
    xr.sink = x.sink().report();
    r.export_dropped_records += xr.dropped_queue_full_records;
    r.export_dropped_packets += xr.dropped_queue_full_packets;
    if (x.name() == "json") {
      r.records_written = xr.sink.records_delivered;
      for (const SinkLoss& l : xr.sink.lost) {
        r.records_write_failed += l.records;
        r.packets_write_failed += l.packets;
      }
    }
    r.exporters.push_back(std::move(xr));
  }
  for (const auto& f : e.fanouts) {
    r.records_produced += f->counters().records_produced.get();
    r.packets_produced += f->counters().packets_produced.get();
  }
  r.capture_error = e.source ? e.source->error() : std::string();
  r.capture_warning = e.source ? e.source->warning() : std::string();
  r.workers = static_cast<std::uint32_t>(e.trackers.size());
  r.wall_seconds = e.wall_seconds;
  r.stopped_by_signal = e.control->stop.load();
  return r;
}

}  // namespace sf
