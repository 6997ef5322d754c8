// Every rejection path of the loader, each with its exact "key.path (line N)".
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "config_test_util.hpp"

namespace sf::test {
namespace {

struct U32Key {
  const char* key;
  std::uint64_t min;
  std::uint64_t max;
  bool power_of_2;
};

const std::vector<U32Key>& u32_keys() {
  static const std::vector<U32Key> kKeys = {
      {"eal.memory_mb", 1, 1048576, false},
      {"lcores.rx", 1, 64, false},
      {"lcores.workers", 1, 128, false},
      {"rings.rx_to_worker_size", 64, 1048576, true},
      {"rings.export_size", 64, 1048576, true},
      {"burst_size", 1, 512, false},
      {"mempool.mbufs", 1024, 16777215, false},
      {"mempool.cache", 0, 512, false},
      {"mempool.data_room", 256, 65535, false},
      {"flow_table.capacity_per_worker", 1024, 268435456, false},
      {"flow_table.hash_seed", 0, 4294967295, false},
      {"fragments.table_size", 64, 16777216, false},
      {"fragments.timeout_ms", 1, 86400000, false},
      {"timeouts.tcp_idle_ms", 1, 86400000, false},
      {"timeouts.udp_idle_ms", 1, 86400000, false},
      {"timeouts.icmp_idle_ms", 1, 86400000, false},
      {"timeouts.other_idle_ms", 1, 86400000, false},
      {"timeouts.tcp_closed_ms", 1, 86400000, false},
      {"timeouts.active_ms", 0, 86400000, false},
      {"timeouts.tick_ms", 1, 60000, false},
      {"export.community_id_seed", 0, 65535, false},
      {"export.json.rotate_mb", 0, 1048576, false},
      {"export.json.rotate_seconds", 0, 604800, false},
      {"export.drain_timeout_ms", 0, 86400000, false},
      {"app.flows_per_worker", 1, 67108864, false},
      {"app.buffers_per_worker", 1, 1048576, false},
      {"app.buffer_bytes", 512, 1048576, false},
      {"app.dns_cache.capacity", 0, 16777216, false},
  };
  return kKeys;
}

const std::vector<std::string> kBoolKeys = {"eal.no_huge", "eal.no_pci", "lcores.idle_yield",
                                            "flow_table.vlan_in_key", "app.enabled", "export.json.gzip"};
const std::vector<std::string> kEnumKeys = {"rings.on_full", "flow_table.on_full"};
const std::vector<std::string> kStringKeys = {"eal.file_prefix", "eal.lcores", "export.json.path",
                                              "input.read", "stats.path"};

// "key (line N): " for a key written with nest().
std::string at(const std::string& key) {
  return key + " (line " + std::to_string(nest_line(key)) + "): ";
}

std::string range(const U32Key& k) {
  return std::to_string(k.min) + ".." + std::to_string(k.max);
}

TEST(ConfigErrors, JsonExportersAsAList) {
  const Result<Config> ok = load_config_text(
      "export:\n  json:\n    - path: a.json\n    - path: /tmp/b.json\n      rotate_mb: 64\n      gzip: true\n");
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok->exports.json.path, "a.json");
  EXPECT_TRUE(ok->exports.json.enabled);
  ASSERT_EQ(ok->exports.json_more.size(), 1U);
  EXPECT_EQ(ok->exports.json_more[0].path, "/tmp/b.json");
  EXPECT_EQ(ok->exports.json_more[0].rotate_mb, 64U);
  EXPECT_TRUE(ok->exports.json_more[0].gzip);
  EXPECT_EQ(load_error("export:\n  json:\n    - path: a.json\n    - gzip: true\n"),
            "export.json[1].path: a JSON exporter in a list needs a path");
  EXPECT_EQ(load_error("export:\n  json:\n    - path: a.json\n    - pth: b\n"),
            "export.json[1].pth (line 4): unknown key (did you mean 'path'?); expected one of: path, rotate_mb, "
            "rotate_seconds, gzip");
}

TEST(ConfigErrors, IpfixExporterList) {
  const Result<Config> ok = load_config_text(
      "export:\n  ipfix:\n    - target: udp://127.0.0.1:4739\n    - target: tcp://[::1]:4739\n      mode: biflow\n"
      "      observation_domain: 7\n      buffer_mb: 2\n      metadata: false\n");
  ASSERT_TRUE(ok.ok()) << ok.error();
  ASSERT_EQ(ok->exports.ipfix.size(), 2U);
  EXPECT_EQ(ok->exports.ipfix[0].target, "udp://127.0.0.1:4739");
  EXPECT_EQ(ok->exports.ipfix[0].mode, IpfixRecordMode::Uniflow);
  EXPECT_EQ(ok->exports.ipfix[1].mode, IpfixRecordMode::Biflow);
  EXPECT_EQ(ok->exports.ipfix[1].observation_domain, 7U);
  EXPECT_EQ(ok->exports.ipfix[1].buffer_mb, 2U);
  EXPECT_FALSE(ok->exports.ipfix[1].metadata);
  EXPECT_EQ(load_error("export:\n  ipfix:\n    - target: udp://h:1\n      mode: triflow\n"),
            "export.ipfix[0].mode (line 4): expected one of: uniflow, biflow; got 'triflow'");
  EXPECT_EQ(load_error("export:\n  ipfix:\n    - target: udp://h:1\n    - targte: udp://h:2\n"),
            "export.ipfix[1].targte (line 4): unknown key (did you mean 'target'?); expected one of: target, mode, "
            "observation_domain, template_refresh_s, max_message_bytes, buffer_mb, spill_mb, spill_dir, metadata");
  EXPECT_EQ(load_error("export:\n  ipfix:\n    - target: http://h:1\n"),
            "export.ipfix[0].target: expected udp://HOST:PORT, tcp://HOST:PORT or file:PATH, got 'http://h:1'");
  EXPECT_EQ(load_error("export:\n  ipfix:\n    - udp://h:1\n"),
            "export.ipfix[0] (line 3): expected a map, got 'udp://h:1'");
  EXPECT_EQ(load_error("export:\n  ipfix:\n    - target: udp://h:1\n      max_message_bytes: 100\n"),
            "export.ipfix[0].max_message_bytes: 100 is below 512 (0 = the transport's default)");
}

TEST(ConfigErrors, DnsCacheTtlBoundsMustBeOrdered) {
  // max_ttl_s on its own range (its lower bound is under min_ttl_s's default).
  EXPECT_EQ(load_error("app:\n  dns_cache:\n    min_ttl_s: 0\n    max_ttl_s: 0\n"),
            "app.dns_cache.max_ttl_s (line 4): out of range: must be 1..604800, got 0");
  EXPECT_EQ(load_error("app:\n  dns_cache:\n    max_ttl_s: 604801\n"),
            "app.dns_cache.max_ttl_s (line 3): out of range: must be 1..604800, got 604801");
  EXPECT_EQ(load_error("app:\n  dns_cache:\n    min_ttl_s: 600\n    max_ttl_s: 300\n"),
            "app.dns_cache.min_ttl_s: 600 is above app.dns_cache.max_ttl_s (300)");
}

TEST(ConfigRanges, BoundsAcceptedJustOutsideRejected) {
  for (const auto& k : u32_keys()) {
    SCOPED_TRACE(k.key);
    EXPECT_EQ(load_error(nest(k.key, std::to_string(k.min))), "OK");
    EXPECT_EQ(load_error(nest(k.key, std::to_string(k.max))), "OK");
    const std::string above = std::to_string(k.max + 1);
    EXPECT_EQ(load_error(nest(k.key, above)),
              at(k.key) + "out of range: must be " + range(k) + ", got " + above);
    if (k.min > 0) {
      const std::string below = std::to_string(k.min - 1);
      EXPECT_EQ(load_error(nest(k.key, below)),
                at(k.key) + "out of range: must be " + range(k) + ", got " + below);
    }
  }
}

TEST(ConfigRanges, IdleTimeoutsRejectZeroActiveAcceptsIt) {
  EXPECT_EQ(load_error("timeouts:\n  udp_idle_ms: 0\n"),
            "timeouts.udp_idle_ms (line 2): out of range: must be 1..86400000, got 0");
  EXPECT_EQ(load_error("timeouts:\n  active_ms: 0\n"), "OK");
  EXPECT_EQ(load_error("timeouts:\n  active_ms: 86400001\n"),
            "timeouts.active_ms (line 2): out of range: must be 0..86400000, got 86400001");
}

TEST(ConfigRanges, PowerOf2) {
  for (const auto& k : u32_keys()) {
    if (!k.power_of_2) continue;
    SCOPED_TRACE(k.key);
    EXPECT_EQ(load_error(nest(k.key, "1000")), at(k.key) + "must be a power of 2, got 1000");
    EXPECT_EQ(load_error(nest(k.key, "0x3000")), at(k.key) + "must be a power of 2, got 0x3000");
    EXPECT_EQ(load_error(nest(k.key, "1024")), "OK");
  }
}

TEST(ConfigIntegers, WrongTypesRejectedForEveryKey) {
  for (const auto& k : u32_keys()) {
    SCOPED_TRACE(k.key);
    const std::string want = at(k.key) + "expected an unsigned integer (" + range(k) + "), got ";
    EXPECT_EQ(load_error(nest(k.key, "abc")), want + "'abc'");
    EXPECT_EQ(load_error(nest(k.key, "1.5")), want + "'1.5'");
    EXPECT_EQ(load_error(nest(k.key, "1e3")), want + "'1e3'");
    EXPECT_EQ(load_error(nest(k.key, "true")), want + "'true'");
    EXPECT_EQ(load_error(nest(k.key, "[1]")), want + "a list");
    EXPECT_EQ(load_error(nest(k.key, "{a: 1}")), want + "a map");
    EXPECT_EQ(load_error(nest(k.key, "")), want + "null (no value)");
    EXPECT_EQ(load_error(nest(k.key, "~")), want + "null (no value)");
    EXPECT_EQ(load_error(nest(k.key, "\"64\"")), want + "the quoted string '64'");
    EXPECT_EQ(load_error(nest(k.key, "-1")), at(k.key) + "must not be negative: expected an " +
                                                 "unsigned integer (" + range(k) + "), got -1");
  }
}

TEST(ConfigIntegers, Overflow) {
  EXPECT_EQ(load_error("flow_table:\n  hash_seed: 4294967296\n"),
            "flow_table.hash_seed (line 2): out of range: must be 0..4294967295, got 4294967296");
  EXPECT_EQ(load_error("flow_table:\n  hash_seed: 0x100000000\n"),
            "flow_table.hash_seed (line 2): out of range: must be 0..4294967295, got 0x100000000");
  EXPECT_EQ(load_error("flow_table:\n  hash_seed: 99999999999999999999999999\n"),
            "flow_table.hash_seed (line 2): out of range: must be 0..4294967295, got "
            "99999999999999999999999999");
  EXPECT_EQ(load_error("burst_size: 18446744073709551648\n"),
            "burst_size (line 1): out of range: must be 1..512, got 18446744073709551648");
}

TEST(ConfigIntegers, CommunityIdSeedIsSixteenBits) {
  EXPECT_EQ(load_error("export:\n  community_id_seed: 65536\n"),
            "export.community_id_seed (line 2): out of range: must be 0..65535, got 65536");
  EXPECT_EQ(load_error("export:\n  community_id_seed: 0x10000\n"),
            "export.community_id_seed (line 2): out of range: must be 0..65535, got 0x10000");
  EXPECT_EQ(load_error("export:\n  community_id_seed: -1\n"),
            "export.community_id_seed (line 2): must not be negative: expected an unsigned integer "
            "(0..65535), got -1");
  EXPECT_EQ(load_error("export:\n  community_id_seed: seed\n"),
            "export.community_id_seed (line 2): expected an unsigned integer (0..65535), got 'seed'");
  EXPECT_EQ(load_error("export:\n  json:\n    community_id_seed: 1\n"),
            "export.json.community_id_seed (line 3): unknown key; expected one of: path, rotate_mb, rotate_seconds, gzip");
}

TEST(ConfigIntegers, MalformedNumbers) {
  const std::string want = "burst_size (line 1): expected an unsigned integer (1..512), got ";
  EXPECT_EQ(load_error("burst_size: 0x\n"), want + "'0x'");
  EXPECT_EQ(load_error("burst_size: 0xZZ\n"), want + "'0xZZ'");
  EXPECT_EQ(load_error("burst_size: 12abc\n"), want + "'12abc'");
  EXPECT_EQ(load_error("burst_size: 32.0\n"), want + "'32.0'");
  EXPECT_EQ(load_error("burst_size: .inf\n"), want + "'.inf'");
  EXPECT_EQ(load_error("burst_size: 1_000\n"), want + "'1_000'");
  EXPECT_EQ(load_error("burst_size: !!str 32\n"),
            "burst_size (line 1): expected an unsigned integer (1..512), got a value tagged "
            "tag:yaml.org,2002:str");
  EXPECT_EQ(load_error("burst_size: 032\n"),
            "burst_size (line 1): leading zeros are ambiguous (octal in YAML 1.1), got 032");
  EXPECT_EQ(load_error("burst_size: -0x10\n"),
            "burst_size (line 1): must not be negative: expected an unsigned integer (1..512), "
            "got -0x10");
}

TEST(ConfigBooleans, WrongTypesRejectedForEveryKey) {
  for (const auto& key : kBoolKeys) {
    SCOPED_TRACE(key);
    const std::string want = at(key) + "expected a boolean (true or false), got ";
    EXPECT_EQ(load_error(nest(key, "maybe")), want + "'maybe'");
    EXPECT_EQ(load_error(nest(key, "1")), want + "'1'");
    EXPECT_EQ(load_error(nest(key, "y")), want + "'y'");
    EXPECT_EQ(load_error(nest(key, "\"true\"")), want + "'true'");
    EXPECT_EQ(load_error(nest(key, "")), want + "null (no value)");
    EXPECT_EQ(load_error(nest(key, "[true]")), want + "a list");
    EXPECT_EQ(load_error(nest(key, "{a: true}")), want + "a map");
  }
}

TEST(ConfigEnums, BadValuesRejected) {
  EXPECT_EQ(load_error("rings:\n  on_full: Drop\n"),
            "rings.on_full (line 2): expected one of: auto, drop, wait; got 'Drop'");
  EXPECT_EQ(load_error("rings:\n  on_full: block\n"),
            "rings.on_full (line 2): expected one of: auto, drop, wait; got 'block'");
  EXPECT_EQ(load_error("flow_table:\n  on_full: lru\n"),
            "flow_table.on_full (line 2): expected one of: drop, evict; got 'lru'");
  EXPECT_EQ(load_error("flow_table:\n  on_full: 1\n"),
            "flow_table.on_full (line 2): expected one of: drop, evict; got '1'");
  for (const auto& key : kEnumKeys) {
    SCOPED_TRACE(key);
    EXPECT_EQ(load_error(nest(key, "[drop]")).rfind(at(key) + "expected one of: ", 0), 0u);
    EXPECT_EQ(load_error(nest(key, "")).rfind(at(key) + "expected one of: ", 0), 0u);
  }
}

TEST(ConfigStrings, NonScalarsRejected) {
  for (const auto& key : kStringKeys) {
    SCOPED_TRACE(key);
    EXPECT_EQ(load_error(nest(key, "[a, b]")), at(key) + "expected a string, got a list");
    EXPECT_EQ(load_error(nest(key, "{a: b}")), at(key) + "expected a string, got a map");
  }
}

TEST(ConfigStrings, ExtraArgsMustBeAListOfStrings) {
  EXPECT_EQ(load_error("eal:\n  extra_args: --log-level=8\n"),
            "eal.extra_args (line 2): expected a list of strings, got '--log-level=8'");
  EXPECT_EQ(load_error("eal:\n  extra_args: {a: b}\n"),
            "eal.extra_args (line 2): expected a list of strings, got a map");
  EXPECT_EQ(load_error("eal:\n  extra_args:\n    - --a\n    - [x]\n    - --b\n    - {k: v}\n"),
            "eal.extra_args[1] (line 4): expected a string, got a list\n"
            "eal.extra_args[3] (line 6): expected a string, got a map");
}

TEST(ConfigKeys, UnknownKeysAtEveryLevel) {
  EXPECT_EQ(load_error("burst_size: 32\nworkers: 4\n"),
            "workers (line 2): unknown key; expected one of: eal, lcores, rings, burst_size, "
            "mempool, flow_table, fragments, timeouts, tcp, app, export, input, stats");
  EXPECT_EQ(load_error("eal:\n  no_hugee: true\n"),
            "eal.no_hugee (line 2): unknown key (did you mean 'no_huge'?); expected one of: "
            "no_huge, no_pci, memory_mb, file_prefix, lcores, extra_args");
  EXPECT_EQ(load_error("exports:\n  json:\n    path: x\n"),
            "exports (line 1): unknown key (did you mean 'export'?); expected one of: eal, lcores, "
            "rings, burst_size, mempool, flow_table, fragments, timeouts, tcp, app, export, input, stats");
  EXPECT_EQ(load_error("export:\n  json:\n    path: out.json\n    format: ndjson\n"),
            "export.json.format (line 4): unknown key; expected one of: path, rotate_mb, rotate_seconds, gzip");
  EXPECT_EQ(load_error("export:\n  csv:\n    path: out.csv\n"),
            "export.csv (line 2): unknown key; expected one of: json, ipfix, drain_timeout_ms, community_id_seed");
  // One unknown key in every section, each reported with its own path.
  for (const std::string section : {"eal", "lcores", "rings", "mempool", "flow_table",
                                    "fragments", "timeouts", "input", "stats"}) {
    SCOPED_TRACE(section);
    const std::string err = load_error("\n" + section + ":\n  bogus_key: 1\n");
    EXPECT_EQ(err.rfind(section + ".bogus_key (line 3): unknown key; expected one of: ", 0), 0u)
        << err;
  }
}

TEST(ConfigKeys, NonStringKeysRejected) {
  EXPECT_EQ(load_error("? [a, b]\n: 1\n"),
            "<document> (line 1): keys must be non-empty strings, got a list");
  EXPECT_EQ(load_error("eal:\n  ~: 1\n"), "eal (line 2): keys must be non-empty strings, got "
                                          "null (no value)");
}

TEST(ConfigKeys, DuplicateKeys) {
  EXPECT_EQ(load_error("burst_size: 32\nburst_size: 64\n"),
            "burst_size (line 2): duplicate key (first given on line 1)");
  EXPECT_EQ(load_error("timeouts:\n  tcp_idle_ms: 1000\n  udp_idle_ms: 5\n  tcp_idle_ms: 2000\n"),
            "timeouts.tcp_idle_ms (line 4): duplicate key (first given on line 2)");
  EXPECT_EQ(load_error("eal:\n  no_pci: true\neal:\n  no_huge: true\n"),
            "eal (line 3): duplicate key (first given on line 1)");
}

TEST(ConfigSections, SectionMustBeAMap) {
  EXPECT_EQ(load_error("eal: 5\n"),
            "eal (line 1): expected a map of keys (no_huge, no_pci, memory_mb, file_prefix, "
            "lcores, extra_args), got '5'");
  EXPECT_EQ(load_error("stats:\n  - path\n"),
            "stats (line 2): expected a map of keys (path), got a list");
  EXPECT_EQ(load_error("export:\n  json: out.json\n"),
            "export.json (line 2): expected a map of keys (path, rotate_mb, rotate_seconds, gzip), got 'out.json'");
}

TEST(ConfigDocument, TopLevelMustBeAMap) {
  const std::string sections =
      "(eal, lcores, rings, burst_size, mempool, flow_table, fragments, timeouts, tcp, app, export, "
      "input, stats)";
  EXPECT_EQ(load_error("- eal\n- lcores\n"),
            "<document> (line 1): the top level must be a map of sections " + sections +
                ", got a list");
  EXPECT_EQ(load_error("\n\nshardflow\n"),
            "<document> (line 3): the top level must be a map of sections " + sections +
                ", got 'shardflow'");
}

TEST(ConfigDocument, SyntaxErrors) {
  EXPECT_EQ(load_error("eal:\n  extra_args: [--a\nburst_size: 32\n"),
            "<document> (line 3): end of sequence flow not found");
  EXPECT_EQ(load_error("eal:\n  no_huge: true\n no_pci: true\n"),
            "<document> (line 3): end of map not found");
  EXPECT_EQ(load_error("eal:\n\tno_huge: true\n"),
            "<document> (line 2): illegal map value");
  EXPECT_EQ(load_error("burst_size: *nope\n"),
            "<document> (line 1): the referenced anchor is not defined");
  EXPECT_EQ(load_error("burst_size: 32\ninput:\n  read: 'unterminated"),
            "<document> (line 3): illegal EOF in scalar");
  EXPECT_EQ(load_error("input: {read: x\n"), "<document> (line 2): end of map flow not found");
  EXPECT_EQ(load_error("stats: path: x\n"), "<document> (line 1): illegal map value");
}

TEST(ConfigDocument, DeepNestingIsAnErrorNotACrash) {
  const std::string err = load_error("burst_size:\n  " + std::string(100000, '[') + "\n");
  // yaml-cpp gives up at some depth; its mark is where it stopped reading.
  EXPECT_EQ(err.rfind("<document> (line ", 0), 0u) << err;
  EXPECT_NE(err.find("): nesting too deep ("), std::string::npos) << err;
}

TEST(ConfigDocument, MoreThanOneDocument) {
  EXPECT_EQ(load_error("burst_size: 32\n---\nburst_size: 64\n"),
            "<document> (line 3): more than one YAML document (---); expected exactly one");
}

TEST(ConfigErrors, AllErrorsCollectedInOrder) {
  const std::string yaml =
      "eal:\n"                     // 1
      "  memory_mb: 0\n"           // 2
      "  no_huge: perhaps\n"       // 3
      "lcores:\n"                  // 4
      "  workers: 2\n"             // 5
      "  wrkers: 4\n"              // 6
      "rings:\n"                   // 7
      "  export_size: 100\n"       // 8
      "  on_full: later\n"         // 9
      "burst_size: 1.5\n"          // 10
      "timeouts:\n"                // 11
      "  tcp_idle_ms: -5\n";       // 12
  const std::vector<std::string> want = {
      "eal.memory_mb (line 2): out of range: must be 1..1048576, got 0",
      "eal.no_huge (line 3): expected a boolean (true or false), got 'perhaps'",
      "lcores.wrkers (line 6): unknown key (did you mean 'workers'?); expected one of: rx, "
      "workers, idle_yield",
      "rings.export_size (line 8): must be a power of 2, got 100",
      "rings.on_full (line 9): expected one of: auto, drop, wait; got 'later'",
      "burst_size (line 10): expected an unsigned integer (1..512), got '1.5'",
      "timeouts.tcp_idle_ms (line 12): must not be negative: expected an unsigned integer "
      "(1..86400000), got -5",
  };
  EXPECT_EQ(split_lines(load_error(yaml)), want);
}

TEST(ConfigErrors, LineOfValueOnFollowingLineAndOfAlias) {
  // A block value is reported where it starts; an alias where it is used.
  EXPECT_EQ(load_error("burst_size:\n  - 32\n"),
            "burst_size (line 2): expected an unsigned integer (1..512), got a list");
  EXPECT_EQ(load_error("burst_size: &n 500\nlcores:\n  workers: *n\n"),
            "lcores.workers (line 3): out of range: must be 1..128, got 500");
  EXPECT_EQ(load_error("# c\n\ntimeouts:\n  tick_ms:\n\n  tcp_idle_ms: 1\n"),
            "timeouts.tick_ms (line 4): expected an unsigned integer (1..60000), got null (no "
            "value)");
}

TEST(ConfigFile, MissingFile) {
  const Result<Config> r = load_config_file("/nonexistent/dir/shardflow.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(),
            "config file '/nonexistent/dir/shardflow.yaml': cannot open: "
            "No such file or directory");
}

TEST(ConfigFile, DirectoryIsNotAFile) {
  const std::string dir = std::filesystem::temp_directory_path().string();
  const Result<Config> r = load_config_file(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "config file '" + dir + "': cannot read: Is a directory");
}

TEST(ConfigFile, ErrorsInFileCarryLines) {
  const auto path = std::filesystem::temp_directory_path() / "sf_config_test_bad.yaml";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("# comment\nmempool:\n  cache: 513\n", f);
    std::fclose(f);
  }
  const Result<Config> r = load_config_file(path.string());
  std::filesystem::remove(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "mempool.cache (line 3): out of range: must be 0..512, got 513");
}

}  // namespace
}  // namespace sf::test
