// Valid documents: every key lands in its field; defaults survive elsewhere.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "config_test_util.hpp"

namespace sf::test {
namespace {

Config load_ok(const std::string& yaml) {
  Result<Config> r = load_config_text(yaml);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? std::move(r).value() : Config{};
}

// Every key set to a valid value that differs from its default.
constexpr const char* kAllOverrides = R"(
eal:
  no_huge: false
  no_pci: false
  memory_mb: 4096
  file_prefix: sf-test
  lcores: "0@1,1@2,2@3"
  extra_args: ["--log-level=lib.eal:debug", --in-memory]
lcores:
  rx: 2
  workers: 8
  idle_yield: false
rings:
  rx_to_worker_size: 65536
  export_size: 1024
  on_full: wait
burst_size: 64
mempool:
  mbufs: 65535
  cache: 512
  data_room: 9216
flow_table:
  capacity_per_worker: 1048576
  on_full: drop
  vlan_in_key: false
  hash_seed: 0xdeadbeef
fragments:
  table_size: 1024
  timeout_ms: 15000
timeouts:
  tcp_idle_ms: 7200000
  udp_idle_ms: 180000
  icmp_idle_ms: 30000
  other_idle_ms: 120000
  tcp_closed_ms: 1000
  active_ms: 0
  tick_ms: 10
export:
  json:
    path: /var/log/shardflow/flows.json
  community_id_seed: 4242
input:
  read: /data/trace.pcapng
stats:
  path: "-"
)";

TEST(ConfigValues, EveryKeyOverridden) {
  const Config c = load_ok(kAllOverrides);
  EXPECT_FALSE(c.eal.no_huge);
  EXPECT_FALSE(c.eal.no_pci);
  EXPECT_EQ(c.eal.memory_mb, 4096u);
  EXPECT_EQ(c.eal.file_prefix, "sf-test");
  EXPECT_EQ(c.eal.lcores, "0@1,1@2,2@3");
  EXPECT_EQ(c.eal.extra_args,
            (std::vector<std::string>{"--log-level=lib.eal:debug", "--in-memory"}));
  EXPECT_EQ(c.lcores.rx, 2u);
  EXPECT_EQ(c.lcores.workers, 8u);
  EXPECT_FALSE(c.lcores.idle_yield);
  EXPECT_EQ(c.rings.rx_to_worker_size, 65536u);
  EXPECT_EQ(c.rings.export_size, 1024u);
  EXPECT_EQ(c.rings.on_full, OnRingFull::Wait);
  EXPECT_EQ(c.burst_size, 64u);
  EXPECT_EQ(c.mempool.mbufs, 65535u);
  EXPECT_EQ(c.mempool.cache, 512u);
  EXPECT_EQ(c.mempool.data_room, 9216u);
  EXPECT_EQ(c.flow_table.capacity_per_worker, 1048576u);
  EXPECT_EQ(c.flow_table.on_full, OnTableFull::Drop);
  EXPECT_FALSE(c.flow_table.vlan_in_key);
  EXPECT_EQ(c.flow_table.hash_seed, 0xdeadbeefu);
  EXPECT_EQ(c.fragments.table_size, 1024u);
  EXPECT_EQ(c.fragments.timeout_ms, 15000u);
  EXPECT_EQ(c.timeouts.tcp_idle_ms, 7200000u);
  EXPECT_EQ(c.timeouts.udp_idle_ms, 180000u);
  EXPECT_EQ(c.timeouts.icmp_idle_ms, 30000u);
  EXPECT_EQ(c.timeouts.other_idle_ms, 120000u);
  EXPECT_EQ(c.timeouts.tcp_closed_ms, 1000u);
  EXPECT_EQ(c.timeouts.active_ms, 0u);
  EXPECT_EQ(c.timeouts.tick_ms, 10u);
  EXPECT_TRUE(c.exports.json.enabled);
  EXPECT_EQ(c.exports.json.path, "/var/log/shardflow/flows.json");
  EXPECT_EQ(c.exports.community_id_seed, 4242u);
  EXPECT_EQ(c.read_path, "/data/trace.pcapng");
  EXPECT_EQ(c.stats_path, "-");
}

TEST(ConfigValues, OverridesChangeEveryFieldFromDefault) {
  // Guards the test above: a key it forgot would still equal the default.
  const Config c = load_ok(kAllOverrides);
  const Config d;
  EXPECT_NE(c.eal.no_huge, d.eal.no_huge);
  EXPECT_NE(c.eal.no_pci, d.eal.no_pci);
  EXPECT_NE(c.eal.memory_mb, d.eal.memory_mb);
  EXPECT_NE(c.eal.file_prefix, d.eal.file_prefix);
  EXPECT_NE(c.eal.lcores, d.eal.lcores);
  EXPECT_NE(c.eal.extra_args, d.eal.extra_args);
  EXPECT_NE(c.lcores.rx, d.lcores.rx);
  EXPECT_NE(c.lcores.workers, d.lcores.workers);
  EXPECT_NE(c.lcores.idle_yield, d.lcores.idle_yield);
  EXPECT_NE(c.rings.rx_to_worker_size, d.rings.rx_to_worker_size);
  EXPECT_NE(c.rings.export_size, d.rings.export_size);
  EXPECT_NE(c.rings.on_full, d.rings.on_full);
  EXPECT_NE(c.burst_size, d.burst_size);
  EXPECT_NE(c.mempool.mbufs, d.mempool.mbufs);
  EXPECT_NE(c.mempool.cache, d.mempool.cache);
  EXPECT_NE(c.mempool.data_room, d.mempool.data_room);
  EXPECT_NE(c.flow_table.capacity_per_worker, d.flow_table.capacity_per_worker);
  EXPECT_NE(c.flow_table.on_full, d.flow_table.on_full);
  EXPECT_NE(c.flow_table.vlan_in_key, d.flow_table.vlan_in_key);
  EXPECT_NE(c.flow_table.hash_seed, d.flow_table.hash_seed);
  EXPECT_NE(c.fragments.table_size, d.fragments.table_size);
  EXPECT_NE(c.fragments.timeout_ms, d.fragments.timeout_ms);
  EXPECT_NE(c.timeouts.tcp_idle_ms, d.timeouts.tcp_idle_ms);
  EXPECT_NE(c.timeouts.udp_idle_ms, d.timeouts.udp_idle_ms);
  EXPECT_NE(c.timeouts.icmp_idle_ms, d.timeouts.icmp_idle_ms);
  EXPECT_NE(c.timeouts.other_idle_ms, d.timeouts.other_idle_ms);
  EXPECT_NE(c.timeouts.tcp_closed_ms, d.timeouts.tcp_closed_ms);
  EXPECT_NE(c.timeouts.active_ms, d.timeouts.active_ms);
  EXPECT_NE(c.timeouts.tick_ms, d.timeouts.tick_ms);
  EXPECT_NE(c.exports.json.enabled, d.exports.json.enabled);
  EXPECT_NE(c.exports.json.path, d.exports.json.path);
  EXPECT_NE(c.exports.community_id_seed, d.exports.community_id_seed);
  EXPECT_NE(c.read_path, d.read_path);
  EXPECT_NE(c.stats_path, d.stats_path);
}

TEST(ConfigValues, EmptyDocumentsAreAllDefaults) {
  for (const std::string yaml :
       {"", "\n\n", "   \n", "# only a comment\n", "---\n", "---\n...\n", "~\n",
        "eal:\nlcores:\n# every key commented out\ntimeouts: ~\n"}) {
    SCOPED_TRACE(yaml);
    expect_same_config(load_ok(yaml), Config{});
  }
}

TEST(ConfigValues, PartialSectionKeepsOtherDefaults) {
  const Config c = load_ok("timeouts:\n  udp_idle_ms: 1000\n");
  Config want;
  want.timeouts.udp_idle_ms = 1000;
  expect_same_config(c, want);
}

TEST(ConfigValues, CommunityIdSeed) {
  EXPECT_EQ(Config{}.exports.community_id_seed, 0u);
  EXPECT_EQ(load_ok("export:\n  community_id_seed: 0\n").exports.community_id_seed, 0u);
  EXPECT_EQ(load_ok("export:\n  community_id_seed: 1\n").exports.community_id_seed, 1u);
  EXPECT_EQ(load_ok("export:\n  community_id_seed: 65535\n").exports.community_id_seed, 65535u);
  EXPECT_EQ(load_ok("export:\n  community_id_seed: 0xFFFF\n").exports.community_id_seed, 65535u);
  // Next to the JSON sink, and without it: the seed is kept either way.
  const Config both = load_ok("export:\n  json:\n    path: out.json\n  community_id_seed: 7\n");
  EXPECT_EQ(both.exports.community_id_seed, 7u);
  EXPECT_EQ(both.exports.json.path, "out.json");
}

TEST(ConfigValues, IntegerSpellings) {
  EXPECT_EQ(load_ok("flow_table:\n  hash_seed: 0xFFFFFFFF\n").flow_table.hash_seed, 0xFFFFFFFFu);
  EXPECT_EQ(load_ok("flow_table:\n  hash_seed: 4294967295\n").flow_table.hash_seed, 0xFFFFFFFFu);
  EXPECT_EQ(load_ok("burst_size: 0x40\n").burst_size, 64u);
  EXPECT_EQ(load_ok("burst_size: 0o100\n").burst_size, 64u);
  EXPECT_EQ(load_ok("burst_size: +16\n").burst_size, 16u);
  EXPECT_EQ(load_ok("burst_size: !!int 8\n").burst_size, 8u);
  EXPECT_EQ(load_ok("mempool:\n  cache: 0\n").mempool.cache, 0u);
  EXPECT_EQ(load_ok("{burst_size: 128, lcores: {workers: 3}}").lcores.workers, 3u);
}

TEST(ConfigValues, BooleanSpellings) {
  for (const std::string t : {"true", "True", "TRUE", "yes", "on"}) {
    EXPECT_TRUE(load_ok("flow_table:\n  vlan_in_key: " + t + "\n").flow_table.vlan_in_key) << t;
  }
  for (const std::string f : {"false", "False", "FALSE", "no", "off", "Off"}) {
    EXPECT_FALSE(load_ok("flow_table:\n  vlan_in_key: " + f + "\n").flow_table.vlan_in_key) << f;
  }
}

TEST(ConfigValues, EnumValues) {
  EXPECT_EQ(load_ok("rings:\n  on_full: auto\n").rings.on_full, OnRingFull::Auto);
  EXPECT_EQ(load_ok("rings:\n  on_full: drop\n").rings.on_full, OnRingFull::Drop);
  EXPECT_EQ(load_ok("rings:\n  on_full: \"wait\"\n").rings.on_full, OnRingFull::Wait);
  EXPECT_EQ(load_ok("flow_table:\n  on_full: evict\n").flow_table.on_full, OnTableFull::Evict);
  EXPECT_EQ(load_ok("flow_table:\n  on_full: drop\n").flow_table.on_full, OnTableFull::Drop);
}

TEST(ConfigValues, Strings) {
  // Scalars of any look are strings; an empty value means "not set".
  EXPECT_EQ(load_ok("eal:\n  file_prefix: 123\n").eal.file_prefix, "123");
  EXPECT_EQ(load_ok("eal:\n  file_prefix: 'a b'\n").eal.file_prefix, "a b");
  EXPECT_EQ(load_ok("input:\n  read:\n").read_path, "");
  EXPECT_EQ(load_ok("eal:\n  extra_args:\n").eal.extra_args, std::vector<std::string>{});
  EXPECT_EQ(load_ok("eal:\n  extra_args:\n    - -v\n    - 42\n").eal.extra_args,
            (std::vector<std::string>{"-v", "42"}));
  const Config off = load_ok("export:\n  json:\n    path: \"\"\n");
  EXPECT_FALSE(off.exports.json.enabled);
  const Config on = load_ok("export:\n  json:\n    path: \"-\"\n");
  EXPECT_TRUE(on.exports.json.enabled);
  EXPECT_EQ(on.exports.json.path, "-");
}

TEST(ConfigValues, AnchorsAndAliases) {
  const Config c = load_ok("timeouts:\n  udp_idle_ms: &t 90000\n  icmp_idle_ms: *t\n");
  EXPECT_EQ(c.timeouts.udp_idle_ms, 90000u);
  EXPECT_EQ(c.timeouts.icmp_idle_ms, 90000u);
}

TEST(ConfigFile, LoadsFromDisk) {
  const auto path = std::filesystem::temp_directory_path() / "sf_config_test_ok.yaml";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("lcores:\n  workers: 6\n", f);
    std::fclose(f);
  }
  const Result<Config> r = load_config_file(path.string());
  std::filesystem::remove(path);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->lcores.workers, 6u);
}

TEST(ConfigFile, EmptyFileIsAllDefaults) {
  const Result<Config> r = load_config_file("/dev/null");
  ASSERT_TRUE(r.ok()) << r.error();
  expect_same_config(r.value(), Config{});
}

}  // namespace
}  // namespace sf::test
