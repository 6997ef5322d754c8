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

}  // namespace
}  // namespace sf
