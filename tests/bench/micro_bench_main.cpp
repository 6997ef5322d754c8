// main for the micro-benchmarks: EAL (rte_hash needs it) with no hugepages and
// no PCI, sized from the largest flow table the run will build.
//
//   micro_bench [--benchmark_filter=REGEX ...]
//   SF_BENCH_MEM_MB=N  EAL memory cap in MiB (default 2048); flow counts whose
//                      table does not fit are left out, with a note on stderr.
#include <benchmark/benchmark.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dpdk/eal.hpp"

namespace sf::bench {
std::uint64_t flow_table_bytes(std::uint32_t flows);
void register_flow_benchmarks(const std::vector<std::uint32_t>& flow_counts);
void release_flow_fixtures();
}  // namespace sf::bench

namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr std::uint32_t kFlowCounts[] = {10000, 1000000, 10000000};

std::uint64_t mem_cap_mb() {
  const char* env = std::getenv("SF_BENCH_MEM_MB");
  const std::uint64_t v = env != nullptr ? std::strtoull(env, nullptr, 10) : 0;
  return v != 0 ? v : 2048;
}

// One table at a time (the fixtures release each other), plus a quarter for
// allocator slack and 64 MiB for EAL's own use.
std::uint64_t eal_mb_for(std::uint32_t flows) {
  const std::uint64_t table_mb = (sf::bench::flow_table_bytes(flows) + kMiB - 1) / kMiB;
  return table_mb + table_mb / 4 + 64;
}

// Main lcore allowed on every CPU we may use, not pinned: on a small shared box
// a pinned thread waits behind whatever else runs on that CPU.
std::string lcores_arg() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::string cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (!CPU_ISSET(c, &set)) continue;
      if (!cpus.empty()) cpus += ',';
      cpus += std::to_string(c);
    }
  }
  if (cpus.empty()) return "--lcores=0@0";
  // Appends, not "literal" + string: GCC 12 warns falsely (-Wrestrict) on that.
  std::string arg = "--lcores=0@(";
  arg += cpus;
  arg += ')';
  return arg;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  const std::uint64_t cap_mb = mem_cap_mb();
  std::vector<std::uint32_t> flows;
  std::uint64_t mem_mb = 64;
  for (std::uint32_t n : kFlowCounts) {
    const std::uint64_t need = eal_mb_for(n);
    if (need > cap_mb) {
      std::fprintf(stderr, "note: %u flows left out: needs %llu MiB of EAL memory, cap %llu MiB (SF_BENCH_MEM_MB)\n",
                   n, static_cast<unsigned long long>(need), static_cast<unsigned long long>(cap_mb));
      continue;
    }
    flows.push_back(n);
    mem_mb = std::max(mem_mb, need);
  }

  const std::string prefix = "--file-prefix=sfb-" + std::to_string(getpid());
  std::vector<std::string> args = {"sf_micro_bench", "--no-huge", "--no-pci", "-m", std::to_string(mem_mb),
                                   prefix, lcores_arg(), "--no-telemetry", "--log-level=lib.eal:warning"};
  auto eal = sf::Eal::init(args);  // cleanup and runtime folder removal when it goes
  if (!eal) {
    std::fprintf(stderr, "%s\n", eal.error().c_str());
    return 1;
  }
  std::fprintf(stderr, "EAL: -m %llu MiB\n", static_cast<unsigned long long>(mem_mb));

  sf::bench::register_flow_benchmarks(flows);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  sf::bench::release_flow_fixtures();  // before the EAL memory they live in goes
  return 0;
}
