// Command line → options. CLI values override the YAML.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "config/config.hpp"

namespace sf {

struct CliOptions {
  std::string config_path;
  std::optional<std::string> read_path;
  std::optional<std::uint32_t> workers;
  std::optional<std::string> json_path;
  std::optional<std::string> dump_streams_dir;
  std::optional<std::string> stats_path;
  std::vector<std::string> ipfix_targets;      // --ipfix, in order
  std::optional<IpfixRecordMode> ipfix_mode;   // --ipfix-mode
  bool check_config = false;
  bool version = false;
  bool help = false;
  std::vector<std::string> eal_args;  // everything after "--"
};

Result<CliOptions> parse_cli(int argc, char** argv);
void apply_cli(const CliOptions& cli, Config& config);
const char* usage_text();

}  // namespace sf
