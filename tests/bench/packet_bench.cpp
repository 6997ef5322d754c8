// Per-packet RX work: parsing a frame, keying and hashing it, and (on the
// exporter side) encoding a finished record as JSON. One item = one packet or
// one record; ns/op is the time per item.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "export/json_record.hpp"
#include "flow/flow_key.hpp"
#include "packet/packet_parser.hpp"
#include "support/packet_builder.hpp"

namespace sf::bench {
namespace {

using test::Bytes;
using test::PacketBuilder;

constexpr std::uint32_t kSeed = 0x5eed;
// Enough distinct frames that the branch predictor cannot learn the sequence,
// few enough (~300 KiB) to stay cache-resident: this measures the parser, not DRAM.
constexpr std::size_t kFrames = 4096;

struct Frame {
  Bytes bytes;
  std::uint32_t wire_len;
  LinkType link;
};

std::string ipv4_text(std::mt19937_64& rng, unsigned first_octet) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", first_octet, static_cast<unsigned>(rng() % 256),
                static_cast<unsigned>(rng() % 256), static_cast<unsigned>(rng() % 254 + 1));
  return buf;
}

std::string ipv6_text(std::mt19937_64& rng) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "2001:db8:%x:%x::%x", static_cast<unsigned>(rng() % 0x10000),
                static_cast<unsigned>(rng() % 0x10000), static_cast<unsigned>(rng() % 0xfffe + 1));
  return buf;
}

// A mix close to an access link: mostly minimum-size IPv4 TCP, some UDP, IPv6,
// VLAN and QinQ tags, a few full-size segments. Fixed seed: same frames each run.
const std::vector<Frame>& frames() {
  static const std::vector<Frame> all = [] {
    std::mt19937_64 rng(42);
    std::vector<Frame> out;
    out.reserve(kFrames);
    for (std::size_t i = 0; i < kFrames; ++i) {
      const auto sport = static_cast<std::uint16_t>(1024 + rng() % 60000);
      const auto dport = static_cast<std::uint16_t>(rng() % 2 ? 443 : 53);
      PacketBuilder b;
      b.eth();
      switch (rng() % 8) {
        case 0: case 1: case 2:  // 60-byte IPv4 TCP ACK (64 on the wire with FCS)
          b.ipv4(ipv4_text(rng, 10), ipv4_text(rng, 93)).tcp(sport, dport, tcpflag::kAck, 1, 1).payload(6);
          break;
        case 3:  // IPv4 UDP (DNS-sized)
          b.ipv4(ipv4_text(rng, 10), ipv4_text(rng, 8)).udp(sport, 53).payload(40);
          break;
        case 4:  // IPv6 TCP, no payload
          b.ipv6(ipv6_text(rng), ipv6_text(rng)).tcp(sport, dport, tcpflag::kAck, 1, 1);
          break;
        case 5:  // IPv6 UDP
          b.ipv6(ipv6_text(rng), ipv6_text(rng)).udp(sport, 443).payload(32);
          break;
        case 6:  // 802.1Q IPv4 TCP
          b.vlan(static_cast<std::uint16_t>(rng() % 4094 + 1))
              .ipv4(ipv4_text(rng, 172), ipv4_text(rng, 10))
              .tcp(sport, dport, tcpflag::kAck, 1, 1)
              .payload(2);
          break;
        default:  // QinQ IPv4 TCP, full-size segment
          b.qinq(100, static_cast<std::uint16_t>(rng() % 4094 + 1))
              .ipv4(ipv4_text(rng, 10), ipv4_text(rng, 151))
              .tcp(sport, dport, tcpflag::kAck | tcpflag::kPsh, 1, 1)
              .payload(1400);
          break;
      }
      out.push_back(Frame{b.build(), b.wire_len(), b.link_type()});
    }
    return out;
  }();
  return all;
}

const std::vector<ParsedPacket>& parsed() {
  static const std::vector<ParsedPacket> all = [] {
    std::vector<ParsedPacket> out(kFrames);
    for (std::size_t i = 0; i < kFrames; ++i) {
      const Frame& f = frames()[i];
      parse_packet(std::span<const std::byte>(f.bytes), f.wire_len, f.link, out[i]);
    }
    return out;
  }();
  return all;
}

void BM_Parse(benchmark::State& state) {
  const std::vector<Frame>& fs = frames();
  for (const Frame& f : fs) {  // a frame that fails would measure the error path
    ParsedPacket p;
    if (parse_packet(std::span<const std::byte>(f.bytes), f.wire_len, f.link, p).status != ParseStatus::Ok) {
      state.SkipWithError("a benchmark frame does not parse");
      return;
    }
  }
  std::size_t i = 0;
  ParsedPacket p;
  for (auto _ : state) {
    const Frame& f = fs[i];
    const ParseResult r = parse_packet(std::span<const std::byte>(f.bytes), f.wire_len, f.link, p);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(p);
    i = (i + 1) & (kFrames - 1);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Parse);

void BM_KeyHash(benchmark::State& state) {
  const std::vector<ParsedPacket>& ps = parsed();
  std::size_t i = 0;
  for (auto _ : state) {
    const NormalizedKey nk = normalize_flow_key(ps[i], true);
    const std::uint32_t h = flow_hash(nk.key, kSeed);
    benchmark::DoNotOptimize(h);
    benchmark::DoNotOptimize(nk.dir);
    i = (i + 1) & (kFrames - 1);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_KeyHash);

// A typical finished record: real-looking counters so the integer printing is
// not a one-digit shortcut.
FlowEvent sample_event(int ip_version) {
  ParsedPacket p;
  p.ip_version = static_cast<std::uint8_t>(ip_version);
  if (ip_version == 4) {
    p.src_addr = test::ip_addr("192.168.17.203");
    p.dst_addr = test::ip_addr("93.184.216.34");
    p.proto = ipproto::kTcp;
  } else {
    p.src_addr = test::ip_addr("2001:db8:85a3:8d3:1319:8a2e:370:7348");
    p.dst_addr = test::ip_addr("2606:4700:4700::1111");
    p.proto = ipproto::kUdp;
  }
  p.src_port = 51724;
  p.dst_port = 443;
  FlowEvent ev{};
  const NormalizedKey nk = normalize_flow_key(p, true);
  ev.key = nk.key;
  ev.initiator_dir = nk.dir;
  ev.flow_id = 123456789;
  ev.first_ts_ns = 1700000000123456789ULL;
  ev.last_ts_ns = 1700000042987654321ULL;
  ev.packets[0] = 18234;
  ev.packets[1] = 25519;
  ev.bytes[0] = 1893456;
  ev.bytes[1] = 35128842;
  ev.generation = 1;
  ev.tcp_flags[0] = tcpflag::kSyn | tcpflag::kAck | tcpflag::kPsh | tcpflag::kFin;
  ev.tcp_flags[1] = tcpflag::kSyn | tcpflag::kAck | tcpflag::kFin;
  ev.end_reason = EndReason::tcp_close;
  ev.worker = 3;
  return ev;
}

void BM_JsonEncode(benchmark::State& state) {
  const FlowEvent ev = sample_event(static_cast<int>(state.range(0)));
  char buf[kJsonRecordMax];
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::size_t n = format_json_record(ev, 0, buf, sizeof buf);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
    bytes += n;
  }
  if (bytes == 0 && state.iterations() > 0) state.SkipWithError("format_json_record wrote nothing");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_JsonEncode)->ArgName("ip")->Arg(4)->Arg(6);

}  // namespace
}  // namespace sf::bench
