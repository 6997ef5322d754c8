// Helpers shared by the config loader tests.
#pragma once

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/config_loader.hpp"

namespace sf::test {

// The error text of loading `yaml`, or "OK" when it loaded.
inline std::string load_error(const std::string& yaml) {
  const Result<Config> r = load_config_text(yaml);
  return r.ok() ? std::string("OK") : r.error();
}

inline std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Field by field, so a failure names the field (Config has no operator==).
inline void expect_same_config(const Config& a, const Config& b) {
  EXPECT_EQ(a.eal.no_huge, b.eal.no_huge);
  EXPECT_EQ(a.eal.no_pci, b.eal.no_pci);
  EXPECT_EQ(a.eal.memory_mb, b.eal.memory_mb);
  EXPECT_EQ(a.eal.file_prefix, b.eal.file_prefix);
  EXPECT_EQ(a.eal.lcores, b.eal.lcores);
  EXPECT_EQ(a.eal.extra_args, b.eal.extra_args);
  EXPECT_EQ(a.lcores.rx, b.lcores.rx);
  EXPECT_EQ(a.lcores.workers, b.lcores.workers);
  EXPECT_EQ(a.lcores.idle_yield, b.lcores.idle_yield);
  EXPECT_EQ(a.rings.rx_to_worker_size, b.rings.rx_to_worker_size);
  EXPECT_EQ(a.rings.export_size, b.rings.export_size);
  EXPECT_EQ(a.rings.on_full, b.rings.on_full);
  EXPECT_EQ(a.burst_size, b.burst_size);
  EXPECT_EQ(a.mempool.mbufs, b.mempool.mbufs);
  EXPECT_EQ(a.mempool.cache, b.mempool.cache);
  EXPECT_EQ(a.mempool.data_room, b.mempool.data_room);
  EXPECT_EQ(a.flow_table.capacity_per_worker, b.flow_table.capacity_per_worker);
  EXPECT_EQ(a.flow_table.on_full, b.flow_table.on_full);
  EXPECT_EQ(a.flow_table.vlan_in_key, b.flow_table.vlan_in_key);
  EXPECT_EQ(a.flow_table.hash_seed, b.flow_table.hash_seed);
  EXPECT_EQ(a.fragments.table_size, b.fragments.table_size);
  EXPECT_EQ(a.tcp.reassembly_enabled, b.tcp.reassembly_enabled);
  EXPECT_EQ(a.app.enabled, b.app.enabled);
  EXPECT_EQ(a.exports.json.rotate_mb, b.exports.json.rotate_mb);
  EXPECT_EQ(a.exports.json.rotate_seconds, b.exports.json.rotate_seconds);
  EXPECT_EQ(a.exports.json.gzip, b.exports.json.gzip);
  EXPECT_EQ(a.exports.ipfix.size(), b.exports.ipfix.size());
  EXPECT_EQ(a.exports.drain_timeout_ms, b.exports.drain_timeout_ms);
  EXPECT_EQ(a.app.flows_per_worker, b.app.flows_per_worker);
  EXPECT_EQ(a.app.buffers_per_worker, b.app.buffers_per_worker);
  EXPECT_EQ(a.app.buffer_bytes, b.app.buffer_bytes);
  EXPECT_EQ(a.dns_cache.capacity, b.dns_cache.capacity);
  EXPECT_EQ(a.dns_cache.min_ttl_s, b.dns_cache.min_ttl_s);
  EXPECT_EQ(a.dns_cache.max_ttl_s, b.dns_cache.max_ttl_s);
  EXPECT_EQ(a.tcp.reassembly.policy, b.tcp.reassembly.policy);
  EXPECT_EQ(a.tcp.reassembly.page_size_bytes, b.tcp.reassembly.page_size_bytes);
  EXPECT_EQ(a.tcp.reassembly.pages_per_worker, b.tcp.reassembly.pages_per_worker);
  EXPECT_EQ(a.tcp.reassembly.pages_per_connection, b.tcp.reassembly.pages_per_connection);
  EXPECT_EQ(a.tcp.reassembly.max_bytes_above_hole, b.tcp.reassembly.max_bytes_above_hole);
  EXPECT_EQ(a.tcp.reassembly.depth_bytes, b.tcp.reassembly.depth_bytes);
  EXPECT_EQ(a.tcp.reassembly.flush_after_ms, b.tcp.reassembly.flush_after_ms);
  EXPECT_EQ(a.tcp.dump_streams_dir, b.tcp.dump_streams_dir);
  EXPECT_EQ(a.fragments.timeout_ms, b.fragments.timeout_ms);
  EXPECT_EQ(a.timeouts.tcp_idle_ms, b.timeouts.tcp_idle_ms);
  EXPECT_EQ(a.timeouts.udp_idle_ms, b.timeouts.udp_idle_ms);
  EXPECT_EQ(a.timeouts.icmp_idle_ms, b.timeouts.icmp_idle_ms);
  EXPECT_EQ(a.timeouts.other_idle_ms, b.timeouts.other_idle_ms);
  EXPECT_EQ(a.timeouts.tcp_closed_ms, b.timeouts.tcp_closed_ms);
  EXPECT_EQ(a.timeouts.tcp_establish_ms, b.timeouts.tcp_establish_ms);
  EXPECT_EQ(a.timeouts.active_ms, b.timeouts.active_ms);
  EXPECT_EQ(a.timeouts.tick_ms, b.timeouts.tick_ms);
  EXPECT_EQ(a.exports.json.enabled, b.exports.json.enabled);
  EXPECT_EQ(a.exports.json.path, b.exports.json.path);
  EXPECT_EQ(a.exports.community_id_seed, b.exports.community_id_seed);
  EXPECT_EQ(a.read_path, b.read_path);
  EXPECT_EQ(a.stats_path, b.stats_path);
}

// Every leaf key of the schema, in the order of config.hpp.
inline const std::vector<std::string>& all_leaf_keys() {
  static const std::vector<std::string> kKeys = {
      "eal.no_huge",
      "eal.no_pci",
      "eal.memory_mb",
      "eal.file_prefix",
      "eal.lcores",
      "eal.extra_args",
      "lcores.rx",
      "lcores.workers",
      "lcores.idle_yield",
      "rings.rx_to_worker_size",
      "rings.export_size",
      "rings.on_full",
      "burst_size",
      "mempool.mbufs",
      "mempool.cache",
      "mempool.data_room",
      "flow_table.capacity_per_worker",
      "flow_table.on_full",
      "flow_table.vlan_in_key",
      "flow_table.hash_seed",
      "fragments.table_size",
      "fragments.timeout_ms",
      "timeouts.tcp_idle_ms",
      "timeouts.udp_idle_ms",
      "timeouts.icmp_idle_ms",
      "timeouts.other_idle_ms",
      "timeouts.tcp_closed_ms",
      "timeouts.tcp_establish_ms",
      "timeouts.active_ms",
      "timeouts.tick_ms",
      "tcp.reassembly.enabled",
      "tcp.reassembly.policy",
      "tcp.reassembly.page_size_bytes",
      "tcp.reassembly.pages_per_worker",
      "tcp.reassembly.pages_per_connection",
      "tcp.reassembly.max_bytes_above_hole",
      "tcp.reassembly.depth_bytes",
      "tcp.reassembly.flush_after_ms",
      "tcp.dump_streams",
      "export.json.rotate_mb",
      "export.json.rotate_seconds",
      "export.json.gzip",
      "export.ipfix",
      "export.drain_timeout_ms",
      "app.enabled",
      "app.flows_per_worker",
      "app.buffers_per_worker",
      "app.buffer_bytes",
      "app.dns_cache.capacity",
      "app.dns_cache.min_ttl_s",
      "app.dns_cache.max_ttl_s",
      "export.json.path",
      "export.community_id_seed",
      "input.read",
      "stats.path",
  };
  return kKeys;
}

// Nests a dotted key and a value as block YAML: "a.b" / "1" -> "a:\n  b: 1\n".
inline std::string nest(const std::string& dotted, const std::string& value) {
  std::string out;
  std::string indent;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = dotted.find('.', start);
    const std::string part = dotted.substr(start, dot == std::string::npos ? dot : dot - start);
    if (dot == std::string::npos) {
      out += indent + part + ": " + value + "\n";
      return out;
    }
    out += indent + part + ":\n";
    indent += "  ";
    start = dot + 1;
  }
}

// 1-based line of the leaf in nest(dotted, ...): one line per path component.
inline int nest_line(const std::string& dotted) {
  int line = 1;
  for (const char c : dotted) line += c == '.' ? 1 : 0;
  return line;
}

}  // namespace sf::test
