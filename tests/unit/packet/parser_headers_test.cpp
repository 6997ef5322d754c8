// Table-driven: every supported header combination parses to the fields the
// builder was given. Expected values are written from the builder inputs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parse_test_util.hpp"

namespace sf::test {
namespace {

using PB = PacketBuilder;
using namespace tcpflag;

constexpr const char* kA4 = "10.0.0.1";
constexpr const char* kB4 = "10.0.0.2";
constexpr const char* kA6 = "2001:db8::1";
constexpr const char* kB6 = "2001:db8::2";

struct Expect {
  ParseStatus status = ParseStatus::Ok;
  std::uint8_t ip_version = 4;
  const char* src = kA4;
  const char* dst = kB4;
  std::uint8_t proto = 0;
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  std::uint8_t vlan_count = 0;
  std::array<std::uint16_t, 2> vlan{};
  std::uint32_t ip_bytes = 0;
  std::uint8_t tcp_flags = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t icmp_type = 0;
  std::uint8_t icmp_code = 0;
  bool is_fragment = false;
  bool first_fragment = false;
  std::uint32_t frag_id = 0;
  std::uint16_t l3 = 0;
  std::uint16_t l4 = 0;
  std::uint16_t payload_offset = 0;
  std::uint16_t payload_len = 0;
};

constexpr Expect kNonIp{.status = ParseStatus::NonIp};

struct Case {
  std::string name;
  PB pkt;
  Expect e;
};

Bytes opts(std::initializer_list<int> v) {
  Bytes b;
  for (int x : v) b.push_back(static_cast<std::byte>(x));
  return b;
}

std::vector<Case> cases() {
  // clang-format off
  return {
    // ---- Ethernet, IPv4, transports ----
    {"eth_ipv4_tcp", PB().eth().ipv4(kA4, kB4).tcp(1234, 80, kSyn, 1000).payload(100),
     {.proto = 6, .sport = 1234, .dport = 80, .ip_bytes = 140, .tcp_flags = kSyn, .seq = 1000,
      .l3 = 14, .l4 = 34, .payload_offset = 54, .payload_len = 100}},
    {"eth_ipv4_tcp_options",
     PB().eth().ipv4(kA4, kB4).tcp(1234, 80, kSyn | kAck, 7, 8)
         .tcp_options(opts({2, 4, 5, 180, 4, 2, 1, 1, 1, 3, 3, 7})).payload(10),
     {.proto = 6, .sport = 1234, .dport = 80, .ip_bytes = 62, .tcp_flags = kSyn | kAck, .seq = 7,
      .ack = 8, .l3 = 14, .l4 = 34, .payload_offset = 66, .payload_len = 10}},
    {"eth_ipv4_options_tcp",
     PB().eth().ipv4(kA4, kB4).ipv4_options(opts({1, 1, 1, 0x94, 4, 0, 0})).tcp(1, 2, kAck)
         .payload(5),
     {.proto = 6, .sport = 1, .dport = 2, .ip_bytes = 53, .tcp_flags = kAck, .l3 = 14, .l4 = 42,
      .payload_offset = 62, .payload_len = 5}},
    {"eth_ipv4_udp", PB().eth().ipv4(kA4, kB4).udp(5353, 53).payload(30),
     {.proto = 17, .sport = 5353, .dport = 53, .ip_bytes = 58, .l3 = 14, .l4 = 34,
      .payload_offset = 42, .payload_len = 30}},
    {"eth_ipv4_sctp", PB().eth().ipv4(kA4, kB4).sctp(5000, 6000).payload(16),
     {.proto = 132, .sport = 5000, .dport = 6000, .ip_bytes = 48, .l3 = 14, .l4 = 34,
      .payload_offset = 46, .payload_len = 16}},
    {"eth_ipv4_icmp_echo_request", PB().eth().ipv4(kA4, kB4).icmp_echo(0x4242, 3).payload(56),
     {.proto = 1, .sport = 0x4242, .dport = 0x4242, .ip_bytes = 84, .icmp_type = 8, .l3 = 14,
      .l4 = 34, .payload_offset = 42, .payload_len = 56}},
    {"eth_ipv4_icmp_echo_reply", PB().eth().ipv4(kB4, kA4).icmp_echo(9, 1, true),
     {.src = kB4, .dst = kA4, .proto = 1, .sport = 9, .dport = 9, .ip_bytes = 28, .icmp_type = 0,
      .l3 = 14, .l4 = 34, .payload_offset = 42, .payload_len = 0}},
    {"eth_ipv4_icmp_unreachable", PB().eth().ipv4(kA4, kB4).icmp(3, 1).payload(28),
     {.proto = 1, .sport = 3, .dport = 1, .ip_bytes = 56, .icmp_type = 3, .icmp_code = 1,
      .l3 = 14, .l4 = 34, .payload_offset = 38, .payload_len = 32}},
    {"eth_ipv4_gre_other_proto", PB().eth().ipv4(kA4, kB4).override_proto(47).payload(24),
     {.proto = 47, .ip_bytes = 44, .l3 = 14, .l4 = 34, .payload_offset = 34, .payload_len = 24}},
    {"eth_ipv4_padding_trailer", PB().eth().ipv4(kA4, kB4).tcp(1, 2, kAck).trailer(6),
     {.proto = 6, .sport = 1, .dport = 2, .ip_bytes = 40, .tcp_flags = kAck, .l3 = 14, .l4 = 34,
      .payload_offset = 54, .payload_len = 0}},
    // ---- VLAN ----
    {"eth_vlan_ipv4_udp", PB().eth().vlan(10).ipv4(kA4, kB4).udp(1, 2).payload(12),
     {.proto = 17, .sport = 1, .dport = 2, .vlan_count = 1, .vlan = {10, 0}, .ip_bytes = 40,
      .l3 = 18, .l4 = 38, .payload_offset = 46, .payload_len = 12}},
    {"eth_qinq_ipv4_tcp", PB().eth().qinq(100, 200).ipv4(kA4, kB4).tcp(1, 2, kFin | kAck),
     {.proto = 6, .sport = 1, .dport = 2, .vlan_count = 2, .vlan = {100, 200}, .ip_bytes = 40,
      .tcp_flags = kFin | kAck, .l3 = 22, .l4 = 42, .payload_offset = 62}},
    {"eth_vlan3_9100", PB().eth().vlan(1, 0x9100).vlan(2).vlan(3).ipv4(kA4, kB4).udp(1, 2),
     {.proto = 17, .sport = 1, .dport = 2, .vlan_count = 3, .vlan = {1, 2}, .ip_bytes = 28,
      .l3 = 26, .l4 = 46, .payload_offset = 54}},
    {"eth_vlan8_max",
     PB().eth().vlan(1).vlan(2).vlan(3).vlan(4).vlan(5).vlan(6).vlan(7).vlan(8)
         .ipv4(kA4, kB4).udp(1, 2),
     {.proto = 17, .sport = 1, .dport = 2, .vlan_count = 8, .vlan = {1, 2}, .ip_bytes = 28,
      .l3 = 46, .l4 = 66, .payload_offset = 74}},
    {"eth_vlan_pcp_masked_ipv6", PB().eth().vlan(4095, 0x8100, 7).ipv6(kA6, kB6).udp(1, 2),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 17, .sport = 1, .dport = 2,
      .vlan_count = 1, .vlan = {4095, 0}, .ip_bytes = 48, .l3 = 18, .l4 = 58,
      .payload_offset = 66}},
    // ---- MPLS ----
    {"eth_mpls_ipv4_udp", PB().eth().mpls(100).ipv4(kA4, kB4).udp(1, 2).payload(4),
     {.proto = 17, .sport = 1, .dport = 2, .ip_bytes = 32, .l3 = 18, .l4 = 38,
      .payload_offset = 46, .payload_len = 4}},
    {"eth_mpls3_ipv6_tcp",
     PB().eth().mpls({1, 2, 3}).ipv6(kA6, kB6).tcp(443, 50000, kAck | kPsh).payload(50),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 6, .sport = 443, .dport = 50000,
      .ip_bytes = 110, .tcp_flags = kAck | kPsh, .l3 = 26, .l4 = 66, .payload_offset = 86,
      .payload_len = 50}},
    {"eth_vlan_mpls_ipv4", PB().eth().vlan(7).mpls(16).ipv4(kA4, kB4).tcp(1, 2, kRst),
     {.proto = 6, .sport = 1, .dport = 2, .vlan_count = 1, .vlan = {7, 0}, .ip_bytes = 40,
      .tcp_flags = kRst, .l3 = 22, .l4 = 42, .payload_offset = 62}},
    {"eth_mpls_multicast_ethertype",
     PB().eth().override_ethertype(0x8848).mpls(5).ipv4(kA4, kB4).udp(1, 2),
     {.proto = 17, .sport = 1, .dport = 2, .ip_bytes = 28, .l3 = 18, .l4 = 38,
      .payload_offset = 46}},
    {"eth_mpls16_max",
     PB().eth().mpls({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}).ipv4(kA4, kB4)
         .udp(1, 2),
     {.proto = 17, .sport = 1, .dport = 2, .ip_bytes = 28, .l3 = 78, .l4 = 98,
      .payload_offset = 106}},
    // ---- PPPoE ----
    {"eth_pppoe_ipv4_tcp", PB().eth().pppoe(0x1234).ipv4(kA4, kB4).tcp(1, 2, kSyn),
     {.proto = 6, .sport = 1, .dport = 2, .ip_bytes = 40, .tcp_flags = kSyn, .l3 = 22, .l4 = 42,
      .payload_offset = 62}},
    {"eth_pppoe_ipv6_udp", PB().eth().pppoe().ipv6(kA6, kB6).udp(1, 2).payload(3),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 17, .sport = 1, .dport = 2,
      .ip_bytes = 51, .l3 = 22, .l4 = 62, .payload_offset = 70, .payload_len = 3}},
    // ---- IPv4 fragments ----
    {"ipv4_first_fragment",
     PB().eth().ipv4(kA4, kB4).ipv4_frag(0x1234, 0, true).udp(1000, 2000)
         .override_udp_length(1208).payload(100),
     {.proto = 17, .sport = 1000, .dport = 2000, .ip_bytes = 128, .is_fragment = true,
      .first_fragment = true, .frag_id = 0x1234, .l3 = 14, .l4 = 34, .payload_offset = 42,
      .payload_len = 100}},
    {"ipv4_middle_fragment",
     PB().eth().ipv4(kA4, kB4).ipv4_frag(0x1234, 14, true).override_proto(17).payload(112),
     {.proto = 17, .ip_bytes = 132, .is_fragment = true, .frag_id = 0x1234, .l3 = 14, .l4 = 0,
      .payload_offset = 34, .payload_len = 112}},
    {"ipv4_last_fragment",
     PB().eth().ipv4(kA4, kB4).ipv4_frag(0x1234, 28, false).override_proto(6).payload(8),
     {.proto = 6, .ip_bytes = 28, .is_fragment = true, .frag_id = 0x1234, .l3 = 14, .l4 = 0,
      .payload_offset = 34, .payload_len = 8}},
    {"ipv4_dont_fragment", PB().eth().ipv4(kA4, kB4, 77).dont_fragment().tcp(1, 2, kAck),
     {.proto = 6, .sport = 1, .dport = 2, .ip_bytes = 40, .tcp_flags = kAck, .frag_id = 77,
      .l3 = 14, .l4 = 34, .payload_offset = 54}},
    // ---- IPv6 and extension headers ----
    {"eth_ipv6_tcp", PB().eth().ipv6(kA6, kB6).tcp(22, 40000, kAck, 1, 2).payload(9),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 6, .sport = 22, .dport = 40000,
      .ip_bytes = 69, .tcp_flags = kAck, .seq = 1, .ack = 2, .l3 = 14, .l4 = 54,
      .payload_offset = 74, .payload_len = 9}},
    {"ipv6_hop_routing_dest_tcp",
     PB().eth().ipv6(kA6, kB6).hop().routing(1).dest().tcp(22, 40000, kAck).payload(7),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 6, .sport = 22, .dport = 40000,
      .ip_bytes = 99, .tcp_flags = kAck, .l3 = 14, .l4 = 86, .payload_offset = 106,
      .payload_len = 7}},
    {"ipv6_first_fragment_udp",
     PB().eth().ipv6(kA6, kB6).frag6(0xdeadbeef, 0, true).udp(1, 2).override_udp_length(3000)
         .payload(100),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 17, .sport = 1, .dport = 2,
      .ip_bytes = 156, .is_fragment = true, .first_fragment = true, .frag_id = 0xdeadbeef,
      .l3 = 14, .l4 = 62, .payload_offset = 70, .payload_len = 100}},
    {"ipv6_later_fragment",
     PB().eth().ipv6(kA6, kB6).frag6(0xdeadbeef, 100, false).override_proto(17).payload(64),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 17, .ip_bytes = 112, .is_fragment = true,
      .frag_id = 0xdeadbeef, .l3 = 14, .l4 = 0, .payload_offset = 62, .payload_len = 64}},
    {"ipv6_dest_then_fragment_later",
     PB().eth().ipv6(kA6, kB6).dest().frag6(5, 3, true).override_proto(6).payload(24),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 6, .ip_bytes = 80, .is_fragment = true,
      .frag_id = 5, .l3 = 14, .l4 = 0, .payload_offset = 70, .payload_len = 24}},
    {"ipv6_atomic_fragment_tcp", PB().eth().ipv6(kA6, kB6).frag6(7, 0, false).tcp(1, 2, kSyn),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 6, .sport = 1, .dport = 2,
      .ip_bytes = 68, .tcp_flags = kSyn, .frag_id = 7, .l3 = 14, .l4 = 62,
      .payload_offset = 82}},
    {"ipv6_ah_tcp", PB().eth().ipv6(kA6, kB6).ah().tcp(1, 2, kAck),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 6, .sport = 1, .dport = 2,
      .ip_bytes = 84, .tcp_flags = kAck, .l3 = 14, .l4 = 78, .payload_offset = 98}},
    {"ipv6_esp", PB().eth().ipv6(kA6, kB6).override_proto(50).payload(40),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 50, .ip_bytes = 80, .l3 = 14, .l4 = 54,
      .payload_offset = 54, .payload_len = 40}},
    {"ipv6_no_next_header", PB().eth().ipv6(kA6, kB6),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 59, .ip_bytes = 40, .l3 = 14, .l4 = 54,
      .payload_offset = 54}},
    {"ipv6_ipip_other_proto", PB().eth().ipv6(kA6, kB6).ipv4(kA4, kB4).udp(1, 2),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 4, .ip_bytes = 68, .l3 = 14, .l4 = 54,
      .payload_offset = 54, .payload_len = 28}},
    {"ipv6_sctp", PB().eth().ipv6(kA6, kB6).sctp(7, 8).payload(4),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 132, .sport = 7, .dport = 8,
      .ip_bytes = 56, .l3 = 14, .l4 = 54, .payload_offset = 66, .payload_len = 4}},
    {"ipv6_icmpv6_echo_request", PB().eth().ipv6(kA6, kB6).icmpv6_echo(0x77, 1).payload(16),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 58, .sport = 0x77, .dport = 0x77,
      .ip_bytes = 64, .icmp_type = 128, .l3 = 14, .l4 = 54, .payload_offset = 62,
      .payload_len = 16}},
    {"ipv6_icmpv6_echo_reply", PB().eth().ipv6(kB6, kA6).icmpv6_echo(0x77, 1, true),
     {.ip_version = 6, .src = kB6, .dst = kA6, .proto = 58, .sport = 0x77, .dport = 0x77,
      .ip_bytes = 48, .icmp_type = 129, .l3 = 14, .l4 = 54, .payload_offset = 62}},
    {"ipv6_hop_icmpv6_mld", PB().eth().ipv6(kA6, kB6).hop().icmpv6(143, 0).payload(20),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 58, .sport = 143, .dport = 0,
      .ip_bytes = 76, .icmp_type = 143, .l3 = 14, .l4 = 62, .payload_offset = 66,
      .payload_len = 24}},
    // ---- other link types ----
    {"sll_ipv4_tcp", PB().sll().ipv4(kA4, kB4).tcp(1, 2, kSyn),
     {.proto = 6, .sport = 1, .dport = 2, .ip_bytes = 40, .tcp_flags = kSyn, .l3 = 16, .l4 = 36,
      .payload_offset = 56}},
    {"sll_vlan_ipv4_udp", PB().sll().vlan(33).ipv4(kA4, kB4).udp(1, 2),
     {.proto = 17, .sport = 1, .dport = 2, .vlan_count = 1, .vlan = {33, 0}, .ip_bytes = 28,
      .l3 = 20, .l4 = 40, .payload_offset = 48}},
    {"sll2_ipv6_udp", PB().sll2().ipv6(kA6, kB6).udp(1, 2),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 17, .sport = 1, .dport = 2,
      .ip_bytes = 48, .l3 = 20, .l4 = 60, .payload_offset = 68}},
    {"sll2_ipv4_icmp_echo", PB().sll2().ipv4(kA4, kB4).icmp_echo(0x4242, 1).payload(56),
     {.proto = 1, .sport = 0x4242, .dport = 0x4242, .ip_bytes = 84, .icmp_type = 8, .l3 = 20,
      .l4 = 40, .payload_offset = 48, .payload_len = 56}},
    {"sll2_mpls_ipv4", PB().sll2().mpls(9).ipv4(kA4, kB4).udp(1, 2),
     {.proto = 17, .sport = 1, .dport = 2, .ip_bytes = 28, .l3 = 24, .l4 = 44,
      .payload_offset = 52}},
    {"null_le_ipv4_udp", PB().null().ipv4(kA4, kB4).udp(1, 2),
     {.proto = 17, .sport = 1, .dport = 2, .ip_bytes = 28, .l3 = 4, .l4 = 24,
      .payload_offset = 32}},
    {"null_be_ipv4_udp", PB().null(true).ipv4(kA4, kB4).udp(1, 2),
     {.proto = 17, .sport = 1, .dport = 2, .ip_bytes = 28, .l3 = 4, .l4 = 24,
      .payload_offset = 32}},
    {"null_be_ipv6_tcp", PB().null(true).ipv6(kA6, kB6).tcp(1, 2, kSyn),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 6, .sport = 1, .dport = 2,
      .ip_bytes = 60, .tcp_flags = kSyn, .l3 = 4, .l4 = 44, .payload_offset = 64}},
    {"null_le_family24_ipv6", PB().null(false, 24).ipv6(kA6, kB6).udp(1, 2),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 17, .sport = 1, .dport = 2,
      .ip_bytes = 48, .l3 = 4, .l4 = 44, .payload_offset = 52}},
    {"null_be_family28_ipv6", PB().null(true, 28).ipv6(kA6, kB6).icmpv6_echo(5),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 58, .sport = 5, .dport = 5,
      .ip_bytes = 48, .icmp_type = 128, .l3 = 4, .l4 = 44, .payload_offset = 52}},
    {"loop_ipv4_tcp", PB().loop().ipv4(kA4, kB4).tcp(1, 2, kSyn),
     {.proto = 6, .sport = 1, .dport = 2, .ip_bytes = 40, .tcp_flags = kSyn, .l3 = 4, .l4 = 24,
      .payload_offset = 44}},
    {"loop_ipv6_udp", PB().loop(24).ipv6(kA6, kB6).udp(1, 2),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 17, .sport = 1, .dport = 2,
      .ip_bytes = 48, .l3 = 4, .l4 = 44, .payload_offset = 52}},
    {"raw_ipv4_udp", PB().raw().ipv4(kA4, kB4).udp(1, 2).payload(2),
     {.proto = 17, .sport = 1, .dport = 2, .ip_bytes = 30, .l3 = 0, .l4 = 20,
      .payload_offset = 28, .payload_len = 2}},
    {"raw_ipv6_tcp", PB().raw().ipv6(kA6, kB6).tcp(1, 2, kAck),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 6, .sport = 1, .dport = 2,
      .ip_bytes = 60, .tcp_flags = kAck, .l3 = 0, .l4 = 40, .payload_offset = 60}},
    {"linktype_ipv4", PB().raw(LinkType::Ipv4).ipv4(kA4, kB4).udp(1, 2),
     {.proto = 17, .sport = 1, .dport = 2, .ip_bytes = 28, .l3 = 0, .l4 = 20,
      .payload_offset = 28}},
    {"linktype_ipv6", PB().raw(LinkType::Ipv6).ipv6(kA6, kB6).udp(1, 2),
     {.ip_version = 6, .src = kA6, .dst = kB6, .proto = 17, .sport = 1, .dport = 2,
      .ip_bytes = 48, .l3 = 0, .l4 = 40, .payload_offset = 48}},
    // ---- not IP ----
    {"eth_arp", PB().eth().override_ethertype(0x0806).payload(28), kNonIp},
    {"eth_8023_length", PB().eth().override_ethertype(0x0026).payload(38), kNonIp},
    {"eth_lldp", PB().eth().override_ethertype(0x88CC).payload(30), kNonIp},
    {"eth_vlan_arp", PB().eth().vlan(5).override_ethertype(0x0806).payload(28), kNonIp},
    {"eth_pppoe_discovery", PB().eth().pppoe_discovery().payload(10), kNonIp},
    {"eth_pppoe_lcp", PB().eth().pppoe().payload(10), kNonIp},
    {"eth_mpls_pseudowire", PB().eth().mpls(5).payload(60, 0x00), kNonIp},
    {"sll_arp", PB().sll().override_ethertype(0x0806).payload(28), kNonIp},
    {"sll2_llc", PB().sll2().override_ethertype(0x0004).payload(10), kNonIp},
    {"null_unknown_family", PB().null(false, 7).payload(20), kNonIp},
    {"loop_unknown_family", PB().loop(7).payload(20), kNonIp},
  };
  // clang-format on
}

class HeaderCombos : public ::testing::TestWithParam<Case> {};

TEST_P(HeaderCombos, ParsesToBuilderInputs) {
  const Case& c = GetParam();
  const Expect& e = c.e;
  ParsedPacket p;
  const ParseResult r = parse_built(c.pkt, p);
  ASSERT_EQ(r.status, e.status) << "reason " << r.reason;
  if (e.status != ParseStatus::Ok) return;
  EXPECT_EQ(p.ip_version, e.ip_version);
  EXPECT_EQ(p.src_addr, ip_addr(e.src));
  EXPECT_EQ(p.dst_addr, ip_addr(e.dst));
  EXPECT_EQ(p.proto, e.proto);
  EXPECT_EQ(p.src_port, e.sport);
  EXPECT_EQ(p.dst_port, e.dport);
  EXPECT_EQ(p.vlan_count, e.vlan_count);
  EXPECT_EQ(p.vlan, e.vlan);
  EXPECT_EQ(p.ip_bytes, e.ip_bytes);
  EXPECT_EQ(p.tcp_flags, e.tcp_flags);
  EXPECT_EQ(p.tcp_seq, e.seq);
  EXPECT_EQ(p.tcp_ack, e.ack);
  EXPECT_EQ(p.icmp_type, e.icmp_type);
  EXPECT_EQ(p.icmp_code, e.icmp_code);
  EXPECT_EQ(p.is_fragment, e.is_fragment);
  EXPECT_EQ(p.first_fragment, e.first_fragment);
  EXPECT_EQ(p.frag_id, e.frag_id);
  EXPECT_EQ(p.l3_offset, e.l3);
  EXPECT_EQ(p.l4_offset, e.l4);
  EXPECT_EQ(p.payload_offset, e.payload_offset);
  EXPECT_EQ(p.payload_len, e.payload_len);
}

INSTANTIATE_TEST_SUITE_P(Parser, HeaderCombos, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

TEST(Parser, ResetsOutputBetweenPackets) {
  ParsedPacket p;
  ASSERT_EQ(parse_built(PB().eth().qinq(1, 2).ipv4(kA4, kB4).tcp(5, 6, kSyn), p).status,
            ParseStatus::Ok);
  ASSERT_EQ(parse_built(PB().eth().ipv6(kA6, kB6).udp(1, 2), p).status, ParseStatus::Ok);
  EXPECT_EQ(p.vlan_count, 0);
  EXPECT_EQ(p.tcp_flags, 0);
  EXPECT_EQ(p.vlan, (std::array<std::uint16_t, 2>{}));
}

TEST(LinkType, FromPcap) {
  EXPECT_EQ(link_type_from_pcap(0), LinkType::Null);
  EXPECT_EQ(link_type_from_pcap(1), LinkType::Ethernet);
  EXPECT_EQ(link_type_from_pcap(12), LinkType::Raw);
  EXPECT_EQ(link_type_from_pcap(14), LinkType::Raw);
  EXPECT_EQ(link_type_from_pcap(101), LinkType::Raw);
  EXPECT_EQ(link_type_from_pcap(108), LinkType::Loop);
  EXPECT_EQ(link_type_from_pcap(113), LinkType::LinuxSll);
  EXPECT_EQ(link_type_from_pcap(228), LinkType::Ipv4);
  EXPECT_EQ(link_type_from_pcap(229), LinkType::Ipv6);
  EXPECT_EQ(link_type_from_pcap(276), LinkType::LinuxSll2);
  for (int dlt : {-1, 2, 6, 9, 105, 127, 192, 227, 230, 275, 1000}) {
    EXPECT_FALSE(link_type_from_pcap(dlt).has_value()) << dlt;
  }
}

TEST(LinkType, Names) {
  EXPECT_EQ(link_type_name(LinkType::Null), "null");
  EXPECT_EQ(link_type_name(LinkType::Ethernet), "ethernet");
  EXPECT_EQ(link_type_name(LinkType::Raw), "raw");
  EXPECT_EQ(link_type_name(LinkType::Loop), "loop");
  EXPECT_EQ(link_type_name(LinkType::LinuxSll), "linux_sll");
  EXPECT_EQ(link_type_name(LinkType::Ipv4), "ipv4");
  EXPECT_EQ(link_type_name(LinkType::Ipv6), "ipv6");
  EXPECT_EQ(link_type_name(LinkType::LinuxSll2), "linux_sll2");
}

TEST(MalformedReason, NamesMatchXMacro) {
  EXPECT_EQ(malformed_reason_name(MalformedReason::empty_frame), "empty_frame");
  EXPECT_EQ(malformed_reason_name(MalformedReason::bad_tcp_offset), "bad_tcp_offset");
  EXPECT_EQ(malformed_reason_name(MalformedReason::bad_udp_length), "bad_udp_length");
  std::vector<std::string_view> names;
#define SF_X(name) names.push_back(#name);
  SF_MALFORMED_REASONS(SF_X)
#undef SF_X
  ASSERT_EQ(names.size(), kMalformedReasonCount);
  for (unsigned i = 0; i < kMalformedReasonCount; ++i) {
    EXPECT_EQ(malformed_reason_name(static_cast<MalformedReason>(i)), names[i]);
  }
}

}  // namespace
}  // namespace sf::test
