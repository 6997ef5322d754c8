// gtest main for the tests that need EAL: 4 lcores on 2 CPUs, no hugepages,
// no PCI, a file prefix of our own so parallel runs do not meet.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const std::string prefix = "--file-prefix=sft-" + std::to_string(getpid());
  std::vector<std::string> args = {"sf_dpdk_test", "--no-huge", "--no-pci", "-m", "512", prefix,
                                   "--lcores=0@0,1@1,2@0,3@1", "--log-level=lib.eal:warning"};
  std::vector<char*> eal_argv;
  for (auto& a : args) eal_argv.push_back(a.data());
  eal_argv.push_back(nullptr);
  rte_openlog_stream(stderr);
  if (rte_eal_init(static_cast<int>(args.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  const int rc = RUN_ALL_TESTS();
  // EAL leaves its runtime directory (config, fbarrays) behind: remove ours.
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  if (runtime_dir.find("/sft-") != std::string::npos) {
    std::error_code ec;
    std::filesystem::remove_all(runtime_dir, ec);
  }
  return rc;
}
