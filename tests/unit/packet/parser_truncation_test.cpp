// Every prefix of representative frames: the reason names the header where the
// cut falls; a cut inside the payload is fine (the IP lengths come from the
// header and are checked against the wire length).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "parse_test_util.hpp"

namespace sf::test {
namespace {

using PB = PacketBuilder;
using R = MalformedReason;

// Cuts at caplen < end (and >= the previous range's end) expect reason; nullopt = Ok.
struct Range {
  std::size_t end;
  std::optional<R> reason;
};

struct TruncCase {
  std::string name;
  PB pkt;
  std::vector<Range> ranges;  // ascending; the last one ends at the frame size
};

std::vector<TruncCase> trunc_cases() {
  const auto ok = std::nullopt;
  return {
      {"eth_vlan_ipv4opts_tcpopts",
       PB().eth().vlan(3).ipv4("10.0.0.1", "10.0.0.2").ipv4_options(Bytes(4, std::byte{1}))
           .tcp(1, 2, tcpflag::kAck).tcp_options(Bytes(8, std::byte{1})).payload(10),
       {{14, R::truncated_link}, {18, R::truncated_vlan}, {42, R::truncated_ipv4},
        {70, R::truncated_l4}, {80, ok}}},
      // The byte after the last label decides IPv4/IPv6, so it belongs to the MPLS range.
      {"eth_mpls2_ipv4_udp",
       PB().eth().mpls({10, 20}).ipv4("10.0.0.1", "10.0.0.2").udp(1, 2).payload(20),
       {{14, R::truncated_link}, {23, R::truncated_mpls}, {42, R::truncated_ipv4},
        {50, R::truncated_l4}, {70, ok}}},
      {"eth_pppoe_ipv6_ext_udp",
       PB().eth().pppoe().ipv6("2001:db8::1", "2001:db8::2").hop().dest().frag6(9, 0, true)
           .udp(1, 2).payload(16),
       {{14, R::truncated_link}, {22, R::truncated_pppoe}, {62, R::truncated_ipv6},
        {86, R::bad_ipv6_ext}, {94, R::truncated_l4}, {110, ok}}},
      {"eth_ipv6_ah_routing_tcp",
       PB().eth().ipv6("2001:db8::1", "2001:db8::2").ah().routing(2).tcp(1, 2, tcpflag::kSyn)
           .payload(3),
       {{14, R::truncated_link}, {54, R::truncated_ipv6}, {102, R::bad_ipv6_ext},
        {122, R::truncated_l4}, {125, ok}}},
      {"sll_qinq_ipv4_sctp",
       PB().sll().qinq(1, 2).ipv4("10.0.0.1", "10.0.0.2").sctp(1, 2).payload(4),
       {{16, R::truncated_link}, {24, R::truncated_vlan}, {44, R::truncated_ipv4},
        {56, R::truncated_l4}, {60, ok}}},
      {"sll2_ipv6_tcp",
       PB().sll2().ipv6("2001:db8::1", "2001:db8::2").tcp(1, 2, tcpflag::kSyn).payload(5),
       {{20, R::truncated_link}, {60, R::truncated_ipv6}, {80, R::truncated_l4}, {85, ok}}},
      {"null_ipv4_icmp_echo",
       PB().null().ipv4("10.0.0.1", "10.0.0.2").icmp_echo(7).payload(8),
       {{4, R::truncated_link}, {24, R::truncated_ipv4}, {32, R::truncated_l4}, {40, ok}}},
      // Non-echo ICMP needs only type and code.
      {"raw_ipv4_icmp_unreachable",
       PB().raw().ipv4("10.0.0.1", "10.0.0.2").icmp(3, 3).payload(8),
       {{20, R::truncated_ipv4}, {24, R::truncated_l4}, {36, ok}}},
      {"loop_ipv6_icmpv6_echo",
       PB().loop().ipv6("2001:db8::1", "2001:db8::2").icmpv6_echo(7).payload(4),
       {{4, R::truncated_link}, {44, R::truncated_ipv6}, {52, R::truncated_l4}, {56, ok}}},
      {"raw_ipv4_later_fragment",
       PB().raw().ipv4("10.0.0.1", "10.0.0.2").ipv4_frag(1, 10, false).override_proto(6)
           .payload(30),
       {{20, R::truncated_ipv4}, {50, ok}}},
  };
}

class Truncation : public ::testing::TestWithParam<TruncCase> {};

TEST_P(Truncation, EveryPrefixReportsTheCutHeader) {
  const TruncCase& c = GetParam();
  const Bytes frame = c.pkt.build();
  ASSERT_EQ(frame.size(), c.ranges.back().end);
  const auto wire = static_cast<std::uint32_t>(frame.size());
  ParsedPacket whole;
  ASSERT_EQ(parse_prefix(frame, frame.size(), wire, c.pkt.link_type(), whole).status,
            ParseStatus::Ok);
  ParsedPacket p;
  EXPECT_EQ(parse_prefix(frame, 0, wire, c.pkt.link_type(), p).reason, R::empty_frame);
  std::size_t range = 0;
  for (std::size_t caplen = 1; caplen <= frame.size(); ++caplen) {
    while (range + 1 < c.ranges.size() && caplen >= c.ranges[range].end) ++range;
    const ParseResult r = parse_prefix(frame, caplen, wire, c.pkt.link_type(), p);
    const std::optional<R> want = caplen < c.ranges[range].end ? c.ranges[range].reason
                                                               : std::nullopt;
    if (want) {
      EXPECT_EQ(r.status, ParseStatus::Malformed) << "caplen " << caplen;
      EXPECT_EQ(r.reason, *want) << "caplen " << caplen;
    } else {
      ASSERT_EQ(r.status, ParseStatus::Ok) << "caplen " << caplen << " reason " << r.reason;
      EXPECT_LE(p.payload_offset, caplen);
      // IP byte counts come from the header, whatever the capture kept.
      EXPECT_EQ(p.ip_bytes, whole.ip_bytes);
      EXPECT_EQ(p.payload_len, whole.payload_len);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Parser, Truncation, ::testing::ValuesIn(trunc_cases()),
                         [](const ::testing::TestParamInfo<TruncCase>& info) {
                           return info.param.name;
                         });

// ---- snap length: wire_len larger than the captured bytes ----

TEST(Snaplen, HeadersCapturedPayloadCutIsOk) {
  const Bytes f = PB().eth().ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2, tcpflag::kAck).payload(1000)
                      .build();
  ParsedPacket p;
  const ParseResult r = parse_prefix(f, 54, 1054, LinkType::Ethernet, p);
  ASSERT_EQ(r.status, ParseStatus::Ok);
  EXPECT_EQ(p.ip_bytes, 1040u);
  EXPECT_EQ(p.payload_offset, 54);
  EXPECT_EQ(p.payload_len, 1000);
}

TEST(Snaplen, IpLengthBeyondWireIsBad) {
  const Bytes f = PB().eth().ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2, tcpflag::kAck).payload(1000)
                      .build();
  ParsedPacket p;
  // Total length 1040 but only 1053 - 14 = 1039 bytes on the wire after the Ethernet header.
  const ParseResult r = parse_prefix(f, 54, 1053, LinkType::Ethernet, p);
  EXPECT_EQ(r.status, ParseStatus::Malformed);
  EXPECT_EQ(r.reason, R::bad_ip_length);
}

TEST(Snaplen, Ipv6PayloadLengthChecksWire) {
  const Bytes f = PB().eth().ipv6("::1", "::2").udp(1, 2).payload(500).build();
  ParsedPacket p;
  EXPECT_EQ(parse_prefix(f, 62, 562, LinkType::Ethernet, p).status, ParseStatus::Ok);
  EXPECT_EQ(p.ip_bytes, 548u);
  EXPECT_EQ(p.payload_len, 500);
  EXPECT_EQ(parse_prefix(f, 62, 561, LinkType::Ethernet, p).reason, R::bad_ip_length);
  // UDP header cut by the snap length is still a truncated header.
  EXPECT_EQ(parse_prefix(f, 61, 562, LinkType::Ethernet, p).reason, R::truncated_l4);
}

TEST(Snaplen, ExtensionHeaderCutBySnaplenIsBadExt) {
  const Bytes f = PB().eth().ipv6("::1", "::2").hop(3).udp(1, 2).payload(100).build();
  ParsedPacket p;
  EXPECT_EQ(parse_prefix(f, 60, static_cast<std::uint32_t>(f.size()), LinkType::Ethernet, p).reason,
            R::bad_ipv6_ext);
}

TEST(Snaplen, WireShorterThanCaptureIsEmptyFrame) {
  const Bytes f = PB().eth().ipv4("10.0.0.1", "10.0.0.2").udp(1, 2).build();
  ParsedPacket p;
  const ParseResult r = parse_prefix(f, f.size(), static_cast<std::uint32_t>(f.size() - 1),
                                     LinkType::Ethernet, p);
  EXPECT_EQ(r.status, ParseStatus::Malformed);
  EXPECT_EQ(r.reason, R::empty_frame);
}

TEST(Snaplen, LargeFrameBeyond16BitOffsetsParses) {
  // IPv6 payload length 65535: the frame is longer than a 16-bit offset, the headers are not.
  const PB b = PB().eth().ipv6("::1", "::2").udp(1, 2).payload(65527);
  const Bytes f = b.build();
  ASSERT_EQ(f.size(), 65589u);
  ParsedPacket p;
  ASSERT_EQ(parse_prefix(f, f.size(), static_cast<std::uint32_t>(f.size()), LinkType::Ethernet, p)
                .status,
            ParseStatus::Ok);
  EXPECT_EQ(p.ip_bytes, 65575u);
  EXPECT_EQ(p.payload_len, 65527);
  EXPECT_EQ(p.payload_offset, 62);
}

}  // namespace
}  // namespace sf::test
