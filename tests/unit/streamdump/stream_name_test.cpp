// Stream file names: sender first, IPv4 dotted quad and IPv6 compressed text
// without padding, VLAN and generation suffixes, short buffers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "streamdump/stream_name.hpp"
#include "stream_dump_test_util.hpp"

namespace sf {
namespace {

using test::tcp_key;

std::string name(const FlowKey& k, std::uint8_t dir, std::uint32_t gen = 1) {
  char buf[kStreamNameMax];
  const std::size_t n = format_stream_name(k, dir, gen, buf, sizeof buf);
  EXPECT_EQ(n, std::strlen(buf));
  return std::string(buf, n);
}

TEST(StreamName, Ipv4SenderFirstNoPadding) {
  const FlowKey k = tcp_key("10.0.0.1", 1234, "192.168.1.2", 80);
  EXPECT_EQ(name(k, kDirLoToHi), "10.0.0.1.1234-192.168.1.2.80");
  EXPECT_EQ(name(k, kDirHiToLo), "192.168.1.2.80-10.0.0.1.1234");
  const FlowKey z = tcp_key("0.0.0.0", 0, "255.255.255.255", 65535);
  EXPECT_EQ(name(z, kDirLoToHi), "0.0.0.0.0-255.255.255.255.65535");
}

TEST(StreamName, Ipv6CompressedForm) {
  const FlowKey k = tcp_key("2001:db8::1", 443, "2001:0db8:0000:0000:0001:0000:0000:0002", 50000);
  EXPECT_EQ(name(k, kDirLoToHi), "2001:db8::1.443-2001:db8::1:0:0:2.50000");
  EXPECT_EQ(name(k, kDirHiToLo), "2001:db8::1:0:0:2.50000-2001:db8::1.443");
  const FlowKey loop = tcp_key("::1", 80, "::1", 44730);
  EXPECT_EQ(name(loop, kDirHiToLo), "::1.44730-::1.80");
  const FlowKey ll = tcp_key("fe80::1", 22, "fe80::a:b", 60000);
  EXPECT_EQ(name(ll, kDirLoToHi), "fe80::1.22-fe80::a:b.60000");
  const FlowKey mapped = tcp_key("::ffff:10.1.2.3", 80, "2a00:1450:4001:803::1017", 443);
  EXPECT_EQ(name(mapped, kDirLoToHi), "::ffff:10.1.2.3.80-2a00:1450:4001:803::1017.443");
}

TEST(StreamName, GenerationSuffixFromTheSecond) {
  const FlowKey k = tcp_key("10.0.0.1", 1234, "10.0.0.2", 80);
  EXPECT_EQ(name(k, kDirLoToHi, 0), "10.0.0.1.1234-10.0.0.2.80");
  EXPECT_EQ(name(k, kDirLoToHi, 1), "10.0.0.1.1234-10.0.0.2.80");
  EXPECT_EQ(name(k, kDirLoToHi, 2), "10.0.0.1.1234-10.0.0.2.80-g2");
  EXPECT_EQ(name(k, kDirHiToLo, 17), "10.0.0.2.80-10.0.0.1.1234-g17");
}

TEST(StreamName, VlanSuffixWhenKeyed) {
  FlowKey k = tcp_key("10.0.0.1", 1234, "10.0.0.2", 80);
  k.vlan_count = 1;
  k.vlan_outer = 10;
  EXPECT_EQ(name(k, kDirLoToHi), "10.0.0.1.1234-10.0.0.2.80--10");
  k.vlan_count = 2;
  k.vlan_inner = 20;
  EXPECT_EQ(name(k, kDirHiToLo, 3), "10.0.0.2.80-10.0.0.1.1234--10.20-g3");
}

TEST(StreamName, LongestFitsAndShortBuffersFail) {
  FlowKey k = tcp_key("1111:2222:3333:4444:5555:6666:7777:8888", 65535, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                      65535);
  k.vlan_count = 2;
  k.vlan_outer = 4095;
  k.vlan_inner = 4095;
  const std::string full = name(k, kDirLoToHi, 4294967295U);
  EXPECT_EQ(full,
            "1111:2222:3333:4444:5555:6666:7777:8888.65535-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff.65535--4095.4095"
            "-g4294967295");
  // Room for the writer's "-n{K}" repeat suffix too.
  EXPECT_LT(full.size() + 12, kStreamNameMax);
  std::vector<char> small(full.size());  // one short of the NUL
  EXPECT_EQ(format_stream_name(k, kDirLoToHi, 4294967295U, small.data(), small.size()), 0U);
  std::vector<char> exact(full.size() + 1);
  EXPECT_EQ(format_stream_name(k, kDirLoToHi, 4294967295U, exact.data(), exact.size()), full.size());
  EXPECT_EQ(format_stream_name(k, kDirLoToHi, 1, exact.data(), 0), 0U);
}

TEST(StreamName, EndReasonNames) {
  EXPECT_EQ(stream_end_name(static_cast<std::uint8_t>(StreamEnd::fin)), "fin");
  EXPECT_EQ(stream_end_name(static_cast<std::uint8_t>(StreamEnd::rst)), "rst");
  EXPECT_EQ(stream_end_name(static_cast<std::uint8_t>(StreamEnd::timeout)), "timeout");
  EXPECT_EQ(stream_end_name(static_cast<std::uint8_t>(StreamEnd::evicted)), "evicted");
  EXPECT_EQ(stream_end_name(static_cast<std::uint8_t>(StreamEnd::eof)), "eof");
  EXPECT_EQ(stream_end_name(static_cast<std::uint8_t>(StreamEnd::shutdown)), "shutdown");
  EXPECT_EQ(stream_end_name(static_cast<std::uint8_t>(StreamEnd::kCount)), "none");
}

}  // namespace
}  // namespace sf
