// The YAML schema of Config. Key names and ranges follow the comments in
// config.hpp; conf/shardflow.yaml documents them for operators.
#include "config/config_loader.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <vector>

#include "config/yaml_schema.hpp"

namespace sf {

namespace {

using config_detail::SchemaReader;
using config_detail::U32Range;

constexpr std::uint32_t kTimeoutMaxMs = 86'400'000;  // one day
constexpr U32Range kTimeoutRange{1, kTimeoutMaxMs};
constexpr U32Range kRingRange{64, 1u << 20, true};
constexpr U32Range kPoolRange{1024, 16'777'215};

SchemaReader::Entries schema(SchemaReader& r, Config& c) {
  const std::function<SchemaReader::Entries(JsonExportConfig&)> json_keys = [&r](JsonExportConfig& j) {
    return SchemaReader::Entries{
        {"path", r.string(j.path)},
        {"rotate_mb", r.u32(j.rotate_mb, {0, 1u << 20})},
        {"rotate_seconds", r.u32(j.rotate_seconds, {0, 604800})},
        {"gzip", r.boolean(j.gzip)},
    };
  };
  EalConfig& eal = c.eal;
  TimeoutConfig& t = c.timeouts;
  return {
      {"eal", r.section({
                  {"no_huge", r.boolean(eal.no_huge)},
                  {"no_pci", r.boolean(eal.no_pci)},
                  {"memory_mb", r.u32(eal.memory_mb, {1, 1u << 20})},
                  {"file_prefix", r.string(eal.file_prefix)},
                  {"lcores", r.string(eal.lcores)},
                  {"extra_args", r.string_list(eal.extra_args)},
              })},
      {"lcores", r.section({
                     {"rx", r.u32(c.lcores.rx, {1, 64})},
                     {"workers", r.u32(c.lcores.workers, {1, 128})},
                     {"idle_yield", r.boolean(c.lcores.idle_yield)},
                 })},
      {"rings", r.section({
                    {"rx_to_worker_size", r.u32(c.rings.rx_to_worker_size, kRingRange)},
                    {"export_size", r.u32(c.rings.export_size, kRingRange)},
                    {"on_full", r.enumeration(c.rings.on_full, {{"auto", OnRingFull::Auto},
                                                                {"drop", OnRingFull::Drop},
                                                                {"wait", OnRingFull::Wait}})},
                })},
      {"burst_size", r.u32(c.burst_size, {1, 512})},
      {"mempool", r.section({
                      {"mbufs", r.u32(c.mempool.mbufs, kPoolRange)},
                      {"cache", r.u32(c.mempool.cache, {0, 512})},
                      {"data_room", r.u32(c.mempool.data_room, {256, 65535})},
                  })},
      {"flow_table",
       r.section({
           {"capacity_per_worker", r.u32(c.flow_table.capacity_per_worker, {1024, 1u << 28})},
           {"on_full", r.enumeration(c.flow_table.on_full,
                                     {{"drop", OnTableFull::Drop}, {"evict", OnTableFull::Evict}})},
           {"vlan_in_key", r.boolean(c.flow_table.vlan_in_key)},
           {"hash_seed", r.u32(c.flow_table.hash_seed, {0, 0xFFFF'FFFFu})},
       })},
      {"fragments", r.section({
                        {"table_size", r.u32(c.fragments.table_size, {64, 1u << 24})},
                        {"timeout_ms", r.u32(c.fragments.timeout_ms, kTimeoutRange)},
                    })},
      {"timeouts", r.section({
                       {"tcp_idle_ms", r.u32(t.tcp_idle_ms, kTimeoutRange)},
                       {"udp_idle_ms", r.u32(t.udp_idle_ms, kTimeoutRange)},
                       {"icmp_idle_ms", r.u32(t.icmp_idle_ms, kTimeoutRange)},
                       {"other_idle_ms", r.u32(t.other_idle_ms, kTimeoutRange)},
                       {"tcp_closed_ms", r.u32(t.tcp_closed_ms, kTimeoutRange)},
                       {"tcp_establish_ms", r.u32(t.tcp_establish_ms, kTimeoutRange)},
                       {"active_ms", r.u32(t.active_ms, {0, kTimeoutMaxMs})},
                       {"tick_ms", r.u32(t.tick_ms, {1, 60000})},
                   })},
      {"tcp", r.section({
                  {"reassembly",
                   r.section({
                       {"enabled", r.boolean(c.tcp.reassembly_enabled)},
                       {"policy", r.enumeration(c.tcp.reassembly.policy,
                                                {{"first", OverlapPolicy::First}, {"last", OverlapPolicy::Last}})},
                       {"page_size_bytes", r.u32(c.tcp.reassembly.page_size_bytes, {64, 1u << 20})},
                       {"pages_per_worker", r.u32(c.tcp.reassembly.pages_per_worker, {16, 1u << 26})},
                       {"pages_per_connection", r.u32(c.tcp.reassembly.pages_per_connection, {1, 1u << 20})},
                       {"max_bytes_above_hole", r.u32(c.tcp.reassembly.max_bytes_above_hole, {0, 0xFFFF'FFFFu})},
                       {"depth_bytes", r.u32(c.tcp.reassembly.depth_bytes, {0, 0xFFFF'FFFFu})},
                       {"flush_after_ms", r.u32(c.tcp.reassembly.flush_after_ms, {0, kTimeoutMaxMs})},
                   })},
                  {"dump_streams", r.string(c.tcp.dump_streams_dir)},
              })},
      {"app", r.section({
                  {"enabled", r.boolean(c.app.enabled)},
                  {"flows_per_worker", r.u32(c.app.flows_per_worker, {1, 1u << 26})},
                  {"buffers_per_worker", r.u32(c.app.buffers_per_worker, {1, 1u << 20})},
                  {"buffer_bytes", r.u32(c.app.buffer_bytes, {512, 1u << 20})},
                  {"dns_cache", r.section({
                                    {"capacity", r.u32(c.dns_cache.capacity, {0, 1u << 24})},
                                    {"min_ttl_s", r.u32(c.dns_cache.min_ttl_s, {0, 604800})},
                                    {"max_ttl_s", r.u32(c.dns_cache.max_ttl_s, {1, 604800})},
                                })},
              })},
      {"export", r.section({
                     // One JSON exporter (a map) or several (a list of maps).
                     {"json", [&r, &c, json_keys](const YAML::Node& key, const YAML::Node& value,
                                                  const std::string& path) {
                        if (value.IsSequence()) {
                          r.section_list<JsonExportConfig>(c.exports.json_list, json_keys)(key, value, path);
                        } else {
                          r.section(json_keys(c.exports.json))(key, value, path);
                        }
                      }},
                     {"ipfix", r.section_list<IpfixExportConfig>(c.exports.ipfix, [&r](IpfixExportConfig& x) {
                        return SchemaReader::Entries{
                            {"target", r.string(x.target)},
                            {"mode", r.enumeration(x.mode, {{"uniflow", IpfixRecordMode::Uniflow},
                                                            {"biflow", IpfixRecordMode::Biflow}})},
                            {"observation_domain", r.u32(x.observation_domain, {0, 0xFFFF'FFFFu})},
                            {"template_refresh_s", r.u32(x.template_refresh_s, {0, 86400})},
                            {"max_message_bytes", r.u32(x.max_message_bytes, {0, 65535})},
                            {"buffer_mb", r.u32(x.buffer_mb, {1, 4096})},
                            {"spill_mb", r.u32(x.spill_mb, {0, 1u << 20})},
                            {"spill_dir", r.string(x.spill_dir)},
                            {"metadata", r.boolean(x.metadata)},
                        };
                      })},
                     {"drain_timeout_ms", r.u32(c.exports.drain_timeout_ms, {0, kTimeoutMaxMs})},
                     {"community_id_seed", r.u32(c.exports.community_id_seed, {0, 65535})},
                 })},
      {"input", r.section({{"read", r.string(c.read_path)}})},
      {"stats", r.section({{"path", r.string(c.stats_path)}})},
  };
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    if (!out.empty()) out += '\n';
    out += l;
  }
  return out;
}

Result<Config> load_document(const std::string& yaml_text) {
  // LoadAll rather than Load: a stray "---" must not silently drop the rest.
  const std::vector<YAML::Node> docs = YAML::LoadAll(yaml_text);
  Config cfg;
  SchemaReader reader;
  if (docs.size() > 1) {
    reader.error("<document>", config_detail::node_line(docs[1]),
                 "more than one YAML document (---); expected exactly one");
  }
  if (!docs.empty()) reader.read_root(docs.front(), schema(reader, cfg));
  if (!reader.errors().empty()) return make_error(join_lines(reader.errors()));
  if (cfg.dns_cache.min_ttl_s > cfg.dns_cache.max_ttl_s) {
    return make_error("app.dns_cache.min_ttl_s: " + std::to_string(cfg.dns_cache.min_ttl_s) +
                      " is above app.dns_cache.max_ttl_s (" + std::to_string(cfg.dns_cache.max_ttl_s) + ")");
  }
  for (std::size_t i = 0; i < cfg.exports.ipfix.size(); ++i) {
    const IpfixExportConfig& x = cfg.exports.ipfix[i];
    if (x.target.rfind("udp://", 0) != 0 && x.target.rfind("tcp://", 0) != 0 && x.target.rfind("file:", 0) != 0) {
      return make_error("export.ipfix[" + std::to_string(i) + "].target: expected udp://HOST:PORT, tcp://HOST:PORT or "
                        "file:PATH, got '" + x.target + "'");
    }
    if (x.max_message_bytes != 0 && x.max_message_bytes < 512) {
      return make_error("export.ipfix[" + std::to_string(i) + "].max_message_bytes: " +
                        std::to_string(x.max_message_bytes) + " is below 512 (0 = the transport's default)");
    }
  }
  // A list: the first is the JSON exporter --json overrides, the rest run beside it.
  if (!cfg.exports.json_list.empty()) {
    cfg.exports.json = cfg.exports.json_list.front();
    cfg.exports.json_more.assign(cfg.exports.json_list.begin() + 1, cfg.exports.json_list.end());
    cfg.exports.json_list.clear();
    for (std::size_t i = 0; i < cfg.exports.json_more.size(); ++i) {
      if (cfg.exports.json_more[i].path.empty()) {
        return make_error("export.json[" + std::to_string(i + 1) + "].path: a JSON exporter in a list needs a path");
      }
      cfg.exports.json_more[i].enabled = true;
    }
  }
  cfg.exports.json.enabled = !cfg.exports.json.path.empty();
  return cfg;
}

}  // namespace

Result<Config> load_config_text(const std::string& yaml_text) {
  try {
    return load_document(yaml_text);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp words this one "bad file".
    return make_error("<document> (line " + std::to_string(e.mark.line + 1) +
                      "): nesting too deep (" + std::to_string(e.depth()) + " levels)");
  } catch (const YAML::Exception& e) {
    // Syntax errors carry a mark; e.what() repeats it in yaml-cpp's own words.
    std::string msg = "<document>";
    if (!e.mark.is_null()) msg += " (line " + std::to_string(e.mark.line + 1) + ")";
    msg += ": ";
    msg += e.msg.empty() ? std::string(e.what()) : e.msg;
    return make_error(std::move(msg));
  } catch (const std::exception& e) {
    return make_error(std::string("<document>: cannot parse configuration: ") + e.what());
  }
}

Result<Config> load_config_file(const std::string& path) {
  const auto fail = [&path](const char* what, int err) {
    return make_error("config file '" + path + "': " + what + ": " + std::strerror(err));
  };
  struct Closer {
    void operator()(std::FILE* fp) const noexcept { std::fclose(fp); }
  };
  std::unique_ptr<std::FILE, Closer> f(std::fopen(path.c_str(), "rb"));
  if (!f) return fail("cannot open", errno);
  std::string text;
  char buf[8192];
  for (;;) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, f.get());
    text.append(buf, n);
    if (n < sizeof buf) break;
  }
  // A directory opens fine and fails on the first read (EISDIR).
  if (std::ferror(f.get())) return fail("cannot read", errno);
  return load_config_text(text);
}

}  // namespace sf
