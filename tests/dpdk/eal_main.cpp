// gtest main for the tests that need EAL: 4 lcores on 2 CPUs, no hugepages,
// no PCI, a file prefix of our own so parallel runs do not meet.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "dpdk/eal.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const std::string prefix = "--file-prefix=sft-" + std::to_string(getpid());
  std::vector<std::string> args = {"sf_dpdk_test", "--no-huge", "--no-pci", "-m", "512", prefix,
                                   "--lcores=0@0,1@1,2@0,3@1", "--log-level=lib.eal:warning"};
  // The engine's own EAL guard: logs to stderr, cleanup and runtime folder removal at exit.
  auto eal = sf::Eal::init(args);
  if (!eal) {
    std::fprintf(stderr, "%s\n", eal.error().c_str());
    return 1;
  }
  return RUN_ALL_TESTS();
}
