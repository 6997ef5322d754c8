// The JSON flow record: exact text for known events, orientation, flag
// letters, timestamps, IPv6, VLAN fields, and short buffers.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "export/json_record.hpp"

namespace sf {
namespace {

std::array<std::uint8_t, 16> addr(const char* text) {
  std::array<std::uint8_t, 16> a{};
  const int af = std::strchr(text, ':') != nullptr ? AF_INET6 : AF_INET;
  EXPECT_EQ(inet_pton(af, text, a.data()), 1) << text;
  return a;
}

FlowEvent tcp_event() {
  FlowEvent ev{};
  ev.key.addr_lo = addr("10.0.0.1");
  ev.key.port_lo = 1234;
  ev.key.addr_hi = addr("10.0.0.2");
  ev.key.port_hi = 80;
  ev.key.proto = ipproto::kTcp;
  ev.key.ip_version = 4;
  ev.flow_id = 42;
  ev.generation = 1;
  ev.first_ts_ns = 1700000000123456789ULL;
  ev.last_ts_ns = 1700000001000000999ULL;
  ev.packets[0] = 3;
  ev.packets[1] = 2;
  ev.bytes[0] = 180;
  ev.bytes[1] = 1120;
  ev.tcp_flags[0] = tcpflag::kSyn | tcpflag::kAck | tcpflag::kPsh | tcpflag::kFin;
  ev.tcp_flags[1] = tcpflag::kSyn | tcpflag::kAck | tcpflag::kRst;
  ev.initiator_dir = kDirLoToHi;
  ev.end_reason = EndReason::tcp_close;
  ev.worker = 3;
  ev.seq = 17;
  ev.conn_state = ConnState::RSTR;
  ev.direction_reason = DirectionReason::syn;
  return ev;
}

// The same flow with its TCP part: each per-direction counter distinct, so a
// swapped direction shows.
FlowEvent tcp_event_with_state() {
  FlowEvent ev = tcp_event();
  TcpRecord& t = ev.tcp;
  t.bits = kTcpRecordState | kTcpRecordRtt;
  const char history[] = "ShADadr";
  std::memcpy(t.history, history, sizeof history - 1);
  t.history_len = sizeof history - 1;
  t.retrans_packets[kDirLoToHi] = 1;
  t.retrans_packets[kDirHiToLo] = 2;
  t.retrans_bytes[kDirLoToHi] = 10;
  t.retrans_bytes[kDirHiToLo] = 20;
  t.ooo_segments[kDirLoToHi] = 3;
  t.ooo_segments[kDirHiToLo] = 4;
  t.zero_windows[kDirLoToHi] = 5;
  t.zero_windows[kDirHiToLo] = 6;
  t.missed_bytes[kDirLoToHi] = 70;
  t.missed_bytes[kDirHiToLo] = 80;
  t.overlap_conflict_bytes[kDirLoToHi] = 9;
  t.overlap_conflict_bytes[kDirHiToLo] = 11;
  t.rtt_synack_us = 1500;
  t.rtt_ack_us = 250;
  return ev;
}

std::string format(const FlowEvent& ev, std::uint16_t community_id_seed = 0) {
  char buf[kJsonRecordMax];
  const std::size_t n = format_json_record(ev, community_id_seed, buf, sizeof buf);
  EXPECT_GT(n, 0U);
  return std::string(buf, n);
}

// A tiny parser for the flat objects the exporter writes: keys in order, raw
// value text (numbers as written; strings without their quotes).
std::vector<std::pair<std::string, std::string>> parse_flat(const std::string& line) {
  std::vector<std::pair<std::string, std::string>> out;
  EXPECT_GE(line.size(), 3U);
  EXPECT_EQ(line.front(), '{');
  EXPECT_EQ(line.substr(line.size() - 2), "}\n");
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
  std::size_t i = 1;
  while (i < line.size() && line[i] != '}') {
    EXPECT_EQ(line[i], '"');
    const std::size_t kend = line.find('"', i + 1);
    std::string k = line.substr(i + 1, kend - i - 1);
    EXPECT_EQ(line[kend + 1], ':');
    i = kend + 2;
    std::string v;
    if (line[i] == '"') {
      const std::size_t vend = line.find('"', i + 1);
      v = line.substr(i + 1, vend - i - 1);
      i = vend + 1;
    } else {
      const std::size_t vend = line.find_first_of(",}", i);
      v = line.substr(i, vend - i);
      if (v != "true") {
        for (char c : v) EXPECT_TRUE((c >= '0' && c <= '9') || c == '.') << "number " << v;
      }
      EXPECT_FALSE(v.empty());
      i = vend;
    }
    out.emplace_back(std::move(k), std::move(v));
    if (line[i] == ',') ++i;
  }
  return out;
}

std::string field(const std::string& line, const std::string& key) {
  for (const auto& [k, v] : parse_flat(line)) {
    if (k == key) return v;
  }
  return "<absent>";
}

TEST(JsonRecord, KnownTcpEventExactText) {
  EXPECT_EQ(format(tcp_event()),
            "{\"flow_id\":42,\"generation\":1,\"proto\":6,\"ip_version\":4,"
            "\"src_ip\":\"10.0.0.1\",\"src_port\":1234,\"dst_ip\":\"10.0.0.2\",\"dst_port\":80,"
            "\"community_id\":\"1:LzRJKgjvUJlC/VQLtISlfACcEzA=\","
            "\"first_ts\":1700000000.123456,\"last_ts\":1700000001.000000,\"duration\":0.876544,"
            "\"src_packets\":3,\"src_bytes\":180,\"dst_packets\":2,\"dst_bytes\":1120,"
            "\"tcp_flags_src\":\"APSF\",\"tcp_flags_dst\":\"ARS\",\"conn_state\":\"RSTR\","
            "\"direction_reason\":\"syn\",\"end_reason\":\"tcp_close\",\"worker\":3,\"seq\":17}\n");
}

TEST(JsonRecord, TcpPartExactTextFromTheInitiatorsSide) {
  FlowEvent ev = tcp_event_with_state();
  ev.initiator_dir = kDirHiToLo;  // src is the hi side: every src_ counter is the HiToLo one
  const std::string line = format(ev);
  EXPECT_NE(line.find("\"conn_state\":\"RSTR\",\"direction_reason\":\"syn\",\"history\":\"ShADadr\","
                      "\"src_retrans_packets\":2,\"src_retrans_bytes\":20,\"dst_retrans_packets\":1,"
                      "\"dst_retrans_bytes\":10,\"src_ooo_segments\":4,\"dst_ooo_segments\":3,"
                      "\"src_zero_windows\":6,\"dst_zero_windows\":5,\"src_missed_bytes\":80,"
                      "\"dst_missed_bytes\":70,\"missed_bytes\":150,\"overlap_conflict_bytes\":20,"
                      "\"rtt_synack_us\":1500,\"rtt_ack_us\":250,\"rtt_us\":1750,\"end_reason\""),
            std::string::npos)
      << line;
  EXPECT_EQ(field(line, "history_truncated"), "<absent>");
  ev.tcp.bits = static_cast<std::uint8_t>(ev.tcp.bits | kTcpRecordTruncated);
  ev.tcp.bits = static_cast<std::uint8_t>(ev.tcp.bits & ~kTcpRecordRtt);
  const std::string cut = format(ev);
  EXPECT_EQ(field(cut, "history_truncated"), "true");
  EXPECT_EQ(field(cut, "rtt_us"), "<absent>");  // no handshake seen in order: no RTT, not 0
}

TEST(JsonRecord, FieldsInSpecOrder) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : parse_flat(format(tcp_event()))) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"flow_id", "generation", "proto", "ip_version", "src_ip", "src_port",
                                            "dst_ip", "dst_port", "community_id", "first_ts", "last_ts", "duration", "src_packets",
                                            "src_bytes", "dst_packets", "dst_bytes", "tcp_flags_src", "tcp_flags_dst",
                                            "conn_state", "direction_reason", "end_reason", "worker", "seq"}));
}

TEST(JsonRecord, InitiatorOnTheHighSideFlipsEndpointsAndCounters) {
  FlowEvent ev = tcp_event();
  ev.initiator_dir = kDirHiToLo;
  EXPECT_EQ(format(ev),
            "{\"flow_id\":42,\"generation\":1,\"proto\":6,\"ip_version\":4,"
            "\"src_ip\":\"10.0.0.2\",\"src_port\":80,\"dst_ip\":\"10.0.0.1\",\"dst_port\":1234,"
            "\"community_id\":\"1:LzRJKgjvUJlC/VQLtISlfACcEzA=\","
            "\"first_ts\":1700000000.123456,\"last_ts\":1700000001.000000,\"duration\":0.876544,"
            "\"src_packets\":2,\"src_bytes\":1120,\"dst_packets\":3,\"dst_bytes\":180,"
            "\"tcp_flags_src\":\"ARS\",\"tcp_flags_dst\":\"APSF\",\"conn_state\":\"RSTR\","
            "\"direction_reason\":\"syn\",\"end_reason\":\"tcp_close\",\"worker\":3,\"seq\":17}\n");
}

TEST(JsonRecord, FlagLettersInCeuaprsfOrder) {
  char out[9];
  const auto letters = [&](std::uint8_t f) {
    tcp_flags_letters(f, out);
    return std::string(out);
  };
  EXPECT_EQ(letters(0), "");
  EXPECT_EQ(letters(0xFF), "CEUAPRSF");
  EXPECT_EQ(letters(tcpflag::kSyn), "S");
  EXPECT_EQ(letters(tcpflag::kSyn | tcpflag::kAck), "AS");
  EXPECT_EQ(letters(tcpflag::kFin | tcpflag::kPsh | tcpflag::kAck), "APF");
  EXPECT_EQ(letters(tcpflag::kCwr | tcpflag::kFin), "CF");
  EXPECT_EQ(letters(tcpflag::kEce | tcpflag::kUrg | tcpflag::kRst), "EUR");
  // Every combination: letters in order, each present iff its bit is.
  static constexpr char kOrder[] = "CEUAPRSF";
  for (unsigned f = 0; f < 256; ++f) {
    const std::string s = letters(static_cast<std::uint8_t>(f));
    std::string expected;
    for (int bit = 7; bit >= 0; --bit) {
      if (f & (1U << bit)) expected += kOrder[7 - bit];
    }
    ASSERT_EQ(s, expected) << "flags " << f;
  }
  FlowEvent ev = tcp_event();
  ev.tcp_flags[0] = 0xFF;
  ev.tcp_flags[1] = 0;
  const std::string line = format(ev);
  EXPECT_EQ(field(line, "tcp_flags_src"), "CEUAPRSF");
  EXPECT_EQ(field(line, "tcp_flags_dst"), "");
}

TEST(JsonRecord, TimestampsHaveExactlySixDecimals) {
  const struct {
    std::uint64_t ns;
    const char* text;
  } cases[] = {
      {0, "0.000000"},
      {999, "0.000000"},  // truncated to microseconds
      {1000, "0.000001"},
      {999999999, "0.999999"},
      {1000000000, "1.000000"},
      {1700000000000001000ULL, "1700000000.000001"},
      {1700000000100000000ULL, "1700000000.100000"},
  };
  for (const auto& c : cases) {
    FlowEvent ev = tcp_event();
    ev.first_ts_ns = c.ns;
    ev.last_ts_ns = c.ns;
    const std::string line = format(ev);
    EXPECT_EQ(field(line, "first_ts"), c.text);
    EXPECT_EQ(field(line, "last_ts"), c.text);
    EXPECT_EQ(field(line, "duration"), "0.000000");
  }
}

TEST(JsonRecord, DurationIsTheDifferenceOfThePrintedStamps) {
  FlowEvent ev = tcp_event();
  ev.first_ts_ns = 1700000000000000999ULL;  // prints .000000
  ev.last_ts_ns = 1700000000000001000ULL;   // prints .000001
  EXPECT_EQ(field(format(ev), "duration"), "0.000001");
  ev.last_ts_ns = 1700000123456789000ULL;
  EXPECT_EQ(field(format(ev), "duration"), "123.456789");
  ev.last_ts_ns = ev.first_ts_ns - 5000;  // never negative
  EXPECT_EQ(field(format(ev), "duration"), "0.000000");
}

TEST(JsonRecord, Ipv6AddressesInInetNtopForm) {
  FlowEvent ev = tcp_event();
  ev.key.ip_version = 6;
  ev.key.proto = ipproto::kUdp;
  ev.key.addr_lo = addr("2001:db8::1");
  ev.key.addr_hi = addr("2001:db8:0:0:1:0:ff:2");
  ev.key.port_lo = 53;
  ev.key.port_hi = 40000;
  ev.tcp_flags[0] = ev.tcp_flags[1] = 0;
  ev.initiator_dir = kDirHiToLo;
  const std::string line = format(ev);
  EXPECT_EQ(field(line, "ip_version"), "6");
  EXPECT_EQ(field(line, "proto"), "17");
  EXPECT_EQ(field(line, "src_ip"), "2001:db8::1:0:ff:2");
  EXPECT_EQ(field(line, "src_port"), "40000");
  EXPECT_EQ(field(line, "dst_ip"), "2001:db8::1");
  EXPECT_EQ(field(line, "dst_port"), "53");
  EXPECT_EQ(field(line, "tcp_flags_src"), "");
  ev.key.addr_lo = addr("::ffff:192.0.2.1");
  ev.key.addr_hi = addr("fe80::");
  const std::string mapped = format(ev);
  EXPECT_EQ(field(mapped, "dst_ip"), "::ffff:192.0.2.1");
  EXPECT_EQ(field(mapped, "src_ip"), "fe80::");
}

TEST(JsonRecord, VlanFieldsOnlyWhenTagged) {
  FlowEvent ev = tcp_event();
  ev.key.vlan_outer = 100;  // ignored without vlan_count
  const std::string untagged = format(ev);
  EXPECT_EQ(untagged.find("vlan"), std::string::npos) << untagged;
  ev.key.vlan_count = 1;
  const std::string one = format(ev);
  EXPECT_NE(one.find("\"dst_port\":80,\"vlan\":100,\"community_id\":"), std::string::npos) << one;
  EXPECT_EQ(one.find("inner_vlan"), std::string::npos);
  ev.key.vlan_count = 2;
  ev.key.vlan_inner = 4094;
  const std::string two = format(ev);
  EXPECT_NE(two.find("\"dst_port\":80,\"vlan\":100,\"inner_vlan\":4094,\"community_id\":"), std::string::npos) << two;
}

TEST(JsonRecord, EveryEndReasonByName) {
  const std::pair<EndReason, const char*> names[] = {
      {EndReason::idle, "idle"}, {EndReason::active, "active"}, {EndReason::tcp_close, "tcp_close"},
      {EndReason::evicted, "evicted"}, {EndReason::eof, "eof"}, {EndReason::shutdown, "shutdown"}};
  for (const auto& [r, name] : names) {
    FlowEvent ev = tcp_event();
    ev.end_reason = r;
    EXPECT_EQ(field(format(ev), "end_reason"), name);
    EXPECT_EQ(end_reason_name(r), name);
  }
}

TEST(JsonRecord, IcmpAndOtherProtocols) {
  FlowEvent ev = tcp_event();
  ev.key.proto = ipproto::kIcmp;
  ev.key.port_lo = ev.key.port_hi = 0x1234;  // echo identifier
  ev.tcp_flags[0] = ev.tcp_flags[1] = 0;
  const std::string line = format(ev);
  EXPECT_EQ(field(line, "proto"), "1");
  EXPECT_EQ(field(line, "src_port"), "4660");
  EXPECT_EQ(field(line, "dst_port"), "4660");
  ev.key.proto = 47;
  ev.key.port_lo = ev.key.port_hi = 0;
  EXPECT_EQ(field(format(ev), "src_port"), "0");
}

// Values from the Community ID spec's baseline (baseline_deflt.json and
// baseline_seed1.json of github.com/corelight/community-id-spec).
TEST(JsonRecord, CommunityIdWithTheConfiguredSeed) {
  FlowEvent ev = tcp_event();
  ev.key.addr_lo = addr("66.35.250.204");
  ev.key.port_lo = 80;
  ev.key.addr_hi = addr("128.232.110.120");
  ev.key.port_hi = 34855;
  for (std::uint8_t dir : {kDirLoToHi, kDirHiToLo}) {
    ev.initiator_dir = dir;
    EXPECT_EQ(field(format(ev, 0), "community_id"), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    EXPECT_EQ(field(format(ev, 1), "community_id"), "1:3V71V58M3Ksw/yuFALMcW0LAHvc=");
  }
  // VLANs are not part of the id.
  ev.key.vlan_count = 2;
  ev.key.vlan_outer = 10;
  ev.key.vlan_inner = 20;
  EXPECT_EQ(field(format(ev, 0), "community_id"), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
}

TEST(JsonRecord, CommunityIdOfAnEchoFlowFollowsTheFirstPacketsType) {
  // 192.168.0.89 pings 192.168.0.1; the key holds the identifier twice.
  FlowEvent ev = tcp_event();
  ev.key.proto = ipproto::kIcmp;
  ev.key.addr_lo = addr("192.168.0.1");
  ev.key.addr_hi = addr("192.168.0.89");
  ev.key.port_lo = ev.key.port_hi = 0x1234;
  ev.tcp_flags[0] = ev.tcp_flags[1] = 0;
  ev.initiator_dir = kDirHiToLo;  // .89 sent the first packet: the request
  ev.icmp_type = 8;
  EXPECT_EQ(field(format(ev), "community_id"), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
  ev.initiator_dir = kDirLoToHi;  // .1 sent the first packet: the reply
  ev.icmp_type = 0;
  EXPECT_EQ(field(format(ev), "community_id"), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
  EXPECT_EQ(field(format(ev, 1), "community_id"), "1:03g6IloqVBdcZlPyX8r0hgoE7kA=");
  // Had .1 sent a request, the other pinger's id.
  ev.icmp_type = 8;
  EXPECT_NE(field(format(ev), "community_id"), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
}

TEST(JsonRecord, LongestRecordFitsTheMaximum) {
  FlowEvent ev{};
  ev.key.ip_version = 6;
  ev.key.proto = 255;
  ev.key.addr_lo = addr("1111:2222:3333:4444:5555:6666:7777:8888");
  ev.key.addr_hi = addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
  ev.key.port_lo = ev.key.port_hi = 65535;
  ev.key.vlan_count = 2;
  ev.key.vlan_outer = ev.key.vlan_inner = 4095;
  ev.flow_id = UINT64_MAX;
  ev.generation = UINT32_MAX;
  ev.first_ts_ns = 0;
  ev.last_ts_ns = UINT64_MAX;
  ev.packets[0] = ev.packets[1] = ev.bytes[0] = ev.bytes[1] = UINT64_MAX;
  ev.tcp_flags[0] = ev.tcp_flags[1] = 0xFF;
  ev.end_reason = EndReason::tcp_close;
  ev.worker = UINT16_MAX;
  char buf[kJsonRecordMax];
  const std::size_t n = format_json_record(ev, 65535, buf, sizeof buf);
  ASSERT_GT(n, 0U);
  const std::string line(buf, n);
  EXPECT_EQ(field(line, "src_ip"), "1111:2222:3333:4444:5555:6666:7777:8888");
  EXPECT_EQ(field(line, "src_packets"), "18446744073709551615");
  EXPECT_EQ(field(line, "last_ts"), "18446744073.709551");
}

TEST(JsonRecord, TooSmallBufferReturnsZeroAndStaysInBounds) {
  const FlowEvent ev = tcp_event();
  const std::string full = format(ev);
  for (std::size_t cap = 0; cap < full.size(); ++cap) {
    std::vector<char> buf(full.size() + 16, '#');
    EXPECT_EQ(format_json_record(ev, 0, buf.data(), cap), 0U) << "cap " << cap;
    for (std::size_t i = cap; i < buf.size(); ++i) ASSERT_EQ(buf[i], '#') << "wrote past cap " << cap;
  }
  std::vector<char> exact(full.size());
  ASSERT_EQ(format_json_record(ev, 0, exact.data(), exact.size()), full.size());
  EXPECT_EQ(std::string(exact.begin(), exact.end()), full);
}

}  // namespace
}  // namespace sf
