#include "cli.hpp"

#include <getopt.h>

#include <charconv>
#include <cstring>

namespace sf {

const char* usage_text() {
  return "usage: shardflow [options] [-- EAL args]\n"
         "  -c, --config FILE   YAML configuration (see conf/shardflow.yaml; defaults when absent)\n"
         "  -r, --read FILE     read packets from a pcap/pcapng capture\n"
         "  -w, --workers N     worker lcores, one flow-table shard each (1..128)\n"
         "      --json PATH     write flow records as JSON lines ('-' = stdout)\n"
         "      --stats PATH    write the packet accounting report (JSON) at exit ('-' = stdout)\n"
         "      --dump-streams DIR  write each TCP direction's reassembled bytes to\n"
         "                      DIR/{src_ip}.{src_port}-{dst_ip}.{dst_port} (DIR must exist)\n"
         "      --check-config  validate the configuration and exit\n"
         "      --version       print the version and exit\n"
         "  -h, --help          this text\n"
         "Exit codes: 0 ok, 64 usage, 66 input unreadable, 70 internal error, 74 output error, 78 config error.\n";
}

Result<CliOptions> parse_cli(int argc, char** argv) {
  enum { kJson = 1000, kStats, kCheck, kVersion, kDumpStreams };
  static const option long_opts[] = {
      {"config", required_argument, nullptr, 'c'}, {"read", required_argument, nullptr, 'r'},
      {"workers", required_argument, nullptr, 'w'}, {"json", required_argument, nullptr, kJson},
      {"stats", required_argument, nullptr, kStats}, {"dump-streams", required_argument, nullptr, kDumpStreams}, {"check-config", no_argument, nullptr, kCheck},
      {"version", no_argument, nullptr, kVersion}, {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0}};
  CliOptions o;
  opterr = 0;
  optind = 1;
  int ch;
  while ((ch = getopt_long(argc, argv, "+:c:r:w:h", long_opts, nullptr)) != -1) {
    switch (ch) {
      case 'c': o.config_path = optarg; break;
      case 'r': o.read_path = optarg; break;
      case 'w': {
        std::uint32_t n = 0;
        const char* end = optarg + std::strlen(optarg);
        auto [p, ec] = std::from_chars(optarg, end, n);
        if (ec != std::errc{} || p != end || n < 1 || n > 128) {
          return make_error(std::string("--workers: expected a number from 1 to 128, got '") + optarg + "'");
        }
        o.workers = n;
        break;
      }
      case kJson: o.json_path = optarg; break;
      case kStats: o.stats_path = optarg; break;
      case kDumpStreams: o.dump_streams_dir = optarg; break;
      case kCheck: o.check_config = true; break;
      case kVersion: o.version = true; break;
      case 'h': o.help = true; break;
      case ':': return make_error(std::string("option ") + argv[optind - 1] + " needs a value");
      default: return make_error(std::string("unknown option ") + argv[optind - 1]);
    }
  }
  for (int i = optind; i < argc; ++i) {
    if (i == optind && std::strcmp(argv[i - 1], "--") != 0) {
      return make_error(std::string("unexpected argument '") + argv[i] + "' (EAL arguments go after --)");
    }
    o.eal_args.emplace_back(argv[i]);
  }
  return o;
}

void apply_cli(const CliOptions& cli, Config& config) {
  if (cli.read_path) config.read_path = *cli.read_path;
  if (cli.workers) config.lcores.workers = *cli.workers;
  if (cli.json_path) config.exports.json.path = *cli.json_path;
  if (cli.dump_streams_dir) config.tcp.dump_streams_dir = *cli.dump_streams_dir;
  if (cli.stats_path) config.stats_path = *cli.stats_path;
  config.exports.json.enabled = !config.exports.json.path.empty();
}

}  // namespace sf
