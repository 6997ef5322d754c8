// EAL start-up from the config: argv construction (pure, testable) and the
// init/cleanup guard. Libraries never call rte_exit; main decides.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "config/config.hpp"

namespace sf {

// The lcores the engine needs: the main lcore (control/stats) + RX + workers.
std::uint32_t lcores_needed(const Config& c) noexcept;

// EAL arguments for a config. cpus: the CPUs this process may run on (used to
// spread lcores when eal.lcores is empty); user_args: arguments after "--",
// appended last so they win.
std::vector<std::string> build_eal_args(const Config& c, const std::vector<unsigned>& cpus,
                                        const std::vector<std::string>& user_args, int pid);

// CPUs in this process's affinity mask.
std::vector<unsigned> allowed_cpus();

class Eal {
 public:
  static Result<std::unique_ptr<Eal>> init(const std::vector<std::string>& args);
  ~Eal();
  Eal(const Eal&) = delete;
  Eal& operator=(const Eal&) = delete;

 private:
  explicit Eal(std::string runtime_dir) : runtime_dir_(std::move(runtime_dir)) {}
  std::string runtime_dir_;  // /var/run/dpdk/<prefix>: removed at exit, it is ours alone
};

}  // namespace sf
