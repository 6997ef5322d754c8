// shardflow-bench: one benchmark point of the real pipeline fed by the
// in-memory TrafficSource (RX stage → SPSC rings → workers → export to a
// discarding sink). Prints per-worker rates, new flows/s, losses and memory,
// and writes them as one JSON object (--bench-json) so runs can be compared.
// tools/bench/run_matrix.py runs the matrix; docs/PERFORMANCE.md has the figures.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include "bench_report.hpp"
#include "dpdk/eal.hpp"
#include "engine/engine.hpp"
#include "traffic_source.hpp"

namespace {

using sf::bench::BenchArgs;
using sf::bench::Snapshot;

const char kUsage[] =
    "usage: shardflow-bench [options] [-- EAL args]\n"
    "  --flows N              concurrent flows (default 10000, at most 16777216)\n"
    "  --new-flows-per-sec N  churn: tuples replaced per second (default 0)\n"
    "  --all-new              every packet opens a new flow (new-flow rate test)\n"
    "  --size 64|imix         packet sizes (default 64)\n"
    "  --tcp-share F          fraction of TCP flows, rest UDP (default 0.5)\n"
    "  --duration S           measured seconds after the warm-up (default 5)\n"
    "  --workers N            worker lcores (default 1)\n"
    "  --rtc                  run to completion: each worker polls its own generator (NIC RSS model),\n"
    "                         no RX lcore and no rings; --flows is per worker\n"
    "  --rate PPS             offered packet rate; 0 = as fast as the pipeline takes (default 0)\n"
    "  --ring-mode wait|drop  RX when a worker ring is full (default: wait unpaced, drop paced)\n"
    "  --burst N              burst size (default 32)\n"
    "  --idle-timeout-ms N    idle timeout for TCP and UDP (default 10000; --all-new 1000)\n"
    "  --capacity N           flow-table capacity per worker (default: sized from the load)\n"
    "  --lcores MAP           EAL --lcores map (default: main+RX on the first CPU, workers on the rest)\n"
    "  --reassembly on|off    TCP stream reassembly in the workers (default on, as shipped)\n"
    "  --app on|off           DNS/TLS/HTTP metadata in the workers (default on, as shipped)\n"
    "  --label TEXT           name of this point in the JSON\n"
    "  --bench-json PATH      write the result as one JSON object\n";

bool parse_args(int argc, char** argv, BenchArgs& a, std::vector<std::string>& eal_extra) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--") {
      for (++i; i < argc; ++i) eal_extra.emplace_back(argv[i]);
      break;
    }
    if (k == "--all-new") {
      a.spec.all_new = true;
      continue;
    }
    if (k == "--rtc") {
      a.run_to_completion = true;
      continue;
    }
    if (k == "-h" || k == "--help" || i + 1 >= argc) return false;
    const std::string v = argv[++i];
    char* end = nullptr;
    const double num = std::strtod(v.c_str(), &end);
    const bool numeric = end != v.c_str() && *end == '\0' && num >= 0;
    if (k == "--size") {
      if (v != "64" && v != "imix") return false;
      a.spec.size = v == "64" ? sf::bench::PacketSize::k64 : sf::bench::PacketSize::kImix;
    } else if (k == "--ring-mode") {
      if (v != "wait" && v != "drop") return false;
      a.ring_mode = v;
    } else if (k == "--reassembly") {
      if (v != "on" && v != "off") return false;
      a.reassembly = v == "on";
    } else if (k == "--app") {
      if (v != "on" && v != "off") return false;
      a.app = v == "on";
    } else if (k == "--lcores") {
      a.lcores = v;
    } else if (k == "--label") {
      a.label = v;
    } else if (k == "--bench-json") {
      a.json_path = v;
    } else if (!numeric) {
      return false;
    } else if (k == "--flows") {
      a.spec.flows = static_cast<std::uint64_t>(num);
    } else if (k == "--new-flows-per-sec") {
      a.spec.new_flows_per_sec = static_cast<std::uint64_t>(num);
    } else if (k == "--tcp-share" && num <= 1) {
      a.spec.tcp_share = num;
    } else if (k == "--duration" && num > 0) {
      a.spec.duration_s = num;
    } else if (k == "--workers" && num >= 1) {
      a.workers = static_cast<std::uint32_t>(num);
    } else if (k == "--rate") {
      a.spec.rate_pps = static_cast<std::uint64_t>(num);
    } else if (k == "--burst" && num >= 1 && num <= 512) {
      a.burst = static_cast<std::uint32_t>(num);
    } else if (k == "--idle-timeout-ms" && num >= 1) {
      a.idle_timeout_ms = static_cast<std::uint32_t>(num);
    } else if (k == "--capacity" && num >= 1024) {
      a.capacity = static_cast<std::uint32_t>(num);
    } else {
      return false;
    }
  }
  return a.spec.flows >= 1 && a.spec.flows <= (1ULL << 24);
}

// Flow-table capacity per worker: every concurrent flow, plus the churned
// ones still waiting out their idle timeout, plus 20% for an uneven split.
std::uint32_t capacity_for(const BenchArgs& a) {
  const double linger_s = a.idle_timeout_ms / 1000.0 + 0.5;
  const double churn = a.spec.all_new ? 3e6 : static_cast<double>(a.spec.new_flows_per_sec);
  const double total = (a.spec.all_new ? 0.0 : static_cast<double>(a.spec.flows)) + churn * linger_s;
  const double per_worker = a.run_to_completion ? total : total / a.workers * 1.2;
  return static_cast<std::uint32_t>(per_worker) + 8192;
}

sf::Config make_config(const BenchArgs& a) {
  sf::Config c;
  c.lcores.rx = 1;
  c.lcores.workers = a.workers;
  c.burst_size = a.burst;
  // Dedicated cores busy-poll, as in production; pollers that must share a
  // CPU (more lcores than CPUs) yield when idle, or they starve each other.
  const std::size_t pollers = a.workers + (a.run_to_completion ? 0U : 1U);
  c.lcores.idle_yield = pollers > sf::allowed_cpus().size();
  c.flow_table.capacity_per_worker = a.capacity;
  c.timeouts.tcp_idle_ms = c.timeouts.udp_idle_ms = c.timeouts.icmp_idle_ms = c.timeouts.other_idle_ms =
      a.idle_timeout_ms;
  c.timeouts.active_ms = 0;
  c.rings.on_full = a.ring_mode == "drop" ? sf::OnRingFull::Drop : sf::OnRingFull::Wait;
  c.tcp.reassembly_enabled = a.reassembly;
  c.app.enabled = a.app;
  // ~640 B of EAL heap per flow (record 128, TCP state 256, two stream states
  // 96, key slot and buckets), the mbufs, and slack.
  const std::uint64_t table_mb = static_cast<std::uint64_t>(a.capacity) * a.workers * 640 / (1 << 20);
  c.eal.memory_mb = static_cast<std::uint32_t>(table_mb + table_mb / 4 + 512);
  c.eal.file_prefix = "sfbench-";
  c.eal.file_prefix += std::to_string(getpid());
  if (!a.lcores.empty()) {
    c.eal.lcores = a.lcores;
  } else {
    // main and RX share the first CPU (main sleeps); workers take the others.
    // Run to completion has no RX lcore: workers from the first CPU on.
    const std::vector<unsigned> cpus = sf::allowed_cpus();
    const unsigned first = cpus[0];
    // Appends only: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
    std::string map;
    auto add = [&map](unsigned lcore, unsigned cpu) {
      if (!map.empty()) map += ',';
      map += std::to_string(lcore);
      map += '@';
      map += std::to_string(cpu);
    };
    add(0, first);
    if (a.run_to_completion) {
      for (std::uint32_t w = 0; w < a.workers; ++w) add(1 + w, cpus[(cpus.size() > 1 ? 1 + w : w) % cpus.size()]);
    } else {
      add(1, first);
      for (std::uint32_t w = 0; w < a.workers; ++w) add(2 + w, cpus.size() > 1 ? cpus[1 + w % (cpus.size() - 1)] : first);
    }
    c.eal.lcores = map;
  }
  return c;
}

Snapshot take_snapshot(const sf::Engine& engine, std::uint64_t tsc) {
  Snapshot s;
  s.tsc = tsc;
  for (const sf::RxCounters& r : engine.rx_counters()) {
    s.rx_packets += r.packets_in.get();
    s.rx_busy += r.busy_cycles.get();
    s.rx_wait += r.ring_wait_cycles.get();
  }
  for (const sf::WorkerCounters& w : engine.worker_counters()) {
    s.worker_packets.push_back(w.packets.get());
    s.worker_busy.push_back(w.busy_cycles.get());
    s.flows_created += w.flows_created.get();
  }
  return s;
}

std::uint64_t first_end_tsc(const std::vector<const sf::bench::TrafficProgress*>& progress) {
  std::uint64_t first = 0;
  for (const auto* p : progress) {
    const std::uint64_t t = p->measure_end_tsc.load(std::memory_order_acquire);
    if (t != 0 && (first == 0 || t < first)) first = t;
  }
  return first;
}

std::uint64_t heap_allocated() {
  rte_malloc_socket_stats st{};
  rte_malloc_get_socket_stats(static_cast<int>(rte_socket_id()), &st);
  return st.heap_allocsz_bytes;
}

}  // namespace

int main(int argc, char** argv) {
  BenchArgs a;
  std::vector<std::string> eal_extra;
  if (!parse_args(argc, argv, a, eal_extra)) {
    std::fputs(kUsage, stderr);
    return 64;
  }
  if (a.spec.all_new) {
    if (a.idle_timeout_ms == 0) a.idle_timeout_ms = 1000;
    a.spec.warmup_s = a.idle_timeout_ms / 1000.0 + 1.0;  // measure with expiry in steady state
  } else if (a.idle_timeout_ms == 0) {
    // Long enough that 10M flows stay alive at 1 Mpps; churned tuples linger
    // this long, and the table is sized for them.
    a.idle_timeout_ms = 10000;
  }
  if (a.ring_mode.empty()) a.ring_mode = a.spec.rate_pps != 0 ? "drop" : "wait";
  if (a.capacity == 0) a.capacity = capacity_for(a);
  const sf::Config config = make_config(a);

  auto eal = sf::Eal::init(sf::build_eal_args(config, sf::allowed_cpus(), eal_extra, getpid()));
  if (!eal) {
    std::fprintf(stderr, "shardflow-bench: %s\n", eal.error().c_str());
    return 70;
  }
  const std::uint64_t heap_before = heap_allocated();
  // Rings: one generator feeds the RX lcore. Run to completion: one per
  // worker, each with its own flows (the NIC's RSS would have split them).
  std::vector<std::unique_ptr<sf::PacketSource>> sources;
  std::vector<const sf::bench::TrafficProgress*> progress;
  for (std::uint32_t i = 0; i < (a.run_to_completion ? a.workers : 1U); ++i) {
    sf::bench::TrafficSpec spec = a.spec;
    spec.source_id = i;
    spec.seed = a.spec.seed + i;
    auto src = std::make_unique<sf::bench::TrafficSource>(spec);
    progress.push_back(&src->progress());
    sources.push_back(std::move(src));
  }
  auto engine = a.run_to_completion ? sf::Engine::create_run_to_completion(config, std::move(sources))
                                    : sf::Engine::create(config, std::move(sources[0]));
  if (!engine) {
    std::fprintf(stderr, "shardflow-bench: %s\n", engine.error().c_str());
    return 70;
  }
  sf::bench::MemoryFigures mem;
  mem.engine_heap_bytes = heap_allocated() - heap_before;
  if (const rte_mempool* mp = rte_mempool_lookup("sf_mbufs")) {
    mem.mbuf_pool_bytes = static_cast<std::uint64_t>(mp->size) * (mp->header_size + mp->elt_size + mp->trailer_size);
  }
  mem.capacity_total = static_cast<std::uint64_t>(a.capacity) * a.workers;

  Snapshot start, end;
  bool have_start = false, have_end = false;
  const sf::Status st = (*engine)->run([&]() {
    // Called by the main lcore every few ms: mark the measured window.
    // The window: from when every generator measures to when the first stops.
    auto all_started = [&] {
      for (const auto* p : progress) {
        if (p->measure_start_tsc.load(std::memory_order_acquire) == 0) return false;
      }
      return true;
    };
    if (!have_start && all_started()) {
      start = take_snapshot(**engine, rte_rdtsc());
      have_start = true;
    }
    if (have_start && !have_end && first_end_tsc(progress) != 0) {
      end = take_snapshot(**engine, rte_rdtsc());
      have_end = true;
    }
    return false;
  });
  if (!st) {
    std::fprintf(stderr, "shardflow-bench: %s\n", st.error().c_str());
    return 70;
  }
  if (have_start && !have_end && first_end_tsc(progress) != 0) {
    // The drain finished between two polls: the final counters close the
    // window (they add only what was still in the rings at its end).
    end = take_snapshot(**engine, first_end_tsc(progress));
    have_end = true;
  }
  if (!have_end) {
    std::fprintf(stderr, "shardflow-bench: the run ended before its measured window did\n");
    return 70;
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  mem.peak_rss_bytes = static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;

  const sf::EngineReport rep = (*engine)->report();
  std::uint64_t churned = 0;
  for (const auto* p : progress) churned += p->churned.load();
  const std::string json = sf::bench::result_json(a, start, end, rte_get_tsc_hz(), rep, churned, mem);
  sf::bench::print_summary(a, start, end, rte_get_tsc_hz(), rep, mem);
  if (!a.json_path.empty()) {
    std::ofstream f(a.json_path);
    f << json << "\n";
    if (!f) {
      std::fprintf(stderr, "shardflow-bench: cannot write %s\n", a.json_path.c_str());
      return 74;
    }
  }
  engine->reset();
  return 0;
}
