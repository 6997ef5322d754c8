// Run to completion against the traffic's own ground truth and against
// software dispatch: two workers each polling their own capture (the flows
// split between them, as a NIC's RSS would) must give every flow the packets
// the traffic generator sent it, with flow ids unique over the run, and the
// same per-flow counts as one RX lcore dispatching the merged capture.
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "engine/capture_source.hpp"
#include "engine/engine.hpp"
#include "mbuf_util.hpp"

namespace sf::test {
namespace {

constexpr std::uint32_t kFlows = 60;
constexpr std::uint64_t kPackets = 6000;

std::string temp_path(const std::string& name) {
  return testing::TempDir() + "sf_rtc_" + std::to_string(getpid()) + "_" + name;
}

// Writes the packets whose flow passes keep(flow), in order, 1 us apart.
void write_capture(const Traffic& t, const std::string& path, bool (*keep)(std::uint32_t)) {
  pcap_t* dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
  pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
  ASSERT_NE(d, nullptr) << pcap_geterr(dead);
  for (std::uint64_t i = 0; i < t.kind_of.size(); ++i) {
    const std::uint32_t kind = t.kind_of[i];
    if (!keep(t.flow[kind])) continue;
    const Bytes& f = t.frames[kind];
    pcap_pkthdr h{};
    const std::uint64_t ts = kTs0 + i * 1000;
    h.ts.tv_sec = static_cast<time_t>(ts / 1000000000ULL);
    h.ts.tv_usec = static_cast<suseconds_t>(ts % 1000000000ULL);  // ns: nanosecond file
    h.caplen = h.len = static_cast<bpf_u_int32>(f.size());
    pcap_dump(reinterpret_cast<u_char*>(d), &h, reinterpret_cast<const u_char*>(f.data()));
  }
  pcap_dump_close(d);
  pcap_close(dead);
}

// One JSON record's identity and counts, read with plain string search (the
// schema is the README's; the values are what matter here).
struct Rec {
  std::string src_ip, dst_ip;
  std::uint64_t src_port = 0, dst_port = 0, packets = 0, bytes = 0, flow_id = 0;
};

std::string field(const std::string& line, const std::string& key) {
  const std::string k = "\"" + key + "\":";
  const auto at = line.find(k);
  if (at == std::string::npos) return {};
  auto v = at + k.size();
  if (line[v] == '"') {
    const auto end = line.find('"', v + 1);
    return line.substr(v + 1, end - v - 1);
  }
  const auto end = line.find_first_of(",}", v);
  return line.substr(v, end - v);
}

std::vector<Rec> read_records(const std::string& path) {
  std::vector<Rec> out;
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);) {
    Rec r;
    r.src_ip = field(line, "src_ip");
    r.dst_ip = field(line, "dst_ip");
    r.src_port = std::stoull(field(line, "src_port"));
    r.dst_port = std::stoull(field(line, "dst_port"));
    r.packets = std::stoull(field(line, "src_packets")) + std::stoull(field(line, "dst_packets"));
    r.bytes = std::stoull(field(line, "src_bytes")) + std::stoull(field(line, "dst_bytes"));
    r.flow_id = std::stoull(field(line, "flow_id"));
    out.push_back(r);
  }
  return out;
}

// Per conversation (both endpoints, either order): packets and bytes.
using Conv = std::tuple<std::string, std::uint64_t, std::string, std::uint64_t>;
Conv conv(const Rec& r) {
  const auto a = std::make_tuple(r.src_ip, r.src_port), b = std::make_tuple(r.dst_ip, r.dst_port);
  return a < b ? Conv{r.src_ip, r.src_port, r.dst_ip, r.dst_port} : Conv{r.dst_ip, r.dst_port, r.src_ip, r.src_port};
}
std::map<Conv, std::pair<std::uint64_t, std::uint64_t>> by_conversation(const std::vector<Rec>& recs) {
  std::map<Conv, std::pair<std::uint64_t, std::uint64_t>> m;
  for (const Rec& r : recs) {
    m[conv(r)].first += r.packets;
    m[conv(r)].second += r.bytes;
  }
  return m;
}

Config base_config(const std::string& json) {
  Config c;
  c.lcores.workers = 2;
  c.flow_table.capacity_per_worker = 4096;
  c.mempool.mbufs = 4095;
  c.exports.json = {true, json};
  return c;
}

EngineReport run_engine(Result<std::unique_ptr<Engine>> engine) {
  EXPECT_TRUE(engine) << (engine ? "" : engine.error());
  if (!engine) return {};
  const Status st = (*engine)->run([] { return false; });
  EXPECT_TRUE(st) << (st ? "" : st.error());
  return (*engine)->report();
}

TEST(RunToCompletion, EachWorkerPollingItsOwnCaptureMatchesTheTrafficAndSoftwareDispatch) {
  const Traffic t = make_traffic(kFlows, kPackets);
  const std::string all = temp_path("all.pcap"), low = temp_path("low.pcap"), high = temp_path("high.pcap");
  write_capture(t, all, [](std::uint32_t) { return true; });
  write_capture(t, low, [](std::uint32_t f) { return f < kFlows / 2; });
  write_capture(t, high, [](std::uint32_t f) { return f >= kFlows / 2; });

  // Ground truth: packets per flow, from what was written.
  std::vector<std::uint64_t> sent(kFlows, 0);
  for (std::uint32_t kind : t.kind_of) ++sent[t.flow[kind]];

  const std::string json_rings = temp_path("rings.json"), json_rtc = temp_path("rtc.json");
  Config rings = base_config(json_rings);
  rings.read_path = all;
  const EngineReport r1 = run_engine(Engine::create(rings));

  std::vector<std::unique_ptr<PacketSource>> sources;
  for (const std::string& p : {low, high}) {
    auto src = CaptureSource::open(p);
    ASSERT_TRUE(src) << src.error();
    sources.push_back(std::move(src.value()));
  }
  const EngineReport r2 = run_engine(Engine::create_run_to_completion(base_config(json_rtc), std::move(sources)));

  EXPECT_EQ(r1.packets_in, kPackets);
  EXPECT_EQ(r2.packets_in, kPackets);
  EXPECT_EQ(r2.flows_packets, kPackets) << "every packet in a record";
  ASSERT_EQ(r2.packets_per_worker.size(), 2U);
  EXPECT_GT(r2.packets_per_worker[0], 0U);
  EXPECT_GT(r2.packets_per_worker[1], 0U);

  const std::vector<Rec> a = read_records(json_rings), b = read_records(json_rtc);
  EXPECT_EQ(a.size(), kFlows);
  ASSERT_EQ(b.size(), kFlows);
  std::set<std::uint64_t> ids;
  for (const Rec& r : b) ids.insert(r.flow_id);
  EXPECT_EQ(ids.size(), b.size()) << "flow ids repeat across the workers' inputs";
  EXPECT_EQ(by_conversation(a), by_conversation(b));
  std::multiset<std::uint64_t> got, want(sent.begin(), sent.end());
  for (const Rec& r : b) got.insert(r.packets);
  EXPECT_EQ(got, want);
  for (const std::string& p : {all, low, high, json_rings, json_rtc}) std::remove(p.c_str());
}

TEST(RunToCompletion, NeedsOneInputPerWorker) {
  std::vector<std::unique_ptr<PacketSource>> none;
  const auto e = Engine::create_run_to_completion(base_config(temp_path("none.json")), std::move(none));
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().find("one input per worker"), std::string::npos) << e.error();
}

}  // namespace
}  // namespace sf::test
