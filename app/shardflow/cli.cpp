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
         "      --ipfix URL     also export IPFIX to udp://HOST:PORT, tcp://HOST:PORT or file:PATH\n"
         "                      (repeatable: one exporter each)\n"
         "      --ipfix-mode M  uniflow (one record per direction, default) or biflow (RFC 5103)\n"
         "                      for the --ipfix exporters\n"
         "      --stats PATH    write the packet accounting report (JSON) at exit ('-' = stdout)\n"
         "      --dump-streams DIR  write each TCP direction's reassembled bytes to\n"
         "                      DIR/{src_ip}.{src_port}-{dst_ip}.{dst_port} (DIR must exist)\n"
         "      --check-config  validate the configuration and exit\n"
         "      --version       print the version and exit\n"
         "  -h, --help          this text\n"
         "Exit codes: 0 ok, 64 usage, 66 input unreadable, 70 internal error, 74 output error, 78 config error.\n";
}

Result<CliOptions> parse_cli(int argc, char** argv) {
  enum { kJson = 1000, kStats, kCheck, kVersion, kDumpStreams, kIpfix, kIpfixMode };
  static const option long_opts[] = {
      {"config", required_argument, nullptr, 'c'}, {"read", required_argument, nullptr, 'r'},
      {"workers", required_argument, nullptr, 'w'}, {"json", required_argument, nullptr, kJson},
      {"stats", required_argument, nullptr, kStats}, {"dump-streams", required_argument, nullptr, kDumpStreams}, {"check-config", no_argument, nullptr, kCheck},
      {"version", no_argument, nullptr, kVersion}, {"help", no_argument, nullptr, 'h'},
      {"ipfix", required_argument, nullptr, kIpfix}, {"ipfix-mode", required_argument, nullptr, kIpfixMode},
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
      case kIpfix: {
        const std::string url = optarg;
        if (url.rfind("udp://", 0) != 0 && url.rfind("tcp://", 0) != 0 && url.rfind("file:", 0) != 0) {
          return make_error("--ipfix: expected udp://HOST:PORT, tcp://HOST:PORT or file:PATH, got '" + url + "'");
        }
        o.ipfix_targets.push_back(url);
        break;
      }
      case kIpfixMode:
        if (std::strcmp(optarg, "uniflow") == 0) {
          o.ipfix_mode = IpfixRecordMode::Uniflow;
        } else if (std::strcmp(optarg, "biflow") == 0) {
          o.ipfix_mode = IpfixRecordMode::Biflow;
        } else {
          return make_error(std::string("--ipfix-mode: expected uniflow or biflow, got '") + optarg + "'");
        }
        break;
      case kCheck: o.check_config = true; break;
      case kVersion: o.version = true; break;
      case 'h': o.help = true; break;
      case ':': return make_error(std::string("option ") + argv[optind - 1] + " needs a value");
      default: return make_error(std::string("unknown option ") + argv[optind - 1]);
    }
  }
  if (o.ipfix_mode && o.ipfix_targets.empty()) return make_error("--ipfix-mode needs --ipfix URL");
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
  for (const std::string& url : cli.ipfix_targets) {
    IpfixExportConfig x;
    x.target = url;
    if (cli.ipfix_mode) x.mode = *cli.ipfix_mode;
    config.exports.ipfix.push_back(x);
  }
  config.exports.json.enabled = !config.exports.json.path.empty();
}

}  // namespace sf
