// Header fields that make a fully captured frame impossible to parse.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parse_test_util.hpp"

namespace sf::test {
namespace {

using PB = PacketBuilder;
using R = MalformedReason;

constexpr const char* kA4 = "10.0.0.1";
constexpr const char* kB4 = "10.0.0.2";
constexpr const char* kA6 = "2001:db8::1";
constexpr const char* kB6 = "2001:db8::2";

struct BadCase {
  std::string name;
  PB pkt;
  R reason;
};

PB v4() { return PB().eth().ipv4(kA4, kB4); }
PB v6() { return PB().eth().ipv6(kA6, kB6); }

PB dests(PB b, int n) {
  for (int i = 0; i < n; ++i) b.dest();
  return b;
}

PB vlans(int n) {
  PB b = PB().eth();
  for (int i = 0; i < n; ++i) b.vlan(static_cast<std::uint16_t>(i + 1));
  return b;
}

PB labels(int n) {
  PB b = PB().eth();
  for (int i = 0; i < n; ++i) b.mpls(static_cast<std::uint32_t>(i + 100));
  return b;
}

std::vector<BadCase> bad_cases() {
  return {
      // IPv4 header
      {"ipv4_version_5", v4().override_version(5).tcp(1, 2), R::bad_ipv4_header},
      {"ipv4_version_6_under_0800", v4().override_version(6).udp(1, 2), R::bad_ipv4_header},
      {"ipv4_ihl_4", v4().override_ihl(4).tcp(1, 2), R::bad_ipv4_header},
      {"ipv4_ihl_0", v4().override_ihl(0).tcp(1, 2), R::bad_ipv4_header},
      {"ipv4_ihl_15_options_cut", v4().override_ihl(15).tcp(1, 2), R::truncated_ipv4},
      {"raw_link_not_ip", PB().raw().payload(40, 0x00), R::bad_ipv4_header},
      {"raw_link_version_5", PB().raw().ipv6(kA6, kB6).override_version(5).udp(1, 2),
       R::bad_ipv4_header},
      // IP lengths
      {"ipv4_total_length_too_big", v4().override_total_length(41).tcp(1, 2), R::bad_ip_length},
      {"ipv4_total_length_huge", v4().override_total_length(65535).udp(1, 2), R::bad_ip_length},
      {"ipv4_total_length_below_20", v4().override_total_length(19).tcp(1, 2), R::bad_ip_length},
      {"ipv4_total_length_below_ihl",
       v4().ipv4_options(Bytes(4, std::byte{1})).override_total_length(22).tcp(1, 2),
       R::bad_ip_length},
      {"ipv6_version_4_under_86dd", v6().override_version(4).udp(1, 2), R::bad_ipv6_header},
      {"ipv6_payload_length_too_big", v6().override_payload_length(100).udp(1, 2),
       R::bad_ip_length},
      {"ipv6_jumbogram", v6().hop().udp(1, 2).override_payload_length(0), R::bad_ip_length},
      // IPv6 extension headers
      {"ipv6_ext_chain_9", dests(v6(), 9).udp(1, 2), R::bad_ipv6_ext},
      {"ipv6_ext_chain_9_mixed",
       dests(v6().hop().routing(), 5).frag6(1, 0, false).ah().udp(1, 2), R::bad_ipv6_ext},
      {"ipv6_ext_beyond_payload_length",
       v6().hop(3).udp(1, 2).override_payload_length(16), R::bad_ipv6_ext},
      {"ipv6_frag_beyond_payload_length",
       v6().frag6(1, 0, true).override_payload_length(4).trailer(8), R::bad_ipv6_ext},
      // TCP
      {"tcp_offset_4", v4().tcp(1, 2).override_data_offset(4), R::bad_tcp_offset},
      {"tcp_offset_0", v6().tcp(1, 2).override_data_offset(0), R::bad_tcp_offset},
      {"tcp_offset_beyond_segment", v4().tcp(1, 2).override_data_offset(15).payload(10),
       R::bad_tcp_offset},
      {"tcp_offset_beyond_ip_padded",
       v4().tcp(1, 2).override_data_offset(6).trailer(10), R::bad_tcp_offset},
      {"tcp_header_beyond_ip_length", v4().override_total_length(30).tcp(1, 2),
       R::bad_tcp_offset},
      // UDP
      {"udp_length_7", v4().udp(1, 2).override_udp_length(7).payload(4), R::bad_udp_length},
      {"udp_length_0", v6().udp(1, 2).override_udp_length(0), R::bad_udp_length},
      {"udp_length_beyond_ip", v4().udp(1, 2).override_udp_length(19).payload(10),
       R::bad_udp_length},
      {"udp_length_beyond_ipv6", v6().udp(1, 2).override_udp_length(300).payload(10),
       R::bad_udp_length},
      {"udp_fragment_length_7",
       v4().ipv4_frag(1, 0, true).udp(1, 2).override_udp_length(7).payload(8),
       R::bad_udp_length},
      // Other transports cut by the IP length
      {"sctp_beyond_ip_length", v4().override_total_length(28).sctp(1, 2), R::truncated_l4},
      {"icmp_echo_beyond_ip_length", v4().override_total_length(24).icmp_echo(1),
       R::truncated_l4},
      // Stacks deeper than the bounds
      {"mpls_17_labels", labels(17).ipv4(kA4, kB4).udp(1, 2), R::truncated_mpls},
      {"mpls_no_bottom_of_stack", PB().eth().mpls({1, 2}).override_bos(false).payload(100, 0),
       R::truncated_mpls},
      {"vlan_9_tags", vlans(9).ipv4(kA4, kB4).udp(1, 2), R::truncated_vlan},
  };
}

class Malformed : public ::testing::TestWithParam<BadCase> {};

TEST_P(Malformed, ReportsReason) {
  const BadCase& c = GetParam();
  ParsedPacket p;
  const ParseResult r = parse_built(c.pkt, p);
  EXPECT_EQ(r.status, ParseStatus::Malformed);
  EXPECT_EQ(r.reason, c.reason);
}

INSTANTIATE_TEST_SUITE_P(Parser, Malformed, ::testing::ValuesIn(bad_cases()),
                         [](const ::testing::TestParamInfo<BadCase>& info) {
                           return info.param.name;
                         });

// Positive controls next to the bounds and limits above.
TEST(MalformedBounds, LimitsThemselvesAreAccepted) {
  ParsedPacket p;
  EXPECT_EQ(parse_built(dests(v6(), 8).udp(1, 2), p).status, ParseStatus::Ok);
  EXPECT_EQ(parse_built(labels(16).ipv4(kA4, kB4).udp(1, 2), p).status, ParseStatus::Ok);
  EXPECT_EQ(parse_built(vlans(8).ipv4(kA4, kB4).udp(1, 2), p).status, ParseStatus::Ok);
  EXPECT_EQ(p.vlan_count, 8);
  // UDP length shorter than the IP payload is tolerated (trailing bytes).
  EXPECT_EQ(parse_built(v4().udp(1, 2).override_udp_length(8).payload(10), p).status,
            ParseStatus::Ok);
  // IP total length exactly up to the wire end, with Ethernet padding after it.
  EXPECT_EQ(parse_built(v4().tcp(1, 2).trailer(6), p).status, ParseStatus::Ok);
  EXPECT_EQ(p.ip_bytes, 40u);
  // TCP header with the maximal data offset, fully inside the segment.
  EXPECT_EQ(parse_built(v4().tcp(1, 2).override_data_offset(15).payload(40), p).status,
            ParseStatus::Ok);
  EXPECT_EQ(p.payload_offset, 14 + 20 + 60);
  EXPECT_EQ(p.payload_len, 0);
  // IHL 15 with real 40 bytes of options.
  EXPECT_EQ(parse_built(v4().ipv4_options(Bytes(40, std::byte{1})).udp(1, 2), p).status,
            ParseStatus::Ok);
  EXPECT_EQ(p.l4_offset, 14 + 60);
}

TEST(MalformedBounds, EmptyFrame) {
  ParsedPacket p;
  for (LinkType lt : {LinkType::Ethernet, LinkType::Raw, LinkType::Null, LinkType::LinuxSll2}) {
    const ParseResult r = parse_packet({}, 0, lt, p);
    EXPECT_EQ(r.status, ParseStatus::Malformed);
    EXPECT_EQ(r.reason, R::empty_frame);
    EXPECT_EQ(parse_packet({}, 60, lt, p).reason, R::empty_frame);
  }
}

}  // namespace
}  // namespace sf::test
