#include "dpdk/eal.hpp"

#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

namespace sf {

std::uint32_t lcores_needed(const Config& c) noexcept { return 1 + c.lcores.rx + c.lcores.workers; }

std::vector<unsigned> allowed_cpus() {
  std::vector<unsigned> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (unsigned i = 0; i < CPU_SETSIZE; ++i) {
      if (CPU_ISSET(i, &set)) cpus.push_back(i);
    }
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

std::vector<std::string> build_eal_args(const Config& c, const std::vector<unsigned>& cpus,
                                        const std::vector<std::string>& user_args, int pid) {
  std::vector<std::string> a{"shardflow"};
  if (c.eal.no_huge) a.emplace_back("--no-huge");
  if (c.eal.no_pci) a.emplace_back("--no-pci");
  a.emplace_back("-m");
  a.push_back(std::to_string(c.eal.memory_mb));
  a.emplace_back("--file-prefix");
  a.push_back(c.eal.file_prefix.empty() ? "shardflow-" + std::to_string(pid) : c.eal.file_prefix);
  a.emplace_back("--lcores");
  if (!c.eal.lcores.empty()) {
    a.push_back(c.eal.lcores);
  } else {
    // lcore i on CPU i mod n: more lcores than CPUs is allowed (they time-share,
    // which is why lcores.idle_yield exists).
    std::string map;
    const std::uint32_t n = lcores_needed(c);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (i) map += ',';
      map += std::to_string(i) + "@" + std::to_string(cpus[i % cpus.size()]);
    }
    a.push_back(map);
  }
  a.insert(a.end(), c.eal.extra_args.begin(), c.eal.extra_args.end());
  a.insert(a.end(), user_args.begin(), user_args.end());
  return a;
}

Result<std::unique_ptr<Eal>> Eal::init(const std::vector<std::string>& args) {
  // EAL logs to stdout by default; records may go there (--json -), so logs go to stderr.
  rte_openlog_stream(stderr);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& s : args) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  const int rc = rte_eal_init(static_cast<int>(args.size()), argv.data());
  if (rc < 0) return make_error(std::string("EAL init failed: ") + rte_strerror(rte_errno));
  return std::unique_ptr<Eal>(new Eal(rte_eal_get_runtime_dir()));
}

Eal::~Eal() {
  rte_eal_cleanup();
  // EAL leaves its runtime folder (config, mp socket) behind; one per run adds up.
  std::error_code ec;
  if (!runtime_dir_.empty()) std::filesystem::remove_all(runtime_dir_, ec);
}

}  // namespace sf
