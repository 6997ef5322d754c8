#include "bench_report.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace sf::bench {

namespace {

struct Rates {
  double window_s = 0;
  std::uint64_t packets = 0;
  double mpps = 0;                  // throughput over the window
  double rx_ns_per_packet = 0;      // RX busy time (less ring waits) per packet
  double new_flows_per_sec = 0;
  std::vector<double> worker_mpps;  // packets / busy time: what each worker sustains
  std::vector<double> worker_ns;
  std::vector<double> worker_util;
  std::vector<std::uint64_t> worker_packets;
};

Rates rates(const Snapshot& s0, const Snapshot& s1, std::uint64_t hz) {
  Rates r;
  const double f = static_cast<double>(hz);
  r.window_s = static_cast<double>(s1.tsc - s0.tsc) / f;
  for (std::size_t w = 0; w < s1.worker_packets.size(); ++w) {
    const std::uint64_t p = s1.worker_packets[w] - s0.worker_packets[w];
    const double busy_s = static_cast<double>(s1.worker_busy[w] - s0.worker_busy[w]) / f;
    r.packets += p;
    r.worker_packets.push_back(p);
    r.worker_mpps.push_back(busy_s > 0 ? static_cast<double>(p) / busy_s / 1e6 : 0);
    r.worker_ns.push_back(p != 0 ? busy_s * 1e9 / static_cast<double>(p) : 0);
    r.worker_util.push_back(r.window_s > 0 ? busy_s / r.window_s : 0);
  }
  r.mpps = r.window_s > 0 ? static_cast<double>(r.packets) / r.window_s / 1e6 : 0;
  const std::uint64_t rx_p = s1.rx_packets - s0.rx_packets;
  const double rx_s = static_cast<double>((s1.rx_busy - s0.rx_busy) - (s1.rx_wait - s0.rx_wait)) / f;
  r.rx_ns_per_packet = rx_p != 0 ? rx_s * 1e9 / static_cast<double>(rx_p) : 0;
  r.new_flows_per_sec = r.window_s > 0 ? static_cast<double>(s1.flows_created - s0.flows_created) / r.window_s : 0;
  return r;
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return "unknown";
}

std::string list(const std::vector<double>& v) {
  std::ostringstream o;
  o << '[';
  for (std::size_t i = 0; i < v.size(); ++i) o << (i ? "," : "") << v[i];
  o << ']';
  return o.str();
}

bool zero_loss(const EngineReport& rep) {
  return rep.ring_full == 0 && rep.table_full == 0 && rep.export_dropped_records == 0;
}

}  // namespace

std::string result_json(const BenchArgs& a, const Snapshot& s0, const Snapshot& s1, std::uint64_t hz,
                        const EngineReport& rep, std::uint64_t new_flows_offered, const MemoryFigures& mem) {
  const Rates r = rates(s0, s1, hz);
  const double table_bytes = static_cast<double>(mem.engine_heap_bytes - mem.mbuf_pool_bytes);
  std::uint64_t records = 0;
  for (std::uint64_t n : rep.records) records += n;
  std::ostringstream o;
  o.precision(6);
  o << "{\"label\":\"" << a.label << "\""
    << ",\"config\":{\"flows\":" << a.spec.flows << ",\"new_flows_per_sec_offered\":" << a.spec.new_flows_per_sec
    << ",\"all_new\":" << (a.spec.all_new ? "true" : "false")
    << ",\"size\":\"" << (a.spec.size == PacketSize::k64 ? "64" : "imix") << "\""
    << ",\"reassembly\":" << (a.reassembly ? "true" : "false")
    << ",\"app\":" << (a.app ? "true" : "false")
    << ",\"tcp_share\":" << a.spec.tcp_share << ",\"duration_s\":" << a.spec.duration_s
    << ",\"workers\":" << a.workers << ",\"mode\":\"" << (a.run_to_completion ? "run_to_completion" : "rings")
    << "\",\"rate_pps\":" << a.spec.rate_pps << ",\"ring_mode\":\"" << a.ring_mode
    << "\",\"burst\":" << a.burst << ",\"idle_timeout_ms\":" << a.idle_timeout_ms
    << ",\"capacity_per_worker\":" << a.capacity << "}"
    << ",\"machine\":{\"cpu\":\"" << cpu_model() << "\",\"online_cpus\":" << sysconf(_SC_NPROCESSORS_ONLN)
    << ",\"tsc_hz\":" << hz << "}"
    << ",\"window_s\":" << r.window_s << ",\"packets\":" << r.packets << ",\"mpps\":" << r.mpps
    << ",\"worker_mpps\":" << list(r.worker_mpps) << ",\"worker_ns_per_packet\":" << list(r.worker_ns)
    << ",\"worker_utilisation\":" << list(r.worker_util)
    << ",\"rx_ns_per_packet\":" << r.rx_ns_per_packet
    << ",\"new_flows_per_sec\":" << r.new_flows_per_sec
    << ",\"revisit_interval_s\":" << (r.mpps > 0 && !a.spec.all_new ? static_cast<double>(a.spec.flows) / (r.mpps * 1e6) : 0)
    << ",\"new_flows_offered\":" << new_flows_offered
    << ",\"zero_loss\":" << (zero_loss(rep) ? "true" : "false")
    << ",\"ring_drops\":" << rep.ring_full << ",\"ring_full_waits\":" << rep.ring_full_waits
    << ",\"table_full\":" << rep.table_full << ",\"table_full_events\":" << rep.table_full_events
    << ",\"export_dropped\":" << rep.export_dropped_records
    << ",\"flows_created\":" << rep.flows_created << ",\"records\":" << records
    << ",\"records_evicted\":" << rep.records[static_cast<unsigned>(EndReason::evicted)]
    << ",\"packets_in\":" << rep.packets_in << ",\"packets_in_flows\":" << rep.flows_packets
    << ",\"memory\":{\"peak_rss_mb\":" << static_cast<double>(mem.peak_rss_bytes) / (1 << 20)
    << ",\"engine_heap_mb\":" << static_cast<double>(mem.engine_heap_bytes) / (1 << 20)
    << ",\"mbuf_pool_mb\":" << static_cast<double>(mem.mbuf_pool_bytes) / (1 << 20)
    << ",\"table_bytes_per_flow_slot\":" << (mem.capacity_total ? table_bytes / static_cast<double>(mem.capacity_total) : 0)
    << "}}";
  return o.str();
}

void print_summary(const BenchArgs& a, const Snapshot& s0, const Snapshot& s1, std::uint64_t hz,
                   const EngineReport& rep, const MemoryFigures& mem) {
  const Rates r = rates(s0, s1, hz);
  std::printf("%s %s flows=%llu new/s=%s size=%s workers=%u: %.2f Mpps over %.2f s, RX %.1f ns/pkt\n",
              a.label.c_str(), a.run_to_completion ? "run-to-completion" : "rings", static_cast<unsigned long long>(a.spec.flows),
              a.spec.all_new ? "all" : std::to_string(a.spec.new_flows_per_sec).c_str(),
              a.spec.size == PacketSize::k64 ? "64" : "imix", a.workers, r.mpps, r.window_s, r.rx_ns_per_packet);
  for (std::size_t w = 0; w < r.worker_mpps.size(); ++w) {
    std::printf("  worker %zu: %.2f Mpps busy (%.1f ns/pkt), utilisation %.0f%%\n", w, r.worker_mpps[w],
                r.worker_ns[w], r.worker_util[w] * 100);
  }
  if (!a.spec.all_new && r.mpps > 0 &&
      static_cast<double>(a.spec.flows) / (r.mpps * 1e6) * 1000 > a.idle_timeout_ms) {
    std::printf("  note: each flow gets a packet every %.1f s, longer than the idle timeout: flows expire and "
                "come back as new flows\n", static_cast<double>(a.spec.flows) / (r.mpps * 1e6));
  }
  std::printf("  new flows %.0f/s; ring drops %llu, table full %llu, export dropped %llu: %s; peak RSS %.0f MiB\n",
              r.new_flows_per_sec, static_cast<unsigned long long>(rep.ring_full),
              static_cast<unsigned long long>(rep.table_full),
              static_cast<unsigned long long>(rep.export_dropped_records), zero_loss(rep) ? "zero loss" : "LOSS",
              static_cast<double>(mem.peak_rss_bytes) / (1 << 20));
}

}  // namespace sf::bench
