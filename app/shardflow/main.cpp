// shardflow: CLI → config → EAL → Engine → run until end of input or a signal
// → drain → report → exit code. Only this file decides to exit.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli.hpp"
#include "config/config_loader.hpp"
#include "dpdk/eal.hpp"
#include "engine/engine.hpp"
#include "engine/report.hpp"
#include "shardflow_version.hpp"

namespace {

// sysexits.h
constexpr int kExUsage = 64;
constexpr int kExNoInput = 66;
constexpr int kExSoftware = 70;
constexpr int kExIoErr = 74;
constexpr int kExConfig = 78;

volatile std::sig_atomic_t g_stop_signal = 0;

void on_signal(int sig) {
  g_stop_signal = sig;
  // A second signal ends the process the default way, should draining hang.
  std::signal(sig, SIG_DFL);
}

bool write_text(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return std::fflush(stdout) == 0;
  }
  std::ofstream f(path);
  f << text;
  f.close();
  return !f.fail();
}

}  // namespace

int main(int argc, char** argv) {
  auto cli = sf::parse_cli(argc, argv);
  if (!cli) {
    std::fprintf(stderr, "shardflow: %s\n%s", cli.error().c_str(), sf::usage_text());
    return kExUsage;
  }
  if (cli->help) {
    std::fputs(sf::usage_text(), stdout);
    return 0;
  }
  if (cli->version) {
    std::printf("shardflow %s\n", SHARDFLOW_VERSION);
    return 0;
  }

  auto loaded = cli->config_path.empty() ? sf::Result<sf::Config>(sf::Config{}) : sf::load_config_file(cli->config_path);
  if (!loaded) {
    std::fprintf(stderr, "shardflow: configuration error in %s:\n%s\n", cli->config_path.c_str(), loaded.error().c_str());
    return kExConfig;
  }
  sf::Config config = loaded.value();
  sf::apply_cli(*cli, config);
  if (cli->check_config) {
    std::printf("configuration OK%s%s\n", cli->config_path.empty() ? "" : ": ", cli->config_path.c_str());
    return 0;
  }
  if (config.read_path.empty()) {
    std::fprintf(stderr, "shardflow: no input: give a capture with -r FILE (or input.read in the YAML)\n%s",
                 sf::usage_text());
    return kExUsage;
  }
  if (access(config.read_path.c_str(), R_OK) != 0) {
    std::fprintf(stderr, "shardflow: cannot read %s\n", config.read_path.c_str());
    return kExNoInput;
  }

  // Before EAL and the engine start: a signal during start-up stops the run
  // cleanly once it begins, instead of killing the process.
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // A reader that goes away (--json - | head) is a write error to count and
  // report (exit 74), not a reason to die mid-run.
  std::signal(SIGPIPE, SIG_IGN);

  auto eal = sf::Eal::init(sf::build_eal_args(config, sf::allowed_cpus(), cli->eal_args, getpid()));
  if (!eal) {
    std::fprintf(stderr, "shardflow: %s\n", eal.error().c_str());
    return kExSoftware;
  }
  auto engine = sf::Engine::create(config);
  if (!engine) {
    std::fprintf(stderr, "shardflow: %s\n", engine.error().c_str());
    return engine.error().rfind("cannot read capture", 0) == 0 ? kExNoInput : kExSoftware;
  }

  if (const std::string& w = (*engine)->input_warning(); !w.empty()) std::fprintf(stderr, "shardflow: warning: %s\n", w.c_str());

  const sf::Status ran = (*engine)->run([] { return g_stop_signal != 0; });
  const sf::EngineReport report = (*engine)->report();
  int rc = 0;
  if (!ran) {
    std::fprintf(stderr, "shardflow: %s\n", ran.error().c_str());
    rc = kExIoErr;
  }
  if (!config.stats_path.empty() && !write_text(config.stats_path, sf::stats_json(report))) {
    std::fprintf(stderr, "shardflow: cannot write stats to %s\n", config.stats_path.c_str());
    rc = kExIoErr;
  }
  const bool records_on_stdout = config.exports.json.path == "-" || config.stats_path == "-";
  std::fputs(sf::summary_text(report).c_str(), records_on_stdout ? stderr : stdout);
  return rc;
}
