// The encoder's messages as UDP/4739 packets in a pcap, read by tshark's IPFIX
// dissector (cflow): no malformed packet or error expert info, and the fields
// tshark decodes equal the values the flows were built with. Skips visibly
// when tshark is not installed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "ipfix_test_util.hpp"

namespace sf {
namespace {

bool have_tshark() { return std::system("tshark -v >/dev/null 2>&1") == 0; }

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  pclose(p);
  return out;
}

void le32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void be16(std::vector<std::uint8_t>& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

// Classic pcap (LINKTYPE_ETHERNET), one IPv4/UDP 127.0.0.1:4739 -> 127.0.0.2:4739
// packet per message; UDP checksum 0 (not computed, allowed over IPv4).
std::vector<std::uint8_t> pcap_of(const std::vector<std::vector<std::uint8_t>>& messages) {
  std::vector<std::uint8_t> f;
  le32(f, 0xa1b2c3d4);
  f.insert(f.end(), {2, 0, 4, 0});  // version 2.4
  le32(f, 0);
  le32(f, 0);
  le32(f, 65535);
  le32(f, 1);
  std::uint32_t sec = 1700000000;
  for (const auto& m : messages) {
    std::vector<std::uint8_t> p(12, 0);  // MACs
    p[5] = 1;
    p[11] = 2;
    be16(p, 0x0800);
    const std::size_t ip_start = p.size();
    const auto ip_len = static_cast<std::uint16_t>(20 + 8 + m.size());
    p.insert(p.end(), {0x45, 0});
    be16(p, ip_len);
    p.insert(p.end(), {0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 2});
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < 20; i += 2) sum += (p[ip_start + i] << 8) | p[ip_start + i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    const auto csum = static_cast<std::uint16_t>(~sum);
    p[ip_start + 10] = static_cast<std::uint8_t>(csum >> 8);
    p[ip_start + 11] = static_cast<std::uint8_t>(csum);
    be16(p, 4739);
    be16(p, 4739);
    be16(p, static_cast<std::uint16_t>(8 + m.size()));
    be16(p, 0);
    p.insert(p.end(), m.begin(), m.end());
    le32(f, sec++);
    le32(f, 0);
    le32(f, static_cast<std::uint32_t>(p.size()));
    le32(f, static_cast<std::uint32_t>(p.size()));
    f.insert(f.end(), p.begin(), p.end());
  }
  return f;
}

class TsharkFile {
 public:
  explicit TsharkFile(const std::vector<std::vector<std::uint8_t>>& messages) {
    char name[] = "/tmp/sf_ipfix_XXXXXX";
    const int fd = mkstemp(name);
    if (fd >= 0) close(fd);
    path_ = name;
    const auto bytes = pcap_of(messages);
    std::ofstream(path_, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                 static_cast<std::streamsize>(bytes.size()));
  }
  ~TsharkFile() {
    if (std::getenv("SF_IPFIX_KEEP_PCAP") == nullptr) std::remove(path_.c_str());
  }
  std::string verbose() const { return run("tshark -n -r " + path_ + " -d udp.port==4739,cflow -V 2>&1"); }
  // One line per record: the fields tab-separated (tshark joins a packet's values with ',').
  std::string fields(const std::vector<std::string>& names, bool per_record = true) const {
    std::string cmd = "tshark -n -r " + path_ + " -d udp.port==4739,cflow -T fields";
    if (per_record) cmd += " -E occurrence=a -E aggregator=';'";
    for (const auto& n : names) cmd += " -e " + n;
    return run(cmd + " 2>/dev/null");
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void expect_clean(const std::string& v) {
  EXPECT_EQ(v.find("Malformed"), std::string::npos) << v;
  EXPECT_EQ(v.find("Expert Info (Error"), std::string::npos) << v;
  EXPECT_EQ(v.find("Expert Info (Warning"), std::string::npos) << v;
}

TEST(IpfixTshark, UniflowV4AndV6) {
  if (!have_tshark()) GTEST_SKIP() << "tshark is not installed: IPFIX dissector check skipped";
  test::CollectSink sink;
  IpfixOptions o;
  o.mode = IpfixMode::kUniflow;
  IpfixEncoder enc(o, sink);
  enc.add(test::tcp_event_v4(), nullptr, "", 1700000000);
  enc.add(test::udp_event_v6(), nullptr, "", 1700000000);
  enc.flush(1700000000);
  ASSERT_EQ(sink.messages.size(), 1U);
  const TsharkFile f(sink.messages);
  expect_clean(f.verbose());
  EXPECT_EQ(f.fields({"cflow.srcaddr", "cflow.dstaddr", "cflow.srcport", "cflow.dstport", "cflow.packets",
                      "cflow.octets", "cflow.protocol"}),
            "192.168.1.9;10.0.0.5\t10.0.0.5;192.168.1.9\t40000;80;5353;53\t80;40000;53;5353\t3;2;1;1\t"
            "180;300;100;200\t6;6;17;17\n");
  EXPECT_EQ(f.fields({"cflow.srcaddrv6", "cflow.dstaddrv6"}),
            "2001:db8::1;2001:db8::2\t2001:db8::2;2001:db8::1\n");
}

std::string hex(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

TEST(IpfixTshark, BiflowWithVlansAndMetadata) {
  if (!have_tshark()) GTEST_SKIP() << "tshark is not installed: IPFIX dissector check skipped";
  test::CollectSink sink;
  IpfixOptions o;
  o.mode = IpfixMode::kBiflow;
  IpfixEncoder enc(o, sink);
  FlowEvent ev = test::tcp_event_v4();
  ev.key.vlan_count = 2;
  ev.key.vlan_outer = 100;
  ev.key.vlan_inner = 200;
  AppRecord tls{};
  tls.kind = AppKind::kTls;
  tls.tls.bits = AppTlsPart::kClientHello | AppTlsPart::kSni;
  tls.tls.sni.assign("www.example.com");
  enc.add(ev, &tls, "www.example.com", "tls_sni", 1700000000);
  const std::string long_name(300, 'x');  // cut to 255: RFC 7011's three-byte length form
  enc.add(test::udp_event_v6(), nullptr, long_name, "dns", 1700000000);
  enc.flush(1700000000);
  ASSERT_EQ(sink.messages.size(), 1U);
  const TsharkFile f(sink.messages);
  expect_clean(f.verbose());
  // Forward = initiator, then tshark's "(Reverse ...)" values of PEN 29305 in template order.
  EXPECT_EQ(f.fields({"cflow.packets", "cflow.octets", "cflow.tcpflags", "cflow.vlanid",
                      "cflow.dot1q_customer_vlan_id", "cflow.flow_id", "cflow.flow_end_reason",
                      "cflow.biflow_direction", "cflow.ip_version", "cflow.srcaddr", "cflow.srcaddrv6",
                      "cflow.string_len_long"}),
            "3;2;1;1\t180;300;100;200\t0x0012;0x001b;0x0000;0x0000\t100;0\t200;0\t42;7\t3;1\t1;1\t4;6\t"
            "192.168.1.9\t2001:db8::1\t255\n");
  EXPECT_EQ(run("TZ=UTC tshark -n -r " + f.path() +
                " -d udp.port==4739,cflow -T fields -E occurrence=a -E aggregator=';' -e cflow.abstimestart"
                " -e cflow.abstimeend 2>/dev/null"),
            "Nov 14, 2023 22:13:20.123000000 UTC;May 18, 2033 03:33:20.000000000 UTC\t"
            "Nov 14, 2023 22:13:21.987000000 UTC;May 18, 2033 03:33:20.500000000 UTC\n");
  // tshark shows the enterprise elements as bytes and leaves out the empty strings.
  // Community IDs from the spec's definition with Python's hashlib.
  const std::vector<std::string> v4_meta = {
      hex("www.example.com"), hex("SF"), hex("1:FlhKIDMdHMK7WcZYxOh5qM/U8kw="), hex("www.example.com"),
      hex("tls_sni"), "0000", "0000", "0000", "0000", "ffff", "00000001", hex("first_packet")};
  const std::vector<std::string> v6_meta = {
      hex("SF"), hex("1:sEzqFsMvqwEs2PgSeOAwGpzkZJo="), hex(std::string(255, 'x')), hex("dns"),
      "0000", "0000", "0000", "0000", "ffff", "00000001", hex("first_packet")};
  std::string want;
  for (const auto* list : {&v4_meta, &v6_meta}) {
    for (const auto& e : *list) want += (want.empty() ? "" : ";") + e;
  }
  EXPECT_EQ(f.fields({"cflow.enterprise_private_entry"}), want + "\n");
}

// Many MTU-sized messages, both versions, uniflow with metadata: every record
// is dissected (counted through flowId) and the packet counters add up.
TEST(IpfixTshark, ManyMessages) {
  if (!have_tshark()) GTEST_SKIP() << "tshark is not installed: IPFIX dissector check skipped";
  test::CollectSink sink;
  IpfixOptions o;
  o.mode = IpfixMode::kUniflow;
  o.template_refresh_s = 10;
  IpfixEncoder enc(o, sink);
  AppRecord dns{};
  dns.kind = AppKind::kDns;
  dns.dns.bits = AppDnsPart::kQuestion;
  dns.dns.query.assign("a-rather-long-name.example.org");
  std::uint64_t packets = 0;
  std::uint64_t records = 0;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    FlowEvent ev = (i % 2) ? test::tcp_event_v4() : test::udp_event_v6();
    ev.packets[0] = i % 7;  // 0: a one-direction flow
    ev.packets[1] = 1 + i % 5;
    packets += ev.packets[0] + ev.packets[1];
    records += (ev.packets[0] != 0) + 1;
    enc.add(ev, (i % 3 == 0) ? &dns : nullptr, "", 1700000000 + i / 50);
  }
  enc.flush(1700000020);
  ASSERT_GT(sink.messages.size(), 50U);
  const TsharkFile f(sink.messages);
  expect_clean(f.verbose());
  std::istringstream lines(f.fields({"cflow.packets"}));
  std::uint64_t sum = 0;
  std::uint64_t count = 0;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream values(line);
    for (std::string v; std::getline(values, v, ';');) {
      if (v.empty()) continue;
      sum += std::stoull(v);
      ++count;
    }
  }
  EXPECT_EQ(count, records);
  EXPECT_EQ(sum, packets);
}

}  // namespace
}  // namespace sf
