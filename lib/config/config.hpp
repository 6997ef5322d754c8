// Plain configuration structs with their defaults. The YAML loader
// (config_loader.hpp) fills them; conf/shardflow.yaml documents every key.
// Units live in the names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "appmeta/app_config.hpp"
#include "dnscache/dns_cache.hpp"
#include "tcp/reassembly_config.hpp"

namespace sf {

enum class OnTableFull : std::uint8_t { Drop, Evict };
// What RX does when a worker's ring is full: drop and count (live traffic), or
// wait for room (capture files: the reader, not the wire, sets the pace).
enum class OnRingFull : std::uint8_t { Auto, Drop, Wait };

struct EalConfig {
  bool no_huge = true;             // eal.no_huge: pass --no-huge (no hugepages needed)
  bool no_pci = true;              // eal.no_pci: pass --no-pci (no NIC probing)
  std::uint32_t memory_mb = 1024;  // eal.memory_mb: -m, EAL memory (1..1048576)
  std::string file_prefix;         // eal.file_prefix: empty = "shardflow-<pid>" (unique per process)
  std::string lcores;              // eal.lcores: --lcores map; empty = one lcore per role spread over our CPUs
  std::vector<std::string> extra_args;  // eal.extra_args: appended verbatim
};

struct LcoreConfig {
  std::uint32_t rx = 1;       // lcores.rx: RX lcores (1..64; capture files use 1)
  std::uint32_t workers = 2;  // lcores.workers: worker lcores, one flow-table shard each (1..128)
  // lcores.idle_yield: yield the CPU after an empty poll streak, for lcores that
  // share CPUs (development machines); off for dedicated cores.
  bool idle_yield = true;
};

struct RingConfig {
  std::uint32_t rx_to_worker_size = 4096;  // rings.rx_to_worker_size: entries, power of 2 (64..1048576)
  std::uint32_t export_size = 4096;        // rings.export_size: entries, power of 2 (64..1048576)
  OnRingFull on_full = OnRingFull::Auto;   // rings.on_full: auto|drop|wait
};

struct MempoolConfig {
  std::uint32_t mbufs = 16383;       // mempool.mbufs: packet buffers (1024..16777215)
  std::uint32_t cache = 256;         // mempool.cache: per-lcore cache (0..512)
  std::uint32_t data_room = 2048;    // mempool.data_room: bytes per segment (256..65535)
};

struct FlowTableConfig {
  std::uint32_t capacity_per_worker = 262144;  // flow_table.capacity_per_worker: flows (1024..1<<28)
  OnTableFull on_full = OnTableFull::Evict;    // flow_table.on_full: drop|evict
  bool vlan_in_key = true;                     // flow_table.vlan_in_key
  std::uint32_t hash_seed = 0;                 // flow_table.hash_seed: 0 = random per run
};

struct FragmentConfig {
  std::uint32_t table_size = 8192;    // fragments.table_size: tracked datagrams per RX lcore (64..1<<24)
  // fragments.timeout_ms: forget a datagram's first fragment after this long (1..86400000)
  std::uint32_t timeout_ms = 30000;
};

struct TimeoutConfig {
  // Idle/closed timeouts: 1..86400000 ms (one day); active_ms 0..86400000.
  std::uint32_t tcp_idle_ms = 300000;    // timeouts.tcp_idle_ms
  std::uint32_t udp_idle_ms = 60000;     // timeouts.udp_idle_ms
  std::uint32_t icmp_idle_ms = 60000;    // timeouts.icmp_idle_ms
  std::uint32_t other_idle_ms = 60000;   // timeouts.other_idle_ms
  std::uint32_t tcp_closed_ms = 5000;    // timeouts.tcp_closed_ms: linger after FIN both ways or RST
  // timeouts.tcp_establish_ms: a connection opened by a SYN (or SYN-ACK) whose
  // handshake never completes ends after this long idle: a SYN flood must not
  // hold the table for tcp_idle_ms.
  std::uint32_t tcp_establish_ms = 30000;
  std::uint32_t active_ms = 1800000;     // timeouts.active_ms: interim record period; 0 = off
  std::uint32_t tick_ms = 100;           // timeouts.tick_ms: expiry granularity (1..60000)
};

struct TcpConfig {
  // tcp.reassembly.enabled: reassemble TCP byte streams (for --dump-streams and
  // the record's missed_bytes / overlap_conflict_bytes).
  bool reassembly_enabled = true;
  ReassemblyConfig reassembly;  // tcp.reassembly.*: see conf/shardflow.yaml
  // tcp.dump_streams: directory for each direction's reassembled bytes
  // (--dump-streams DIR); empty = off. Needs reassembly.
  std::string dump_streams_dir;
};

struct JsonExportConfig {
  bool enabled = false;  // export.json.path set (or --json)
  std::string path;      // export.json.path: file, or "-" for stdout
  // export.json.rotate_mb / rotate_seconds: start a new file after this much
  // or this long (0 = never); files are published by atomic rename.
  std::uint32_t rotate_mb = 0;
  std::uint32_t rotate_seconds = 0;
  bool gzip = false;     // export.json.gzip
};

enum class IpfixRecordMode : std::uint8_t { Uniflow, Biflow };

struct IpfixExportConfig {
  std::string target;  // export.ipfix[i].target: udp://HOST:PORT, tcp://HOST:PORT or file:PATH
  IpfixRecordMode mode = IpfixRecordMode::Uniflow;  // uniflow|biflow (RFC 5103)
  std::uint32_t observation_domain = 1;
  std::uint32_t template_refresh_s = 60;  // UDP: templates resent at least this often
  std::uint32_t max_message_bytes = 0;    // 0: 1400 over UDP, 65535 over TCP and to files
  std::uint32_t buffer_mb = 8;            // TCP: bytes kept in memory while the collector is down
  std::uint32_t spill_mb = 0;             // TCP: and then up to this much on disk (0 = off)
  std::string spill_dir = "/tmp";         // where the (unlinked) spill file lives
  bool metadata = true;                   // SNI, DNS name, conn_state, community id... (docs/IPFIX.md)
};

struct ExportConfig {
  JsonExportConfig json;                   // export.json (or the first of a list)
  std::vector<JsonExportConfig> json_more;  // export.json as a list: the others
  std::vector<JsonExportConfig> json_list;  // the loader's scratch
  std::vector<IpfixExportConfig> ipfix;  // export.ipfix: any number of IPFIX exporters
  // export.drain_timeout_ms: at the end of input or on a signal, how long the
  // exporters may take to deliver what they hold; the rest is counted.
  std::uint32_t drain_timeout_ms = 10000;
  // export.community_id_seed: seed of each record's Community ID (0..65535); tools
  // that are to agree on ids must use the same seed.
  std::uint32_t community_id_seed = 0;
};

struct Config {
  EalConfig eal;
  LcoreConfig lcores;
  RingConfig rings;
  std::uint32_t burst_size = 32;  // burst_size: packets per burst (1..512)
  MempoolConfig mempool;
  FlowTableConfig flow_table;
  FragmentConfig fragments;
  TimeoutConfig timeouts;
  TcpConfig tcp;
  AppConfig app;             // app.*
  DnsCacheConfig dns_cache;  // app.dns_cache.*: capacity 0 = no cache (flows are named by their own SNI/Host only)
  ExportConfig exports;      // YAML key: export
  std::string read_path;     // input.read: capture file (pcap/pcapng)
  std::string stats_path;    // stats.path: JSON conservation report at exit ("-" = stdout)
};

}  // namespace sf
